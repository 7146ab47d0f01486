"""The unit of work hands its journal to `journal_at_commit` when nobody needs the seq.

`JournalAtCommit` is optional: with a listener the inventory needs each
change's seq, so it calls `journal`; with none, and a store that has the
method, it calls `journal_at_commit`; a store without it gets `journal`. On
every shipped store the journal reads the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from numinv import Consumer, Event, Inventory
from numinv.storage.protocol import Repository

SITE = "sys.acme.uk.london"
PHONE = "device/cucm/Phone"


class _Watched:
    """A transaction that notes which journal method was called, and may hide one."""

    def __init__(self, tx: Any, calls: list[str], hide: bool) -> None:
        self._tx, self._calls, self._hide = tx, calls, hide

    def __getattr__(self, name: str) -> Any:
        if name == "journal_at_commit" and self._hide:
            raise AttributeError(name)
        if name in ("journal", "journal_at_commit"):
            self._calls.append(name)
        return getattr(self._tx, name)


class Watching:
    """A repository whose transactions note which journal method the inventory calls."""

    def __init__(self, inner: Repository, *, hide: bool = False) -> None:
        self.inner, self.hide = inner, hide
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            yield _Watched(tx, self.calls, self.hide)


def _work(inventory: Inventory) -> None:
    inventory.add_range(SITE, "1000", count=3)
    taken = inventory.assign_next(Consumer(PHONE, "SEP1", SITE))
    inventory.unassign(taken.number, Consumer(PHONE, "SEP1", SITE))


def test_with_nobody_listening_the_journal_goes_with_the_commit(each_store: Repository) -> None:
    watching = Watching(each_store)
    inventory = Inventory(watching)
    _work(inventory)
    assert watching.calls == ["journal_at_commit"] * 3
    changes = inventory.changes(after=0, limit=100)
    assert [c.operation for c in changes] == ["add", "add", "add", "assign", "unassign"]
    assert [c.seq for c in changes] == list(range(changes[0].seq, changes[0].seq + 5))


def test_with_a_listener_the_journal_gives_the_seqs_events_carry(each_store: Repository) -> None:
    watching = Watching(each_store)
    inventory = Inventory(watching)
    events: list[Event] = []
    inventory.subscribe(events.append)
    _work(inventory)
    assert watching.calls == ["journal"] * 3
    changes = inventory.changes(after=0, limit=100)
    assert [e.seq for e in events] == [c.seq for c in changes]


@pytest.mark.parametrize("listening", [False, True])
def test_a_store_without_it_gets_journal(each_store: Repository, listening: bool) -> None:
    watching = Watching(each_store, hide=True)
    inventory = Inventory(watching)
    if listening:
        inventory.subscribe(lambda event: None)
    _work(inventory)
    assert watching.calls == ["journal"] * 3
    assert len(inventory.changes(after=0, limit=100)) == 5
