"""Look-ups (SPEC 3 and 4): `get`, `find`, `search` and `available`, and what a new number is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings, strategies as st

from numinv import (
    Consumer,
    Inventory,
    NotFound,
    Settings,
    Status,
    Usage,
)
from tests.examples import examples

NOW = datetime(2024, 1, 1, tzinfo=UTC)
PHONE = "device/cucm/Phone"
HUNT_PILOT = "device/cucm/HuntPilot"
TEAMS = "device/msteamsonline/CsOnlineUser"


def _inventory(**options: object) -> Inventory:
    return Inventory(settings=Settings(**options), clock=lambda: NOW)  # type: ignore[arg-type]


def _keys(records: object) -> list[tuple[str, str]]:
    return [record.key for record in records]  # type: ignore[attr-defined]


def _numbers(records: object) -> list[str]:
    return [record.number for record in records]  # type: ignore[attr-defined]


# -- a new number ----------------------------------------------------------------------


def test_a_new_number_is_available_with_nothing_in_use_and_no_release_date() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    record = inv.get("1000", "sys.acme")
    assert record.status is Status.AVAILABLE
    assert (record.usage, record.uses, record.release_date) == ((), (), None)
    assert record.version >= 1


def test_a_new_number_has_a_blank_vendor_unless_the_loader_set_one() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    inv.add_range("sys.acme", "2000", vendor="Microsoft")
    assert inv.get("1000", "sys.acme").vendor == ""
    assert inv.get("2000", "sys.acme").vendor == "Microsoft"


def test_a_new_number_has_blank_free_text_no_reservation_and_no_e164() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    record = inv.get("1000", "sys.acme")
    texts = [record.tag, record.description, record.reservation_notes]
    texts += [getattr(record, f"extra{index}") for index in range(1, 10)]
    assert texts == [""] * 12
    assert (record.reserved_for, record.e164, record.primary_e164) == (None, (), None)
    assert (record.internal_number_type, record.e164_display) == ("", "")


# -- get and find --------------------------------------------------------------------------


def test_get_walks_up_from_the_node_asked() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    assert inv.get("1000", "sys.acme.uk.london").key == ("1000", "sys.acme")


def test_get_raises_not_found_naming_the_number_and_node_when_not_visible() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    with pytest.raises(NotFound) as error:
        inv.get("1000", "sys.other")
    assert "1000" in str(error.value)
    assert "sys.other" in str(error.value)


def test_not_found_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        _inventory().get("1000", "sys")


def test_find_returns_none_when_the_number_is_not_visible() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    assert inv.find("1000", "sys") is None


def test_find_returns_the_record_get_returns_when_visible() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", tag="x")
    assert inv.find("1000", "sys.acme.uk") == inv.get("1000", "sys.acme.uk")


# -- search ---------------------------------------------------------------------------------


@pytest.fixture
def estate() -> Inventory:
    """A small estate: a shared pool at the customer, site numbers, a sibling site."""
    inv = _inventory()
    inv.add_range("sys.acme", "+2710", count=3, tag="pool", vendor="Microsoft")
    inv.add_range("sys.acme.london", "1000", count=4, tag="site")
    inv.add_range("sys.acme.paris", "1000", count=2, tag="site")
    inv.add_range("sys.acme.london.floor2", "3000", count=2)
    inv.add_range("sys.acmeltd", "1000")
    inv.assign("1000", Consumer(PHONE, "SEP1", "sys.acme.london"))
    inv.assign("1001", Consumer(HUNT_PILOT, "HP1", "sys.acme.london"))
    inv.assign("+2710", Consumer(TEAMS, "alice", "sys.acme.london"))
    inv.reserve("1002", "sys.acme.london")
    inv.cool("1000", "sys.acme.paris")
    return inv


def test_search_without_filters_returns_every_record_by_number_then_node(
    estate: Inventory,
) -> None:
    assert _keys(estate.search()) == [
        ("+2710", "sys.acme"),
        ("+2711", "sys.acme"),
        ("+2712", "sys.acme"),
        ("1000", "sys.acme.london"),
        ("1000", "sys.acme.paris"),
        ("1000", "sys.acmeltd"),
        ("1001", "sys.acme.london"),
        ("1001", "sys.acme.paris"),
        ("1002", "sys.acme.london"),
        ("1003", "sys.acme.london"),
        ("3000", "sys.acme.london.floor2"),
        ("3001", "sys.acme.london.floor2"),
    ]


def test_search_at_a_node_includes_its_subtree_by_default(estate: Inventory) -> None:
    assert _keys(estate.search(at="sys.acme.london")) == [
        ("1000", "sys.acme.london"),
        ("1001", "sys.acme.london"),
        ("1002", "sys.acme.london"),
        ("1003", "sys.acme.london"),
        ("3000", "sys.acme.london.floor2"),
        ("3001", "sys.acme.london.floor2"),
    ]


def test_search_at_a_node_does_not_include_a_node_whose_name_starts_like_it(
    estate: Inventory,
) -> None:
    assert "sys.acmeltd" not in {record.hierarchy for record in estate.search(at="sys.acme")}


def test_search_at_a_node_without_below_returns_that_node_only(estate: Inventory) -> None:
    assert _keys(estate.search(at="sys.acme.london", below=False)) == [
        ("1000", "sys.acme.london"),
        ("1001", "sys.acme.london"),
        ("1002", "sys.acme.london"),
        ("1003", "sys.acme.london"),
    ]


def test_search_at_a_node_does_not_walk_up(estate: Inventory) -> None:
    assert _keys(estate.search(at="sys.acme.london.floor2")) == [
        ("3000", "sys.acme.london.floor2"),
        ("3001", "sys.acme.london.floor2"),
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Used", [("+2710", "sys.acme"), ("1000", "sys.acme.london")]),
        (Status.USED_UTILITY, [("1001", "sys.acme.london")]),
        ("Reserved", [("1002", "sys.acme.london")]),
        (Status.COOLING, [("1000", "sys.acme.paris")]),
    ],
)
def test_search_by_status_returns_only_numbers_in_that_status(
    estate: Inventory, status: str, expected: list[tuple[str, str]]
) -> None:
    assert _keys(estate.search(status=status)) == expected


def test_search_by_available_status_leaves_out_every_number_held_back(estate: Inventory) -> None:
    found = list(estate.search(status="Available"))
    assert {record.status for record in found} == {Status.AVAILABLE}
    assert len(found) == 12 - 5


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (Usage.DEVICE, ["1000"]),
        ("Hunt_Pilot", ["1001"]),
        ("User", ["+2710"]),
        ("Call_Park", []),
    ],
)
def test_search_by_usage_returns_numbers_whose_usage_holds_it(
    estate: Inventory, usage: str, expected: list[str]
) -> None:
    assert _numbers(estate.search(usage=usage)) == expected


def test_search_by_vendor_returns_numbers_showing_that_vendor(estate: Inventory) -> None:
    assert _numbers(estate.search(vendor="Microsoft")) == ["+2710", "+2711", "+2712"]


def test_search_by_vendor_finds_a_number_shared_by_cisco_and_microsoft_under_both() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000", count=2)
    inv.assign("1000", Consumer(PHONE, "SEP1", "sys.acme"))
    inv.assign("1000", Consumer(TEAMS, "alice", "sys.acme"), shared=True)
    assert inv.get("1000", "sys.acme").vendor == "Cisco, Microsoft"
    assert _numbers(inv.search(vendor="Microsoft")) == ["1000"]
    assert _numbers(inv.search(vendor="Cisco")) == ["1000", "1001"]


def test_search_by_cisco_finds_numbers_whose_vendor_is_blank(estate: Inventory) -> None:
    found = list(estate.search(vendor="Cisco", at="sys.acme.paris"))
    assert [(r.number, r.vendor) for r in found] == [("1000", ""), ("1001", "")]


def test_search_by_prefix_returns_numbers_starting_with_it(estate: Inventory) -> None:
    assert _keys(estate.search(prefix="100", at="sys.acme.london")) == [
        ("1000", "sys.acme.london"),
        ("1001", "sys.acme.london"),
        ("1002", "sys.acme.london"),
        ("1003", "sys.acme.london"),
    ]


def test_search_by_prefix_in_cucm_spelling_matches_the_plus_numbers(estate: Inventory) -> None:
    assert _numbers(estate.search(prefix="\\+271")) == ["+2710", "+2711", "+2712"]


def test_search_by_plus_prefix_does_not_match_numbers_without_plus() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "2710")
    inv.add_range("sys.acme", "+2711")
    assert _numbers(inv.search(prefix="+27")) == ["+2711"]
    assert _numbers(inv.search(prefix="27")) == ["2710"]


def test_search_by_tag_returns_numbers_with_exactly_that_tag(estate: Inventory) -> None:
    assert _numbers(estate.search(tag="pool")) == ["+2710", "+2711", "+2712"]
    assert _numbers(estate.search(tag="poo")) == []


def test_search_combines_every_filter_given(estate: Inventory) -> None:
    found = estate.search(at="sys.acme", status="Available", tag="site", prefix="100")
    assert _keys(found) == [("1001", "sys.acme.paris"), ("1003", "sys.acme.london")]


def test_search_with_a_limit_returns_at_most_that_many_in_order(estate: Inventory) -> None:
    assert _keys(estate.search(limit=4)) == _keys(estate.search())[:4]


def test_search_with_limit_zero_returns_nothing(estate: Inventory) -> None:
    assert list(estate.search(limit=0)) == []


def test_search_after_a_number_resumes_past_every_node_holding_it(estate: Inventory) -> None:
    assert _keys(estate.search(after="1000", limit=2)) == [
        ("1001", "sys.acme.london"),
        ("1001", "sys.acme.paris"),
    ]


def test_search_after_a_number_and_node_resumes_at_the_next_node_of_that_number(
    estate: Inventory,
) -> None:
    assert _keys(estate.search(after=("1000", "sys.acme.london"), limit=3)) == [
        ("1000", "sys.acme.paris"),
        ("1000", "sys.acmeltd"),
        ("1001", "sys.acme.london"),
    ]


def test_search_after_a_number_that_is_not_stored_resumes_at_the_next_one(
    estate: Inventory,
) -> None:
    assert _keys(estate.search(after="2999")) == [
        ("3000", "sys.acme.london.floor2"),
        ("3001", "sys.acme.london.floor2"),
    ]


def test_search_after_a_number_in_cucm_spelling_resumes_past_it(estate: Inventory) -> None:
    assert _numbers(estate.search(after="\\+2711", limit=2)) == ["+2712", "1000"]


def test_search_orders_numbers_as_text_so_longer_numbers_sort_by_their_digits() -> None:
    # SPEC orders search by (number, hierarchy) and numbers are text: "100" sorts before "99".
    inv = _inventory()
    inv.add_range("sys.acme", "99")
    inv.add_range("sys.acme", "100")
    inv.add_range("sys.acme", "+1")
    inv.add_range("sys.acme", "0100")
    assert _numbers(inv.search()) == ["+1", "0100", "100", "99"]


@settings(max_examples=examples(25), deadline=None)
@given(
    st.integers(min_value=1, max_value=400),
    st.sampled_from([None, "sys", "sys.b"]),
    st.sampled_from([None, "Available", "Reserved"]),
)
def test_paging_by_key_returns_every_match_exactly_once_in_order(
    page: int, at: str | None, status: str | None
) -> None:
    inv = _big_estate()
    everything = _keys(inv.search(at=at, status=status))
    sites = 1 if at == "sys.b" else 3
    held = {None: 500 * sites, "Reserved": 50, "Available": 500 * sites - 50}[status]
    assert len(everything) == held
    seen: list[tuple[str, str]] = []
    cursor: tuple[str, str] | None = None
    while found := list(inv.search(at=at, status=status, after=cursor, limit=page)):
        assert len(found) <= page
        seen += _keys(found)
        cursor = found[-1].key
    assert seen == everything
    assert len(set(seen)) == len(seen)


_BIG: list[Inventory] = []


def _big_estate() -> Inventory:
    """Three sibling sites holding the same 500 numbers: ties on number everywhere."""
    if not _BIG:
        inv = _inventory()
        for site in ("sys.a", "sys.b", "sys.c"):
            inv.add_range(site, "10000", count=500)
        inv.reserve_range("sys.b", "10100", count=50)
        _BIG.append(inv)
    return _BIG[0]


def test_paging_by_key_through_sibling_ties_returns_each_record_exactly_once() -> None:
    inv = _big_estate()
    seen: list[tuple[str, str]] = []
    cursor: tuple[str, str] | None = None
    while page := list(inv.search(after=cursor, limit=7)):
        seen += _keys(page)
        cursor = page[-1].key
    assert len(seen) == len(set(seen)) == 1500
    assert seen == sorted(seen)


def test_paging_with_a_status_filter_returns_each_match_exactly_once() -> None:
    inv = _big_estate()
    seen: list[tuple[str, str]] = []
    cursor: tuple[str, str] | None = None
    while page := list(inv.search(after=cursor, limit=9, status="Reserved")):
        seen += _keys(page)
        cursor = page[-1].key
    assert seen == [(f"10{100 + index}", "sys.b") for index in range(50)]


# -- available -----------------------------------------------------------------------------------


@pytest.fixture
def pools() -> Inventory:
    """Numbers at a site, its customer and the root; lower numbers higher up."""
    inv = _inventory()
    inv.add_range("sys", "1000", count=3)
    inv.add_range("sys.acme", "2000", count=3)
    inv.add_range("sys.acme.uk.london", "9000", count=3)
    inv.add_range("sys.acme.uk.paris", "5000", count=3)
    return inv


def test_available_offers_the_consumers_own_node_first_then_each_ancestor(
    pools: Inventory,
) -> None:
    assert _keys(pools.available("sys.acme.uk.london")) == [
        ("9000", "sys.acme.uk.london"),
        ("9001", "sys.acme.uk.london"),
        ("9002", "sys.acme.uk.london"),
        ("2000", "sys.acme"),
        ("2001", "sys.acme"),
        ("2002", "sys.acme"),
        ("1000", "sys"),
        ("1001", "sys"),
        ("1002", "sys"),
    ]


def test_available_never_offers_a_siblings_numbers(pools: Inventory) -> None:
    offered = {record.hierarchy for record in pools.available("sys.acme.uk.london")}
    assert "sys.acme.uk.paris" not in offered


def test_available_from_a_node_without_numbers_starts_at_the_nearest_ancestor(
    pools: Inventory,
) -> None:
    assert _numbers(pools.available("sys.acme.us", limit=4)) == ["2000", "2001", "2002", "1000"]


def test_available_offers_numbers_of_one_node_in_ascending_order() -> None:
    inv = _inventory()
    for first in ("7000", "1000", "4000"):
        inv.add_range("sys.acme", first, count=2)
    assert _numbers(inv.available("sys.acme")) == ["1000", "1001", "4000", "4001", "7000", "7001"]


def test_available_orders_numbers_of_different_widths_as_text() -> None:
    # SPEC says "ascending number order" without saying how widths compare: numbers are
    # text (leading zeros are significant), and the code offers them in text order.
    inv = _inventory()
    for number in ("99", "100", "0100", "+1"):
        inv.add_range("sys.acme", number)
    assert _numbers(inv.available("sys.acme")) == ["+1", "0100", "100", "99"]


def test_available_skips_numbers_used_reserved_or_cooling(pools: Inventory) -> None:
    pools.assign("9000", Consumer(PHONE, "SEP1", "sys.acme.uk.london"))
    pools.reserve("9001", "sys.acme.uk.london")
    pools.cool("2000", "sys.acme")
    assert _numbers(pools.available("sys.acme.uk.london", limit=4)) == [
        "9002",
        "2001",
        "2002",
        "1000",
    ]


def test_available_offers_only_available_numbers(pools: Inventory) -> None:
    pools.assign("1001", Consumer(HUNT_PILOT, "HP1", "sys.acme.uk.london"))
    assert {r.status for r in pools.available("sys.acme.uk.london")} == {Status.AVAILABLE}


def test_available_with_a_prefix_offers_only_numbers_starting_with_it(pools: Inventory) -> None:
    assert _numbers(pools.available("sys.acme.uk.london", prefix="200")) == [
        "2000",
        "2001",
        "2002",
    ]


def test_available_with_a_limit_offers_the_first_that_many(pools: Inventory) -> None:
    assert _numbers(pools.available("sys.acme.uk.london", limit=2)) == ["9000", "9001"]


def test_available_from_a_node_seeing_no_numbers_offers_nothing(pools: Inventory) -> None:
    assert list(pools.available("other")) == []


def test_available_offers_a_number_again_once_its_cooling_is_released(pools: Inventory) -> None:
    pools.cool("9000", "sys.acme.uk.london")
    pools.release("9000", "sys.acme.uk.london")
    assert _numbers(pools.available("sys.acme.uk.london", limit=1)) == ["9000"]


def test_assign_next_takes_the_first_number_available_offers(pools: Inventory) -> None:
    pools.reserve("9000", "sys.acme.uk.london")
    first = next(pools.available("sys.acme.uk.london"))
    taken = pools.assign_next(Consumer(PHONE, "SEP1", "sys.acme.uk.london"))
    assert taken.key == first.key == ("9001", "sys.acme.uk.london")
