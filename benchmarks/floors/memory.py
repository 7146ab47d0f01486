"""The in-memory floor: a dict of records and a sorted list of Available numbers per node.

What a competent programmer would write by hand for the same work as
`InMemoryRepository` behind `Inventory`: find the record (walking up the
hierarchy), check the transition, build the new record, compare-and-set on
its version, keep the node counts, the holders index and the release dates,
and append the journal entry; under one lock. No undo log, no general
transition table, no events: one function per operation, for the one
consumer kind the benchmarks use (a CUCM phone). A record is a named tuple
of the same fields as `NumberRecord` (a use is one too): a change copies
it with the fields changed, as a tuple, not through an attrs class.
"""

from __future__ import annotations

import functools
import heapq
import re
import threading
from bisect import bisect_left, insort
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs

from numinv import Consumer, NumberRecord, Observation, Status, Usage, Use
from numinv.core.numbers import NumberRange

__all__ = ["MemoryFloor", "Record", "SortedNumbers", "UseRow", "as_record", "of_record"]

_NUMBER = re.compile(r"\+?[0-9]{1,32}")
_PATH = re.compile(r"[^.\x00-\x1f]+(\.[^.\x00-\x1f]+)*")
_FIELDS = tuple(field.name for field in attrs.fields(NumberRecord))
_AT = {name: index for index, name in enumerate(_FIELDS)}
_VERSION = _AT["version"]
Record = namedtuple("Record", _FIELDS)  # type: ignore[misc]
UseRow = namedtuple(  # type: ignore[misc]
    "UseRow", [field.name for field in attrs.fields(Use)]
)
Journaled = namedtuple(  # type: ignore[misc]
    "Journaled",
    ["seq", "operation", "number", "hierarchy", "before", "after", "at", "actor", "numbers"],
    defaults=[None, None],
)
# The one consumer kind the benchmarks use: its status, usage and vendor (SPEC 5).
PHONE = "device/cucm/Phone"
_KINDS = {PHONE: (Status.USED, Usage.DEVICE, "")}
_HELD_BACK = (Status.COOLING, Status.RESERVED)
_BUCKET = 1000
# Named tuples built straight from a sequence, without their Python-level `__new__`.
_record = functools.partial(tuple.__new__, Record)
_entry = functools.partial(tuple.__new__, Journaled)


@functools.cache
def lineage(path: str) -> tuple[str, ...]:
    """The node and its ancestors, nearest first."""
    parts = path.split(".")
    return tuple(".".join(parts[:end]) for end in range(len(parts), 0, -1))


def checked(number: str, at: str) -> None:
    if not _NUMBER.fullmatch(number) or not _PATH.fullmatch(at):
        raise ValueError(f"bad number {number!r} or node {at!r}")


def evolve(record: Any, changes: dict[str, object]) -> Any:
    """The record with `changes` and its version one higher."""
    values = list(record)
    for name, value in changes.items():
        values[_AT[name]] = value
    values[_VERSION] += 1
    return _record(values)


def of_record(record: Any) -> Any:
    """numinv's record as the floor's tuple."""
    values = list(attrs.astuple(record, recurse=False))
    values[_AT["uses"]] = tuple(UseRow(*attrs.astuple(use)) for use in record.uses)
    if record.cooling_use is not None:
        values[_AT["cooling_use"]] = UseRow(*attrs.astuple(record.cooling_use))
    return Record._make(values)


def as_record(record: Any) -> Any:
    """The floor's tuple as numinv's record (to compare them)."""
    values = list(record)
    values[_AT["uses"]] = tuple(Use(*use) for use in record.uses)
    if record.cooling_use is not None:
        values[_AT["cooling_use"]] = Use(*record.cooling_use)
    return NumberRecord(*values)


class SortedNumbers:
    """Numbers in ascending order, in buckets of at most 2,000: a bisect and a short move each."""

    def __init__(self, numbers: Iterable[str] = ()) -> None:
        ordered = sorted(numbers)
        self.buckets = [ordered[i : i + _BUCKET] for i in range(0, len(ordered), _BUCKET)]
        self.maxes = [bucket[-1] for bucket in self.buckets]

    def add(self, number: str) -> None:
        if not self.buckets:
            self.buckets, self.maxes = [[number]], [number]
            return
        index = min(bisect_left(self.maxes, number), len(self.maxes) - 1)
        bucket = self.buckets[index]
        insort(bucket, number)
        self.maxes[index] = bucket[-1]
        if len(bucket) > 2 * _BUCKET:
            self.buckets[index : index + 1] = [bucket[:_BUCKET], bucket[_BUCKET:]]
            self.maxes[index : index + 1] = [bucket[_BUCKET - 1], bucket[-1]]

    def remove(self, number: str) -> None:
        index = bisect_left(self.maxes, number)
        bucket = self.buckets[index]
        del bucket[bisect_left(bucket, number)]
        if not bucket:
            del self.buckets[index], self.maxes[index]
        else:
            self.maxes[index] = bucket[-1]

    def first(self) -> str | None:
        return self.buckets[0][0] if self.buckets else None

    def head(self, count: int) -> list[str]:
        found: list[str] = []
        for bucket in self.buckets:
            found += bucket[: count - len(found)]
            if len(found) >= count:
                break
        return found

    def __iter__(self) -> Iterator[str]:
        for bucket in self.buckets:
            yield from bucket

    def __len__(self) -> int:
        return sum(map(len, self.buckets))


