"""`InMemoryRepository`: the default store, indexed so that no read scans every record.

Indexes: a dict from number to the record(s) holding it (key look-ups,
uniqueness); per node and status, the numbers in sorted buckets
(`available`, `search`, ranges, counts); release dates in sorted buckets
(due look-ups); from each E.164 number, and from each consumer id, owner and
reserved-for name, to the records (`with_e164`, `held_by`). The journal is a
list in seq order, with its entries found by number and by block.

One re-entrant lock guards the state; a transaction holds it from start to
end and keeps an undo log. Every write logs how to put its key back *before*
it touches anything, and the undo steps tolerate a write that stopped part
way (an exception, even `KeyboardInterrupt`, inside an index update), so a
failure leaves every record, index and journal entry as it was.

A loaded range stores one shared template for its numbers instead of a
record per number (the records differ only in their number); a number's own
record is stored the first time it changes. A million Available numbers so
cost a key and an index entry each.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from heapq import merge
from itertools import islice, repeat

import attrs

from numinv.core.hierarchy import is_at_or_below
from numinv.core.journal import Entry, block_of, blocks, changes_after, expand
from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import ConcurrentUpdate
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query, ended, same_key
from numinv.storage.rows import refuse_unkeepable
from numinv.storage.sorted_keys import SortedKeys

__all__ = ["InMemoryRepository"]

# Every number sorts below this: numbers hold only '+' and digits.
_AFTER_DIGITS = ":"
# A scan for the records of one status whose release date has passed (`Query.due_by`)
# collects them by release date and sorts them by number when there are at most this
# many, rather than walk every record of the status in number order: a node's open-ended
# reservations, or a few due among many cooling, are not walked at every read.
_GATHERED = 1024
_LAST_NUMBER = "\uffff"  # after every number, in a (release date, number) key

Key = tuple[str, str]


class _Fresh:
    """The shared template of a loaded range's numbers that nobody has changed yet."""

    __slots__ = ("template", "values")

    def __init__(self, template: NumberRecord) -> None:
        self.template = template
        self.values = tuple(getattr(template, name) for name in _FIELDS[1:])

    def record(self, number: str) -> NumberRecord:
        return NumberRecord(number, *self.values)


_FIELDS = tuple(field.name for field in attrs.fields(NumberRecord))

_Entry = NumberRecord | _Fresh


def _template(entry: _Entry) -> NumberRecord:
    return entry.template if isinstance(entry, _Fresh) else entry


def _record(number: str, entry: _Entry) -> NumberRecord:
    return entry.record(number) if isinstance(entry, _Fresh) else entry


class _MultiIndex:
    """A name (an E.164 number, a person) to the numbers whose records carry it.

    A number is kept as the record's own text object, and a name with one
    number without a container around it, so that an index entry costs a
    dictionary slot. Sibling nodes may hold one number: a read keeps the
    records that carry the name, and a number leaves a name only when none of
    its records carries it. Adding and removing are idempotent, as the undo
    steps need.
    """

    __slots__ = ("_numbers",)

    def __init__(self) -> None:
        self._numbers: dict[str, str | dict[str, None]] = {}

    def add(self, name: str, number: str) -> None:
        held = self._numbers.get(name)
        if held is None:
            self._numbers[name] = number
        elif isinstance(held, dict):
            held[number] = None
        elif held != number:
            self._numbers[name] = {held: None, number: None}

    def discard(self, name: str, number: str) -> None:
        held = self._numbers.get(name)
        if held is None:
            return
        if not isinstance(held, dict):
            if held == number:
                del self._numbers[name]
            return
        held.pop(number, None)
        if len(held) == 1:
            self._numbers[name] = next(iter(held))
        elif not held:
            del self._numbers[name]

    def get(self, name: str) -> list[str]:
        held = self._numbers.get(name)
        if held is None:
            return []
        return list(held) if isinstance(held, dict) else [held]


