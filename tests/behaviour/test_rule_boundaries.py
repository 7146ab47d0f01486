"""Rules a probe broke one at a time, on purpose, without any test of the suite failing.

A mutation probe (60 single changes to the lifecycle, uniqueness, numbers,
journal, reading and inventory modules) found 13 that the unit and behaviour
tests let through. Each test here fails with its rule broken, on every store.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from numinv import (
    Consumer,
    DuplicateNumber,
    InvalidNumber,
    InvalidTransition,
    Inventory,
    Settings,
    Status,
)
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

PHONE = "device/cucm/Phone"
GATEWAY = "device/audiocodes"


def _alices_phone() -> Consumer:
    return Consumer(PHONE, "p1", "sys.a", owner="alice")


def _cooling_for_alice(inventory: Inventory) -> None:
    """1000 at sys.a reserved for alice, taken by her phone and let go: Cooling, flagged."""
    inventory.add_range("sys.a", "1000")
    inventory.reserve("1000", "sys.a", reserved_for="alice")
    inventory.assign("1000", _alices_phone(), claim=True)
    inventory.unassign("1000", _alices_phone())


# -- cooling (SPEC 6, 19) --------------------------------------------------------------------


def test_cool_without_days_takes_the_cooling_days_set_at_the_node(
    make: MakeInventory, clock: Clock
) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1000", count=2)
    inventory.add_range("sys.b", "2000")
    inventory.configure("sys.a", cooling_days=5)
    assert inventory.cool("1000", "sys.a").release_date == clock.now + timedelta(days=5)
    assert inventory.cool("2000", "sys.b").release_date == clock.now + timedelta(days=30)


def test_cool_until_now_is_refused_as_not_in_the_future(make: MakeInventory, clock: Clock) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1000")
    with pytest.raises(InvalidTransition, match="not in the future"):
        inventory.cool("1000", "sys.a", until=clock.now)
    assert inventory.get("1000", "sys.a").status is Status.AVAILABLE
    assert [change.operation for change in inventory.history("1000")] == ["add"]


def test_moving_a_gateways_release_date_rewrites_its_cooling_tag(
    make: MakeInventory, clock: Clock
) -> None:
    """Decision 9: the tag states the days and the date; a new date rewrites it."""
    inventory = make()
    inventory.add_range("sys.a", "1000", tag="keep")
    inventory.assign("1000", Consumer(GATEWAY, "gw1", "sys.a"))
    cooled = inventory.unassign("1000", Consumer(GATEWAY, "gw1", "sys.a"))
    assert cooled.tag == "Cooling: released in 2 days, on 2026-03-03"
    moved = inventory.cool("1000", "sys.a", until=clock.now + timedelta(days=5))
    assert moved.tag == "Cooling: released in 5 days, on 2026-03-06"
    part = inventory.cool("1000", "sys.a", until=clock.now + timedelta(hours=36))
    assert part.tag == "Cooling: released in 2 days, on 2026-03-02"  # a part of a day counts
    released = inventory.release("1000", "sys.a")
    assert released.tag == "keep"


# -- service types (SPEC 8, decision 16) -----------------------------------------------------


def test_a_service_type_is_refused_on_a_number_held_back(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1000", count=3)
    inventory.cool("1000", "sys.a", days=10)
    inventory.reserve("1001", "sys.a", tag="held")
    inventory.reserve("1002", "sys.a", reserved_for="bob")
    for number in ("1000", "1001"):
        with pytest.raises(InvalidTransition, match="held back"):
            inventory.apply_service(number, "sys.a", "bob", "Cisco-Only")
    assert inventory.get("1000", "sys.a").status is Status.COOLING
    assert inventory.get("1001", "sys.a").status is Status.RESERVED
    assert inventory.apply_service("1002", "sys.a", "bob", "Cisco-Only").status is Status.USED


# -- reserved for a person (SPEC 18) ---------------------------------------------------------


def test_unreserve_of_a_cooling_number_keeps_it_cooling_without_the_flag(
    make: MakeInventory,
) -> None:
    inventory = make(settings=Settings(auto_cooling=True))
    _cooling_for_alice(inventory)
    before = inventory.get("1000", "sys.a")
    assert (before.status, before.reserved_for) == (Status.COOLING, "alice")
    after = inventory.unreserve("1000", "sys.a")
    assert (after.status, after.reserved_for, after.release_date) == (
        Status.COOLING,
        None,
        before.release_date,
    )


def test_a_number_back_to_its_person_loses_the_description_of_its_use(
    make: MakeInventory,
) -> None:
    """SPEC 13 with SPEC 18: the description goes when the number is free again, and a
    flagged number is free again as Reserved for its person."""
    inventory = make(describe=lambda consumer, record: f"line of {consumer.id}")
    inventory.add_range("sys.a", "1000")
    inventory.reserve("1000", "sys.a", reserved_for="alice")
    assert inventory.assign("1000", _alices_phone(), claim=True).description == "line of p1"
    back = inventory.unassign("1000", _alices_phone())
    assert (back.status, back.reserved_for, back.description) == (Status.RESERVED, "alice", "")


def test_a_search_for_reserved_shows_a_flagged_number_whose_cooling_ended(
    make: MakeInventory, clock: Clock
) -> None:
    """SPEC 22: reads show a passed release date as released (Reserved for its person)."""
    inventory = make(settings=Settings(auto_cooling=True))
    _cooling_for_alice(inventory)
    clock.advance(days=31)
    assert inventory.get("1000", "sys.a").status is Status.RESERVED
    assert [record.number for record in inventory.search(status="Reserved")] == ["1000"]
    assert list(inventory.search(status="Cooling")) == []


# -- uniqueness on import (SPEC 3, decision 61) ----------------------------------------------


def test_an_import_of_a_number_at_a_node_and_below_it_is_refused(make: MakeInventory) -> None:
    source = Inventory()
    source.add_range("sys.a.b", "1000")
    child = source.get("1000", "sys.a.b")
    other = Inventory()
    other.add_range("sys.a", "1000")
    parent = other.get("1000", "sys.a")
    inventory = make()
    with pytest.raises(DuplicateNumber):
        inventory.import_records([child, parent])
    with pytest.raises(DuplicateNumber):
        inventory.import_records([parent, child])
    assert list(inventory.search()) == []


def test_an_import_clashes_between_siblings_where_one_prevents_duplicates(
    make: MakeInventory,
) -> None:
    first, second = Inventory(), Inventory()
    first.add_range("sys.x", "1000")
    second.add_range("sys.y", "1000")
    records = [first.get("1000", "sys.x"), second.get("1000", "sys.y")]
    inventory = make()
    inventory.configure("sys.x", prevent_duplicates=True)
    with pytest.raises(DuplicateNumber):
        inventory.import_records(records)
    assert list(inventory.search()) == []
    inventory.configure("sys.x", prevent_duplicates=False)
    assert inventory.import_records(records) == 2


# -- numbers (SPEC 2) ------------------------------------------------------------------------


def test_a_range_whose_ends_differ_in_their_plus_is_refused(make: MakeInventory) -> None:
    inventory = make()
    for first, last in (("+1000", "11005"), ("1000", "+1005")):
        with pytest.raises(InvalidNumber, match=r"same width and '\+' prefix"):
            inventory.add_range("sys.a", first, last)
    assert list(inventory.search()) == []


# -- the journal (SPEC 15) -------------------------------------------------------------------


def test_history_of_every_number_of_a_range_across_a_block_boundary(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1995", "2005")
    numbers = [f"{number}" for number in range(1995, 2006)]
    for number in numbers:
        assert [(change.operation, change.number) for change in inventory.history(number)] == [
            ("add", number)
        ], number
    assert [change.number for change in inventory.changes()] == numbers


# -- versions (SPEC 22, decision 65) ---------------------------------------------------------


def test_a_moved_record_takes_a_version_above_one_deleted_at_its_new_key(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range("sys.b", "1000")
    inventory.update("1000", "sys.b", tag="x")
    inventory.update("1000", "sys.b", tag="y")
    assert inventory.get("1000", "sys.b").version == 3
    inventory.delete_range("sys.b", "1000")
    inventory.add_range("sys.a", "1000")
    inventory.move_range("sys.a", "1000", to="sys.b")
    assert inventory.get("1000", "sys.b").version == 4
