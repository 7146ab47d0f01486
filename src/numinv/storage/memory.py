"""`InMemoryRepository`: the default store, indexed so that no read scans every record.

Indexes: a dict from number to the record(s) holding it (key look-ups,
uniqueness); per node and status, the numbers in sorted buckets
(`available`, `search`, ranges, counts); release dates in sorted buckets
(due look-ups); a dict from E.164 number to the records it is associated
with. One re-entrant lock guards the state; a transaction holds it from
start to end and keeps an undo log, so a failure part way leaves every
record and index as it was.

A loaded range stores one shared template for its numbers instead of a
record per number (the records differ only in their number); a number's own
record is stored the first time it changes. A million Available numbers so
cost a key and an index entry each.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from heapq import merge
from itertools import repeat

import attrs

from numinv.core.hierarchy import is_at_or_below
from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord, Status
from numinv.errors import ConcurrentUpdate
from numinv.storage.protocol import Query
from numinv.storage.sorted_keys import SortedKeys

__all__ = ["InMemoryRepository"]

# Every number sorts below this: numbers hold only '+' and digits.
_AFTER_DIGITS = ":"


class _Fresh:
    """The shared template of a loaded range's numbers that nobody has changed yet."""

    __slots__ = ("_values", "template")

    def __init__(self, template: NumberRecord) -> None:
        self.template = template
        self._values = attrs.astuple(template, recurse=False)[1:]

    def record(self, number: str) -> NumberRecord:
        return NumberRecord(number, *self._values)


_Entry = NumberRecord | _Fresh


def _template(entry: _Entry) -> NumberRecord:
    return entry.template if isinstance(entry, _Fresh) else entry


def _record(number: str, entry: _Entry) -> NumberRecord:
    return entry.record(number) if isinstance(entry, _Fresh) else entry