class _Journal:
    """The journal: items `(seq, entry)` in seq order, found by number and by block."""

    def __init__(self) -> None:
        self.items: list[tuple[int, Entry]] = []
        self.starts: list[int] = []
        self.by_number: dict[str, list[tuple[int, Entry]]] = {}
        self.by_block: dict[str, list[tuple[int, Entry]]] = {}
        self.last = 0

    def pieces(self, seq: int, entry: Entry) -> Iterator[tuple[int, Entry]]:
        if entry.numbers is None:
            yield seq, entry
            return
        for piece in blocks(entry.numbers):
            offset = piece.start - entry.numbers.start
            yield seq + offset, _piece(entry, piece)

    def target(self, entry: Entry) -> list[tuple[int, Entry]]:
        """The index list an entry goes into: its number's, or its block's."""
        if entry.numbers is None:
            return self.by_number.setdefault(entry.record.number, [])
        return self.by_block.setdefault(block_of(entry.numbers.first), [])

    def append(self, item: tuple[int, Entry]) -> None:
        self.items.append(item)
        self.starts.append(item[0])
        self.target(item[1]).append(item)

    def changes(self, after: int, limit: int) -> list[Change]:
        index = max(bisect_right(self.starts, after) - 1, 0)
        items = self.items  # from `index` on, without walking or copying those before
        return changes_after((items[i] for i in range(index, len(items))), after, limit)

    def history(self, number: str) -> list[Change]:
        found = [
            change for seq, entry in self.by_number.get(number, ()) for change in expand(seq, entry)
        ]
        for seq, entry in self.by_block.get(block_of(number), ()):
            assert entry.numbers is not None
            if number in entry.numbers:
                offset = int(number[len(entry.numbers.plus) :]) - entry.numbers.start
                found += expand(seq, entry, first=offset, last=offset)
        return sorted(found, key=lambda change: change.seq)

    def pruned(self, before: datetime) -> tuple[_Journal, int]:
        """A journal without its oldest entries older than `before` (a prefix of seqs: see
        `Repository.prune`), and how many changes went."""
        kept = _Journal()
        kept.last = self.last
        gone = 0
        for seq, entry in self.items:
            if kept.items or entry.at >= before:
                kept.append((seq, entry))
            else:
                gone += entry.span
        return kept, gone


def _piece(entry: Entry, numbers: NumberRange) -> Entry:
    first = numbers.first
    before = None if entry.before is None else _renumbered(entry.before, first)
    after = None if entry.after is None else _renumbered(entry.after, first)
    return Entry(entry.operation, before, after, entry.at, entry.actor, numbers)


