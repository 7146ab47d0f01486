"""The SQLite floor: raw `sqlite3` on numinv's schema, with the same connection settings.

What a competent programmer would write by hand against the same tables:
one `BEGIN IMMEDIATE` ... `COMMIT` per operation; a row read by key or
through `records_by_status`; an `UPDATE` of the changed columns only, with
the compare-and-set `WHERE ... AND version = ?`; the node counts in `nodes`,
the `holders` rows, the `journal` row and the `journal_seq` update in the
same transaction. The columns are read from the file (`PRAGMA table_info`)
and written in the encodings docs/storage.md gives, so numinv reads what
the floor writes and the other way round; the journal keeps the record
before a change whole (numinv keeps only the fields that differ).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

from benchmarks.floors.memory import checked, lineage
from numinv import Consumer, NumberRecord, Observation
from numinv.core.numbers import NumberRange

__all__ = ["SqliteFloor", "time_text"]

_KINDS = {"device/cucm/Phone": ("Used", "Device", "")}
_HELD_BACK = ("Cooling", "Reserved")
_BATCH = 512
_BLOCK = 1000
Row = tuple[Any, ...]


def time_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _json(row: Sequence[object]) -> str:
    return json.dumps(list(row), ensure_ascii=False, separators=(",", ":"))


def _uses(uses: list[dict[str, str]]) -> str:
    return json.dumps(uses) if uses else "[]"


def _use(consumer: Consumer) -> dict[str, str]:
    status, usage, vendor = _KINDS[consumer.kind]
    return {
        "consumer_id": consumer.id,
        "hierarchy": consumer.hierarchy,
        "kind": consumer.kind,
        "owner": consumer.owner,
        "status": status,
        "usage": usage,
        "vendor": vendor,
    }


class SqliteFloor:
    """Operations on one SQLite file through one raw connection; `now` is the clock."""

    def __init__(
        self,
        path: str,
        now: Callable[[], datetime],
        *,
        synchronous: str = "OFF",
        cooling_days: int = 30,
    ) -> None:
        self.now = now
        self.cooling_days = cooling_days
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self.db.execute("PRAGMA cache_size = -32768")
        self.columns = [row[1] for row in self.db.execute("PRAGMA table_info(records)")]
        self.index = {name: position for position, name in enumerate(self.columns)}
        listed = ", ".join(self.columns)
        self.select = f"SELECT {listed} FROM records"
        self.insert = (
            f"INSERT INTO records ({listed}) VALUES ({', '.join('?' * len(self.columns))})"
        )
        self.updates: dict[tuple[str, ...], str] = {}

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- the write path every operation shares ----------------------------------

    def _changed(self, row: Row, changes: dict[str, object]) -> list[Any]:
        """The row with `changes` and its version one higher, written by compare-and-set."""
        index = self.index
        new = list(row)
        for name, value in changes.items():
            new[index[name]] = value
        version = row[index["version"]]
        new[index["version"]] = version + 1
        names = (*changes, "version")
        sql = self.updates.get(names)
        if sql is None:
            sets = ", ".join(f"{name} = ?" for name in names)
            sql = f"UPDATE records SET {sets} WHERE hierarchy = ? AND number = ? AND version = ?"
            self.updates[names] = sql
        values = [new[index[name]] for name in names]
        cursor = self.db.execute(sql, (*values, row[1], row[0], version))
        if cursor.rowcount != 1:
            raise RuntimeError(f"{row[0]} at {row[1]} changed under us")
        return new

    def _count(self, node: str, status: str, change: int) -> None:
        self.db.execute(
            "INSERT INTO nodes (hierarchy, status, total) VALUES (?, ?, ?) "
            "ON CONFLICT (hierarchy, status) DO UPDATE SET total = total + excluded.total",
            (node, status, change),
        )

    def _recount(self, before: Row, after: Sequence[Any]) -> None:
        status = self.index["status"]
        if before[status] != after[status]:
            self._count(before[1], before[status], -1)
            self._count(after[1], after[status], 1)

    def _journal(self, operation: str, changes: list[tuple[Row, Sequence[Any]]]) -> None:
        """One journal row per change, seqs taken from `journal_seq` in the transaction."""
        ((last,),) = self.db.execute(
            "UPDATE journal_seq SET last = last + ? WHERE id = 1 RETURNING last", (len(changes),)
        ).fetchall()
        at, seq = time_text(self.now()), last - len(changes)
        rows = []
        for before, after in changes:
            seq += 1
            rows.append(
                (
                    seq,
                    1,
                    operation,
                    after[0],
                    None,
                    None,
                    after[1],
                    at,
                    None,
                    _json(before),
                    _json(after),
                )
            )
        self.db.executemany(
            "INSERT INTO journal (seq, span, operation, number, last, block, hierarchy, at, "
            "actor, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _hold(self, who: str, row: Row) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO holders (who, number, hierarchy) VALUES (?, ?, ?)",
            (who, row[0], row[1]),
        )

    def _unhold(self, who: str, row: Row) -> None:
        self.db.execute(
            "DELETE FROM holders WHERE who = ? AND number = ? AND hierarchy = ?",
            (who, row[0], row[1]),
        )

    def _find(self, number: str, at: str) -> Row | None:
        for node in lineage(at):
            row = self.db.execute(
                f"{self.select} WHERE hierarchy = ? AND number = ?", (node, number)
            ).fetchone()
            if row is not None:
                return tuple(row)
        return None

    def _due(self, row: Row, now: str) -> bool:
        release = row[self.index["release_date"]]
        return release is not None and release <= now and row[self.index["status"]] in _HELD_BACK

    def _lapsed(self, row: Row) -> dict[str, object]:
        index = self.index
        if row[index["status"]] == "Reserved":
            return {
                "status": "Available",
                "reservation_notes": "",
                "release_date": None,
                "reserved_for": None,
            }
        changes: dict[str, object] = {
            "status": "Available" if row[index["reserved_for"]] is None else "Reserved",
            "release_date": None,
            "cooling_use": None,
            "tag_before_cooling": None,
        }
        if row[index["tag_before_cooling"]] is not None:
            changes["tag"] = row[index["tag_before_cooling"]]
        return changes

    def _current(self, row: Row, now: str) -> Row:
        """The row as of now: a due release is stored first, as numinv's next write does."""
        if not self._due(row, now):
            return row
        after = self._changed(row, self._lapsed(row))
        self._recount(row, after)
        self._journal("release_due", [(row, after)])
        return tuple(after)

    def _anything_due(self, now: str) -> bool:
        row = self.db.execute(
            "SELECT release_date FROM records WHERE release_date IS NOT NULL "
            "ORDER BY release_date LIMIT 1"
        ).fetchone()
        return row is not None and row[0] <= now

    # -- reads ----------------------------------------------------------------------

    def get(self, number: str, at: str) -> Row:
        checked(number, at)
        row = self._find(number, at)
        if row is None:
            raise LookupError(f"{number} is not visible from {at}")
        if self._due(row, time_text(self.now())):
            new = list(row)
            for name, value in self._lapsed(row).items():
                new[self.index[name]] = value
            return tuple(new)
        return row

    def available_numbers(self, at: str, limit: int) -> list[Row]:
        checked("0", at)
        if self._anything_due(time_text(self.now())):
            raise NotImplementedError("the floor lists nothing while a release is due")
        found: list[Row] = []
        for node in lineage(at):
            found += self.db.execute(
                f"{self.select} INDEXED BY records_by_status "
                "WHERE hierarchy = ? AND status = 'Available' ORDER BY number LIMIT ?",
                (node, limit - len(found)),
            ).fetchall()
            if len(found) >= limit:
                break
        return found

    # -- writes -------------------------------------------------------------------

    def assign_next(self, consumer: Consumer) -> Row:
        at = consumer.hierarchy
        checked("0", at)
        status, usage, vendor = _KINDS[consumer.kind]
        uses = _uses([_use(consumer)])
        now = time_text(self.now())
        with self.transaction():
            if self._anything_due(now):
                raise NotImplementedError("the floor takes no number while a release is due")
            row = self._reserved(consumer) or self._first_available(at)
            after = self._changed(
                row,
                {
                    "status": status,
                    "usage": json.dumps([usage]),
                    "uses": uses,
                    "vendor": vendor,
                    "internal_number_type": "",
                    "release_date": None,
                },
            )
            self._recount(row, after)
            self._hold(consumer.id, row)
            if consumer.owner:
                self._hold(consumer.owner, row)
            self._journal("assign", [(row, after)])
        return tuple(after)

    def _reserved(self, consumer: Consumer) -> Row | None:
        line = lineage(consumer.hierarchy)
        names = [name for name in (consumer.id, consumer.owner) if name]
        for name in names:
            held = self.db.execute(
                "SELECT number, hierarchy FROM holders WHERE who = ? ORDER BY number", (name,)
            ).fetchall()
            for number, node in held:
                row = self._find(number, node)
                if node in line and row is not None and row[self.index["status"]] == "Reserved":
                    return row
        return None

    def _first_available(self, at: str) -> Row:
        for node in lineage(at):
            row = self.db.execute(
                f"{self.select} INDEXED BY records_by_status "
                "WHERE hierarchy = ? AND status = 'Available' ORDER BY number LIMIT 1",
                (node,),
            ).fetchone()
            if row is not None:
                return tuple(row)
        raise LookupError(f"no Available number is visible from {at}")

    def unassign(self, number: str, consumer: Consumer, *, cooling: bool) -> Row:
        checked(number, consumer.hierarchy)
        now = self.now()
        with self.transaction():
            row = self._find(number, consumer.hierarchy)
            if row is None:
                raise LookupError(number)
            row = self._current(row, time_text(now))
            index = self.index
            uses = json.loads(row[index["uses"]])
            remaining = [
                use
                for use in uses
                if (use["kind"], use["consumer_id"]) != (consumer.kind, consumer.id)
            ]
            if len(remaining) == len(uses):
                raise ValueError(f"{consumer.id} does not use {number}")
            changes: dict[str, object] = {"uses": _uses(remaining)}
            if remaining:
                changes["status"] = remaining[-1]["status"]
                changes["usage"] = json.dumps(list(dict.fromkeys(u["usage"] for u in remaining)))
            else:
                changes["usage"] = "[]"
                changes["vendor"] = row[index["admin_vendor"]]
                changes["status"] = "Available"
                if cooling:
                    changes["status"] = "Cooling"
                    changes["release_date"] = time_text(now + timedelta(days=self.cooling_days))
                    changes["cooling_use"] = None
                    changes["tag_before_cooling"] = None
                elif row[index["reserved_for"]] is not None:
                    changes["status"] = "Reserved"
            after = self._changed(row, changes)
            self._recount(row, after)
            self._unhold(consumer.id, row)
            self._journal("unassign", [(row, after)])
        return tuple(after)

    def reserve(self, number: str, at: str, tag: str) -> Row:
        checked(number, at)
        with self.transaction():
            row = self._find(number, at)
            if row is None or row[self.index["status"]] not in ("Available", "Reserved"):
                raise ValueError(f"cannot reserve {number}")
            row = self._current(row, time_text(self.now()))
            after = self._changed(row, {"status": "Reserved", "tag": tag})
            self._recount(row, after)
            self._journal("reserve", [(row, after)])
        return tuple(after)

    def unreserve(self, number: str, at: str) -> Row:
        checked(number, at)
        with self.transaction():
            row = self._find(number, at)
            if row is None or row[self.index["status"]] != "Reserved":
                raise ValueError(f"cannot unreserve {number}")
            after = self._changed(
                row,
                {
                    "status": "Available",
                    "reservation_notes": "",
                    "release_date": None,
                    "reserved_for": None,
                },
            )
            self._recount(row, after)
            if row[self.index["reserved_for"]] is not None:
                self._unhold(row[self.index["reserved_for"]], row)
            self._journal("unreserve", [(row, after)])
        return tuple(after)

    def release_due(self) -> int:
        """Store every reached release, in transactions of up to 512 records."""
        now = time_text(self.now())
        released = 0
        while True:
            with self.transaction():
                rows = self.db.execute(
                    f"{self.select} WHERE release_date <= ? "
                    "ORDER BY release_date, number, hierarchy LIMIT ?",
                    (now, _BATCH),
                ).fetchall()
                changes = []
                for row in rows:
                    if self._due(row, now):
                        after = self._changed(row, self._lapsed(row))
                        self._recount(row, after)
                        changes.append((row, after))
                if changes:
                    self._journal("release_due", changes)
            released += len(changes)
            if not changes:
                return released

    def audit(self, observed: Iterable[Observation]) -> int:
        """Make every record's uses those observed, in one transaction; return the fixes."""
        seen: dict[str, list[Consumer]] = {}
        for observation in observed:
            consumer = observation.consumer
            assert consumer is not None
            checked(observation.number, consumer.hierarchy)
            seen.setdefault(observation.number, []).append(consumer)
        index = self.index
        at_uses = index["uses"]
        fixes = []
        with self.transaction():
            nodes = [node for (node,) in self.db.execute("SELECT DISTINCT hierarchy FROM nodes")]
            for node in nodes:
                rows = self.db.execute(f"{self.select} WHERE hierarchy = ?", (node,))
                for row in rows:
                    consumers = seen.pop(row[0], [])
                    uses = json.loads(row[at_uses])
                    keys = {(c.kind, c.id) for c in consumers}
                    if keys == {(use["kind"], use["consumer_id"]) for use in uses}:
                        continue
                    kept = [use for use in uses if (use["kind"], use["consumer_id"]) in keys]
                    recorded = {(use["kind"], use["consumer_id"]) for use in kept}
                    kept += [_use(c) for c in consumers if (c.kind, c.id) not in recorded]
                    if not kept:
                        raise NotImplementedError("the floor's audit frees no number")
                    gone = {u["consumer_id"] for u in uses} - {u["consumer_id"] for u in kept}
                    added = {u["consumer_id"] for u in kept} - {u["consumer_id"] for u in uses}
                    fixes.append((tuple(row), uses, kept, gone, added))
            changes = []
            at_tag = index["tag_before_cooling"]
            for row, uses, kept, gone, added in fixes:
                fields: dict[str, object] = {
                    "uses": _uses(kept),
                    "status": kept[-1]["status"],
                    "usage": json.dumps(list(dict.fromkeys(u["usage"] for u in kept))),
                    "vendor": "",
                }
                if not uses:  # taken in use: a cooling or a release date ends
                    fields.update(release_date=None, cooling_use=None, tag_before_cooling=None)
                    if row[at_tag] is not None:
                        fields["tag"] = row[at_tag]
                after = self._changed(row, fields)
                self._recount(row, after)
                for who in gone:
                    self._unhold(who, row)
                for who in added:
                    self._hold(who, row)
                changes.append((row, after))
            if changes:
                self._journal("audit", changes)
        return len(changes)

    def add_range(self, numbers: NumberRange, at: str, template: NumberRecord) -> int:
        """Load a range: one `executemany`, the count, a journal row per block of 1,000."""
        checked(numbers.first, at)
        rest = [self._column(getattr(template, name)) for name in self.columns[1:]]
        width = len(numbers.first)
        with self.transaction():
            clash = self.db.execute(
                "SELECT 1 FROM records WHERE number BETWEEN ? AND ? AND length(number) = ? LIMIT 1",
                (numbers.first, numbers.last, width),
            ).fetchone()
            if clash is not None:
                raise ValueError(f"{numbers} clashes")
            self.db.executemany(self.insert, zip(numbers, *map(repeat, rest), strict=False))
            self._count(at, "Available", len(numbers))
            ((last,),) = self.db.execute(
                "UPDATE journal_seq SET last = last + ? WHERE id = 1 RETURNING last",
                (len(numbers),),
            ).fetchall()
            first_seq, when = last - len(numbers) + 1, time_text(self.now())
            rows = []
            start = numbers.start
            while start <= numbers.stop:  # one row per block of 1,000 (docs/history.md)
                stop = min((start // _BLOCK + 1) * _BLOCK - 1, numbers.stop)
                first, final = numbers.format(start), numbers.format(stop)
                rows.append(
                    (
                        first_seq + start - numbers.start,
                        stop - start + 1,
                        "add",
                        first,
                        final,
                        first[:-3],
                        at,
                        when,
                        None,
                        None,
                        _json([first, *rest]),
                    )
                )
                start = stop + 1
            self.db.executemany(
                "INSERT INTO journal (seq, span, operation, number, last, block, hierarchy, at, "
                "actor, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(numbers)

    @staticmethod
    def _column(value: object) -> object:
        if isinstance(value, str | int) or value is None:
            return str(value) if isinstance(value, str) else value
        if isinstance(value, tuple):
            return json.dumps(list(value)) if value else "[]"
        if isinstance(value, datetime):
            return time_text(value)
        raise TypeError(f"no column encoding for {value!r}")
