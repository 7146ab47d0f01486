"""A plain adapter a host might write, and the same adapter broken on purpose, one defect each.

`DictRepository` keeps the protocol with plain dicts and no cleverness: a
`Database` holds the committed state; each `DictRepository` on it is one
"connection". A transaction takes the database's write lock (one writer at a
time, as `BEGIN IMMEDIATE` does), works on a copy of the committed state
and publishes it on commit. Readers on other threads read the committed
state; the thread holding the open transaction reads inside it. Every write
call is all or nothing by itself: it works on a scratch copy and keeps it
only when the whole call succeeded.

It keeps indexes a real database would (E.164 and holders as sets, counts as
a tally) so that the broken adapters below can let one of them go stale.
Each broken adapter overrides one thing; `BROKEN` lists them with what they
get wrong. `tests/kit/test_broken_adapters.py` proves that the contract or
the repository machine catches each one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

import attrs

from numinv.core.journal import Entry, expand
from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import ConcurrentUpdate
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query, ended, same_key
from numinv.storage.rows import refuse_unkeepable

Key = tuple[str, str]


def _below(node: str, under: str) -> bool:
    return node == under or node.startswith(under + ".")


@attrs.define
class State:
    """Everything the store keeps; copied for a transaction, published whole on commit."""

    records: dict[Key, NumberRecord] = attrs.Factory(dict)
    e164: dict[str, set[Key]] = attrs.Factory(dict)
    holders: dict[str, set[Key]] = attrs.Factory(dict)
    counts: Counter[tuple[str, Status]] = attrs.Factory(Counter)
    settings: dict[str, NodeSettings] = attrs.Factory(dict)
    retired: dict[Key, int] = attrs.Factory(dict)
    journal: list[tuple[int, Entry]] = attrs.Factory(list)
    last_seq: int = 0

    def copy(self) -> State:
        return State(
            dict(self.records),
            {name: set(keys) for name, keys in self.e164.items()},
            {name: set(keys) for name, keys in self.holders.items()},
            Counter(self.counts),
            dict(self.settings),
            dict(self.retired),
            list(self.journal),
            self.last_seq,
        )


class Database:
    """The committed state and the write lock every repository object on it shares."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.committed = State()


class Reads:
    """The read side, over whichever state `_state()` names."""

    def _state(self) -> State:
        raise NotImplementedError

    # -- indexes kept by the writes ------------------------------------------------

    def _keepable(self, record: NumberRecord) -> None:
        """Text no store keeps (NUL, a lone surrogate) is refused by every store (SPEC 17)."""
        refuse_unkeepable(record)

    def _index(self, state: State, record: NumberRecord) -> None:
        state.counts[(record.hierarchy, record.status)] += 1
        for e164 in record.e164:
            state.e164.setdefault(e164, set()).add(record.key)
        for name in record.holders:
            state.holders.setdefault(name, set()).add(record.key)

    def _unindex(self, state: State, record: NumberRecord) -> None:
        state.counts[(record.hierarchy, record.status)] -= 1
        for e164 in record.e164:
            state.e164.get(e164, set()).discard(record.key)
        for name in record.holders:
            state.holders.get(name, set()).discard(record.key)

    # -- the reads -------------------------------------------------------------------

    def _sorted(self, records: Iterable[NumberRecord]) -> list[NumberRecord]:
        return sorted(records, key=lambda r: r.key)

    def _node_order(self, nodes: Iterable[str]) -> list[str]:
        return sorted(nodes)

    def _in_range(self, number: str, numbers: NumberRange) -> bool:
        return number in numbers

    def _in_subtree(self, node: str, under: str) -> bool:
        return _below(node, under)

    def _is_due(self, release: datetime | None, now: datetime) -> bool:
        return release is not None and release <= now

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        return self._state().records.get((number, hierarchy))

    def holding(self, number: str) -> list[NumberRecord]:
        state = self._state()
        found = [r for (n, _), r in state.records.items() if n == number]
        order = {
            node: place for place, node in enumerate(self._node_order(r.hierarchy for r in found))
        }
        return sorted(found, key=lambda r: order[r.hierarchy])

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        found = [
            r
            for r in self._state().records.values()
            if self._in_range(r.number, numbers) and (hierarchy is None or r.hierarchy == hierarchy)
        ]
        order = {node: p for p, node in enumerate(self._node_order({r.hierarchy for r in found}))}
        return sorted(found, key=lambda r: (r.number, order[r.hierarchy]))

    def _page(self, records: list[NumberRecord], query: Query) -> list[NumberRecord]:
        """Records of one node, filtered, in number order after the cursor, one page long."""
        found = [
            r
            for r in records
            if (query.status is None or r.status is query.status)
            and (query.prefix is None or r.number.startswith(query.prefix))
            and (query.due_by is None or self._is_due(r.release_date, query.due_by))
        ]
        found.sort(key=lambda r: r.number)
        if query.after is not None:
            found = [r for r in found if r.number > query.after]
        return found[: query.limit]

    def scan(self, query: Query) -> list[NumberRecord]:
        state = self._state()
        return self._page(
            [r for (_, node), r in state.records.items() if node == query.hierarchy], query
        )

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        found: dict[str, dict[Status, int]] = {}
        for (node, status), total in self._state().counts.items():
            if total and (under is None or self._in_subtree(node, under)):
                found.setdefault(node, {})[status] = total
        return {node: found[node] for node in self._node_order(found)}

    def nodes(self, under: str | None = None) -> list[str]:
        return list(self.counts(under))

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        found = [r for r in self._state().records.values() if self._is_due(r.release_date, now)]
        found.sort(key=lambda r: (r.release_date, r.number, r.hierarchy))
        return found[:limit]

    def next_release(self) -> datetime | None:
        dates = [r.release_date for r in self._state().records.values() if r.release_date]
        return min(dates) if dates else None

    def _keyed(self, keys: Iterable[Key]) -> list[NumberRecord]:
        records = self._state().records
        return self._sorted(records[key] for key in keys if key in records)

    def with_e164(self, e164: str) -> list[NumberRecord]:
        return self._keyed(self._state().e164.get(e164, ()))

    def held_by(self, who: str) -> list[NumberRecord]:
        return self._keyed(self._state().holders.get(who, ()))

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        settings = self._state().settings
        if nodes is None:
            return dict(settings)
        return {node: settings[node] for node in nodes if node in settings}

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        return {
            number: version
            for (number, node), version in self._state().retired.items()
            if node == hierarchy and self._in_range(number, numbers)
        }

    def changes(self, after: int, limit: int) -> list[Change]:
        found: list[Change] = []
        for seq, entry in self._state().journal:
            for change in expand(seq, entry):
                if change.seq > after and len(found) < limit:
                    found.append(change)
        return found

    def history(self, number: str) -> list[Change]:
        return [
            change
            for seq, entry in self._state().journal
            for change in expand(seq, entry)
            if change.number == number
        ]


