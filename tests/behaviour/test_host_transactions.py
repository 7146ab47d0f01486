"""Inventory calls inside a transaction the host opened on the repository (decision 126).

The calls join it: the host's commit keeps their changes, entries and events
together, its rollback drops them together, and nothing it does leaves the
events of later calls waiting for good.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from numinv import ConcurrentUpdate, Consumer, Event, InvalidTransition, Inventory, Repository
from tests.clock import Clock

SITE = "sys.acme.uk.london"
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)


class HostGivesUp(Exception):
    pass


def _in_host_transaction(repository: Repository, *calls: Callable[[], object]) -> None:
    """The calls in one transaction of the host's, which then gives up (rolls back)."""
    with repository.transaction():
        for call in calls:
            call()
        raise HostGivesUp


def _rolled_back(repository: Repository, *calls: Callable[[], object]) -> None:
    with pytest.raises(HostGivesUp):
        _in_host_transaction(repository, *calls)


def test_a_seq_given_again_after_a_rollback_does_not_stop_the_events(
    store: Callable[[], Repository], clock: Clock
) -> None:
    """The rollback's word on its seq comes once the store has let go: by then another
    call may hold the same seq, committed. Both were filed under the seq while a third
    thread was delivering; one overwrote the other, and no event was delivered again."""
    repository = store()
    inventory = Inventory(repository, clock=clock)
    inventory.add_range(SITE, "2000", count=4)
    delivered: list[tuple[int, str]] = []
    delivering, downstream_back = threading.Event(), threading.Event()

    def slow_listener(event: Event) -> None:
        assert event.after is not None
        if event.after.tag == "slow":  # a slow downstream push, holding delivery
            delivering.set()
            downstream_back.wait(10)
        delivered.append((event.seq, event.after.tag))

    inventory.subscribe(slow_listener)
    slow = threading.Thread(target=lambda: inventory.update("2000", SITE, tag="slow"))
    slow.start()
    assert delivering.wait(10)
    paused, go = threading.Event(), threading.Event()

    def pause_at_the_end() -> None:  # the host's own hook, run before the call's
        with repository.transaction() as tx:
            tx.at_end(lambda committed: (paused.set(), go.wait(10)))  # type: ignore[attr-defined]

    def host() -> None:
        _rolled_back(
            repository, pause_at_the_end, lambda: inventory.update("2001", SITE, tag="dropped")
        )

    hosting = threading.Thread(target=host)
    hosting.start()
    assert paused.wait(10)  # rolled back, the store let go, its seq not yet cancelled
    inventory.update("2002", SITE, tag="kept")  # takes the seq the rollback gave back
    go.set()
    hosting.join(10)
    downstream_back.set()
    slow.join(10)
    inventory.update("2003", SITE, tag="after")

    journal = [(c.seq, c.after.tag) for c in inventory.changes()[-3:] if c.after]
    assert delivered == journal
    assert [tag for _, tag in delivered] == ["slow", "kept", "after"]


def test_a_listener_interrupted_at_the_hosts_commit_leaves_no_event_waiting(
    store: Callable[[], Repository], clock: Clock
) -> None:
    repository = store()
    inventory = Inventory(repository, clock=clock)
    inventory.add_range(SITE, "2000", count=3)
    events: list[Event] = []
    interrupt = [True]

    def listener(event: Event) -> None:
        if interrupt.pop() if interrupt else False:
            raise KeyboardInterrupt
        events.append(event)

    inventory.subscribe(listener)

    def both() -> None:
        with repository.transaction():
            inventory.update("2000", SITE, tag="a")
            inventory.update("2001", SITE, tag="b")

    with pytest.raises(KeyboardInterrupt):
        both()
    inventory.update("2002", SITE, tag="c")

    assert [e.after.tag for e in events if e.after] == ["b", "c"]  # "a" met the interrupt


