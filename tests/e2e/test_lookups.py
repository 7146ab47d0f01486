"""`numinv list`, `show` and `report`: what the inventory holds, as tables, JSON and CSV."""

from __future__ import annotations

import io
import json

import pytest

from numinv import Status
from numinv.serialization import read_csv, read_json
from tests.e2e.conftest import CUSTOMER, SITE, Numinv

PHONE = ("--kind", "Phone", "--id", "SEP1", "--at", SITE)


def test_list_json_parses_back_into_the_records(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    records = list(read_json(io.StringIO(loaded.ok("list", "--json"))))
    assert len(records) == 25
    assert records[1].number == "4420790001"
    assert [use.consumer_id for use in records[1].uses] == ["SEP1"]


def test_list_csv_parses_back_into_the_same_records_as_json(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE, "--primary")
    from_csv = list(read_csv(io.StringIO(loaded.ok("list", "--csv"))))
    from_json = list(read_json(io.StringIO(loaded.ok("list", "--json"))))
    assert from_csv == from_json


def test_list_filters_as_search_does(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    loaded.ok("assign", "4420790002", "--kind", "CsOnlineUser", "--id", "ann", "--at", SITE)

    def numbers(*args: str) -> list[str]:
        return [record["number"] for record in loaded.json("list", "--json", *args)]

    assert numbers("--status", "used") == ["4420790001", "4420790002"]
    assert numbers("--usage", "User") == ["4420790002"]
    assert numbers("--vendor", "Microsoft") == ["4420790002"]
    assert numbers("--vendor", "Cisco", "--status", "Used") == ["4420790001"]
    assert numbers("--prefix", "442079900") == [f"442079900{n}" for n in range(5)]
    assert numbers("--at", CUSTOMER, "--only") == [f"442079900{n}" for n in range(5)]
    assert len(numbers("--at", CUSTOMER)) == 25
    assert numbers("--tag", "london", "--limit", "2", "--after", "4420790009") == [
        "4420790010",
        "4420790011",
    ]
    assert numbers("--after", f"4420790018@{SITE}") == [
        "4420790019",
        *numbers("--at", CUSTOMER, "--only"),
    ]


def test_list_refuses_an_unknown_status_and_a_bad_prefix(loaded: Numinv) -> None:
    assert "'Free' is not one of" in loaded.misused("list", "--status", "Free")
    assert "is not a number prefix" in loaded.fails("list", "--prefix", "44x")


def test_list_prints_a_table_by_default(loaded: Numinv) -> None:
    loaded.ok("cool", "4420790003", "--at", SITE, "--until", "2099-01-02")
    out = loaded.ok("list", "--at", SITE, "--limit", "5")
    assert "Number" in out
    assert "Release date" in out
    assert "4420790004" in out
    assert "4420790005" not in out
    assert "2099-01-02 00:00 UTC" in out


def test_list_table_is_capped_and_says_so(numinv: Numinv) -> None:
    numinv.ok("range", "add", "10000", "--count", "1001", "--at", SITE)
    result = numinv.run("list")
    assert result.exit_code == 0
    assert "11000" not in result.stdout
    assert "10999" in result.stdout
    assert "the first 1000 shown" in result.stderr
    given = numinv.run("list", "--limit", "1001")  # a limit says how many: all of them
    assert "11000" in given.stdout
    assert given.stderr == ""


def test_list_on_a_database_not_yet_made_is_refused(numinv: Numinv) -> None:
    message = numinv.fails("list")
    assert message.startswith(f"no database at {numinv.db}")
    assert not numinv.db.exists()


def test_show_prints_the_record_and_its_uses_in_order(loaded: Numinv) -> None:
    loaded.ok("range", "add", "+27110001000", "--at", "sys.acme.za")
    za = "sys.acme.za"
    loaded.ok("assign", "+27110001000", "--kind", "Phone", "--id", "SEP9", "--at", za)
    loaded.ok(
        "assign", "+27110001000", "--kind", "HuntPilot", "--id", "sales", "--at", za, "--shared"
    )
    loaded.ok("e164", "add", "+27110001000", "+27726043938", "--at", za, "--primary")
    out = loaded.ok("show", "\\+27110001000", "--at", za)
    assert "\\+27110001000" in out  # the CUCM form
    assert "Used-Utility" in out
    assert "Device, Hunt_Pilot" in out
    assert "+27726043938 (P)" in out
    assert out.index("SEP9") < out.index("sales")


def test_show_gives_the_release_date_of_a_cooling_number(loaded: Numinv) -> None:
    loaded.ok("cool", "4420790003", "--at", SITE, "--until", "2099-01-02")
    assert "2099-01-02 00:00 UTC" in loaded.ok("show", "4420790003", "--at", SITE)


def test_show_json_is_the_record_as_a_dict(loaded: Numinv) -> None:
    record = loaded.record("4420799001", SITE)  # visible from the site: walks up
    assert (record["number"], record["hierarchy"], record["status"]) == (
        "4420799001",
        CUSTOMER,
        "Available",
    )


def test_show_of_a_number_not_visible_is_refused(loaded: Numinv) -> None:
    assert loaded.fails("show", "4420790001", "--at", CUSTOMER) == (
        f"4420790001 is not visible from {CUSTOMER}"
    )


def test_report_flags_the_nodes_under_the_threshold(loaded: Numinv) -> None:
    for n in range(19):
        loaded.ok("assign-next", "--kind", "Phone", "--id", f"p{n}", "--at", SITE)
    out = loaded.ok("report")
    assert "LOW" in out
    assert out.splitlines()[-1] == f"2 nodes, 1 with less than 10% Available: {SITE}"
    assert loaded.ok("report", "--below", "0.04").splitlines()[-1] == (
        "2 nodes, 0 with less than 4% Available"
    )


def test_report_flags_each_node_by_the_threshold_configured_for_it(loaded: Numinv) -> None:
    """SPEC 19: the threshold set at a node (or above it) judges it, from the shell too."""
    for n in range(10):
        loaded.ok("assign-next", "--kind", "Phone", "--id", f"p{n}", "--at", SITE)
    assert loaded.ok("report").splitlines()[-1] == "2 nodes, 0 with less than 10% Available"
    loaded.ok("configure", SITE, "--threshold", "60%")
    assert loaded.ok("report").splitlines()[-1] == (
        f"2 nodes, 1 with less Available than its threshold: {SITE}"
    )
    data = json.loads(loaded.ok("report", "--json"))
    assert {node["hierarchy"]: node["threshold"] for node in data["nodes"]} == {
        CUSTOMER: 0.1,
        SITE: 0.6,
    }
    assert loaded.ok("report", "--below", "5%").splitlines()[-1] == (
        "2 nodes, 0 with less than 5% Available"
    )


@pytest.mark.parametrize(("given", "shown"), [("0.5%", "0.5%"), ("12.5%", "12.5%"), ("0.07", "7%")])
def test_report_and_configure_show_a_share_as_given(loaded: Numinv, given: str, shown: str) -> None:
    """`--below 0.5%` printed `less than 0% Available`, and `12.5%` printed `12%`."""
    assert loaded.ok("report", "--below", given).splitlines()[-1] == (
        f"2 nodes, 0 with less than {shown} Available"
    )
    assert (
        loaded.ok("configure", SITE, "--threshold", given)
        .rstrip()
        .endswith(f"low under {shown} Available")
    )


def test_report_json_gives_the_counts_per_node(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420799000", "--at", CUSTOMER)
    data = json.loads(loaded.ok("report", "--json", "--at", CUSTOMER, "--below", "90%"))
    assert data["threshold"] == 0.9
    pool, site = data["nodes"]
    assert (pool["hierarchy"], pool["total"], pool["counts"]["Reserved"]) == (CUSTOMER, 5, 1)
    assert (pool["available_share"], pool["low"]) == (0.8, True)
    assert (site["hierarchy"], site["low"]) == (SITE, False)


def test_report_shows_inactive_numbers_where_there_are_some(loaded: Numinv) -> None:
    """The table had no Inactive column (a node's statuses did not add up to its total),
    and the JSON had the key only on nodes that held some."""
    before = loaded.ok("report")
    assert "Inactive" not in before  # as before, for an estate without any
    counts = json.loads(loaded.ok("report", "--json"))["nodes"][0]["counts"]
    assert counts["Inactive"] == 0
    assert set(counts) == {str(status) for status in Status}

    loaded.ok("deactivate", "4420790003", "--at", SITE)
    table = loaded.ok("report", env={"COLUMNS": "200"})
    header = next(line for line in table.splitlines() if line.startswith("Node"))
    assert "Inactive" in header.split()
    row = next(line.split() for line in table.splitlines() if line.startswith(SITE))
    assert row[header.split().index("Inactive")] == "1"


def test_report_refuses_a_threshold_that_is_not_a_share(loaded: Numinv) -> None:
    assert "is not a share from 0% to 100%" in loaded.misused("report", "--below", "150%")
    assert "is not a share: write 10% or 0.1" in loaded.misused("report", "--below", "ten")


def test_show_puts_each_uses_node_and_vendor_in_their_own_columns(loaded: Numinv) -> None:
    loaded.ok(
        "assign", "4420790002", "--at", SITE,
        "--kind", "PRS_MultiVendorPhone_DAT", "--id", "v1", "--vendor", "Yealink",
    )  # fmt: skip
    out = loaded.ok("show", "4420790002", "--at", SITE, env={"COLUMNS": "160"})
    header = next(line for line in out.splitlines() if line.startswith("#"))
    row = next(line for line in out.splitlines() if line.startswith("1 "))
    assert header.split()[-2:] == ["Node", "Vendor"]
    assert row.split()[-2:] == [SITE, "Yealink"]


def test_tables_show_control_characters_instead_of_sending_them_to_the_terminal(
    loaded: Numinv,
) -> None:
    """A tag from a file may hold ESC: printed raw it would drive the user's terminal."""
    loaded.ok("range", "update", "4420790003", "--at", SITE, "--tag", "\x1b[2J\x1b]0;pwn\x07x")
    for command in (["list", "--at", SITE], ["show", "4420790003", "--at", SITE]):
        out = loaded.ok(*command, env={"COLUMNS": "200"})
        assert "\x1b" not in out, command
        assert "\x07" not in out, command
        assert "\\x1b[2J\\x1b]0;pwn" in out, command  # shown, not obeyed


def test_tables_show_line_breaks_and_tabs_in_a_cell_instead_of_breaking_the_row(
    loaded: Numinv,
) -> None:
    """A tag `multi<LF>line<TAB>tab` started a line that looked like another row."""
    loaded.ok("range", "update", "4420790010", "--at", SITE, "--tag", "multi\nline\ttab")
    for command in (["list", "--at", SITE], ["show", "4420790010", "--at", SITE]):
        out = loaded.ok(*command, env={"COLUMNS": "200"})
        assert "\t" not in out, command
        assert "multi\\nline\\ttab" in out, command
        assert not [line for line in out.splitlines() if line.startswith("line")], command


def test_key_columns_are_never_cut_however_narrow_the_terminal(numinv: Numinv) -> None:
    """The number, its node and its status are whole, even when they alone are wider than
    the terminal: the table is then as wide as they need (the terminal wraps it)."""
    node = "sys.acme.uk.london.building-seven"
    numinv.ok("range", "add", "4420790000", "--count", "2", "--at", node)
    for columns in ("20", "40", "50"):
        out = numinv.ok("list", env={"COLUMNS": columns})
        rows = [line.split() for line in out.splitlines() if line.startswith("44207900")]
        assert rows == [
            ["4420790000", node, "Available"],
            ["4420790001", node, "Available"],
        ], columns
        assert f"not shown at {columns} columns: Usage" in out
        report = numinv.ok("report", env={"COLUMNS": columns})
        assert f"{node}        100.0%" in report, columns


def test_one_line_results_and_errors_show_control_characters_instead_of_sending_them(
    loaded: Numinv,
) -> None:
    """Tables escaped them; the lines of `reserve`, `changes` and the error line did not: a
    name holding ESC ] 0; could set the terminal's title."""
    name = "x\x1b]0;PWNED\x07\x1b[31mRED"
    line = loaded.ok("reserve", "4420790004", "--at", SITE, "--for", name)
    feed = loaded.ok("changes", "--after", "0")
    refused = loaded.run("reserve", "4420790004", "--at", SITE, "--for", "other\x1b[2J")
    for shown in (line, feed, refused.stderr):
        assert "\x1b" not in shown
        assert "\x07" not in shown
    assert "reserved for x\\x1b]0;PWNED\\x07\\x1b[31mRED" in line
    assert "Reserved (for x\\x1b]0;PWNED" in feed
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1


def test_only_without_at_is_a_usage_error(loaded: Numinv) -> None:
    """`--only` is 'that node only': without `--at` it named no node and was ignored."""
    for command in (["list"], ["export"]):
        assert "--only says which node: give it with --at" in loaded.misused(*command, "--only")