class DictTransaction(Reads):
    """Compare-and-set writes on the transaction's own copy of the state."""

    joined = False  # the optional `AtEnd`: set on a transaction opened inside another

    def __init__(self, repository: DictRepository) -> None:
        self._repository = repository

    def at_end(self, callback: Callable[[bool], None]) -> None:
        self._repository.ends.append(callback)

    def _state(self) -> State:
        state = self._repository.working
        assert state is not None, "the transaction is closed"
        return state

    @contextmanager
    def _call(self) -> Iterator[State]:
        """One write call: on a scratch copy, kept only when the whole call succeeds."""
        scratch = self._state().copy()
        yield scratch
        self._repository.working = scratch

    def _stale(self, record: NumberRecord, found: NumberRecord | None) -> ConcurrentUpdate:
        where = "gone" if found is None else f"at version {found.version}"
        return ConcurrentUpdate(
            f"{record.number} at {record.hierarchy} changed under us: expected version "
            f"{record.version}, found {where}",
            number=record.number,
            hierarchy=record.hierarchy,
        )

    def _check_version(self, state: State, record: NumberRecord) -> None:
        found = state.records.get(record.key)
        if found is None or found.version != record.version:
            raise self._stale(record, found)

    def _check_absent(self, state: State, record: NumberRecord) -> None:
        if record.key in state.records:
            raise ConcurrentUpdate(
                f"{record.number} at {record.hierarchy} was added by another writer",
                number=record.number,
                hierarchy=record.hierarchy,
            )

    def _put(self, state: State, record: NumberRecord) -> None:
        self._keepable(record)
        old = state.records.get(record.key)
        if old is not None:
            self._unindex(state, old)
        state.records[record.key] = record
        self._index(state, record)

    def _remove(self, state: State, record: NumberRecord) -> None:
        stored = state.records.pop(record.key)
        self._unindex(state, stored)
        state.retired[record.key] = max(state.retired.get(record.key, 0), stored.version)

    def insert(self, records: Iterable[NumberRecord]) -> None:
        with self._call() as state:
            for record in records:
                self._check_absent(state, record)
                self._put(state, record)

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        self.insert(attrs.evolve(template, number=number) for number in numbers)

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        with self._call() as state:
            for old, new in changes:
                self._check_version(state, old)
                same_key(old, new)
                self._put(state, new)

    def delete(self, records: Iterable[NumberRecord]) -> None:
        with self._call() as state:
            for record in records:
                self._check_version(state, record)
                self._remove(state, record)

    def claim(self, query: Query) -> list[NumberRecord]:
        return self.scan(query)

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        with self._call() as state:
            if settings is None or settings.empty:
                state.settings.pop(hierarchy, None)
            else:
                state.settings[hierarchy] = settings

    def journal(self, entries: Sequence[Entry]) -> int:
        with self._call() as state:
            first = state.last_seq + 1
            seq = first
            for entry in entries:
                state.journal.append((seq, entry))
                seq += self._seqs_taken(entry)
            state.last_seq = seq - 1
            return first

    def _seqs_taken(self, entry: Entry) -> int:
        """How many seqs an entry takes: one per change (a broken adapter may take fewer)."""
        return entry.span

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """The optional `JournalAtCommit`: written at once, as `journal` writes them."""
        self.journal(entries)


class DictRepository(Reads):
    """The plain adapter: correct, slow, obvious. One object is one connection to `database`."""

    transaction_class: type[DictTransaction] = DictTransaction

    def __init__(self, database: Database | None = None) -> None:
        self.database = database or Database()
        self.owner: int | None = None
        self.working: State | None = None
        self.ends: list[Callable[[bool], None]] = []  # what waits for the end (`AtEnd`)

    def _state(self) -> State:
        if self.owner == threading.get_ident() and self.working is not None:
            return self.working
        return self.database.committed

    def again(self) -> DictRepository:
        """Another repository object on the same database (a second connection)."""
        return type(self)(self.database)

    def _begin(self) -> State:
        return self.database.committed.copy()

    def _commit(self, state: State) -> None:
        self.database.committed = state

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            joined = self.transaction_class(self)  # nested: joins the open transaction
            joined.joined = True
            yield joined
            return
        ends: list[Callable[[bool], None]] = []
        committed = False
        try:
            with self.database.lock:
                self.working, self.ends = self._begin(), ends
                self.owner = threading.get_ident()
                try:
                    yield self.transaction_class(self)
                except BaseException as error:
                    if self._kept_despite(error):
                        self._commit(self.working)
                    raise
                else:
                    self._committing(ends)
                    self._commit(self.working)
                finally:
                    self.owner = None
                    self.working = None
                    self.ends = []
            committed = True
        finally:
            ended(ends, committed)  # once the lock is let go

    def _committing(self, ends: list[Callable[[bool], None]]) -> None:
        """About to commit (a broken adapter acts here)."""

    def _kept_despite(self, error: BaseException) -> bool:
        """Whether a block that raised `error` commits: never (a broken adapter may)."""
        return False

    def prune(self, before: datetime) -> int:
        with self.database.lock:
            state = self.database.committed.copy()
            gone = _oldest(state.journal, lambda at: at < before)
            state.journal = state.journal[len(gone) :]
            self.database.committed = state
            return sum(entry.span for _, entry in gone)


def _oldest(
    journal: list[tuple[int, Entry]], old: Callable[[datetime], bool]
) -> list[tuple[int, Entry]]:
    """The journal's first entries, in seq order, while they are `old` (what a prune takes)."""
    taken = 0
    while taken < len(journal) and old(journal[taken][1].at):
        taken += 1
    return journal[:taken]


# -- broken on purpose: one defect each -------------------------------------------------


class _IgnoresVersionOnReplace(DictTransaction):
    def _check_version(self, state: State, record: NumberRecord) -> None:
        if record.key not in state.records:
            raise self._stale(record, None)

    def delete(self, records: Iterable[NumberRecord]) -> None:
        with self._call() as state:
            for record in records:
                DictTransaction._check_version(self, state, record)
                self._remove(state, record)


class IgnoresVersionOnReplace(DictRepository):
    """`replace` stores the new record whatever version is stored (no compare-and-set)."""

    transaction_class = _IgnoresVersionOnReplace


