"""Number ranges (SPEC 2) and range management through `Inventory` (SPEC 9)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from numinv import (
    Consumer,
    DuplicateNumber,
    InvalidInput,
    InvalidNumber,
    InvalidTransition,
    Inventory,
    NotFound,
    NumberRecord,
    Settings,
    Status,
)
from numinv.core.numbers import number_range
from numinv.testing import strategies

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)
PHONE = "device/cucm/Phone"


def _inventory(**settings: object) -> Inventory:
    return Inventory(settings=Settings(**settings), clock=lambda: NOW)  # type: ignore[arg-type]


def _stored(inv: Inventory) -> list[NumberRecord]:
    return list(inv.search())


def _numbers(inv: Inventory, **filters: object) -> list[str]:
    return [record.number for record in inv.search(**filters)]  # type: ignore[arg-type]


valid_ranges = strategies.number_ranges()


# -- the range itself ----------------------------------------------------------


def test_a_range_by_first_and_last_holds_both_ends_and_everything_between() -> None:
    assert list(number_range("1000", "1003")) == ["1000", "1001", "1002", "1003"]


def test_a_range_by_first_and_count_holds_count_numbers_from_first() -> None:
    assert list(number_range("+2710", count=3)) == ["+2710", "+2711", "+2712"]


def test_a_range_without_last_or_count_is_the_first_number_alone() -> None:
    assert list(number_range("\\+500")) == ["+500"]


def test_a_range_whose_ends_differ_in_width_is_refused() -> None:
    with pytest.raises(InvalidNumber):
        number_range("100", "1000")


def test_a_range_whose_ends_differ_in_plus_is_refused() -> None:
    with pytest.raises(InvalidNumber):
        number_range("+1000", "1999")


def test_a_range_whose_last_is_below_its_first_is_refused() -> None:
    with pytest.raises(InvalidNumber, match="1000"):
        number_range("1001", "1000")


def test_a_range_whose_leading_zero_is_lost_is_refused() -> None:
    with pytest.raises(InvalidNumber):
        number_range("0998", "1001")


def test_a_range_keeping_its_leading_zero_gives_exactly_the_numbers_of_that_width() -> None:
    assert list(number_range("0098", "0101")) == ["0098", "0099", "0100", "0101"]


def test_a_count_that_would_lose_the_leading_zero_is_refused() -> None:
    with pytest.raises(InvalidNumber):
        number_range("0998", count=4)


def test_a_count_overflowing_the_width_is_refused() -> None:
    with pytest.raises(InvalidNumber):
        number_range("9998", count=3)


def test_a_count_that_just_fills_the_width_is_accepted() -> None:
    assert list(number_range("9998", count=2)) == ["9998", "9999"]


def test_last_and_count_together_are_refused() -> None:
    with pytest.raises(InvalidInput):
        number_range("1000", "1009", count=10)


@pytest.mark.parametrize("count", [0, -1, 1.5, "3", True, [3]])
def test_a_count_that_is_not_a_whole_number_of_at_least_one_is_refused_naming_it(
    count: object,
) -> None:
    with pytest.raises(InvalidInput) as error:
        number_range("1000", count=count)
    assert repr(count) in str(error.value)


def test_a_range_larger_than_the_maximum_size_is_refused() -> None:
    with pytest.raises(InvalidInput, match="max_range_size"):
        number_range("1000", count=11, max_size=10)


def test_a_range_of_exactly_the_maximum_size_is_accepted() -> None:
    assert len(number_range("1000", count=10, max_size=10)) == 10


def test_a_single_digit_range_starting_at_zero_holds_all_ten_digits() -> None:
    assert list(number_range("0", "9")) == [str(digit) for digit in range(10)]


@given(valid_ranges)
def test_a_valid_range_round_trips_through_its_first_last_and_size(
    numbers: tuple[str, str, int],
) -> None:
    first, last, size = numbers
    expanded = number_range(first, last)
    assert (expanded.first, expanded.last, len(expanded)) == (first, last, size)


@given(valid_ranges)
def test_a_valid_range_iterates_in_ascending_order_keeping_its_width_and_plus(
    numbers: tuple[str, str, int],
) -> None:
    first, last, size = numbers
    listed = list(number_range(first, last))
    plus = "+" if first.startswith("+") else ""
    assert len(listed) == size
    assert listed[0] == first
    assert listed[-1] == last
    assert all(len(number) == len(first) and number.startswith(plus) for number in listed)
    assert [int(number) for number in listed] == list(range(int(first), int(last) + 1))


@given(valid_ranges)
def test_every_number_of_a_valid_range_is_in_it(numbers: tuple[str, str, int]) -> None:
    first, last, _ = numbers
    expanded = number_range(first, last)
    assert all(number in expanded for number in expanded)


@given(valid_ranges)
def test_the_neighbours_of_a_range_and_other_spellings_are_not_in_it(
    numbers: tuple[str, str, int],
) -> None:
    first, last, _ = numbers
    expanded = number_range(first, last)
    plus = "+" if first.startswith("+") else ""
    width = len(first) - len(plus)
    below, above = int(first) - 1, int(last) + 1
    if below >= 0:
        assert f"{plus}{below:0{width}d}" not in expanded
    assert f"{plus}{above:0{width}d}" not in expanded
    assert ("" if plus else "+") + first.lstrip("+") not in expanded
    assert first + "0" not in expanded


@given(valid_ranges)
def test_a_range_by_count_is_the_range_by_first_and_last(numbers: tuple[str, str, int]) -> None:
    first, last, size = numbers
    assert list(number_range(first, count=size)) == list(number_range(first, last))


# -- the maximum size, through the inventory --------------------------------------


def test_loading_more_than_the_maximum_range_size_is_refused_and_writes_nothing() -> None:
    inv = _inventory(max_range_size=10)
    with pytest.raises(InvalidInput, match="max_range_size"):
        inv.add_range("sys.acme", "1000", count=11)
    assert _stored(inv) == []


def test_loading_exactly_the_maximum_range_size_is_accepted() -> None:
    inv = _inventory(max_range_size=10)
    assert inv.add_range("sys.acme", "1000", "1009") == 10


def test_updating_more_than_the_maximum_range_size_is_refused_and_changes_nothing() -> None:
    inv = _inventory(max_range_size=10)
    inv.add_range("sys.acme", "1000", count=10)
    inv.add_range("sys.acme", "1010", count=10)
    before = _stored(inv)
    with pytest.raises(InvalidInput, match="max_range_size"):
        inv.update_range("sys.acme", "1000", "1019", tag="x")
    assert _stored(inv) == before


def test_the_default_maximum_range_size_is_one_million() -> None:
    inv = _inventory()
    with pytest.raises(InvalidInput, match=r"1000001 numbers.*maximum of 1000000"):
        inv.add_range("sys.acme", "10000000", count=1_000_001)
    assert _stored(inv) == []


# -- add ------------------------------------------------------------------------------


def test_adding_a_range_stores_every_number_at_the_node_and_returns_the_count() -> None:
    inv = _inventory()
    assert inv.add_range("sys.acme", "1000", "1004") == 5
    assert [(r.number, r.hierarchy) for r in _stored(inv)] == [
        (f"100{digit}", "sys.acme") for digit in range(5)
    ]


def test_adding_a_range_sets_the_administrators_fields_on_every_number() -> None:
    inv = _inventory()
    inv.add_range(
        "sys.acme",
        "1000",
        count=3,
        tag="pool",
        description="london",
        vendor="Microsoft",
        internal_number_type="Calling Plan",
        extra1="billing-7",
        extra9="circuit-3",
    )
    for record in _stored(inv):
        assert (record.tag, record.description, record.extra1, record.extra9) == (
            "pool",
            "london",
            "billing-7",
            "circuit-3",
        )
        assert (record.vendor, record.internal_number_type) == ("Microsoft", "Calling Plan")


def test_adding_a_range_that_conflicts_anywhere_adds_nothing() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.uk", "1005")
    with pytest.raises(DuplicateNumber):
        inv.add_range("sys.acme", "1000", "1009")
    assert [(r.number, r.hierarchy) for r in _stored(inv)] == [("1005", "sys.acme.uk")]


def test_a_refused_load_lists_the_first_ten_conflicts_and_counts_them_all() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.uk", "1000", count=25)
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme", "1000", count=100)
    message = str(error.value)
    assert all(f"10{index:02d} at sys.acme.uk" in message for index in range(10))
    assert "1010" not in message
    assert "25" in message
    assert "15 more" in message


def test_a_refused_load_carries_every_conflict_as_number_and_node() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.uk", "1000", count=25)
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme", "1000", count=100)
    assert error.value.conflicts == tuple((f"10{i:02d}", "sys.acme.uk") for i in range(25))


def test_reloading_a_range_with_skip_existing_adds_nothing_and_succeeds() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=10)
    before = _stored(inv)
    assert inv.add_range("sys.acme", "1000", count=10, skip_existing=True) == 0
    assert _stored(inv) == before


def test_skip_existing_adds_only_the_missing_numbers_and_leaves_the_others_as_they_are() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1002", "1003", tag="old")
    inv.reserve("1003", "sys.acme", tag="held")
    kept = [inv.get("1002", "sys.acme"), inv.get("1003", "sys.acme")]
    assert inv.add_range("sys.acme", "1000", "1005", tag="new", skip_existing=True) == 4
    assert [inv.get("1002", "sys.acme"), inv.get("1003", "sys.acme")] == kept
    assert [r.number for r in inv.search(tag="new")] == ["1000", "1001", "1004", "1005"]


def test_without_skip_existing_reloading_a_range_is_refused() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=10)
    with pytest.raises(DuplicateNumber):
        inv.add_range("sys.acme", "1000", count=10)


def test_skip_existing_still_refuses_a_conflict_at_an_ancestor() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    inv.add_range("sys", "1007")
    before = _stored(inv)
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme", "1000", count=10, skip_existing=True)
    assert error.value.conflicts == (("1007", "sys"),)
    assert _stored(inv) == before


def test_skip_existing_still_refuses_a_conflict_at_a_descendant() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    inv.add_range("sys.acme.uk", "1008")
    before = _stored(inv)
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme", "1000", count=10, skip_existing=True)
    assert error.value.conflicts == (("1008", "sys.acme.uk"),)
    assert _stored(inv) == before


@pytest.mark.parametrize("field", ["extra0", "extra10", "bogus", "status", "version"])
def test_adding_a_range_with_an_unknown_extra_field_is_refused_naming_it(field: str) -> None:
    inv = _inventory()
    with pytest.raises(InvalidInput, match=re.escape(repr(field))):
        inv.add_range("sys.acme", "1000", count=3, **{field: "x"})
    assert _stored(inv) == []


def test_adding_a_range_with_an_invalid_internal_number_type_adds_nothing() -> None:
    inv = _inventory()
    with pytest.raises(InvalidInput, match="Bogus"):
        inv.add_range("sys.acme", "1000", count=3, vendor="Microsoft", internal_number_type="Bogus")
    assert _stored(inv) == []


# -- update ------------------------------------------------------------------------


def test_updating_a_range_sets_the_fields_on_every_number_and_returns_the_count() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    assert inv.update_range("sys.acme", "1001", "1003", tag="t", description="d", extra4="e") == 3
    updated = [(r.number, r.tag, r.description, r.extra4) for r in _stored(inv)]
    assert updated == [
        ("1000", "", "", ""),
        ("1001", "t", "d", "e"),
        ("1002", "t", "d", "e"),
        ("1003", "t", "d", "e"),
        ("1004", "", "", ""),
    ]


def test_updating_a_range_sets_vendor_and_internal_number_type_in_stored_spelling() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.update_range(
        "sys.acme", "1000", count=3, vendor="Microsoft", internal_number_type="CallingPlan"
    )
    assert {(r.vendor, r.internal_number_type) for r in _stored(inv)} == {
        ("Microsoft", "Calling Plan")
    }


def test_updating_a_range_with_an_unknown_field_changes_nothing() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    before = _stored(inv)
    with pytest.raises(InvalidInput, match="'colour'"):
        inv.update_range("sys.acme", "1000", count=3, tag="t", colour="red")
    assert _stored(inv) == before


def test_updating_a_range_with_a_type_invalid_for_some_numbers_changes_none_of_them() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=2, vendor="Microsoft")
    inv.add_range("sys.acme", "1002", count=2)  # Cisco: blank type only
    before = _stored(inv)
    with pytest.raises(InvalidInput, match="Calling Plan"):
        inv.update_range("sys.acme", "1000", "1003", internal_number_type="Calling Plan", tag="x")
    assert _stored(inv) == before


def test_updating_a_range_with_an_internal_number_type_no_vendor_knows_changes_nothing() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=2, vendor="Microsoft")
    before = _stored(inv)
    with pytest.raises(InvalidInput, match="Extension"):
        inv.update_range("sys.acme", "1000", count=2, internal_number_type="Extension")
    assert _stored(inv) == before


def test_updating_a_range_with_a_value_that_is_not_text_changes_nothing() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=2)
    before = _stored(inv)
    with pytest.raises(InvalidInput, match="42"):
        inv.update_range("sys.acme", "1000", count=2, extra3=42)  # type: ignore[arg-type]
    assert _stored(inv) == before


def test_updating_a_range_keeps_the_status_of_numbers_in_use() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=2)
    inv.assign("1000", Consumer(PHONE, "SEP1", "sys.acme"))
    inv.update_range("sys.acme", "1000", count=2, tag="t")
    assert [(r.status, r.tag) for r in _stored(inv)] == [
        (Status.USED, "t"),
        (Status.AVAILABLE, "t"),
    ]


# -- delete ------------------------------------------------------------------------


def test_deleting_a_range_of_available_numbers_removes_them_and_returns_the_count() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    assert inv.delete_range("sys.acme", "1001", "1003") == 3
    assert _numbers(inv) == ["1000", "1004"]


@pytest.mark.parametrize("hold", ["assign", "reserve", "cool"])
def test_deleting_a_range_with_a_number_not_available_deletes_nothing_and_names_it(
    hold: str,
) -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    if hold == "assign":
        inv.assign("1003", Consumer(PHONE, "SEP1", "sys.acme"))
    else:
        getattr(inv, hold)("1003", "sys.acme")
    before = _stored(inv)
    with pytest.raises(InvalidTransition) as error:
        inv.delete_range("sys.acme", "1000", count=5)
    assert "1003" in str(error.value)
    assert "1002" not in str(error.value)
    assert _stored(inv) == before


def test_deleting_with_skip_unavailable_removes_the_available_and_reports_the_others() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    inv.assign("1001", Consumer(PHONE, "SEP1", "sys.acme"))
    inv.reserve("1003", "sys.acme")
    result = inv.delete_range("sys.acme", "1000", count=5, skip_unavailable=True)
    assert result == 3
    assert result.skipped == ("1001", "1003")  # type: ignore[attr-defined]
    assert _numbers(inv) == ["1001", "1003"]


def test_deleting_with_skip_unavailable_leaves_the_others_as_they_were() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.reserve("1001", "sys.acme", tag="keep")
    kept = inv.get("1001", "sys.acme")
    inv.delete_range("sys.acme", "1000", count=3, skip_unavailable=True)
    assert _stored(inv) == [kept]


def test_deleting_a_range_of_available_numbers_skips_nothing() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    assert inv.delete_range("sys.acme", "1000", count=3).skipped == ()  # type: ignore[attr-defined]


def test_deleting_a_range_does_not_touch_the_same_numbers_at_a_sibling() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.london", "1000", count=3)
    inv.add_range("sys.acme.paris", "1000", count=3)
    inv.delete_range("sys.acme.london", "1000", count=3)
    assert {r.hierarchy for r in _stored(inv)} == {"sys.acme.paris"}


# -- numbers missing at the node ---------------------------------------------------------

RANGE_OPERATIONS = {
    "update_range": {"tag": "x"},
    "delete_range": {},
    "reserve_range": {},
    "unreserve_range": {},
    "cool_range": {},
    "release_range": {},
}


@pytest.mark.parametrize(("operation", "extra"), RANGE_OPERATIONS.items())
def test_a_range_operation_over_numbers_missing_at_the_node_raises_not_found(
    operation: str, extra: dict[str, str]
) -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    before = _stored(inv)
    with pytest.raises(NotFound, match="1003"):
        getattr(inv, operation)("sys.acme", "1000", count=4, **extra)
    assert _stored(inv) == before


@pytest.mark.parametrize(("operation", "extra"), RANGE_OPERATIONS.items())
def test_a_range_operation_at_a_node_below_the_numbers_raises_not_found(
    operation: str, extra: dict[str, str]
) -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    before = _stored(inv)
    with pytest.raises(NotFound):
        getattr(inv, operation)("sys.acme.london", "1000", count=3, **extra)
    assert _stored(inv) == before


# -- reserve / unreserve / cool / release over a range ---------------------------------


def test_reserving_a_range_reserves_every_number_with_its_tag_and_notes() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    assert inv.reserve_range("sys.acme", "1000", count=3, tag="new starters", notes="HR") == 3
    assert {(r.status, r.tag, r.reservation_notes) for r in _stored(inv)} == {
        (Status.RESERVED, "new starters", "HR")
    }


def test_reserving_a_range_for_days_sets_each_release_date() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.reserve_range("sys.acme", "1000", count=3, days=5)
    assert {r.release_date for r in _stored(inv)} == {NOW + timedelta(days=5)}


def test_reserving_a_range_with_one_number_in_use_leaves_every_number_as_it_was() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=5)
    inv.assign("1004", Consumer(PHONE, "SEP1", "sys.acme"))
    before = _stored(inv)
    with pytest.raises(InvalidTransition, match="1004"):
        inv.reserve_range("sys.acme", "1000", count=5, tag="t")
    assert _stored(inv) == before


def test_unreserving_a_range_makes_every_number_available() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.reserve_range("sys.acme", "1000", count=3, notes="n", days=3)
    assert inv.unreserve_range("sys.acme", "1000", count=3) == 3
    assert {(r.status, r.reservation_notes, r.release_date) for r in _stored(inv)} == {
        (Status.AVAILABLE, "", None)
    }


def test_unreserving_a_range_with_one_number_not_reserved_leaves_every_number_as_it_was() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.reserve_range("sys.acme", "1000", count=2)
    before = _stored(inv)
    with pytest.raises(InvalidTransition, match="1002"):
        inv.unreserve_range("sys.acme", "1000", count=3)
    assert _stored(inv) == before


def test_cooling_a_range_cools_every_number_until_the_same_release_date() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    assert inv.cool_range("sys.acme", "1000", count=3, days=7) == 3
    assert {(r.status, r.release_date) for r in _stored(inv)} == {
        (Status.COOLING, NOW + timedelta(days=7))
    }


def test_cooling_a_range_until_a_date_sets_that_release_date() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=2)
    until = NOW + timedelta(days=3, hours=2)
    inv.cool_range("sys.acme", "1000", count=2, until=until)
    assert {r.release_date for r in _stored(inv)} == {until}


def test_cooling_a_range_with_one_number_reserved_leaves_every_number_as_it_was() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.reserve("1001", "sys.acme")
    before = _stored(inv)
    with pytest.raises(InvalidTransition, match="1001"):
        inv.cool_range("sys.acme", "1000", count=3)
    assert _stored(inv) == before


def test_releasing_a_range_makes_every_cooling_number_available() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.cool_range("sys.acme", "1000", count=3)
    assert inv.release_range("sys.acme", "1000", count=3) == 3
    assert {(r.status, r.release_date) for r in _stored(inv)} == {(Status.AVAILABLE, None)}


def test_releasing_a_range_with_one_number_not_cooling_leaves_every_number_as_it_was() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=3)
    inv.cool_range("sys.acme", "1001", count=2)
    before = _stored(inv)
    with pytest.raises(InvalidTransition, match="1000"):
        inv.release_range("sys.acme", "1000", count=3)
    assert _stored(inv) == before


@given(st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=10))
def test_a_refused_range_transition_leaves_every_number_as_it_was(held: int, size: int) -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=10)
    inv.reserve(f"100{held}", "sys.acme", tag="held")
    before = _stored(inv)
    covers = held < size
    try:
        inv.cool_range("sys.acme", "1000", count=size)
    except InvalidTransition:
        assert covers
        assert _stored(inv) == before
    else:
        assert not covers
        assert _numbers(inv, status="Cooling") == [f"100{i}" for i in range(size)]


@pytest.mark.parametrize("load", ["add_range", "import_records"])
def test_a_load_that_loses_a_race_runs_again_and_loads(load: str) -> None:
    """Two loads into one new node race on its node list (PostgreSQL); the one that loses
    reads everything again: it loads, or reports the numbers the other one took."""
    from numinv import InMemoryRepository, NumberRecord
    from numinv.testing.faults import FaultyRepository

    faulty = FaultyRepository(InMemoryRepository())
    inventory = Inventory(faulty)
    faulty.arm(1, race=True)  # the load's first write step loses, once
    if load == "add_range":
        inventory.add_range("sys.acme.new", "2000", count=3)
    else:
        inventory.import_records(NumberRecord(n, "sys.acme.new") for n in ("2000", "2001", "2002"))
    assert inventory.retried == 1
    assert [r.number for r in inventory.search(at="sys.acme.new")] == ["2000", "2001", "2002"]


def test_a_load_retried_after_another_took_its_numbers_reports_them() -> None:
    from numinv import DuplicateNumber, InMemoryRepository
    from numinv.testing.faults import FaultyRepository

    faulty = FaultyRepository(InMemoryRepository())
    inventory = Inventory(faulty)
    real = faulty.transaction
    calls = [0]

    def the_other_load_wins():  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 2:  # between the lost first try and the second: the winner commits
            Inventory(faulty).add_range("sys.acme.new", "2001", count=1)
        return real()

    faulty.transaction = the_other_load_wins  # type: ignore[method-assign]
    faulty.arm(1, race=True)
    with pytest.raises(DuplicateNumber, match="2001"):
        inventory.add_range("sys.acme.new", "2000", count=3)
    assert inventory.retried == 1
    assert [r.number for r in inventory.search(at="sys.acme.new")] == ["2001"]