class MemoryFloor:
    """The state and the operations; `now` is the inventory's clock."""

    def __init__(self, now: Callable[[], datetime], cooling_days: int = 30) -> None:
        self.now = now
        self.cooling_days = cooling_days
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}
        self.available: dict[str, SortedNumbers] = {}
        self.counts: dict[str, dict[Status, int]] = {}
        self.holders: dict[str, set[tuple[str, str]]] = {}
        self.due: list[tuple[datetime, str, str]] = []
        self.journal: list[Journaled] = []
        self.seq = 0

    @classmethod
    def of(cls, records: Iterable[NumberRecord], now: Callable[[], datetime]) -> MemoryFloor:
        """A floor holding these records (copied from an estate, untimed)."""
        floor = cls(now)
        available: dict[str, list[str]] = {}
        for record in map(of_record, records):
            floor.records.setdefault(record.hierarchy, {})[record.number] = record
            floor._count(record.hierarchy, record.status, 1)
            if record.status is Status.AVAILABLE:
                available.setdefault(record.hierarchy, []).append(record.number)
            for name in _names(record):
                floor.holders.setdefault(name, set()).add((record.number, record.hierarchy))
            if record.release_date is not None:
                floor.due.append((record.release_date, record.hierarchy, record.number))
        heapq.heapify(floor.due)
        floor.available = {node: SortedNumbers(numbers) for node, numbers in available.items()}
        return floor

    # -- the write path every operation shares ------------------------------------

    def _count(self, node: str, status: Status, change: int) -> None:
        statuses = self.counts.setdefault(node, {})
        statuses[status] = statuses.get(status, 0) + change

    def _store(
        self,
        before: Any,
        after: Any,
        operation: str,
        at: datetime,
        hold: Iterable[str] = (),
        unhold: Iterable[str] = (),
    ) -> None:
        """Compare-and-set `after` over `before`, keep the indexes, journal the change.

        `hold` and `unhold` are the holders the change adds and removes: each
        operation knows them (a use's consumer id and owner, a reserved-for name).
        """
        node, number = after.hierarchy, after.number
        held = self.records[node]
        if held[number].version != before.version:
            raise RuntimeError(f"{number} at {node} changed under us")
        held[number] = after
        if before.status is not after.status:
            statuses = self.counts[node]
            statuses[before.status] -= 1
            statuses[after.status] = statuses.get(after.status, 0) + 1
            if before.status is Status.AVAILABLE:
                self.available[node].remove(number)
            elif after.status is Status.AVAILABLE:
                self.available.setdefault(node, SortedNumbers()).add(number)
        for name in unhold:
            self.holders[name].discard((number, node))
        for name in hold:
            self.holders.setdefault(name, set()).add((number, node))
        if after.release_date is not None and after.release_date != before.release_date:
            heapq.heappush(self.due, (after.release_date, node, number))
        self.seq += 1
        self.journal.append(
            _entry((self.seq, operation, number, node, before, after, at, None, None))
        )

    def _find(self, number: str, at: str) -> Any:
        for node in lineage(at):
            held = self.records.get(node)
            if held is not None:
                record = held.get(number)
                if record is not None:
                    return record
        return None

    def _current(self, record: Any, now: datetime) -> Any:
        """The record as of now: a due release is stored first, as numinv's next write does."""
        if record.release_date is None or record.release_date > now:
            return record
        if record.status not in _HELD_BACK:
            return record
        released = evolve(record, _lapsed(record))
        self._store(record, released, "release_due", now, unhold=_unheld(record, released))
        return released

    # -- reads --------------------------------------------------------------------

    def get(self, number: str, at: str) -> Any:
        checked(number, at)
        with self.lock:
            record = self._find(number, at)
        if record is None:
            raise LookupError(f"{number} is not visible from {at}")
        release = record.release_date
        if release is not None and release <= self.now() and record.status in _HELD_BACK:
            return evolve(record, _lapsed(record))
        return record

    def available_numbers(self, at: str, limit: int) -> list[Any]:
        """The first `limit` Available records seen from `at`, own node first."""
        checked("0", at)
        found: list[Any] = []
        with self.lock:
            for node in lineage(at):
                numbers = self.available.get(node)
                if numbers is not None:
                    held = self.records[node]
                    found += [held[n] for n in numbers.head(limit - len(found))]
                    if len(found) >= limit:
                        break
        return found

    # -- writes -------------------------------------------------------------------

    def assign_next(self, consumer: Consumer) -> Any:
        """The consumer's reserved number, else the first Available one seen from its node."""
        at = consumer.hierarchy
        checked("0", at)
        status, usage, vendor = _KINDS[consumer.kind]
        use = UseRow(consumer.kind, consumer.id, usage, vendor, status, at, consumer.owner)
        now = self.now()
        with self.lock:
            if self.due and self.due[0][0] <= now:
                raise NotImplementedError("the floor takes no number while a release is due")
            record = self._reserved(consumer) or self._first_available(at)
            after = evolve(
                record,
                {
                    "status": status,
                    "usage": (usage,),
                    "uses": (use,),
                    "vendor": vendor,
                    "internal_number_type": "",
                    "release_date": None,
                },
            )
            self._store(record, after, "assign", now, hold=_holders([use], record.uses))
        return after

    def _reserved(self, consumer: Consumer) -> Any:
        line = lineage(consumer.hierarchy)
        for name in (consumer.id, consumer.owner):
            for number, node in sorted(self.holders.get(name, ())):
                record = self.records[node][number]
                if node in line and record.status is Status.RESERVED:
                    return record
        return None

    def _first_available(self, at: str) -> Any:
        for node in lineage(at):
            numbers = self.available.get(node)
            first = None if numbers is None else numbers.first()
            if first is not None:
                return self.records[node][first]
        raise LookupError(f"no Available number is visible from {at}")

    def unassign(self, number: str, consumer: Consumer, *, cooling: bool) -> Any:
        """Remove the consumer's use; the last use frees the number, or cools it."""
        checked(number, consumer.hierarchy)
        now = self.now()
        with self.lock:
            record = self._find(number, consumer.hierarchy)
            if record is None:
                raise LookupError(number)
            record = self._current(record, now)
            key = (consumer.kind, consumer.id)
            remaining = tuple(use for use in record.uses if (use.kind, use.consumer_id) != key)
            if len(remaining) == len(record.uses):
                raise ValueError(f"{consumer.id} does not use {number}")
            changes: dict[str, object]
            if remaining:
                changes = {
                    "uses": remaining,
                    "status": remaining[-1].status,
                    "usage": tuple(dict.fromkeys(use.usage for use in remaining)),
                }
            else:
                changes = {
                    "uses": (),
                    "usage": (),
                    "vendor": record.admin_vendor,
                    "status": Status.AVAILABLE,
                }
                if cooling:
                    changes["status"] = Status.COOLING
                    changes["release_date"] = now + timedelta(days=self.cooling_days)
                    changes["cooling_use"] = None
                    changes["tag_before_cooling"] = None
                elif record.reserved_for is not None:
                    changes["status"] = Status.RESERVED
            after = evolve(record, changes)
            gone = [use for use in record.uses if (use.kind, use.consumer_id) == key]
            self._store(record, after, "unassign", now, unhold=_holders(gone, remaining))
        return after

    def reserve(self, number: str, at: str, tag: str) -> Any:
        checked(number, at)
        with self.lock:
            record = self._find(number, at)
            if record is None or record.status not in (Status.AVAILABLE, Status.RESERVED):
                raise ValueError(f"cannot reserve {number}")
            now = self.now()
            record = self._current(record, now)
            after = evolve(record, {"status": Status.RESERVED, "tag": tag})
            self._store(record, after, "reserve", now)
        return after

    def unreserve(self, number: str, at: str) -> Any:
        checked(number, at)
        with self.lock:
            record = self._find(number, at)
            if record is None or record.status is not Status.RESERVED:
                raise ValueError(f"cannot unreserve {number}")
            after = evolve(
                record,
                {
                    "status": Status.AVAILABLE,
                    "reservation_notes": "",
                    "release_date": None,
                    "reserved_for": None,
                },
            )
            held = [] if record.reserved_for is None else [record.reserved_for]
            self._store(record, after, "unreserve", self.now(), unhold=held)
        return after

    def cool(self, numbers: NumberRange, at: str, release: datetime) -> None:
        """Cool Available numbers of a node until `release` (benchmark set-up)."""
        with self.lock:
            for number in numbers:
                record = self.records[at][number]
                after = evolve(record, {"status": Status.COOLING, "release_date": release})
                self._store(record, after, "cool", self.now())

    def release_due(self) -> list[Any]:
        """Store the release of every record whose release date is reached."""
        now = self.now()
        released: list[Any] = []
        with self.lock:
            due = self.due
            while due and due[0][0] <= now:
                date, node, number = heapq.heappop(due)
                record = self.records.get(node, {}).get(number)
                if record is None or record.release_date != date or record.status not in _HELD_BACK:
                    continue  # changed since: a stale heap entry
                after = evolve(record, _lapsed(record))
                self._store(record, after, "release_due", now, unhold=_unheld(record, after))
                released.append(after)
        return released

    def audit(self, observed: Iterable[Observation]) -> list[tuple[Any, Any]]:
        """Make every record's uses those observed; return (before, after) of each fix."""
        seen: dict[str, list[Consumer]] = {}
        for observation in observed:
            consumer = observation.consumer
            assert consumer is not None
            checked(observation.number, consumer.hierarchy)
            seen.setdefault(observation.number, []).append(consumer)
        fixes: list[tuple[Any, Any]] = []
        with self.lock:
            for held in self.records.values():
                for number, record in held.items():
                    consumers = seen.pop(number, [])
                    keys = {(c.kind, c.id) for c in consumers}
                    if keys == {(use.kind, use.consumer_id) for use in record.uses}:
                        continue
                    uses = [use for use in record.uses if (use.kind, use.consumer_id) in keys]
                    recorded = {(use.kind, use.consumer_id) for use in uses}
                    for consumer in consumers:
                        if (consumer.kind, consumer.id) not in recorded:
                            status, usage, vendor = _KINDS[consumer.kind]
                            uses.append(
                                UseRow(
                                    consumer.kind,
                                    consumer.id,
                                    usage,
                                    vendor,
                                    status,
                                    consumer.hierarchy,
                                    consumer.owner,
                                )
                            )
                    if not uses:
                        raise NotImplementedError("the floor's audit frees no number")
                    changes: dict[str, object] = {
                        "uses": tuple(uses),
                        "status": uses[-1].status,
                        "usage": tuple(dict.fromkeys(use.usage for use in uses)),
                        "vendor": "",
                    }
                    if not record.uses:  # taken in use: a cooling or a release date ends
                        changes.update(_first_use(record))
                    fixes.append((record, evolve(record, changes)))
            now = self.now()
            for before, after in fixes:
                self._store(
                    before,
                    after,
                    "audit",
                    now,
                    hold=_holders(after.uses, before.uses),
                    unhold=_holders(before.uses, after.uses),
                )
        return fixes

    def add_range(self, numbers: NumberRange, at: str, template: NumberRecord) -> int:
        """Load a range of new Available records: one record each, one journal entry."""
        checked(numbers.first, at)
        with self.lock:
            line = [self.records[node] for node in lineage(at) if node in self.records]
            if any(number in held for held in line for number in numbers):
                raise ValueError(f"{numbers} clashes")
            values = list(of_record(template))
            held = self.records.setdefault(at, {})
            texts = list(numbers)
            for number in texts:
                values[0] = number
                held[number] = _record(values)
            self.available[at] = SortedNumbers(texts)
            self._count(at, Status.AVAILABLE, len(texts))
            first = held[texts[0]]
            self.journal.append(
                Journaled(
                    self.seq + 1, "add", first.number, at, None, first, self.now(), None, numbers
                )
            )
            self.seq += len(texts)
        return len(texts)