class _IgnoresVersionOnDelete(DictTransaction):
    def delete(self, records: Iterable[NumberRecord]) -> None:
        with self._call() as state:
            for record in records:
                if record.key not in state.records:
                    raise self._stale(record, None)
                self._remove(state, record)


class IgnoresVersionOnDelete(DictRepository):
    """`delete` removes the record whatever version is stored."""

    transaction_class = _IgnoresVersionOnDelete


class _InsertOverwrites(DictTransaction):
    def _check_absent(self, state: State, record: NumberRecord) -> None:
        pass


class InsertOverwrites(DictRepository):
    """`insert` of a taken key overwrites the stored record instead of refusing."""

    transaction_class = _InsertOverwrites


class RolledBackWriteLeftBehind(DictRepository):
    """A rolled-back transaction leaves its inserts behind (committed record by record)."""

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            yield self.transaction_class(self)
            return
        with self.database.lock:
            self.working = self._begin()
            self.owner = threading.get_ident()
            try:
                yield self.transaction_class(self)
            except BaseException:
                committed = self.database.committed
                for key, record in self.working.records.items():
                    if key not in committed.records:  # the inserts stay
                        self._put_committed(record)
                raise
            else:
                self._commit(self.working)
            finally:
                self.owner = None
                self.working = None

    def _put_committed(self, record: NumberRecord) -> None:
        state = self.database.committed.copy()
        state.records[record.key] = record
        self._index(state, record)
        self.database.committed = state


def _reading(mixin: type[Reads]) -> type[DictRepository]:
    """A repository whose reads, in and out of transactions, follow `mixin`."""
    transaction = type(f"{mixin.__name__}Transaction", (mixin, DictTransaction), {})
    return type(
        mixin.__name__,
        (mixin, DictRepository),
        {"transaction_class": transaction, "__doc__": mixin.__doc__},
    )


class _WrongScanOrder(Reads):
    """`scan` orders a node's numbers by their value as integers, not by their text."""

    def _page(self, records: list[NumberRecord], query: Query) -> list[NumberRecord]:
        found = [
            r
            for r in records
            if (query.status is None or r.status is query.status)
            and (query.prefix is None or r.number.startswith(query.prefix))
            and (query.due_by is None or self._is_due(r.release_date, query.due_by))
            and (query.after is None or r.number > query.after)
        ]
        found.sort(key=lambda r: (int(r.number.lstrip("+")), r.number))
        return found[: query.limit]


WrongScanOrder = _reading(_WrongScanOrder)


class _AfterIgnored(Reads):
    """`scan` ignores the `after` cursor: every page is the first page."""

    def _page(self, records: list[NumberRecord], query: Query) -> list[NumberRecord]:
        return super()._page(records, attrs.evolve(query, after=None))


AfterIgnored = _reading(_AfterIgnored)


class _WidthTestForgotten(Reads):
    """`within` and `retired` compare text only: `1000` is in `100..101`."""

    def _in_range(self, number: str, numbers: NumberRange) -> bool:
        return numbers.first <= number <= numbers.last


WidthTestForgotten = _reading(_WidthTestForgotten)


class _StaleCounts(DictTransaction):
    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        with self._call() as state:
            for old, new in changes:
                self._check_version(state, old)
                stored = state.records[new.key]
                self._put(state, new)
                if new.status is Status.AVAILABLE and stored.status is not Status.AVAILABLE:
                    # forgets the tally of a number that becomes Available again
                    state.counts[(new.hierarchy, new.status)] -= 1
                    state.counts[(stored.hierarchy, stored.status)] += 1


class StaleCounts(DictRepository):
    """Counts drift when a number becomes Available again (the tally is not moved)."""

    transaction_class = _StaleCounts


class _DueBoundary(Reads):
    """`due` and `Query.due_by` leave out a record whose release date is exactly now."""

    def _is_due(self, release: datetime | None, now: datetime) -> bool:
        return release is not None and release < now


DueBoundary = _reading(_DueBoundary)


class NestedCommit(DictRepository):
    """A nested `transaction()` commits what the outer one wrote so far."""

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            yield self.transaction_class(self)
            assert self.working is not None
            self._commit(self.working.copy())
            return
        with super().transaction() as tx:
            yield tx


class DirtyReads(DictRepository):
    """Readers on other threads see the open transaction's uncommitted writes."""

    def _state(self) -> State:
        return self.working if self.working is not None else self.database.committed


class _SubtreeLookalikes(Reads):
    """`nodes` and `counts` under `sys.acme.uk` include `sys.acme.ukraine` (a text prefix)."""

    def _in_subtree(self, node: str, under: str) -> bool:
        return node.startswith(under)


SubtreeLookalikes = _reading(_SubtreeLookalikes)


class _StaleE164(DictTransaction):
    def _remove(self, state: State, record: NumberRecord) -> None:
        stored = state.records.pop(record.key)
        state.counts[(stored.hierarchy, stored.status)] -= 1
        for name in stored.holders:
            state.holders.get(name, set()).discard(stored.key)
        # the E.164 rows of the deleted record stay behind
        state.retired[record.key] = max(state.retired.get(record.key, 0), stored.version)


class StaleE164Index(DictRepository):
    """A deleted record's E.164 associations stay in the index (and join a record added again)."""

    transaction_class = _StaleE164


class _Collation(Reads):
    """Node paths compare without case: `holding`, `within` and `nodes` use a case-folded order."""

    def _node_order(self, nodes: Iterable[str]) -> list[str]:
        return sorted(nodes, key=str.casefold)


Collation = _reading(_Collation)


class _LateJournal(DictTransaction):
    def journal(self, entries: Sequence[Entry]) -> int:
        repository = self._repository
        assert isinstance(repository, LateJournalEntries)
        with self._call() as state:
            first = state.last_seq + 1
            state.last_seq += sum(entry.span for entry in entries)
        repository.late.append((first, list(entries)))
        return first


class LateJournalEntries(DictRepository):
    """Journal entries are written after the transaction ends, even when it rolled back."""

    transaction_class = _LateJournal

    def __init__(self, database: Database | None = None) -> None:
        super().__init__(database)
        self.late: list[tuple[int, list[Entry]]] = []

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        try:
            with super().transaction() as tx:
                yield tx
        finally:
            if self.owner is None and self.late:
                state = self.database.committed.copy()
                for first, entries in self.late:
                    seq = first
                    for entry in entries:
                        state.journal.append((seq, entry))
                        seq += entry.span
                    state.last_seq = max(state.last_seq, seq - 1)
                self.late.clear()
                self.database.committed = state


