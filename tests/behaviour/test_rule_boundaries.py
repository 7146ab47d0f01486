"""Rules a probe broke one at a time, on purpose, without any test of the suite failing.

Two rounds of mutation testing (60 single changes to the lifecycle,
uniqueness, numbers, journal, reading and inventory modules; then 29 to the
audit, the unit of work, events, integrity, serialization, settings and
utilization) found 24 that the unit and behaviour tests let through. Each
test here fails with its rule broken, on every store where it takes a store.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from numinv import (
    Consumer,
    DuplicateNumber,
    Event,
    InvalidInput,
    InvalidNumber,
    InvalidTransition,
    Inventory,
    NumberRecord,
    Observation,
    Settings,
    Status,
)
from numinv.serialization import from_dict
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


# -- releases, events and the journal (SPEC 6, 11, 15; decision 10) -------------------------


def test_an_audit_stores_the_release_of_a_reservation_lapsing_that_very_moment(
    make: MakeInventory, clock: Clock
) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1000", "1001")
    inventory.reserve("1000", "sys.a", days=1)
    clock.advance(days=1)  # the release date is now: due
    inventory.audit([])
    assert [change.operation for change in inventory.changes()][-1] == "release_due"
    stored = make().repository.get("1000", "sys.a")  # what is stored, not shown
    assert stored is not None
    assert stored.status is Status.AVAILABLE


def test_the_events_of_a_range_with_gaps_carry_their_entries_seqs(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1005")
    heard: list[tuple[int | None, str | None]] = []
    inventory.subscribe(lambda event: heard.append((event.seq, _number(event))))
    inventory.add_range("sys.a", "1000", "1009", skip_existing=True)
    journal = [(change.seq, change.number) for change in inventory.changes(after=1)]
    assert heard == journal
    assert [number for _, number in heard] == [f"{n}" for n in range(1000, 1010) if n != 1005]


def _number(event: Event) -> str | None:
    return None if event.after is None else event.after.number


def test_a_refused_call_announces_nothing_of_what_it_rolled_back(
    make: MakeInventory, clock: Clock
) -> None:
    """The lapse the refused call met went back with it: no event, no entry."""
    inventory = make()
    inventory.add_range("sys.a", "1000")
    inventory.reserve("1000", "sys.a", days=1)
    heard: list[tuple[int | None, str]] = []
    inventory.subscribe(lambda event: heard.append((event.seq, event.operation)))
    clock.advance(days=2)
    with pytest.raises(InvalidTransition):
        inventory.unreserve("1000", "sys.a")
    assert heard == []
    assert list(inventory.changes(after=2)) == []


def test_the_listeners_after_one_that_unsubscribed_still_hear(make: MakeInventory) -> None:
    inventory = make()
    heard: list[tuple[str, int | None]] = []
    inventory.subscribe(lambda event: heard.append(("first", event.seq)))
    leave = inventory.subscribe(lambda event: heard.append(("second", event.seq)))
    inventory.subscribe(lambda event: heard.append(("third", event.seq)))
    leave()
    inventory.add_range("sys.a", "1000")
    assert heard == [("first", 1), ("third", 1)]


# -- what an import accepts (SPEC table, SPEC 18) --------------------------------------------


def test_an_available_record_with_a_release_date_is_refused(
    make: MakeInventory, clock: Clock
) -> None:
    record = NumberRecord(number="1000", hierarchy="sys.a", release_date=clock.now)
    inventory = make()
    with pytest.raises(InvalidInput, match="release_date must be None unless Cooling or Reserved"):
        inventory.import_records([record])
    assert list(inventory.search()) == []


def test_an_available_record_reserved_for_somebody_is_refused(make: MakeInventory) -> None:
    record = NumberRecord(number="1000", hierarchy="sys.a", reserved_for="alice")
    inventory = make()
    with pytest.raises(InvalidInput, match="must be Reserved while reserved for somebody"):
        inventory.import_records([record])
    assert list(inventory.search()) == []


def test_a_record_written_before_admin_number_type_was_kept_apart_reads_back() -> None:
    """Decision 66: a file exported before it keeps its number type as the admin's."""
    old = {
        "number": "1000",
        "hierarchy": "sys.a",
        "vendor": "Microsoft",
        "admin_vendor": "Microsoft",
        "internal_number_type": "Calling Plan",
    }
    assert from_dict(old).admin_number_type == "Calling Plan"


# -- reports (SPEC 9, 10) --------------------------------------------------------------------


def test_an_audit_counts_records_changed_not_steps(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1000")
    inventory.assign("1000", Consumer(PHONE, "old", "sys.a"))
    report = inventory.audit([Observation("1000", Consumer(PHONE, "new", "sys.a"))], fix=False)
    assert len(report.changes) == 2  # the new use recorded, the old one removed
    assert report.changed == 1
    assert "1 record examined, 1 changed" in str(report)


def test_an_audit_report_says_when_it_shows_only_the_first_unknown_observations(
    make: MakeInventory,
) -> None:
    inventory = make()
    seen = [Observation(f"+2{n:04d}", Consumer(PHONE, f"p{n}", "sys.a")) for n in range(25)]
    report = inventory.audit(seen, fix=False)
    assert (len(report.unknown), len(report.conflicts)) == (25, 0)
    assert str(report).splitlines()[-1] == (
        "(the first 20 of each are shown; see .conflicts and .unknown)"
    )


def test_a_subtree_holding_no_numbers_has_no_share_available(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a.x", "1000", "1009")
    empty = inventory.utilization().rollup("sys.b")
    assert (empty.total, empty.available, empty.available_share, empty.low) == (0, 0, 0.0, True)


def test_the_inventorys_own_flags_must_be_true_or_false() -> None:
    """None means "inherit" at a node (`NodeSettings`), never in `Settings`."""
    for name in ("auto_cooling", "prevent_duplicates"):
        with pytest.raises(InvalidInput, match=f"Settings.{name} must be True or False"):
            Settings(**{name: None})
