"""SPEC 15: every committed change is journaled in its transaction; history and a change feed."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from numinv import (
    Change,
    ConcurrentUpdate,
    Consumer,
    DuplicateNumber,
    Event,
    InvalidTransition,
    Inventory,
    NumberRecord,
    Observation,
    Settings,
    Status,
)
from numinv.storage.protocol import Query
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

SITE = "sys.acme.uk.london"
POOL = "sys.acme.uk"
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)


def every_change(inventory: Inventory, page: int = 7) -> list[Change]:
    """The whole feed, read a page at a time as a follower would."""
    found: list[Change] = []
    while batch := inventory.changes(after=found[-1].seq if found else 0, limit=page):
        found += batch
    return found


def stored(inventory: Inventory) -> dict[tuple[str, str], NumberRecord]:
    """What the repository holds, read through its side door."""
    repository = inventory.repository
    found = {}
    for node in repository.nodes():
        for record in repository.scan(Query(node, limit=1_000_000)):
            found[record.key] = record
    return found


def replayed(changes: list[Change]) -> dict[tuple[str, str], NumberRecord]:
    state: dict[tuple[str, str], NumberRecord] = {}
    for change in changes:
        if change.before is not None:
            assert state.pop(change.before.key) == change.before
        if change.after is not None:
            state[change.after.key] = change.after
    return state


def test_a_loaded_range_has_one_added_change_per_number(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "1000", count=3, tag="t")

    changes = inventory.changes()

    assert [(c.seq, c.operation, c.number, c.hierarchy) for c in changes] == [
        (1, "add", "1000", SITE),
        (2, "add", "1001", SITE),
        (3, "add", "1002", SITE),
    ]
    assert all(c.before is None for c in changes)
    assert [c.after for c in changes] == [inventory.get(n, SITE) for n in ("1000", "1001", "1002")]


def test_the_history_of_a_number_loaded_with_many_others_starts_with_its_load(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(POOL, "4420700000", count=20_000)

    (added,) = inventory.history("4420712345")

    assert (added.operation, added.number, added.before) == ("add", "4420712345", None)
    assert added.after == inventory.get("4420712345", POOL)
    assert added.seq == 12346


def test_the_history_lists_every_change_of_a_number_oldest_first(
    make: MakeInventory, clock: Clock
) -> None:
    inventory = make(settings=Settings(auto_cooling=True, cooling_days=2))
    inventory.add_range(SITE, "2000", count=2)
    inventory.assign("2000", PHONE)
    inventory.unassign("2000", PHONE)
    clock.advance(days=3)
    inventory.reserve("2000", SITE, tag="new starter")

    history = inventory.history("2000")

    assert [c.operation for c in history] == ["add", "assign", "unassign", "release_due", "reserve"]
    assert [c.after.status for c in history if c.after] == [
        Status.AVAILABLE,
        Status.USED,
        Status.COOLING,
        Status.AVAILABLE,
        Status.RESERVED,
    ]
    assert all(a.after == b.before for a, b in pairwise(history))
    assert history[-1].after == inventory.get("2000", SITE)


def test_a_change_carries_the_operation_time_and_the_actor(
    make: MakeInventory, clock: Clock
) -> None:
    acting = ["workflow:onboarding"]
    inventory = make(actor=lambda: acting[0])
    inventory.add_range(SITE, "2000")
    acting[0] = "admin:ann"
    clock.advance(hours=1)
    inventory.reserve("2000", SITE)

    added, reserved = inventory.history("2000")

    assert (added.actor, reserved.actor) == ("workflow:onboarding", "admin:ann")
    assert reserved.at == clock.now


def test_without_an_actor_hook_the_actor_is_none(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    assert inventory.history("2000")[0].actor is None


def test_a_refused_call_journals_nothing(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=5)
    inventory.assign("2003", PHONE)
    before = inventory.changes()

    with pytest.raises(DuplicateNumber):
        inventory.add_range(POOL, "2000", count=5)
    with pytest.raises(InvalidTransition):
        inventory.reserve_range(SITE, "2000", count=5)

    assert inventory.changes() == before


def test_the_feed_pages_through_a_range_without_losing_or_repeating_a_change(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "1000", count=25)
    inventory.assign("1010", PHONE)
    inventory.add_range(POOL, "5000", count=13)

    changes = every_change(inventory, page=4)

    assert [c.seq for c in changes] == list(range(1, 40))
    assert changes[25].operation == "assign"
    assert inventory.changes(after=39) == []


def test_replaying_the_feed_from_empty_rebuilds_the_store(
    make: MakeInventory, clock: Clock
) -> None:
    inventory = make(settings=Settings(auto_cooling=True))
    inventory.add_range(POOL, "1000", count=30)
    inventory.add_range(SITE, "2000", count=10)
    inventory.assign("2001", PHONE)
    inventory.assign_next(Consumer("device/msteamsonline/CsOnlineUser", "ann", SITE))
    inventory.reserve_range(POOL, "1005", count=3, days=2)
    inventory.move_range(POOL, "1020", count=5, to=SITE)
    inventory.delete_range(POOL, "1000", count=5)
    inventory.unassign("2001", PHONE)
    inventory.associate_e164("2002", SITE, "+442071234567", primary=True)
    clock.advance(days=40)
    inventory.release_due()
    inventory.audit([Observation("2003", PHONE)])

    assert replayed(every_change(inventory)) == stored(inventory)


def test_the_history_seen_from_a_node_follows_a_move(make: MakeInventory) -> None:
    paris = "sys.acme.fr.paris"
    inventory = make()
    inventory.add_range(paris, "3000", count=2)
    inventory.update("3000", paris, tag="moved soon")
    inventory.move_range(paris, "3000", to=SITE)
    inventory.add_range(paris, "3000")  # a new record at the old node

    seen = inventory.history("3000", at=SITE)

    assert [(c.operation, c.hierarchy) for c in seen] == [
        ("add", paris),
        ("update", paris),
        ("move", SITE),
    ]
    moved_from = seen[-1].before
    assert moved_from is not None
    assert moved_from.hierarchy == paris
    assert [c.hierarchy for c in inventory.history("3000")] == [paris, paris, SITE, paris]


def test_the_history_seen_from_a_node_ends_with_the_move_that_took_the_number_away(
    make: MakeInventory,
) -> None:
    """What a consumer at the old node saw happen: the number was there, then it left."""
    paris, lyon = "sys.acme.fr.paris", "sys.acme.fr.lyon"
    inventory = make()
    inventory.add_range(paris, "3000")
    inventory.move_range(paris, "3000", to=lyon)

    seen = inventory.history("3000", at=paris)

    assert [(c.operation, c.hierarchy) for c in seen] == [("add", paris), ("move", lyon)]
    assert inventory.find("3000", paris) is None
    assert inventory.history("3000", at="sys.acme.de") == []


def test_history_with_a_limit_gives_the_oldest_changes(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    for tag in "abc":
        inventory.update("2000", SITE, tag=tag)
    assert [c.after.tag for c in inventory.history("2000", limit=2) if c.after] == ["", "a"]


def test_pruning_deletes_old_changes_and_never_records(make: MakeInventory, clock: Clock) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=10)
    clock.advance(days=400)
    inventory.assign("2000", PHONE)
    records = stored(inventory)

    assert inventory.prune_history(clock.now - timedelta(days=365)) == 10

    assert [c.operation for c in inventory.changes()] == ["assign"]
    assert inventory.history("2001") == []
    assert stored(inventory) == records
    inventory.unassign("2000", PHONE)
    assert [c.seq for c in inventory.changes()] == [11, 12]


def test_an_event_carries_the_seq_of_its_change(make: MakeInventory) -> None:
    inventory = make()
    events: list[Event] = []
    inventory.subscribe(events.append)
    inventory.add_range(SITE, "2000", count=2)
    inventory.assign("2001", PHONE)

    assert [e.seq for e in events] == [c.seq for c in inventory.changes()] == [1, 2, 3]


def test_a_number_deleted_and_loaded_again_continues_above_its_last_version(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    for tag in "abcd":
        inventory.update("2001", SITE, tag=tag)
    old = inventory.get("2001", SITE)
    inventory.delete_range(SITE, "2000", count=3)
    inventory.add_range(SITE, "2000", count=3)

    again = inventory.get("2001", SITE)

    assert again.version > old.version == 5
    assert inventory.get("2000", SITE).version == 2
    with pytest.raises(ConcurrentUpdate), inventory.repository.transaction() as tx:
        tx.replace([(old, NumberRecord("2001", SITE, tag="stale", version=old.version + 1))])
    assert inventory.get("2001", SITE) == again


def test_a_second_instance_on_the_same_store_continues_the_sequence(make: MakeInventory) -> None:
    first, second = make(), make()
    first.add_range(SITE, "2000", count=2)
    second.assign("2000", PHONE)
    first.unassign("2000", PHONE)

    assert [c.seq for c in second.changes()] == [1, 2, 3, 4]
    assert [c.operation for c in first.changes(after=2)] == ["assign", "unassign"]


def test_the_audit_journals_each_record_it_fixes(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    inventory.assign("2002", Consumer("device/cucm/Phone", "SEP9", SITE))

    inventory.audit([Observation("2000", PHONE)])

    fixed = [(c.operation, c.number) for c in inventory.changes(after=4)]
    assert fixed == [("audit", "2000"), ("audit", "2002")]


def test_a_dry_run_audit_journals_nothing(make: MakeInventory, clock: Clock) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    inventory.cool("2001", SITE, days=1)
    clock.advance(days=2)
    before = inventory.changes()

    report = inventory.audit([Observation("2000", PHONE)], fix=False)

    assert report.changes
    assert inventory.changes() == before


@pytest.mark.parametrize("bad", [-1, "3", None, 2.5])
def test_a_bad_cursor_is_refused(make: MakeInventory, bad: object) -> None:
    from numinv import InvalidInput

    with pytest.raises(InvalidInput):
        make().changes(after=bad)  # type: ignore[arg-type]


def test_an_audit_stores_a_due_release_without_an_empty_change_of_its_own(
    make: MakeInventory, clock: Clock
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.cool("2000", SITE, days=1)
    clock.advance(days=2)

    inventory.audit([Observation("2001", PHONE)])

    assert [c.operation for c in inventory.history("2000")] == ["add", "cool", "release_due"]
    assert [c.operation for c in inventory.history("2001")] == ["add", "audit"]


def test_a_call_refused_in_a_hosts_transaction_journals_what_it_wrote(
    make: MakeInventory, clock: Clock
) -> None:
    """A call joins a transaction the host opened on the repository. Refused after it
    stored the release of a lapsed cooling, it left that change without its entry once
    the host caught the refusal and committed: no change without its entry (SPEC 15)."""
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.cool("2000", SITE, days=1)
    clock.advance(days=2)

    with inventory.repository.transaction(), pytest.raises(InvalidTransition):
        inventory.unreserve("2000", SITE)  # caught inside: the host's transaction commits

    stored = inventory.repository.get("2000", SITE)
    assert stored is not None
    last = inventory.changes()[-1]
    assert (last.operation, last.after) == ("release_due", stored)


def test_a_refused_call_of_its_own_journals_nothing(make: MakeInventory, clock: Clock) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.cool("2000", SITE, days=1)
    clock.advance(days=2)
    before = inventory.changes()

    with pytest.raises(InvalidTransition):
        inventory.unreserve("2000", SITE)

    assert inventory.changes() == before
    stored = inventory.repository.get("2000", SITE)
    assert stored is not None
    assert stored.status is Status.COOLING  # stored as it was


def test_events_of_calls_in_a_hosts_transaction_wait_for_its_commit(
    make: MakeInventory,
) -> None:
    """SPEC 11: one event per stored change, after it is committed, never for work rolled
    back. Calls joined to a host's transaction sent theirs as each returned: a host that
    then rolled back had announced changes that were never kept, and the seq of one was
    given again to the next change."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    events: list[Event] = []
    inventory.subscribe(events.append)

    def give_up() -> None:
        with inventory.repository.transaction():
            inventory.update("2000", SITE, tag="gone")
            assert events == []  # not before the host's commit
            raise RuntimeError("the host gives up")

    with pytest.raises(RuntimeError):
        give_up()
    with inventory.repository.transaction():
        inventory.update("2001", SITE, tag="one")
        inventory.update("2002", SITE, tag="two")
        assert events == []
    inventory.update("2000", SITE, tag="alone")

    assert [(e.after.number, e.after.tag) for e in events if e.after] == [
        ("2001", "one"),
        ("2002", "two"),
        ("2000", "alone"),
    ]
    assert [e.seq for e in events] == [c.seq for c in inventory.changes()[-3:]]