class ReReadsInsteadOfCompareAndSet(DictRepository):
    """Each connection checks versions against what it read, then writes without a lock.

    On one connection it behaves; two connections on one database both win a race.
    """

    def __init__(self, database: Database | None = None) -> None:
        super().__init__(database)
        self.snapshot = State()
        self.own_lock = threading.RLock()  # serialises this connection's own threads only

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            yield self.transaction_class(self)
            return
        with self.own_lock, self._unlocked():
            yield self.transaction_class(self)

    @contextmanager
    def _unlocked(self) -> Iterator[None]:
        self.snapshot = self.database.committed
        self.working = self.database.committed.copy()
        self.owner = threading.get_ident()
        try:
            yield
            time.sleep(0)  # let another connection interleave
            merged = self.database.committed.copy()
            for key in set(merged.records) | set(self.working.records):
                if self.working.records.get(key) != self.snapshot.records.get(key):
                    if key in self.working.records:
                        merged.records[key] = self.working.records[key]
                    else:
                        merged.records.pop(key, None)
            merged.settings = self.working.settings
            merged.retired = self.working.retired
            merged.journal = self.working.journal
            merged.last_seq = self.working.last_seq
            self.database.committed = _reindexed(merged, self)
        finally:
            self.owner = None
            self.working = None


def _reindexed(state: State, reads: Reads) -> State:
    fresh = State(
        settings=state.settings,
        retired=state.retired,
        journal=state.journal,
        last_seq=state.last_seq,
    )
    for record in state.records.values():
        fresh.records[record.key] = record
        reads._index(fresh, record)
    return fresh


class _StaleHolders(DictTransaction):
    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        with self._call() as state:
            for old, new in changes:
                self._check_version(state, old)
                stored = state.records[new.key]
                state.counts[(stored.hierarchy, stored.status)] -= 1
                state.records[new.key] = new
                state.counts[(new.hierarchy, new.status)] += 1
                for e164 in stored.e164:
                    state.e164.get(e164, set()).discard(new.key)
                for e164 in new.e164:
                    state.e164.setdefault(e164, set()).add(new.key)
                for name in new.holders:  # adds holders, never removes one
                    state.holders.setdefault(name, set()).add(new.key)


class StaleHolders(DictRepository):
    """`held_by` keeps a consumer after its use is removed or a reservation is lifted."""

    transaction_class = _StaleHolders


class _PartialInsert(DictTransaction):
    def insert(self, records: Iterable[NumberRecord]) -> None:
        state = self._state()
        for record in records:
            self._check_absent(state, record)
            self._put(state, record)


class NotAtomicPerCall(DictRepository):
    """An `insert` that meets a taken key keeps the records it stored before it."""

    transaction_class = _PartialInsert


class _ClaimSkipsNothing(DictTransaction):
    def claim(self, query: Query) -> list[NumberRecord]:
        return self.scan(attrs.evolve(query, status=None))


class ClaimIgnoresFilters(DictRepository):
    """`claim` ignores the status filter of its query."""

    transaction_class = _ClaimSkipsNothing


class _ForgetsRetired(DictTransaction):
    def _remove(self, state: State, record: NumberRecord) -> None:
        stored = state.records.pop(record.key)
        self._unindex(state, stored)


class ForgetsRetiredVersions(DictRepository):
    """`delete` keeps no version: a number loaded again starts at version 1."""

    transaction_class = _ForgetsRetired


class _NextReleaseLatest(Reads):
    """`next_release` answers the latest release date, not the earliest."""

    def next_release(self) -> datetime | None:
        dates = [r.release_date for r in self._state().records.values() if r.release_date]
        return max(dates) if dates else None


NextReleaseLatest = _reading(_NextReleaseLatest)


class _ChangesOffByOne(Reads):
    """`changes(after=s)` also returns the change `s` itself."""

    def changes(self, after: int, limit: int) -> list[Change]:
        return super().changes(max(after - 1, 0), limit)


ChangesOffByOne = _reading(_ChangesOffByOne)


class _HistoryWithoutRanges(Reads):
    """`history` leaves out range entries (a number added by a load has no history)."""

    def history(self, number: str) -> list[Change]:
        return [
            change
            for seq, entry in self._state().journal
            if entry.numbers is None
            for change in expand(seq, entry)
            if change.number == number
        ]


HistoryWithoutRanges = _reading(_HistoryWithoutRanges)


class PruneBoundary(DictRepository):
    """`prune(before)` also deletes the entries made exactly at `before`."""

    def prune(self, before: datetime) -> int:
        with self.database.lock:
            state = self.database.committed.copy()
            gone = _oldest(state.journal, lambda at: at <= before)
            state.journal = state.journal[len(gone) :]
            self.database.committed = state
            return sum(entry.span for _, entry in gone)


class _SettingsMerged(DictTransaction):
    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        with self._call() as state:
            if settings is None or settings.empty:
                state.settings.pop(hierarchy, None)
                return
            old = state.settings.get(hierarchy, NodeSettings())
            values = {
                field.name: getattr(settings, field.name)
                if getattr(settings, field.name) is not None
                else getattr(old, field.name)
                for field in attrs.fields(NodeSettings)
            }
            state.settings[hierarchy] = NodeSettings(**values)


class ConfigureMerges(DictRepository):
    """`configure` merges with what a node set before instead of replacing it."""

    transaction_class = _SettingsMerged


class OtherThreadReadsInside(DictRepository):
    """Reads on the thread holding the open transaction see committed state, not the transaction."""

    def _state(self) -> State:
        return self.database.committed


class _KeepsAnyText(DictTransaction):
    def _keepable(self, record: NumberRecord) -> None:
        pass


class KeepsUnkeepableText(DictRepository):
    """A NUL or a lone surrogate is stored, which PostgreSQL could not do (SPEC 17)."""

    transaction_class = _KeepsAnyText


class CommitsOnInterrupt(DictRepository):
    """A transaction rolls back on `Exception` only: Ctrl-C commits what it wrote."""

    def _kept_despite(self, error: BaseException) -> bool:
        return not isinstance(error, Exception)


def _held_by_any_case(reads: Reads, who: str) -> list[NumberRecord]:
    holders = reads._state().holders
    wanted = who.casefold()
    return reads._keyed(
        {key for name, held in holders.items() if name.casefold() == wanted for key in held}
    )


class _FoldsCase(DictTransaction):
    def held_by(self, who: str) -> list[NumberRecord]:
        return _held_by_any_case(self, who)


class HoldersIgnoreCase(DictRepository):
    """`held_by` matches names whatever their case: `Alice` finds what `alice` holds."""

    transaction_class = _FoldsCase

    def held_by(self, who: str) -> list[NumberRecord]:
        return _held_by_any_case(self, who)