def test_a_refused_call_kept_by_the_hosts_commit_has_its_event(
    store: Callable[[], Repository], clock: Clock
) -> None:
    repository = store()
    inventory = Inventory(repository, clock=clock)
    inventory.add_range(SITE, "2000")
    inventory.cool("2000", SITE, days=1)
    clock.advance(days=2)
    events: list[Event] = []
    inventory.subscribe(events.append)

    with repository.transaction(), pytest.raises(InvalidTransition):
        inventory.unreserve("2000", SITE)  # stores the release of the cooling, then refuses
    _rolled_back(repository, lambda: inventory.update("2000", SITE, tag="dropped"))

    last = inventory.changes()[-1]
    assert [(e.operation, e.seq) for e in events] == [("release_due", last.seq)]


def test_calls_in_a_hosts_transaction_are_journaled_in_the_order_made(
    store: Callable[[], Repository], clock: Clock
) -> None:
    """One inventory with nobody listening let its journal go with the commit, another
    journaled at once: on PostgreSQL the later call got the smaller seq, and a follower
    replaying the feed ended with the wrong tag."""
    repository = store()
    quiet, loud = Inventory(repository, clock=clock), Inventory(repository, clock=clock)
    quiet.add_range(SITE, "2000")
    loud.subscribe(lambda event: None)

    with repository.transaction():
        quiet.update("2000", SITE, tag="first")
        loud.update("2000", SITE, tag="second")

    changes = quiet.history("2000")
    assert [c.after.tag for c in changes if c.after] == ["", "first", "second"]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)


def test_a_failing_hook_after_a_write_in_a_hosts_transaction_journals_the_write(
    store: Callable[[], Repository], clock: Clock
) -> None:
    """Not a refusal: the host's `describe` hook failed after the release of a lapsed
    cooling was stored. The host caught it and committed: the release stayed, unjournaled."""

    def describe(consumer: Consumer, record: object) -> str:
        raise RuntimeError("the directory is down")

    repository = store()
    inventory = Inventory(repository, clock=clock, describe=describe)
    inventory.add_range(SITE, "2000")
    inventory.cool("2000", SITE, days=1)
    clock.advance(days=2)

    with repository.transaction(), pytest.raises(RuntimeError):
        inventory.assign("2000", PHONE)

    stored = repository.get("2000", SITE)
    assert stored is not None
    assert (inventory.changes()[-1].operation, inventory.changes()[-1].after) == (
        "release_due",
        stored,
    )


def test_a_lost_race_in_a_hosts_transaction_is_not_run_again_inside_it(
    store: Callable[[], Repository], clock: Clock
) -> None:
    """The host's transaction is the one to run again (on PostgreSQL the lost race has
    ended it): run again inside it, the call failed with a StorageError instead."""
    repository = store()
    inventory = Inventory(repository, clock=clock)
    runs: list[int] = []

    def body(unit: object) -> None:
        runs.append(1)
        raise ConcurrentUpdate("2000 at sys.acme.uk.london changed under us")

    with repository.transaction(), pytest.raises(ConcurrentUpdate):
        inventory._run("update", body)  # the retry loop itself
    assert (len(runs), inventory.retried) == (1, 0)
    with pytest.raises(ConcurrentUpdate):
        inventory._run("update", body)
    assert (len(runs), inventory.retried) == (1 + 6, 5)  # on its own: `retries` (5) more


def test_the_journal_read_inside_a_hosts_transaction_shows_its_calls(
    store: Callable[[], Repository], clock: Clock
) -> None:
    """On PostgreSQL the entries of joined calls wait for the host's commit: a read of the
    history inside the transaction missed them, where the other stores showed them."""
    repository = store()
    inventory = Inventory(repository, clock=clock)
    inventory.add_range(SITE, "2000")
    with repository.transaction():
        inventory.update("2000", SITE, tag="first")
        assert [c.operation for c in inventory.history("2000")] == ["add", "update"]
        inventory.update("2000", SITE, tag="second")
        assert [c.after.tag for c in inventory.changes() if c.after] == ["", "first", "second"]
    changes = inventory.changes()
    assert [c.after.tag for c in changes if c.after] == ["", "first", "second"]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