def _holders(uses: Iterable[Any], others: Iterable[Any]) -> set[str]:
    """The consumer ids and owners of `uses` that `others` do not name."""
    names = {name for use in uses for name in (use.consumer_id, use.owner) if name}
    return names - {name for use in others for name in (use.consumer_id, use.owner)}


def _unheld(before: Any, after: Any) -> list[str]:
    """The reserved-for name a change removes, if it does."""
    if before.reserved_for is not None and after.reserved_for is None:
        return [before.reserved_for]
    return []


def _names(record: Any) -> set[str]:
    names = {use.consumer_id for use in record.uses}
    names.update(use.owner for use in record.uses if use.owner)
    if record.reserved_for is not None:
        names.add(record.reserved_for)
    return names


def _first_use(record: Any) -> dict[str, object]:
    changes: dict[str, object] = {
        "release_date": None,
        "cooling_use": None,
        "tag_before_cooling": None,
    }
    if record.tag_before_cooling is not None:
        changes["tag"] = record.tag_before_cooling
    return changes


def _lapsed(record: Any) -> dict[str, object]:
    """What a reached release date changes: a cooling ends, a timed reservation lapses."""
    if record.status is Status.RESERVED:
        return {
            "status": Status.AVAILABLE,
            "reservation_notes": "",
            "release_date": None,
            "reserved_for": None,
        }
    changes: dict[str, object] = {
        "status": Status.AVAILABLE if record.reserved_for is None else Status.RESERVED,
        "release_date": None,
        "cooling_use": None,
        "tag_before_cooling": None,
    }
    if record.tag_before_cooling is not None:
        changes["tag"] = record.tag_before_cooling
    return changes