class _State:
    """Everything the repository stores, shared by it and its transactions."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # number -> its entry at the first node holding it; numbers held at
        # several (sibling) nodes keep the others in `elsewhere`.
        self.first: dict[str, _Entry] = {}
        self.elsewhere: dict[str, dict[str, _Entry]] = {}
        self.nodes: dict[str, dict[Status, SortedKeys[str]]] = {}
        # The same node paths in text order, so that a subtree is a key range,
        # and each path's place in `nodes` (the order `counts` answers in).
        self.node_paths: SortedKeys[str] = SortedKeys()
        self.node_place: dict[str, int] = {}
        self.due: SortedKeys[tuple[datetime, str, str]] = SortedKeys()
        self.e164: dict[str, dict[tuple[str, str], None]] = {}
        self.undo: list[Callable[[], None]] | None = None

    # -- entries -----------------------------------------------------------

    def entry(self, number: str, hierarchy: str) -> _Entry | None:
        entry = self.first.get(number)
        if entry is None or _template(entry).hierarchy == hierarchy:
            return entry
        return self.elsewhere.get(number, {}).get(hierarchy)

    def entries(self, number: str) -> list[_Entry]:
        entry = self.first.get(number)
        if entry is None:
            return []
        return [entry, *self.elsewhere.get(number, {}).values()]

    def index(self, hierarchy: str, status: Status) -> SortedKeys[str]:
        statuses = self.nodes.get(hierarchy)
        if statuses is None:
            statuses = self.nodes[hierarchy] = {}
            self.node_paths.add(hierarchy)
            self.node_place[hierarchy] = len(self.node_place)
        keys = statuses.get(status)
        if keys is None:
            keys = statuses[status] = SortedKeys()
        return keys

    def subtree(self, under: str | None) -> Iterable[str]:
        """The node paths at or below `under` (all when None), in text order."""
        if under is None:
            return self.node_paths
        # Every path at or below `under` lies in [under, under + "/"): "/" follows ".".
        paths = self.node_paths.irange(under, under + "/")
        return (node for node in paths if is_at_or_below(node, under))

    def link(self, number: str, entry: _Entry) -> None:
        """Store an entry for a number at a node that does not hold it yet."""
        hierarchy = _template(entry).hierarchy
        if number not in self.first:
            self.first[number] = entry
        else:
            self.elsewhere.setdefault(number, {})[hierarchy] = entry

    def unlink(self, number: str, hierarchy: str) -> None:
        first = self.first[number]
        others = self.elsewhere.get(number)
        if _template(first).hierarchy != hierarchy:
            assert others is not None
            del others[hierarchy]
        elif others:
            node, promoted = next(iter(others.items()))
            del others[node]
            self.first[number] = promoted
        else:
            del self.first[number]
        if others is not None and not others:
            del self.elsewhere[number]

    def swap(self, number: str, hierarchy: str, entry: _Entry) -> None:
        if _template(self.first[number]).hierarchy == hierarchy:
            self.first[number] = entry
        else:
            self.elsewhere[number][hierarchy] = entry

    # -- secondary indexes -------------------------------------------------

    def indexed(self, record: NumberRecord) -> None:
        self.index(record.hierarchy, record.status).add(record.number)
        if record.release_date is not None:
            self.due.add((record.release_date, record.number, record.hierarchy))
        for e164 in record.e164:
            self.e164.setdefault(e164, {})[record.key] = None

    def unindexed(self, record: NumberRecord) -> None:
        self.index(record.hierarchy, record.status).remove(record.number)
        if record.release_date is not None:
            self.due.remove((record.release_date, record.number, record.hierarchy))
        for e164 in record.e164:
            holders = self.e164[e164]
            del holders[record.key]
            if not holders:
                del self.e164[e164]

    # -- writes, each logging its undo ------------------------------------

    def log(self, undo: Callable[[], None]) -> None:
        assert self.undo is not None, "writes happen inside a transaction"
        self.undo.append(undo)

    def put(self, record: NumberRecord) -> None:
        self.link(record.number, record)
        self.indexed(record)
        self.log(lambda: self.remove(record))

    def remove(self, record: NumberRecord) -> None:
        self.unlink(record.number, record.hierarchy)
        self.unindexed(record)

    def change(self, old: NumberRecord, new: NumberRecord, entry: _Entry) -> None:
        self.swap(new.number, new.hierarchy, new)
        self.unindexed(old)
        self.indexed(new)

        def undo() -> None:
            self.swap(new.number, new.hierarchy, entry)
            self.unindexed(new)
            self.indexed(old)

        self.log(undo)

    def put_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        fresh = _Fresh(template)
        hierarchy = template.hierarchy
        keys = self.index(hierarchy, template.status)
        indexed = False

        def undo() -> None:
            # Logged first, so it must also undo a loop that stopped part way.
            for number in numbers:
                if self.entry(number, hierarchy) is fresh:
                    self.unlink(number, hierarchy)
                    if indexed:
                        keys.remove(number)

        self.log(undo)
        # Each number's text is made once and shared by the dict and the index.
        texts = list(numbers)
        first = self.first
        if first.keys().isdisjoint(texts):  # the usual case: held nowhere else
            first.update(zip(texts, repeat(fresh)))
        else:
            link = self.link
            for number in texts:
                link(number, fresh)
        keys.update(texts)
        indexed = True


class _Reads:
    """The read side of the protocol, over a shared `_State`."""

    def __init__(self, state: _State) -> None:
        self._state = state

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        with self._state.lock:
            entry = self._state.entry(number, hierarchy)
            return None if entry is None else _record(number, entry)

    def holding(self, number: str) -> list[NumberRecord]:
        with self._state.lock:
            return [_record(number, entry) for entry in self._state.entries(number)]

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        state = self._state
        with state.lock:
            nodes = [hierarchy] if hierarchy is not None else list(state.nodes)
            if hierarchy is None and len(numbers) <= 8 * len(nodes):
                found = [record for number in numbers for record in self.holding(number)]
                return sorted(found, key=lambda record: record.key)
            found = []
            stop = numbers.last + "\0"
            for node in nodes:
                for keys in state.nodes.get(node, {}).values():
                    for number in keys.irange(numbers.first, stop):
                        if number in numbers:
                            entry = state.entry(number, node)
                            assert entry is not None
                            found.append(_record(number, entry))
            return sorted(found, key=lambda record: record.key)

    def scan(self, query: Query) -> list[NumberRecord]:
        state = self._state
        with state.lock:
            statuses = state.nodes.get(query.hierarchy, {})
            if query.status is not None:
                lists = [statuses.get(query.status, SortedKeys())]
            else:
                lists = list(statuses.values())
            start = query.prefix
            stop = None if query.prefix is None else query.prefix + _AFTER_DIGITS
            if query.after is not None and (start is None or query.after >= start):
                ranges: list[Iterator[str]] = [
                    keys.irange(stop=stop, after=query.after) for keys in lists
                ]
            else:
                ranges = [keys.irange(start, stop) for keys in lists]
            page: list[NumberRecord] = []
            for number in merge(*ranges):
                if len(page) >= query.limit:
                    break
                entry = state.entry(number, query.hierarchy)
                assert entry is not None
                page.append(_record(number, entry))
            return page

    def nodes(self, under: str | None = None) -> list[str]:
        state = self._state
        with state.lock:
            return [node for node in state.subtree(under) if any(state.nodes[node].values())]

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        state = self._state
        with state.lock:
            found: list[NumberRecord] = []
            for release_date, number, hierarchy in state.due:
                if release_date > now or len(found) >= limit:
                    break
                entry = state.entry(number, hierarchy)
                assert entry is not None
                found.append(_record(number, entry))
            return found

    def with_e164(self, e164: str) -> list[NumberRecord]:
        state = self._state
        with state.lock:
            return [
                _record(number, entry)
                for number, hierarchy in state.e164.get(e164, {})
                if (entry := state.entry(number, hierarchy)) is not None
            ]

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        state = self._state
        with state.lock:
            if under is None:
                nodes: Iterable[str] = state.nodes
            else:
                nodes = sorted(state.subtree(under), key=state.node_place.__getitem__)
            found: dict[str, Mapping[Status, int]] = {}
            for node in nodes:
                statuses = state.nodes[node]
                if any(statuses.values()):
                    found[node] = {status: len(statuses.get(status, ())) for status in Status}
            return found


class _MemoryTransaction(_Reads):
    """Compare-and-set writes on the shared state, undone together on failure."""

    def _current(self, record: NumberRecord) -> _Entry:
        entry = self._state.entry(record.number, record.hierarchy)
        if entry is None or _template(entry).version != record.version:
            found = "gone" if entry is None else f"at version {_template(entry).version}"
            raise ConcurrentUpdate(
                f"{record.number} at {record.hierarchy} changed under us: expected version "
                f"{record.version}, found {found}",
                number=record.number,
                hierarchy=record.hierarchy,
            )
        return entry

    def _absent(self, number: str, hierarchy: str) -> None:
        if self._state.entry(number, hierarchy) is not None:
            raise ConcurrentUpdate(
                f"{number} at {hierarchy} was added by another writer",
                number=number,
                hierarchy=hierarchy,
            )

    def insert(self, records: Iterable[NumberRecord]) -> None:
        for record in records:
            self._absent(record.number, record.hierarchy)
            self._state.put(record)

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        if template.release_date is not None or template.e164:
            self.insert(attrs.evolve(template, number=number) for number in numbers)
            return
        for record in self.within(numbers, template.hierarchy):
            self._absent(record.number, record.hierarchy)
        self._state.put_range(numbers, template)

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        for old, new in changes:
            entry = self._current(old)
            self._state.change(_record(old.number, entry), new, entry)

    def delete(self, records: Iterable[NumberRecord]) -> None:
        state = self._state
        for record in records:
            entry = self._current(record)
            stored = _record(record.number, entry)
            state.unlink(record.number, record.hierarchy)
            state.unindexed(stored)
            state.log(functools.partial(_restore, state, record.number, entry, stored))


def _restore(state: _State, number: str, entry: _Entry, stored: NumberRecord) -> None:
    state.link(number, entry)
    state.indexed(stored)


class InMemoryRepository(_Reads):
    """The default repository: everything in this process's memory."""

    def __init__(self) -> None:
        super().__init__(_State())

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        state = self._state
        with state.lock:
            if state.undo is not None:  # joined by a nested call: the outer one commits
                yield _MemoryTransaction(state)
                return
            state.undo = []
            try:
                yield _MemoryTransaction(state)
            except BaseException:
                for undo in reversed(state.undo):
                    undo()
                raise
            finally:
                state.undo = None