class PruneRestartsTheSequence(DictRepository):
    """`prune` takes the last seq from the entries left: after pruning them all, seqs are
    given again that a follower has already read."""

    def prune(self, before: datetime) -> int:
        with self.database.lock:
            state = self.database.committed.copy()
            gone = _oldest(state.journal, lambda at: at < before)
            state.journal = state.journal[len(gone) :]
            last = state.journal[-1] if state.journal else None
            state.last_seq = 0 if last is None else last[0] + last[1].span - 1
            self.database.committed = state
            return sum(entry.span for _, entry in gone)


class _BatchEdge(DictTransaction):
    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        listed = list(numbers)
        kept: list[NumberRecord] = []
        for start in range(0, len(listed), 1000):  # batches of 1000, sliced 999 a batch
            kept += [attrs.evolve(template, number=n) for n in listed[start : start + 999]]
        self.insert(kept)


class BatchEdgeLost(DictRepository):
    """`insert_range` sends batches of a thousand but slices 999: the last number of each
    thousand is never stored."""

    transaction_class = _BatchEdge


class _SeqsCapped(DictTransaction):
    def _seqs_taken(self, entry: Entry) -> int:
        return min(entry.span, 1000)  # one block of seqs, however long the range


class RangeSeqsCapped(DictRepository):
    """A range entry takes at most a thousand seqs: the next change reuses seqs of the
    range, and a follower past them never sees it."""

    transaction_class = _SeqsCapped


class _RetiredFirstBatch(Reads):
    """`retired` looks up only the first 999 numbers of a range (one `IN (...)` list)."""

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        wanted = set(list(numbers)[:999])
        return {
            number: version
            for (number, node), version in self._state().retired.items()
            if node == hierarchy and number in wanted
        }


RetiredFirstBatch = _reading(_RetiredFirstBatch)


class _WallClock(Reads):
    """`due` and `next_release` order release dates by their wall-clock time as written,
    not by the instant."""

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        found = [r for r in self._state().records.values() if self._is_due(r.release_date, now)]
        found.sort(key=lambda r: (_wall(r.release_date), r.number, r.hierarchy))
        return found[:limit]

    def next_release(self) -> datetime | None:
        dates = [r.release_date for r in self._state().records.values() if r.release_date]
        return min(dates, key=_wall) if dates else None