def _renumbered(record: NumberRecord, number: str) -> NumberRecord:
    if record.number == number:
        return record
    return NumberRecord(number, *(getattr(record, name) for name in _FIELDS[1:]))


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
        # (node, status) -> (release date, number) of its records that have one.
        self.dated: dict[tuple[str, Status], SortedKeys[tuple[datetime, str]]] = {}
        self.e164 = _MultiIndex()
        self.holders = _MultiIndex()
        self.settings: dict[str, NodeSettings] = {}
        self.retired: dict[str, dict[str, int]] = {}
        self.journal = _Journal()
        self.undo: list[Callable[[], None]] | None = None
        # What waits for the open transaction's end (`AtEnd.at_end`).
        self.ends: list[Callable[[bool], None]] = []

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
            # `nodes` last: a node is known once all three know it, and a new node
            # interrupted part way is finished by the next call, never left half made.
            self.node_paths.ensure(hierarchy)
            self.node_place.setdefault(hierarchy, len(self.node_place))
            statuses = self.nodes[hierarchy] = {}
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

    def set_entry(self, number: str, hierarchy: str, entry: _Entry | None) -> None:
        """Point a key at an entry (None: remove it), whatever it points at now."""
        first = self.first.get(number)
        if first is not None and _template(first).hierarchy == hierarchy:
            if entry is not None:
                self.first[number] = entry
                return
            others = self.elsewhere.get(number)
            if others:
                node, promoted = next(iter(others.items()))
                del others[node]
                if not others:
                    del self.elsewhere[number]
                self.first[number] = promoted
            else:
                del self.first[number]
            return
        if first is None:
            if entry is not None:
                self.first[number] = entry
            return
        others = self.elsewhere.get(number)
        if entry is not None:
            self.elsewhere.setdefault(number, {})[hierarchy] = entry
        elif others is not None:
            others.pop(hierarchy, None)
            if not others:
                del self.elsewhere[number]

    # -- secondary indexes, each step tolerant of one half done ------------

    def indexed(self, record: NumberRecord) -> None:
        self.index(record.hierarchy, record.status).ensure(record.number)
        if record.release_date is not None:
            self.due.ensure((record.release_date, record.number, record.hierarchy))
            dated = self.dated.get((record.hierarchy, record.status))
            if dated is None:
                dated = self.dated[(record.hierarchy, record.status)] = SortedKeys()
            dated.ensure((record.release_date, record.number))
        number = record.number
        for e164 in record.e164:
            self.e164.add(e164, number)
        for name in record.holders:
            self.holders.add(name, number)

    def unindexed(self, record: NumberRecord) -> None:
        keys = self.nodes.get(record.hierarchy, {}).get(record.status)
        if keys is not None:
            keys.discard(record.number)
        if record.release_date is not None:
            self.due.discard((record.release_date, record.number, record.hierarchy))
            dated = self.dated.get((record.hierarchy, record.status))
            if dated is not None:
                dated.discard((record.release_date, record.number))
        number = record.number
        names = record.holders
        if not record.e164 and not names:
            return
        siblings = [
            _record(number, entry)
            for entry in self.entries(number)
            if _template(entry).hierarchy != record.hierarchy
        ]
        for e164 in record.e164:
            if not any(e164 in sibling.e164 for sibling in siblings):
                self.e164.discard(e164, number)
        for name in names:
            if not any(name in sibling.holders for sibling in siblings):
                self.holders.discard(name, number)

    # -- writes, each logging its undo first --------------------------------

    def log(self, undo: Callable[[], None]) -> None:
        assert self.undo is not None, "writes happen inside a transaction"
        self.undo.append(undo)

    def held(self, number: str) -> tuple[_Entry | None, dict[str, _Entry] | None]:
        """Where a number's entries are now: its first entry and a copy of the others."""
        others = self.elsewhere.get(number)
        return self.first.get(number), None if others is None else dict(others)

    def put_back(self, number: str, held: tuple[_Entry | None, dict[str, _Entry] | None]) -> None:
        """Point the number's keys at the entries `held` saw, whatever a write left half done."""
        first, others = held
        if first is None:
            self.first.pop(number, None)
        else:
            self.first[number] = first
        if others is None:
            self.elsewhere.pop(number, None)
        else:
            self.elsewhere[number] = others

    def write(self, number: str, hierarchy: str, new: NumberRecord | None) -> None:
        """Store a record at its key, or remove the key; undone as one step."""
        held = self.held(number)  # all of the number's keys: removing one may promote another
        old = self.entry(number, hierarchy)
        self.log(lambda: self.restore(number, hierarchy, held, old, new))
        if old is not None:
            self.unindexed(_record(number, old))
        self.set_entry(number, hierarchy, new)
        if new is not None:
            self.indexed(new)

    def restore(
        self,
        number: str,
        hierarchy: str,
        held: tuple[_Entry | None, dict[str, _Entry] | None],
        old: _Entry | None,
        new: NumberRecord | None,
    ) -> None:
        if new is not None:
            self.unindexed(new)
        current = self.entry(number, hierarchy)
        if current is not None:
            self.unindexed(_record(number, current))
        self.put_back(number, held)
        if old is not None:
            self.indexed(_record(number, old))

    def put_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        fresh = _Fresh(template)
        hierarchy = template.hierarchy
        keys = self.index(hierarchy, template.status)

        def undo() -> None:
            # Logged first, so it must also undo a loop that stopped part way.
            for number in numbers:
                if self.entry(number, hierarchy) is fresh:
                    self.set_entry(number, hierarchy, None)
                keys.discard(number)

        self.log(undo)
        # Each number's text is made once and shared by the dict and the index.
        texts = list(numbers)
        first = self.first
        if first.keys().isdisjoint(texts):  # the usual case: held nowhere else
            first.update(zip(texts, repeat(fresh)))
        else:
            for number in texts:
                self.set_entry(number, hierarchy, fresh)
        keys.update(texts)

    def retire(self, record: NumberRecord) -> None:
        versions = self.retired.setdefault(record.hierarchy, {})
        previous = versions.get(record.number)

        def undo() -> None:
            if previous is None:
                versions.pop(record.number, None)
            else:
                versions[record.number] = previous

        self.log(undo)
        versions[record.number] = max(previous or 0, record.version)

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        previous = self.settings.get(hierarchy)

        def undo() -> None:
            if previous is None:
                self.settings.pop(hierarchy, None)
            else:
                self.settings[hierarchy] = previous

        self.log(undo)
        if settings is None or settings.empty:
            self.settings.pop(hierarchy, None)
        else:
            self.settings[hierarchy] = settings

    def write_journal(self, entries: Sequence[Entry]) -> int:
        journal = self.journal
        first = journal.last + 1
        touched: list[tuple[list[tuple[int, Entry]], int]] = []

        def undo() -> None:
            for items, length in touched:
                del items[length:]
            del journal.starts[len(journal.items) :]
            for index in (journal.by_number, journal.by_block):
                for name in [name for name, items in index.items() if not items]:
                    del index[name]
            journal.last = first - 1

        self.log(undo)
        seq = first
        for entry in entries:
            for item in journal.pieces(seq, entry):
                target = journal.target(item[1])
                touched += [(journal.items, len(journal.items)), (target, len(target))]
                journal.append(item)
            seq += entry.span
        journal.last = seq - 1
        return first


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
            found = [_record(number, entry) for entry in self._state.entries(number)]
        if len(found) > 1:
            found.sort(key=lambda record: record.hierarchy)
        return found

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
                            if entry is not None:
                                found.append(_record(number, entry))
            return sorted(found, key=lambda record: record.key)

    def scan(self, query: Query) -> list[NumberRecord]:
        state = self._state
        with state.lock:
            statuses = state.nodes.get(query.hierarchy)
            if not statuses:
                return []
            if query.status is not None:
                due_by = query.due_by
                found = None if due_by is None else self._due(query, query.status, due_by)
                if found is not None:
                    return found
                only = statuses.get(query.status)
                lists = [only] if only else []
            else:
                lists = [keys for keys in statuses.values() if keys]
            start = query.prefix
            stop = None if query.prefix is None else query.prefix + _AFTER_DIGITS
            if query.after is not None and (start is None or query.after >= start):
                ranges = [keys.irange(stop=stop, after=query.after) for keys in lists]
            else:
                ranges = [keys.irange(start, stop) for keys in lists]
            numbers = ranges[0] if len(ranges) == 1 else merge(*ranges)
            page: list[NumberRecord] = []
            due_by = query.due_by
            limit = query.limit
            entry_of = state.entry
            for number in numbers:
                if len(page) >= limit:
                    break
                entry = entry_of(number, query.hierarchy)
                if entry is None:
                    continue
                if due_by is not None:
                    release = _template(entry).release_date
                    if release is None or release > due_by:
                        continue
                page.append(_record(number, entry))
            return page

    def _due(self, query: Query, status: Status, due_by: datetime) -> list[NumberRecord] | None:
        """A scan of one status for due records, from the index by release date when they
        are few (None: they are many, and a walk in number order finds them soon)."""
        state = self._state
        dated = state.dated.get((query.hierarchy, status))
        if not dated:
            return []
        due = list(islice(dated.irange(stop=(due_by, _LAST_NUMBER)), _GATHERED + 1))
        if len(due) > _GATHERED:
            return None
        prefix, after = query.prefix or "", query.after or ""
        numbers = sorted(
            number for _, number in due if number > after and number.startswith(prefix)
        )
        page: list[NumberRecord] = []
        for number in numbers[: max(query.limit, 0)]:
            entry = state.entry(number, query.hierarchy)
            if entry is not None:
                page.append(_record(number, entry))
        return page

    def nodes(self, under: str | None = None) -> list[str]:
        state = self._state
        with state.lock:
            return [
                node for node in state.subtree(under) if any(state.nodes.get(node, {}).values())
            ]

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        state = self._state
        with state.lock:
            found: list[NumberRecord] = []
            for release_date, number, hierarchy in state.due:
                if release_date > now or len(found) >= limit:
                    break
                entry = state.entry(number, hierarchy)
                if entry is not None:
                    found.append(_record(number, entry))
            return found

    def next_release(self) -> datetime | None:
        with self._state.lock:
            first = self._state.due.first()
            return None if first is None else first[0]

    def _carrying(
        self, numbers: Iterable[str], carries: Callable[[NumberRecord], bool]
    ) -> list[NumberRecord]:
        state = self._state
        found = [
            record
            for number in numbers
            for entry in state.entries(number)
            if carries(record := _record(number, entry))
        ]
        return sorted(found, key=lambda record: record.key)

    def with_e164(self, e164: str) -> list[NumberRecord]:
        with self._state.lock:
            return self._carrying(self._state.e164.get(e164), lambda r: e164 in r.e164)

    def held_by(self, who: str) -> list[NumberRecord]:
        with self._state.lock:
            return self._carrying(self._state.holders.get(who), lambda r: who in r.holders)

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        state = self._state
        with state.lock:
            if under is None:
                nodes: Iterable[str] = state.nodes
            else:
                place = state.node_place
                nodes = sorted(state.subtree(under), key=lambda node: place.get(node, len(place)))
            found: dict[str, Mapping[Status, int]] = {}
            for node in nodes:
                statuses = state.nodes.get(node, {})
                if any(statuses.values()):
                    found[node] = {status: len(statuses.get(status, ())) for status in Status}
            return found

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        state = self._state
        with state.lock:
            if not state.settings:
                return {}
            if nodes is None:
                return dict(state.settings)
            return {node: found for node in nodes if (found := state.settings.get(node))}

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        with self._state.lock:
            versions = self._state.retired.get(hierarchy)
            if not versions:
                return {}
            if len(versions) < len(numbers):
                return {n: v for n, v in versions.items() if n in numbers}
            return {n: versions[n] for n in numbers if n in versions}

    def changes(self, after: int, limit: int) -> list[Change]:
        with self._state.lock:
            return self._state.journal.changes(after, limit)

    def history(self, number: str) -> list[Change]:
        with self._state.lock:
            return self._state.journal.history(number)


