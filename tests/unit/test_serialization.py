"""Records to and from dicts, JSON and CSV, and `Inventory.import_records` of an export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from numinv import (
    Conflict,
    Consumer,
    DuplicateNumber,
    InvalidInput,
    Inventory,
    NumberRecord,
    Status,
)
from numinv.serialization import (
    from_dict,
    from_json,
    read_csv,
    read_json,
    to_dict,
    to_json,
    write_csv,
    write_json,
)
from numinv.testing import strategies
from tests.examples import examples

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)
FIELDS = [field.name for field in attrs.fields(NumberRecord)]
FORMULA_STARTS = ("=", "+", "-", "@")


def _csv_round_trip(records: list[NumberRecord]) -> list[NumberRecord]:
    stream = io.StringIO()
    write_csv(records, stream)
    stream.seek(0)
    return list(read_csv(stream))


def _json_round_trip(records: list[NumberRecord]) -> list[NumberRecord]:
    stream = io.StringIO()
    write_json(records, stream)
    stream.seek(0)
    return list(read_json(stream))


def _csv_rows(records: list[NumberRecord]) -> list[dict[str, str]]:
    stream = io.StringIO()
    write_csv(records, stream)
    stream.seek(0)
    return list(csv.DictReader(stream))


PROPERTY = settings(
    max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FEWER = settings(
    max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# -- round trips --------------------------------------------------------------------------------


@PROPERTY
@given(strategies.number_records())
def test_a_record_round_trips_through_a_dict(record: NumberRecord) -> None:
    assert from_dict(to_dict(record)) == record


@PROPERTY
@given(strategies.number_records())
def test_a_record_round_trips_through_json_text(record: NumberRecord) -> None:
    assert from_json(to_json(record)) == record


@FEWER
@given(st.lists(strategies.number_records(), max_size=4))
def test_records_round_trip_through_a_json_file(records: list[NumberRecord]) -> None:
    assert _json_round_trip(records) == records


@FEWER
@given(st.lists(strategies.number_records(), max_size=4))
def test_records_round_trip_through_a_csv_file(records: list[NumberRecord]) -> None:
    assert _csv_round_trip(records) == records


@pytest.mark.parametrize("text", ["line one\rline two", "\r", "ends with\r"])
def test_free_text_holding_a_carriage_return_round_trips_through_csv(text: str) -> None:
    record = NumberRecord("1000", "sys", description=text)
    assert _csv_round_trip([record]) == [record]


@pytest.mark.parametrize("text", ["'=A1", "'+44", "'-", "'@x"])
def test_free_text_starting_with_an_apostrophe_and_a_formula_sign_round_trips(text: str) -> None:
    record = NumberRecord("1000", "sys", tag=text)
    assert _csv_round_trip([record]) == [record]


def test_a_blank_tag_before_cooling_round_trips_through_csv() -> None:
    record = NumberRecord(
        "1000", "sys", status=Status.COOLING, release_date=NOW, tag_before_cooling=""
    )
    assert _csv_round_trip([record]) == [record]


def test_an_audiocodes_number_imported_from_csv_gets_its_blank_tag_back_on_release() -> None:
    source = Inventory(clock=lambda: NOW)
    source.add_range("sys.acme", "1000")
    device = Consumer("device/audiocodes", "AC1", "sys.acme")
    source.assign("1000", device)
    source.unassign("1000", device)
    target = Inventory(clock=lambda: NOW)
    target.import_records(_csv_round_trip(list(source.search())))
    assert target.release("1000", "sys.acme").tag == ""


def test_write_csv_and_write_json_return_how_many_records_they_wrote() -> None:
    records = [NumberRecord(f"100{index}", "sys") for index in range(3)]
    assert write_csv(records, io.StringIO()) == 3
    assert write_json(records, io.StringIO()) == 3


def test_an_empty_export_reads_back_as_no_records() -> None:
    assert _csv_round_trip([]) == []
    assert _json_round_trip([]) == []


# -- the dict form --------------------------------------------------------------------------------


def _plain(value: object) -> bool:
    if value is None or type(value) in (str, int):
        return True
    if type(value) is list:
        return all(_plain(item) for item in value)  # type: ignore[attr-defined]
    if type(value) is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())  # type: ignore[attr-defined]
    return False


@FEWER
@given(strategies.number_records())
def test_a_dict_holds_only_plain_types(record: NumberRecord) -> None:
    assert _plain(to_dict(record))


@FEWER
@given(strategies.number_records())
def test_a_dict_is_json_as_it_is(record: NumberRecord) -> None:
    data = to_dict(record)
    assert json.loads(json.dumps(data)) == data


def test_a_release_date_is_iso_8601_text_with_its_offset() -> None:
    record = NumberRecord("1000", "sys", status=Status.COOLING, release_date=NOW)
    text = to_dict(record)["release_date"]
    assert text == "2024-01-01T12:00:00+00:00"
    assert datetime.fromisoformat(text) == NOW


def test_a_status_is_its_value_text() -> None:
    assert to_dict(NumberRecord("1000", "sys", status=Status.USED_UTILITY))["status"] == (
        "Used-Utility"
    )


def test_a_dict_has_a_key_for_every_field() -> None:
    assert set(FIELDS) <= set(to_dict(NumberRecord("1000", "sys")))


def test_keys_a_later_version_adds_are_ignored() -> None:
    record = NumberRecord("1000", "sys", tag="t")
    data = {**to_dict(record), "colour": "red", "routing": {"trunk": 3}}
    assert from_dict(data) == record


def test_keys_an_earlier_version_did_not_write_take_their_defaults() -> None:
    assert from_dict({"number": "0100", "hierarchy": "sys.acme"}) == NumberRecord(
        "0100", "sys.acme"
    )


def test_a_dict_without_the_optional_managed_fields_keeps_the_ones_given() -> None:
    data = {"number": "1000", "hierarchy": "sys", "status": "Reserved", "tag": "held"}
    assert from_dict(data) == NumberRecord("1000", "sys", status=Status.RESERVED, tag="held")


# -- CSV -------------------------------------------------------------------------------------------


def test_the_csv_header_names_the_fields() -> None:
    stream = io.StringIO()
    write_csv([NumberRecord("1000", "sys")], stream)
    assert stream.getvalue().splitlines()[0].split(",") == FIELDS


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_free_text_a_spreadsheet_would_run_as_a_formula_is_neutralised_in_the_file(
    start: str,
) -> None:
    text = f'{start}HYPERLINK("http://x")'
    record = NumberRecord("1000", "sys", tag=text, description=text, extra9=text)
    (row,) = _csv_rows([record])
    assert [row["tag"], row["description"], row["extra9"]] == [f"'{text}"] * 3


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_neutralised_free_text_is_restored_on_import(start: str) -> None:
    record = NumberRecord("1000", "sys", tag=f"{start}1+1", reservation_notes=f"{start}cmd")
    assert _csv_round_trip([record]) == [record]


def test_a_vendor_looking_like_a_formula_is_neutralised_in_the_file() -> None:
    (row,) = _csv_rows([NumberRecord("1000", "sys", vendor="=cmd", admin_vendor="=cmd")])
    assert (row["vendor"], row["admin_vendor"]) == ("'=cmd", "'=cmd")


def test_free_text_not_starting_with_a_formula_sign_is_written_as_it_is() -> None:
    (row,) = _csv_rows([NumberRecord("1000", "sys", tag="a=b", description="quoted 'x'")])
    assert (row["tag"], row["description"]) == ("a=b", "quoted 'x'")


def test_a_leading_apostrophe_is_escaped_by_another_and_round_trips() -> None:
    record = NumberRecord("1000", "sys", description="'quoted'")
    (row,) = _csv_rows([record])
    assert row["description"] == "''quoted'"
    assert _csv_round_trip([record]) == [record]


@pytest.mark.parametrize("number", ["+27110000001", "0100", "+0012", "007"])
def test_the_number_column_keeps_plus_and_leading_zeros(number: str) -> None:
    (row,) = _csv_rows([NumberRecord(number, "sys")])
    assert row["number"] == number


def test_e164_numbers_keep_their_plus_in_the_file() -> None:
    record = NumberRecord("1000", "sys", e164=("+2711", "+2712"), primary_e164="+2712")
    (row,) = _csv_rows([record])
    assert "'" not in row["e164"] + row["primary_e164"]
    assert _csv_round_trip([record]) == [record]


def test_a_csv_with_columns_left_out_and_reordered_reads_with_defaults() -> None:
    # SPEC is silent; the reader takes any subset of columns that has number and hierarchy.
    text = "tag,hierarchy,number\n'=x,sys.acme,0100\n"
    assert list(read_csv(io.StringIO(text))) == [NumberRecord("0100", "sys.acme", tag="=x")]


# -- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        None,
        "number=1000",
        ["1000", "sys"],
        {"hierarchy": "sys"},
        {"number": "1000"},
        {"number": "1000", "hierarchy": "sys", "status": "Free"},
        {"number": "1000", "hierarchy": "sys", "usage": ["Phone"]},
        {"number": "1000", "hierarchy": "sys", "release_date": "2024-01-01T00:00:00"},
        {"number": "1000", "hierarchy": "sys", "release_date": "soon"},
        {"number": "1000", "hierarchy": "sys", "version": "two"},
        {"number": "1000", "hierarchy": "sys", "uses": [{"kind": "device/cucm/Phone"}]},
        {"number": "1000", "hierarchy": "sys", "uses": "SEP1"},
        {"number": "1000", "hierarchy": "sys", "usage": None},
    ],
)
def test_a_malformed_dict_is_refused_with_invalid_input(data: object) -> None:
    with pytest.raises(InvalidInput):
        from_dict(data)


@pytest.mark.parametrize(
    "changes",
    [
        {"number": "12ab"},
        {"number": 1000},
        {"hierarchy": "sys..acme"},
        {"e164": "+2711"},
        {"tag": None},
        {"tag": 5},
    ],
    ids=["letters in number", "int number", "empty segment", "e164 as text", "None", "int"],
)
def test_a_dict_with_a_malformed_field_is_refused_with_invalid_input(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(InvalidInput):
        from_dict({"number": "1000", "hierarchy": "sys", **changes})


@pytest.mark.parametrize("text", ["", "{", "[1, 2", "null", "[]", "42", b"\xff\xfe", None])
def test_malformed_json_text_is_refused_with_invalid_input(text: object) -> None:
    with pytest.raises(InvalidInput):
        from_json(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "{}", "[", '{"number": "1"}', "[1]", '[{"number": "1"}]'])
def test_a_malformed_json_file_is_refused_with_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        list(read_json(io.StringIO(text)))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tag,description\nx,y\n",
        "number\n1000\n",
        "number,hierarchy\n1000\n",
        "number,hierarchy,version\n1000,sys,two\n",
        "number,hierarchy,status\n1000,sys,Free\n",
        "number,hierarchy,uses\n1000,sys,[{\n",
        "number,hierarchy,release_date\n1000,sys,tomorrow\n",
    ],
)
def test_a_malformed_csv_file_is_refused_with_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        list(read_csv(io.StringIO(text)))


def test_a_csv_file_with_a_stray_carriage_return_is_refused_with_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=r"line 2: a line break .* inside a field") as refused:
        list(read_csv(io.StringIO("number,hierarchy\n1000,sys\rx\n")))
    assert "universal-newline" not in str(refused.value)  # the csv module's hint to Python


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # An export cut short inside its last row: its node would have been "sys".
        ("number,hierarchy,status,tag\n1000,sys.a,Available,x\n1001,sys", "line 3: 2 fields"),
        ("number,hierarchy,status\n1000,sys.a,Available,extra\n", "line 2: 4 fields"),
        ("number,hierarchy,hierarchy\n1000,sys.a,sys.b\n", "names hierarchy more than once"),
    ],
)
def test_a_csv_row_of_another_width_than_its_header_is_refused(text: str, message: str) -> None:
    """Values of a row cut short or shifted would land in the wrong columns or default."""
    with pytest.raises(InvalidInput, match=message):
        list(read_csv(io.StringIO(text)))


def test_a_json_record_naming_a_field_twice_is_refused() -> None:
    """`{"number": "1", ..., "number": "2"}`: the last one won, silently."""
    text = '[{"number": "5550011", "hierarchy": "sys.a", "number": "5550012"}]'
    with pytest.raises(InvalidInput, match="names number more than once"):
        list(read_json(io.StringIO(text)))
    with pytest.raises(InvalidInput, match="names hierarchy more than once"):
        from_json('{"number": "1", "hierarchy": "sys.a", "hierarchy": "sys.b"}')


def test_a_malformed_csv_row_is_refused_naming_its_line() -> None:
    text = "number,hierarchy,status\n1000,sys,Available\n1001,sys,Free\n"
    with pytest.raises(InvalidInput, match="line 3"):
        list(read_csv(io.StringIO(text)))


# -- import_records --------------------------------------------------------------------------------


def _estate() -> Inventory:
    """Numbers in every status and shape an export must carry."""
    inv = Inventory(clock=lambda: NOW)
    inv.add_range("sys.acme", "+2710", count=3, vendor="Microsoft", tag="=pool")
    inv.add_range("sys.acme.london", "0100", count=6, description="site", extra3="-3")
    inv.add_range("sys.acme.paris", "0100", count=2)
    inv.assign("0100", Consumer("device/cucm/Phone", "SEP1", "sys.acme.london"))
    inv.assign("0100", Consumer("device/cucm/HuntPilot", "HP1", "sys.acme.london"), shared=True)
    inv.assign("+2710", Consumer("device/msteamsonline/CsOnlineUser", "alice", "sys.acme"))
    inv.reserve(
        "0101", "sys.acme.london", tag="new starter", notes="@HR", days=5, reserved_for="bob"
    )
    inv.cool("0102", "sys.acme.london", days=7)
    inv.associate_e164("0103", "sys.acme.london", "+27110000001", primary=True)
    inv.associate_e164("0103", "sys.acme.london", "+27110000002")
    inv.update("0104", "sys.acme.london", tag="desk 4")
    inv.assign("0104", Consumer("device/audiocodes", "AC1", "sys.acme.london"))
    inv.unassign("0104", Consumer("device/audiocodes", "AC1", "sys.acme.london"))
    inv.apply_service("0105", "sys.acme.london", "carol", "Cisco-MS-Hybrid")
    inv.deactivate("0101", "sys.acme.paris")
    return inv


def test_the_export_estate_holds_every_status() -> None:
    assert {record.status for record in _estate().search()} == set(Status)


@pytest.mark.parametrize("round_trip", [_csv_round_trip, _json_round_trip], ids=["csv", "json"])
def test_importing_an_export_into_a_fresh_inventory_reproduces_it(
    round_trip: Any,
) -> None:
    source = _estate()
    exported = list(source.search())
    target = Inventory(clock=lambda: NOW)
    assert target.import_records(round_trip(exported)) == len(exported)
    assert list(target.search()) == exported


def test_an_imported_inventory_offers_the_numbers_the_exported_one_offers() -> None:
    source = _estate()
    target = Inventory(clock=lambda: NOW)
    target.import_records(_csv_round_trip(list(source.search())))
    offered = [record.key for record in target.available("sys.acme.london")]
    assert offered == [("0103", "sys.acme.london"), ("+2711", "sys.acme"), ("+2712", "sys.acme")]


def test_imported_coolings_and_reservations_end_on_their_release_dates() -> None:
    now = [NOW]
    target = Inventory(clock=lambda: now[0])
    target.import_records(_csv_round_trip(list(_estate().search())))
    now[0] = NOW + timedelta(days=8)
    offered = [record.number for record in target.available("sys.acme.london", prefix="0")]
    assert offered == ["0101", "0102", "0103", "0104"]
    assert target.get("0104", "sys.acme.london").tag == "desk 4"


def test_importing_two_records_of_one_number_in_a_line_of_descent_imports_nothing() -> None:
    inv = Inventory(clock=lambda: NOW)
    batch = [
        NumberRecord("2000", "sys.acme"),
        NumberRecord("1000", "sys.acme"),
        NumberRecord("1000", "sys.acme.london"),
    ]
    with pytest.raises(DuplicateNumber) as error:
        inv.import_records(batch)
    assert error.value.conflicts == (("1000", "sys.acme.london"),)
    assert list(inv.search()) == []


def test_importing_a_number_already_held_in_the_line_of_descent_imports_nothing() -> None:
    inv = Inventory(clock=lambda: NOW)
    inv.add_range("sys", "1000")
    before = list(inv.search())
    with pytest.raises(DuplicateNumber, match="1000"):
        inv.import_records([NumberRecord("2000", "sys.acme"), NumberRecord("1000", "sys.acme")])
    assert list(inv.search()) == before


def test_importing_the_same_export_twice_is_refused_the_second_time() -> None:
    exported = list(_estate().search())
    target = Inventory(clock=lambda: NOW)
    target.import_records(exported)
    with pytest.raises(DuplicateNumber):
        target.import_records(exported)
    assert list(target.search()) == exported


def test_importing_siblings_holding_the_same_number_is_accepted() -> None:
    inv = Inventory(clock=lambda: NOW)
    batch = [NumberRecord("1000", "sys.acme.london"), NumberRecord("1000", "sys.acme.paris")]
    assert inv.import_records(batch) == 2


def test_importing_an_e164_number_pointing_to_two_numbers_in_a_line_imports_nothing() -> None:
    inv = Inventory(clock=lambda: NOW)
    batch = [
        NumberRecord("1000", "sys.acme", e164=("+2711",)),
        NumberRecord("2000", "sys.acme.london", e164=("+2711",)),
    ]
    with pytest.raises(Conflict, match=r"\+2711"):
        inv.import_records(batch)
    assert list(inv.search()) == []


def test_importing_a_record_whose_status_disagrees_with_its_uses_is_refused() -> None:
    # SPEC is silent; the code refuses a Used record without uses (and Available with uses).
    inv = Inventory(clock=lambda: NOW)
    with pytest.raises(InvalidInput, match="1000"):
        inv.import_records([NumberRecord("1000", "sys", status=Status.USED)])
    assert list(inv.search()) == []


def test_importing_a_record_in_cucm_spelling_is_refused() -> None:
    inv = Inventory(clock=lambda: NOW)
    with pytest.raises(InvalidInput, match="canonical"):
        inv.import_records([NumberRecord("\\+1000", "sys")])


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda: to_dict(None), "a NumberRecord is wanted, not None"),  # type: ignore[arg-type]
        (lambda: to_json({"number": "1"}), "a NumberRecord is wanted"),  # type: ignore[arg-type]
        (lambda: write_json([1], io.StringIO()), "a NumberRecord is wanted, not 1"),  # type: ignore[list-item]
        (lambda: write_csv([None], io.StringIO()), "a NumberRecord is wanted, not None"),  # type: ignore[list-item]
        (lambda: write_csv(None, io.StringIO()), "records must be an iterable"),  # type: ignore[arg-type]
        (lambda: write_json([], "out.json"), "an open text file (or stream) to write"),  # type: ignore[arg-type]
        (
            lambda: list(read_json("[]")),
            "an open text file (or stream) to read is wanted, not '[]'",
        ),  # type: ignore[arg-type]
        (lambda: list(read_csv(None)), "an open text file (or its lines) to read"),  # type: ignore[arg-type]
    ],
    ids=[
        "to_dict",
        "to_json",
        "write_json item",
        "write_csv item",
        "write_csv records",
        "write_json stream",
        "read_json text",
        "read_csv none",
    ],
)
def test_the_helpers_refuse_what_is_not_a_record_or_a_stream_naming_it(
    call: Callable[[], object], said: str
) -> None:
    """Each raised AttributeError or TypeError from deep inside."""
    with pytest.raises(InvalidInput) as refused:
        call()
    assert said in str(refused.value)


def test_read_csv_reads_any_iterable_of_lines_as_the_csv_module_does() -> None:
    """A list of lines was read before the check for a stream refused it."""
    buffer = io.StringIO()
    write_csv([NumberRecord("1000", "sys.a")], buffer)
    lines = buffer.getvalue().splitlines(keepends=True)
    assert [record.number for record in read_csv(lines)] == ["1000"]
    with pytest.raises(InvalidInput, match="its lines"):
        list(read_csv(buffer.getvalue()))  # type: ignore[arg-type]  # the text itself