def _wall(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment.replace(tzinfo=None)


WallClockOrder = _reading(_WallClock)


class _ReadsTwice(DictTransaction):
    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        with self._call() as state:
            for old, _ in changes:  # every version first...
                self._check_version(state, old)
            for _, new in changes:  # ...then the writes: a generator is spent by now
                self._put(state, new)


class ReadsItsArgumentTwice(DictRepository):
    """`replace` goes over its argument twice: from a generator it writes nothing."""

    transaction_class = _ReadsTwice


class PruneLeavesAHole(DictRepository):
    """`prune` deletes every entry older than the time, wherever it is in seq order: an
    entry written late by a clock that is behind goes, and a follower never sees the hole."""

    def prune(self, before: datetime) -> int:
        with self.database.lock:
            state = self.database.committed.copy()
            gone = sum(entry.span for _, entry in state.journal if entry.at < before)
            state.journal = [(seq, e) for seq, e in state.journal if e.at >= before]
            self.database.committed = state
            return gone


class _SeqAtOnce(DictTransaction):
    def journal(self, entries: Sequence[Entry]) -> int:
        database = self._repository.database
        with database.lock:  # the seq is taken now, not when the transaction commits
            first = max(getattr(database, "next_seq", 1), database.committed.last_seq + 1)
            database.next_seq = first + sum(entry.span for entry in entries)
        with self._call() as state:
            seq = first
            for entry in entries:
                state.journal.append((seq, entry))
                seq += entry.span
            state.last_seq = max(state.last_seq, seq - 1)
        return first


class SeqsTakenBeforeTheCommit(DictRepository):
    """Writers do not wait for each other (each merges its changes when it commits), and a
    journal's seq is taken when `journal` is called: a transaction that commits after
    another can hold the smaller seq, which a follower has already read past."""

    transaction_class = _SeqAtOnce

    def __init__(self, database: Database | None = None) -> None:
        self.local = threading.local()
        super().__init__(database)

    @property  # type: ignore[override]
    def owner(self) -> int | None:
        found: int | None = getattr(self.local, "owner", None)
        return found

    @owner.setter
    def owner(self, value: int | None) -> None:
        self.local.owner = value

    @property  # type: ignore[override]
    def working(self) -> State | None:
        found: State | None = getattr(self.local, "working", None)
        return found

    @working.setter
    def working(self, value: State | None) -> None:
        self.local.working = value

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            yield self.transaction_class(self)
            return
        start = self.database.committed
        self.working = start.copy()
        self.owner = threading.get_ident()
        try:
            yield self.transaction_class(self)
            working = self.working
            with self.database.lock:
                merged = self.database.committed.copy()
                for key in set(start.records) | set(working.records):
                    mine = working.records.get(key)
                    if mine != start.records.get(key):
                        if mine is None:
                            merged.records.pop(key, None)
                        else:
                            merged.records[key] = mine
                if working.settings != start.settings:
                    merged.settings = working.settings
                merged.retired = {**merged.retired, **working.retired}
                merged.journal = sorted(
                    [*merged.journal, *working.journal[len(start.journal) :]],
                    key=lambda pair: pair[0],
                )
                merged.last_seq = max(merged.last_seq, working.last_seq)
                self.database.committed = _reindexed(merged, self)
        finally:
            self.owner = None
            self.working = None


class NestedFailureDropsOuterWork(DictRepository):
    """A nested `transaction()` whose block raises rolls the connection back and begins
    again: the outer transaction, which goes on, has lost what it wrote before."""

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            try:
                yield self.transaction_class(self)
            except BaseException:
                self.working = self._begin()  # ROLLBACK on the connection, BEGIN again
                raise
            return
        with super().transaction() as tx:
            yield tx


class NestedIsASavepoint(DictRepository):
    """A nested `transaction()` is a savepoint: when its block raises, what it wrote is
    taken back, though the outer block goes on and commits."""

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        if self.owner == threading.get_ident():
            assert self.working is not None
            saved = self.working.copy()
            try:
                yield self.transaction_class(self)
            except BaseException:
                self.working = saved  # ROLLBACK TO SAVEPOINT
                raise
            return
        with super().transaction() as tx:
            yield tx


class PruneWithoutLock(DictRepository):
    """`prune` reads the journal, trims it and writes the state back without the writers'
    lock: a commit in between is lost, or the pruned entries come back with it."""

    def prune(self, before: datetime) -> int:
        state = self.database.committed.copy()
        gone = _oldest(state.journal, lambda at: at < before)
        state.journal = state.journal[len(gone) :]
        self.database.committed = state
        return sum(entry.span for _, entry in gone)


class _ReplaceMovesKey(DictTransaction):
    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        with self._call() as state:
            for old, new in changes:
                self._check_version(state, old)
                if new.key != old.key:  # takes it for a move
                    self._unindex(state, state.records.pop(old.key))
                self._put(state, new)


class ReplaceChangesKey(DictRepository):
    """`replace` of a pair whose records have different keys moves the record instead of
    refusing with `InvalidInput`."""

    transaction_class = _ReplaceMovesKey


class _ClaimSkipsOwnReads(DictTransaction):
    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        found = super().get(number, hierarchy)
        repository = self._repository
        if found is not None and isinstance(repository, ClaimSkipsOwnReads):
            repository.locked.add(found.key)  # as SELECT ... FOR UPDATE would lock it
        return found

    def claim(self, query: Query) -> list[NumberRecord]:
        repository = self._repository
        assert isinstance(repository, ClaimSkipsOwnReads)
        locked = repository.locked
        page = self.scan(attrs.evolve(query, limit=query.limit + len(locked)))
        return [found for found in page if found.key not in locked][: query.limit]


class ClaimSkipsOwnReads(DictRepository):
    """`claim` skips the rows its own transaction locked with `get`, as if another
    transaction held them: a number read first is never claimed."""

    transaction_class = _ClaimSkipsOwnReads

    def __init__(self, database: Database | None = None) -> None:
        super().__init__(database)
        self.locked: set[Key] = set()

    @contextmanager
    def transaction(self) -> Iterator[DictTransaction]:
        nested = self.owner == threading.get_ident()
        try:
            with super().transaction() as tx:
                yield tx
        finally:
            if not nested:
                self.locked.clear()  # the locks end with the transaction


class _EmptyTagIsNull(DictTransaction):
    def _put(self, state: State, record: NumberRecord) -> None:
        if record.tag_before_cooling == "":
            record = attrs.evolve(record, tag_before_cooling=None)
        super()._put(state, record)


class EmptyTagBeforeCoolingIsNull(DictRepository):
    """An empty `tag_before_cooling` is stored as NULL (as Oracle stores ""): it reads back
    `None`, and the cooling's end would then clear a tag instead of restoring one."""

    transaction_class = _EmptyTagIsNull


class _UsesSorted(DictTransaction):
    def _put(self, state: State, record: NumberRecord) -> None:
        uses = tuple(sorted(record.uses, key=lambda use: (use.kind, use.consumer_id)))
        super()._put(state, attrs.evolve(record, uses=uses))


class UsesSortedOnRead(DictRepository):
    """A record's uses are kept in a child table and read back ordered by its key, not in
    the order they were written."""

    transaction_class = _UsesSorted


class _E164Sorted(DictTransaction):
    def _put(self, state: State, record: NumberRecord) -> None:
        super()._put(state, attrs.evolve(record, e164=tuple(sorted(record.e164))))


class E164SortedOnRead(DictRepository):
    """A record's E.164 numbers are kept in a child table and read back sorted, not in the
    order they were written."""

    transaction_class = _E164Sorted


class _SeqsFromTheLastCommit(DictTransaction):
    def journal(self, entries: Sequence[Entry]) -> int:
        with self._call() as state:
            first = self._repository.database.committed.last_seq + 1  # not this transaction's
            seq = first
            for entry in entries:
                state.journal.append((seq, entry))
                seq += entry.span
            state.last_seq = seq - 1
            return first


class JournalTwiceReusesSeqs(DictRepository):
    """`journal` counts seqs from the last committed one: a second call in one transaction
    gives its changes the seqs of the first call's."""

    transaction_class = _SeqsFromTheLastCommit


class _OnlyFlagsThatAreOn(DictTransaction):
    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        if settings is not None and settings.prevent_duplicates is False:
            settings = attrs.evolve(settings, prevent_duplicates=None)  # a flag column, set or not
        super().configure(hierarchy, settings)


class PreventDuplicatesFalseLost(DictRepository):
    """`configure` keeps prevent-duplicates only when it is on: a node that turns it off
    inherits it again."""

    transaction_class = _OnlyFlagsThatAreOn


class _SettingsAnyCase(DictTransaction):
    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        with self._call() as state:
            for node in [
                node for node in state.settings if node.casefold() == hierarchy.casefold()
            ]:
                del state.settings[node]
            if settings is not None and not settings.empty:
                state.settings[hierarchy] = settings

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        return _settings_any_case(self, nodes)


def _settings_any_case(reads: Reads, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
    settings = reads._state().settings
    if nodes is None:
        return dict(settings)
    folded = {node.casefold(): found for node, found in settings.items()}
    return {node: folded[node.casefold()] for node in nodes if node.casefold() in folded}


class SettingsIgnoreCase(DictRepository):
    """Node settings are keyed whatever the case: `sys.B` and `sys.b` share one entry."""

    transaction_class = _SettingsAnyCase

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        return _settings_any_case(self, nodes)


class _HoldingByDigits(Reads):
    """`holding` looks a number up by its digits: `1000` also finds `+1000`."""

    def holding(self, number: str) -> list[NumberRecord]:
        digits = number.lstrip("+")
        found = [r for (n, _), r in self._state().records.items() if n.lstrip("+") == digits]
        return sorted(found, key=lambda r: r.hierarchy)


HoldingIgnoresPlus = _reading(_HoldingByDigits)


class _ClaimWithoutPrefix(DictTransaction):
    def claim(self, query: Query) -> list[NumberRecord]:
        return self.scan(attrs.evolve(query, prefix=None))


class ClaimIgnoresPrefix(DictRepository):
    """`claim` ignores the prefix of its query (`assign_next(prefix=...)`)."""

    transaction_class = _ClaimWithoutPrefix


class _CoolingDeviceHolds(Reads):
    """`held_by` also finds a cooling number by the device it cools from (`cooling_use`),
    which no longer uses it."""

    def _index(self, state: State, record: NumberRecord) -> None:
        super()._index(state, record)
        if record.cooling_use is not None:
            state.holders.setdefault(record.cooling_use.consumer_id, set()).add(record.key)

    def _unindex(self, state: State, record: NumberRecord) -> None:
        super()._unindex(state, record)
        if record.cooling_use is not None:
            state.holders.get(record.cooling_use.consumer_id, set()).discard(record.key)


HoldersIncludeCoolingUse = _reading(_CoolingDeviceHolds)


class EndsBeforeTheCommit(DictRepository):
    """What waits for the end of a transaction (`AtEnd`) runs before the commit: an event
    delivered then announces what a reader cannot see yet."""

    def _committing(self, ends: list[Callable[[bool], None]]) -> None:
        ended(list(ends), True)
        ends.clear()


# Found by a host writing an adapter from the docs and breaking it on purpose (2026-12-01):
# each got past the contract then.


class _KeepsWhatItRead(DictTransaction):
    """A transaction keeps each record it read by key (an identity map) and answers `get`
    from it, even after its own write of that record."""

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        kept: dict[Key, NumberRecord | None] = self.__dict__.setdefault("_kept", {})
        if (number, hierarchy) not in kept:
            kept[(number, hierarchy)] = super().get(number, hierarchy)
        return kept[(number, hierarchy)]


class KeepsWhatItRead(DictRepository):
    """A read in a transaction after its write answers what it read before the write."""

    transaction_class = _KeepsWhatItRead


class _PlainRangeNotAtomic(DictTransaction):
    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        if template.e164 or template.holders:
            super().insert_range(numbers, template)
            return
        state = self._state()  # the fast way: straight into the transaction, no scratch
        for number in numbers:
            record = attrs.evolve(template, number=number)
            self._check_absent(state, record)
            self._put(state, record)


class PlainRangeNotAtomic(DictRepository):
    """A range of a plain template goes a faster way that keeps the numbers written before
    a taken key part way."""

    transaction_class = _PlainRangeNotAtomic


class _PlainRangeWithoutDescription(DictTransaction):
    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        if not (template.e164 or template.holders):
            template = attrs.evolve(template, description="")
        super().insert_range(numbers, template)


class PlainRangeWithoutDescription(DictRepository):
    """A range of a plain template loses the template's description."""

    transaction_class = _PlainRangeWithoutDescription


class _SettingsAsKept(Reads):
    """`node_settings(None)` returns the store's own dict: a caller's change of it changes
    the stored settings."""

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        if nodes is None:
            return self._state().settings
        return super().node_settings(nodes)


SettingsAsKept = _reading(_SettingsAsKept)


class _DueByNodeFirst(Reads):
    """`due` orders records released at one instant by node, then number."""

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        found = [r for r in self._state().records.values() if self._is_due(r.release_date, now)]
        found.sort(key=lambda r: (r.release_date, r.hierarchy, r.number))
        return found[:limit]


DueByNodeFirst = _reading(_DueByNodeFirst)


class _IndexedByNumberAlone(Reads):
    """The E.164 and holders indexes forget every record of a number when one of them
    changes: the same number at a sibling node loses its entries."""

    def _unindex(self, state: State, record: NumberRecord) -> None:
        super()._unindex(state, record)
        for index in (state.e164, state.holders):
            for keys in index.values():
                keys.difference_update([key for key in keys if key[0] == record.number])


IndexedByNumberAlone = _reading(_IndexedByNumberAlone)


class SettingsKeptUntilItCommits(DictRepository):
    """The repository object keeps the node settings it read until it commits a
    transaction: a change read through it on the writing thread, or committed by another
    instance, goes unseen."""

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        kept: dict[tuple[str, ...] | None, Mapping[str, NodeSettings]]
        kept = self.__dict__.setdefault("_kept", {})
        wanted = None if nodes is None else tuple(nodes)
        if wanted not in kept:
            kept[wanted] = super().node_settings(wanted)
        return kept[wanted]

    def _commit(self, state: State) -> None:
        super()._commit(state)
        self.__dict__.pop("_kept", None)


class _EmptyNodesCounted(Reads):
    """`counts` keeps listing a node whose records are all gone, with zeros."""

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        found: dict[str, dict[Status, int]] = {}
        for (node, status), total in self._state().counts.items():
            if under is None or self._in_subtree(node, under):
                found.setdefault(node, {})[status] = total
        return {node: found[node] for node in self._node_order(found)}

    def nodes(self, under: str | None = None) -> list[str]:
        return list(super().counts(under))


EmptyNodesCounted = _reading(_EmptyNodesCounted)


class _DueScanWithoutPrefix(Reads):
    """A scan for due records (`Query.due_by`) ignores the query's prefix."""

    def _page(self, records: list[NumberRecord], query: Query) -> list[NumberRecord]:
        if query.due_by is not None:
            query = attrs.evolve(query, prefix=None)
        return super()._page(records, query)


DueScanWithoutPrefix = _reading(_DueScanWithoutPrefix)


# Found by a mutation probe of the kit (2026-12-02): a check of the contract that no adapter
# above needed, so that weakening it left the kit passing.


class _DueCoolingOnly(Reads):
    """`due` returns Cooling records only: a reservation with a release date is never due,
    so it never lapses by itself."""

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        found = [
            r
            for r in self._state().records.values()
            if r.status is Status.COOLING and self._is_due(r.release_date, now)
        ]
        found.sort(key=lambda r: (r.release_date, r.number, r.hierarchy))
        return found[:limit]


DueCoolingOnly = _reading(_DueCoolingOnly)


class _NextReleaseCoolingOnly(Reads):
    """`next_release` looks at Cooling records only: a reservation's release date is not
    the next wake-up even when it comes first."""

    def next_release(self) -> datetime | None:
        dates = [
            r.release_date
            for r in self._state().records.values()
            if r.release_date and r.status is Status.COOLING
        ]
        return min(dates) if dates else None


NextReleaseCoolingOnly = _reading(_NextReleaseCoolingOnly)


class PruneByWallClock(DictRepository):
    """`prune` compares journal times as written, without their UTC offsets: an entry
    written in Paris is kept or taken by the wrong hours."""

    def prune(self, before: datetime) -> int:
        cut = before.replace(tzinfo=None)
        with self.database.lock:
            state = self.database.committed.copy()
            gone = _oldest(state.journal, lambda at: at.replace(tzinfo=None) < cut)
            state.journal = state.journal[len(gone) :]
            self.database.committed = state
            return sum(entry.span for _, entry in gone)


class _ReleaseAtWholeSeconds(Reads):
    """`due` and `next_release` compare release dates cut to the whole second (a column
    without microseconds): a record is due up to a second early, and the next release is
    not the date `get` shows."""

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        found = [
            r
            for r in self._state().records.values()
            if r.release_date is not None and r.release_date.replace(microsecond=0) <= now
        ]
        found.sort(key=lambda r: (r.release_date, r.number, r.hierarchy))
        return found[:limit]

    def next_release(self) -> datetime | None:
        dates = [
            r.release_date.replace(microsecond=0)
            for r in self._state().records.values()
            if r.release_date
        ]
        return min(dates) if dates else None


ReleaseAtWholeSeconds = _reading(_ReleaseAtWholeSeconds)


class _RetiredAnyWidth(Reads):
    """`retired` matches numbers by their value, whatever their width: `0100` and `1000`
    are retired numbers of the range `100..101` (`within` keeps the width)."""

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        found: dict[str, int] = {}
        for (number, node), version in self._state().retired.items():
            digits = number.removeprefix(numbers.plus)
            if (
                node == hierarchy
                and number.startswith(numbers.plus)
                and digits.isdigit()
                and numbers.start <= int(digits) <= numbers.stop
            ):
                found[number] = version
        return found


RetiredAnyWidth = _reading(_RetiredAnyWidth)


class _AnonymousRefusal(DictTransaction):
    def _stale(self, record: NumberRecord, found: NumberRecord | None) -> ConcurrentUpdate:
        return ConcurrentUpdate("somebody changed something")  # no number, no hierarchy


class AnonymousRefusal(DictRepository):
    """A stale `replace` or `delete` raises a `ConcurrentUpdate` that names no record
    (decision 70: it names the record, for messages and a host's retries)."""

    transaction_class = _AnonymousRefusal


class _ReplaceChecksNumberOnly(DictTransaction):
    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        with self._call() as state:
            for old, new in changes:
                self._check_version(state, old)
                if new.number != old.number:
                    same_key(old, new)  # refuses another number; another node goes through
                if new.key != old.key:
                    self._unindex(state, state.records.pop(old.key))
                self._put(state, new)


class ReplaceChecksNumberOnly(DictRepository):
    """`replace` checks only that the new record has the old one's number: a new record
    at another node silently moves the record there instead of `InvalidInput`."""

    transaction_class = _ReplaceChecksNumberOnly


# -- a correct adapter of another kind ---------------------------------------------------


class _NumberedBySequence(DictTransaction):
    def journal(self, entries: Sequence[Entry]) -> int:
        database = self._repository.database
        with self._call() as state:  # one writer at a time: commit order is call order
            first = max(getattr(database, "sequence", 0), state.last_seq) + 1
            seq = first
            for entry in entries:
                state.journal.append((seq, entry))
                seq += entry.span
            state.last_seq = seq - 1
            database.sequence = seq - 1  # kept when the transaction rolls back
            return first


class NumberedBySequence(DictRepository):
    """Not broken: seqs come from a counter a rollback does not take back (as a database
    sequence), so the journal skips the seqs of a rolled-back transaction. Decision 90
    allows it; the kit must pass it."""

    transaction_class = _NumberedBySequence


BROKEN: dict[str, Callable[[], DictRepository]] = {
    "version ignored on replace": IgnoresVersionOnReplace,
    "version ignored on delete": IgnoresVersionOnDelete,
    "insert overwriting": InsertOverwrites,
    "a rolled-back write left behind": RolledBackWriteLeftBehind,
    "wrong scan order": WrongScanOrder,
    "after ignored": AfterIgnored,
    "the width test forgotten": WidthTestForgotten,
    "stale counts": StaleCounts,
    "the due boundary": DueBoundary,
    "nested commit": NestedCommit,
    "dirty reads": DirtyReads,
    "subtree look-alikes": SubtreeLookalikes,
    "stale E.164 index": StaleE164Index,
    "collation": Collation,
    "late journal entries": LateJournalEntries,
    "re-reading instead of compare-and-set": ReReadsInsteadOfCompareAndSet,
    "stale holders index": StaleHolders,
    "a write call that is not atomic": NotAtomicPerCall,
    "claim ignoring its filter": ClaimIgnoresFilters,
    "retired versions forgotten": ForgetsRetiredVersions,
    "next release the latest": NextReleaseLatest,
    "changes off by one": ChangesOffByOne,
    "history without range entries": HistoryWithoutRanges,
    "prune boundary": PruneBoundary,
    "configure merging": ConfigureMerges,
    "same-thread reads outside the transaction": OtherThreadReadsInside,
    "unkeepable text kept": KeepsUnkeepableText,
    "a commit on Ctrl-C": CommitsOnInterrupt,
    "holders matched whatever their case": HoldersIgnoreCase,
    "a sequence restarted by prune": PruneRestartsTheSequence,
    "a hole left by prune": PruneLeavesAHole,
    "a number lost at each batch's edge": BatchEdgeLost,
    "range seqs capped at a thousand": RangeSeqsCapped,
    "retired versions of the first batch only": RetiredFirstBatch,
    "release dates by wall clock": WallClockOrder,
    "an argument read twice": ReadsItsArgumentTwice,
    "seqs taken before the commit": SeqsTakenBeforeTheCommit,
    "a nested failure dropping the outer work": NestedFailureDropsOuterWork,
    "a nested transaction as a savepoint": NestedIsASavepoint,
    "prune without the writers' lock": PruneWithoutLock,
    "replace moving a record to another key": ReplaceChangesKey,
    "a claim skipping its own transaction's rows": ClaimSkipsOwnReads,
    "an empty tag before cooling stored as NULL": EmptyTagBeforeCoolingIsNull,
    "uses sorted on read": UsesSortedOnRead,
    "E.164 numbers sorted on read": E164SortedOnRead,
    "seqs counted from the last commit": JournalTwiceReusesSeqs,
    "prevent-duplicates off lost": PreventDuplicatesFalseLost,
    "settings matched whatever their case": SettingsIgnoreCase,
    "holding by digits, without the plus": HoldingIgnoresPlus,
    "claim ignoring its prefix": ClaimIgnoresPrefix,
    "the cooling device counted as a holder": HoldersIncludeCoolingUse,
    "what waits for the end run before the commit": EndsBeforeTheCommit,
    "a transaction's reads kept as first read": KeepsWhatItRead,
    "a plain range not atomic": PlainRangeNotAtomic,
    "a plain range's description dropped": PlainRangeWithoutDescription,
    "settings returned as kept": SettingsAsKept,
    "due ties by node first": DueByNodeFirst,
    "indexes by number alone": IndexedByNumberAlone,
    "settings kept until its own commit": SettingsKeptUntilItCommits,
    "empty nodes counted": EmptyNodesCounted,
    "a due scan without its prefix": DueScanWithoutPrefix,
    "due without timed reservations": DueCoolingOnly,
    "next release without reservations": NextReleaseCoolingOnly,
    "prune by the time as written": PruneByWallClock,
    "release dates at whole seconds": ReleaseAtWholeSeconds,
    "retired numbers of any width": RetiredAnyWidth,
    "a refusal naming no record": AnonymousRefusal,
    "replace checking the number only": ReplaceChecksNumberOnly,
}