class _MemoryTransaction(_Reads):
    """Compare-and-set writes on the shared state, undone together on failure."""

    joined = False  # `AtEnd`: set on one opened inside another

    def at_end(self, callback: Callable[[bool], None]) -> None:
        self._state.ends.append(callback)

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

    def _undo_to(self, mark: int) -> None:
        """Take back this call's writes: a write call refused part way changes nothing."""
        undo = self._state.undo
        assert undo is not None
        while len(undo) > mark:
            undo.pop()()

    def insert(self, records: Iterable[NumberRecord]) -> None:
        state = self._state
        assert state.undo is not None, "writes happen inside a transaction"
        mark = len(state.undo)
        try:
            for record in records:
                refuse_unkeepable(record)
                self._absent(record.number, record.hierarchy)
                state.write(record.number, record.hierarchy, record)
        except Exception:
            self._undo_to(mark)
            raise

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        refuse_unkeepable(template)
        if (
            template.release_date is not None
            or template.e164
            or template.uses
            or template.reserved_for is not None
        ):
            self.insert(_renumbered(template, number) for number in numbers)
            return
        for record in self.within(numbers, template.hierarchy):
            self._absent(record.number, record.hierarchy)
        self._state.put_range(numbers, template)

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        state = self._state
        assert state.undo is not None, "writes happen inside a transaction"
        mark = len(state.undo)
        try:
            for old, new in changes:
                self._current(old)
                same_key(old, new)
                refuse_unkeepable(new)
                state.write(new.number, new.hierarchy, new)
        except Exception:
            self._undo_to(mark)
            raise

    def delete(self, records: Iterable[NumberRecord]) -> None:
        state = self._state
        assert state.undo is not None, "writes happen inside a transaction"
        mark = len(state.undo)
        try:
            for record in records:
                entry = self._current(record)
                state.write(record.number, record.hierarchy, None)
                state.retire(_record(record.number, entry))
        except Exception:
            self._undo_to(mark)
            raise

    def claim(self, query: Query) -> list[NumberRecord]:
        return self.scan(query)

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        self._state.configure(hierarchy, settings)

    def journal(self, entries: Sequence[Entry]) -> int:
        return self._state.write_journal(entries)

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """Written at once: the transaction holds the store's one lock until it ends."""
        self._state.write_journal(entries)


class InMemoryRepository(_Reads):
    """The default repository: everything in this process's memory."""

    def __init__(self) -> None:
        super().__init__(_State())

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        state = self._state
        ends: list[Callable[[bool], None]] = []
        committed = False
        try:
            with state.lock:
                if state.undo is not None:  # joined by a nested call: the outer one commits
                    joined = _MemoryTransaction(state)
                    joined.joined = True
                    yield joined
                    return
                try:
                    # Inside the guard, so that no interrupt leaves an undo log behind
                    # that would make every later transaction look nested.
                    state.undo, state.ends = [], ends
                    yield _MemoryTransaction(state)
                except BaseException:
                    for step in reversed(state.undo or ()):
                        step()
                    raise
                finally:
                    state.undo, state.ends = None, []
            committed = True
        finally:
            ended(ends, committed)  # after the lock is let go

    def prune(self, before: datetime) -> int:
        with self._state.lock:
            kept, gone = self._state.journal.pruned(before)
            self._state.journal = kept
            return gone
