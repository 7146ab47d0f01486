"""`FaultyRepository`: wraps any repository so that a write fails part way, to prove atomicity.

Inside its transactions every write is a run of steps: one when the call
starts, then one per record (or per number of a loaded range) as the adapter
takes it from the iterable it was given. Armed with `fail_at=k`, the k-th
step raises `InjectedFault`, once; a dry run (not armed) counts the steps, so
a test can fail every step in turn and check that the store is left exactly
as it was:

    faulty = FaultyRepository(SqliteRepository(":memory:"))
    inventory = Inventory(faulty)
    ...                                   # set up, not armed
    faulty.arm(None)
    inventory.add_range("sys.a", "1000", count=5)
    for k in range(1, faulty.steps + 1):  # on a fresh set-up each time
        faulty.arm(k)
        with pytest.raises(InjectedFault):
            inventory.add_range("sys.a", "1000", count=5)

Armed with `race=True`, the step raises `ConcurrentUpdate` instead, as a store
does when another writer changed the record first: the inventory runs the call
again (`Settings.retries`); inside a host's transaction it reaches the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import attrs

from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import ConcurrentUpdate
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query, Reader, Repository, Transaction

__all__ = ["FaultyRepository", "InjectedFault"]

T = TypeVar("T")


class InjectedFault(Exception):
    """The failure a `FaultyRepository` injects (deliberately not a `NumInvError`)."""


class _Steps:
    """Counts write steps and fails the armed one."""

    def __init__(self) -> None:
        self.count = 0
        self.fail_at: int | None = None
        self.race = False

    def step(self) -> None:
        self.count += 1
        if self.count == self.fail_at:
            if self.race:
                raise ConcurrentUpdate(f"injected lost race at write step {self.count}")
            raise InjectedFault(f"injected fault at write step {self.count}")

    def each(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            self.step()
            yield item


@attrs.frozen
class _FaultyRange(NumberRange):
    """A range whose iteration counts a step per number."""

    steps: _Steps = attrs.field(kw_only=True, eq=False, repr=False)

    def __iter__(self) -> Iterator[str]:
        return self.steps.each(NumberRange.__iter__(self))


class _Reads:
    """The read side of the protocol, passed straight through."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        return self._reader.get(number, hierarchy)

    def holding(self, number: str) -> list[NumberRecord]:
        return self._reader.holding(number)

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        return self._reader.within(numbers, hierarchy)

    def scan(self, query: Query) -> list[NumberRecord]:
        return self._reader.scan(query)

    def nodes(self, under: str | None = None) -> list[str]:
        return self._reader.nodes(under)

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        return self._reader.due(now, limit)

    def with_e164(self, e164: str) -> list[NumberRecord]:
        return self._reader.with_e164(e164)

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        return self._reader.counts(under)

    def next_release(self) -> datetime | None:
        return self._reader.next_release()

    def held_by(self, who: str) -> list[NumberRecord]:
        return self._reader.held_by(who)

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        return self._reader.node_settings(nodes)

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        return self._reader.retired(numbers, hierarchy)

    def changes(self, after: int, limit: int) -> list[Change]:
        return self._reader.changes(after, limit)

    def history(self, number: str) -> list[Change]:
        return self._reader.history(number)


class _FaultyTransaction(_Reads):
    def __init__(self, tx: Transaction, steps: _Steps) -> None:
        super().__init__(tx)
        self._tx = tx
        self._steps = steps

    def insert(self, records: Iterable[NumberRecord]) -> None:
        self._steps.step()
        self._tx.insert(self._steps.each(records))

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        self._steps.step()
        faulty = _FaultyRange(
            numbers.plus, numbers.width, numbers.start, numbers.stop, steps=self._steps
        )
        self._tx.insert_range(faulty, template)

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        self._steps.step()
        self._tx.replace(self._steps.each(changes))

    def delete(self, records: Iterable[NumberRecord]) -> None:
        self._steps.step()
        self._tx.delete(self._steps.each(records))

    def claim(self, query: Query) -> list[NumberRecord]:
        return self._tx.claim(query)

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        self._steps.step()
        self._tx.configure(hierarchy, settings)

    def journal(self, entries: Sequence[Entry]) -> int:
        self._steps.step()
        return self._tx.journal(list(self._steps.each(entries)))

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """The store's own `journal_at_commit` where it has one (it is optional), else
        `journal`, which writes the entries at once."""
        self._steps.step()
        faulty = list(self._steps.each(entries))
        at_commit = getattr(self._tx, "journal_at_commit", None)
        if at_commit is None:
            self._tx.journal(faulty)
        else:
            at_commit(faulty)


class FaultyRepository(_Reads):
    """A repository whose armed write step raises `InjectedFault` inside the transaction."""

    def __init__(self, repository: Repository) -> None:
        super().__init__(repository)
        self.repository = repository
        self._steps = _Steps()

    @property
    def steps(self) -> int:
        """The write steps taken since the last `arm`."""
        return self._steps.count

    def arm(self, fail_at: int | None, *, race: bool = False) -> None:
        """Count steps from zero again; fail the `fail_at`-th (none when None).

        With `race`, the step raises `ConcurrentUpdate` (a lost race), not `InjectedFault`.
        """
        self._steps.count = 0
        self._steps.fail_at = fail_at
        self._steps.race = race

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.repository.transaction() as tx:
            yield _FaultyTransaction(tx, self._steps)

    def prune(self, before: datetime) -> int:
        return self.repository.prune(before)
