"""`numinv range ...`: loading and changing numbers a range at a time, all or nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CUSTOMER, SITE, Numinv


def test_range_add_loads_every_number_of_the_range(numinv: Numinv) -> None:
    assert (
        numinv.ok("range", "add", "0098", "0101", "--at", SITE)
        == f"added 4 numbers at {SITE} (a new node)\n"
    )
    listed = numinv.json("list", "--json")
    assert [record["number"] for record in listed] == ["0098", "0099", "0100", "0101"]


def test_range_add_sets_the_fields_given(numinv: Numinv) -> None:
    numinv.ok(
        "range", "add", "+27110001000", "--count", "3", "--at", "sys.acme.za",
        "--vendor", "Microsoft", "--type", "CallingPlan", "--tag", "cp", "--extra", "3=PO-7",
        "--extra", "extra9=x",
    )  # fmt: skip
    record = numinv.record("+27110001002", "sys.acme.za")
    assert (record["vendor"], record["internal_number_type"]) == ("Microsoft", "Calling Plan")
    assert (record["tag"], record["extra3"], record["extra9"]) == ("cp", "PO-7", "x")


def test_range_add_accepts_the_cucm_spelling_of_plus(numinv: Numinv) -> None:
    numinv.ok("range", "add", "\\+4420790000", "--count", "2", "--at", SITE)
    assert numinv.record("+4420790001")["number"] == "+4420790001"


def test_range_add_refuses_a_duplicate_in_the_line_of_descent(loaded: Numinv) -> None:
    message = loaded.fails("range", "add", "4420790010", "4420790030", "--at", CUSTOMER)
    assert "10 numbers of 4420790010..4420790030 already exist" in message
    assert "4420790010 at sys.acme.uk.london" in message
    assert len(loaded.json("list", "--at", CUSTOMER, "--only", "--json")) == 5  # nothing added


def test_range_add_with_skip_existing_adds_only_the_missing_numbers(loaded: Numinv) -> None:
    out = loaded.ok("range", "add", "4420790015", "4420790024", "--at", SITE, "--skip-existing")
    assert out == f"added 5 numbers at {SITE}\n"


def test_range_add_refuses_bad_numbers_and_ranges(numinv: Numinv) -> None:
    assert "'12a4' is not a directory number" in numinv.fails("range", "add", "12a4", "--at", SITE)
    assert "would lose the leading zero of 0998" in numinv.fails(
        "range", "add", "0998", "1001", "--at", SITE
    )
    assert numinv.fails("range", "add", "09", "10", "--at", SITE) == (
        "range 09..10 would lose the leading zero of 09 (a range's numbers all keep it, "
        "and 10 has none)"  # both ends are two digits wide: "widths differ" was wrong
    )
    assert "below the first" in numinv.fails("range", "add", "2000", "1999", "--at", SITE)
    assert "more than the maximum of 10" in numinv.fails(
        "--max-range-size", "10", "range", "add", "1000", "--count", "11", "--at", SITE
    )


@pytest.mark.parametrize(
    ("node", "said"),
    [
        ("", "'' is not a hierarchy path: it is empty"),
        (" sys.acme", "' sys.acme': segment ' sys' has leading or trailing white space"),
    ],
)
def test_range_add_refuses_a_malformed_node_as_such_not_as_outside_every_root(
    loaded: Numinv, node: str, said: str
) -> None:
    """`--at ''` was 'numinv: error:  is outside every existing root (sys) Give ...'."""
    assert loaded.fails("range", "add", "5000", "--at", node) == said


def test_a_node_outside_every_root_is_said_in_sentences(loaded: Numinv) -> None:
    assert loaded.fails("range", "add", "5000", "--at", "zzz") == (
        "zzz is outside every existing root (sys). Give --new-root to start a new tree."
    )


def test_range_add_refuses_a_malformed_node(numinv: Numinv) -> None:
    assert "empty segment" in numinv.fails("range", "add", "1000", "--at", "sys..london")


def test_range_add_needs_its_node_and_well_formed_extras(numinv: Numinv) -> None:
    assert "Missing option '--at'" in numinv.misused("range", "add", "1000")
    assert "is not an extra field" in numinv.misused(
        "range", "add", "1000", "--at", SITE, "--extra", "10=x"
    )
    assert "--count" in numinv.misused("range", "add", "1000", "--count", "0", "--at", SITE)


@pytest.mark.parametrize("command", ["add", "update"])
def test_an_extra_field_given_twice_is_a_usage_error(loaded: Numinv, command: str) -> None:
    """`--extra 2=a --extra 2=b` kept `b` silently."""
    before = loaded.ok("export", "--jsonl")
    shown = loaded.misused(
        "range", command, "4420790030", "--at", SITE, "--extra", "2=a", "--extra", "extra2=b"
    )
    assert "extra2 is given twice ('a' and 'b'): give it once" in shown
    assert loaded.ok("export", "--jsonl") == before


def test_range_update_sets_fields_on_every_number(loaded: Numinv) -> None:
    out = loaded.ok(
        "range", "update", "4420790000", "--count", "3", "--at", SITE,
        "--description", "floor 2", "--extra", "1=desk",
    )  # fmt: skip
    assert out == f"updated 3 numbers at {SITE}\n"
    record = loaded.record("4420790002")
    assert (record["description"], record["extra1"], record["tag"]) == ("floor 2", "desk", "london")


def test_range_update_without_a_field_is_refused(loaded: Numinv) -> None:
    assert "at least one field" in loaded.misused("range", "update", "4420790000", "--at", SITE)


def test_range_update_refuses_numbers_missing_at_the_node(loaded: Numinv) -> None:
    message = loaded.fails(
        "range", "update", "4420790018", "4420790021", "--at", SITE, "--tag", "x"
    )
    assert "2 numbers of 4420790018..4420790021 are not at" in message
    assert loaded.record("4420790018")["tag"] == "london"


def test_range_delete_refuses_when_a_number_is_in_use(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    message = loaded.fails("range", "delete", "4420790000", "4420790004", "--at", SITE)
    assert "4420790001 (Used)" in message
    assert len(loaded.json("list", "--at", SITE, "--json")) == 20


def test_range_delete_with_skip_unavailable_reports_what_it_left(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    out = loaded.ok(
        "range", "delete", "4420790000", "4420790004", "--at", SITE, "--skip-unavailable"
    )
    assert out == (
        f"deleted 4 numbers at {SITE}\nleft 1 number that is not Available: 4420790001\n"
    )
    assert [r["number"] for r in loaded.json("list", "--at", SITE, "--limit", "2", "--json")] == [
        "4420790001",
        "4420790005",
    ]


def test_range_reserve_then_unreserve(loaded: Numinv) -> None:
    loaded.ok("range", "reserve", "4420790000", "--count", "4", "--at", SITE, "--days", "7")
    reserved = loaded.json("list", "--status", "reserved", "--json")
    assert [r["number"] for r in reserved] == [f"442079000{n}" for n in range(4)]
    assert all(r["release_date"] for r in reserved)
    loaded.ok("range", "unreserve", "4420790000", "--count", "4", "--at", SITE)
    assert loaded.json("list", "--status", "Reserved", "--json") == []


def test_range_cool_then_release(loaded: Numinv) -> None:
    out = loaded.ok(
        "range", "cool", "4420790000", "4420790001", "--at", SITE, "--until", "2099-01-31"
    )
    assert out == f"cooling 2 numbers at {SITE}\n"
    assert loaded.record("4420790001")["release_date"].startswith("2099-01-31T00:00:00")
    loaded.ok("range", "release", "4420790000", "4420790001", "--at", SITE)
    assert loaded.record("4420790001")["status"] == "Available"


def test_range_cool_is_all_or_nothing(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    assert "cannot cool 4420790001" in loaded.fails(
        "range", "cool", "4420790000", "4420790002", "--at", SITE
    )
    assert loaded.record("4420790000")["status"] == "Available"


def test_range_cool_refuses_a_date_that_is_not_iso(loaded: Numinv) -> None:
    stderr = loaded.misused("range", "cool", "4420790000", "--at", SITE, "--until", "31/01/2099")
    assert "'31/01/2099' is not an ISO date" in stderr


def test_range_add_loads_the_single_digit_numbers(numinv: Numinv) -> None:
    assert (
        numinv.ok("range", "add", "0", "9", "--at", SITE)
        == f"added 10 numbers at {SITE} (a new node)\n"
    )
