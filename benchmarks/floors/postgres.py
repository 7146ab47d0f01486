"""The PostgreSQL floor: raw psycopg 3 on numinv's schema, with the same session settings.

What a competent programmer would write by hand against the same tables:
one connection in autocommit, and per operation one `BEGIN` ... `COMMIT`;
a row read by key, or from `records_by_status` (`FOR UPDATE SKIP LOCKED`
when it is taken, as numinv's `claim`); an `UPDATE` of the changed columns
only, with the compare-and-set `WHERE ... AND version = %s`; the node counts
in `node_counts` in one upsert, the `holders` rows, and the journal rows and
`journal_seq` in one statement, in the same transaction. Many rows (a
release of 1,000, an audit's fixes, a load) go in one statement over
`unnest` arrays, or by `COPY`. The columns are read from the catalog and
written in the encodings docs/storage.md gives, so numinv reads what the
floor writes and the other way round; the journal keeps the record before a
change whole (numinv keeps only the fields that differ).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from benchmarks.floors.memory import checked, lineage
from numinv import Consumer, NumberRecord, Observation
from numinv.core.numbers import NumberRange

__all__ = ["PostgresFloor"]

_KINDS = {"device/cucm/Phone": ("Used", "Device", "")}
_HELD_BACK = ("Cooling", "Reserved")
_BATCH = 512
_BLOCK = 1000
_JOURNAL = "seq, span, operation, number, last, block, hierarchy, at, actor, before, after"
# What a lapsed hold (a cooling or a timed reservation) changes, whichever it is.
_LAPSE = (
    "status",
    "tag",
    "release_date",
    "cooling_use",
    "tag_before_cooling",
    "reservation_notes",
    "reserved_for",
)
# What an audit's fix changes.
_FIX = ("uses", "status", "usage", "vendor", "release_date", "cooling_use", "tag_before_cooling")
_FIX = (*_FIX, "tag")
_TYPES = {"release_date": "timestamptz", "version": "bigint"}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
Row = tuple[Any, ...]


def _text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _json(row: Sequence[object]) -> str:
    """A row as the journal keeps a record: a JSON array, times as UTC ISO text."""
    values = [_text(value) if isinstance(value, datetime) else value for value in row]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


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


def _copy_field(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return _text(value)
    return str(value).translate(_COPY_ESCAPES)


class PostgresFloor:
    """Operations on one schema through one raw connection; `now` is the clock."""

    def __init__(
        self,
        conninfo: str,
        schema: str,
        now: Callable[[], datetime],
        *,
        cooling_days: int = 30,
    ) -> None:
        self.now = now
        self.cooling_days = cooling_days
        self.db = psycopg.connect(conninfo, autocommit=True)
        # numinv's pool connections' settings (the lock wait aside).
        self.db.execute(
            "SELECT set_config('TimeZone', 'UTC', false), "
            "set_config('max_parallel_workers_per_gather', '0', false)"
        )
        self.cursor = self.db.cursor()
        s = '"' + schema.replace('"', '""') + '"'
        self.s = s
        self.columns = [
            name
            for (name,) in self.db.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                (f"{s}.records",),
            )
        ]
        self.index = {name: position for position, name in enumerate(self.columns)}
        listed = ", ".join(self.columns)
        self.select = f"SELECT {listed} FROM {s}.records"
        self.by_key = f"{self.select} WHERE hierarchy = %s AND number = %s"
        # Equality on the node and status, as numinv writes it: `records_by_number` keeps
        # numbers in byte order by its own operators, so it cannot give `ORDER BY number`.
        self.first_available = (
            f"{self.select} WHERE hierarchy = %s AND status = 'Available' "
            "ORDER BY hierarchy, status, number LIMIT %s"
        )
        self.updates: dict[tuple[str, ...], str] = {}
        self.count_sql = (
            f"INSERT INTO {s}.node_counts AS c (hierarchy, status, total) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
            "ON CONFLICT (hierarchy, status) DO UPDATE SET total = c.total + excluded.total"
        )
        self.recount_sql = (
            f"INSERT INTO {s}.node_counts AS c (hierarchy, status, total) "
            "VALUES (%s, %s, -1), (%s, %s, 1) "
            "ON CONFLICT (hierarchy, status) DO UPDATE SET total = c.total + excluded.total"
        )
        next_seq = f"UPDATE {s}.journal_seq SET last = last + %s WHERE id = 1 RETURNING last"
        self.next_seq = next_seq
        self.journal_one = (
            f"WITH n AS ({next_seq}) INSERT INTO {s}.journal ({_JOURNAL}) "
            "SELECT n.last, 1, %s, %s, NULL, NULL, %s, %s, NULL, %s, %s FROM n"
        )
        self.journal_many = (
            f"WITH n AS ({next_seq}) INSERT INTO {s}.journal ({_JOURNAL}) "
            "SELECT n.last - %s + v.o, 1, %s, v.number, NULL, NULL, v.hierarchy, %s, NULL, "
            "v.before, v.after FROM n, unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], "
            "%s::text[]) AS v(o, number, hierarchy, before, after)"
        )
        self.hold_sql = (
            f"INSERT INTO {s}.holders (who, number, hierarchy) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING"
        )
        self.unhold_sql = (
            f"DELETE FROM {s}.holders AS h USING unnest(%s::text[], %s::text[], %s::text[]) "
            "AS v(who, number, hierarchy) "
            "WHERE h.who = v.who AND h.number = v.number AND h.hierarchy = v.hierarchy"
        )
        self.update_many = {
            names: self._update_many(names) for names in ((*_LAPSE, "version"), (*_FIX, "version"))
        }
        # `assign_next_pipelined`: its reads in one statement, its writes in another.
        self.side = self.db.cursor()  # statements whose answers nobody reads
        self.due_and_reserved = (
            f"SELECT a.due, q.* FROM (SELECT (SELECT release_date FROM {s}.records "
            "WHERE release_date IS NOT NULL ORDER BY release_date LIMIT 1) <= %s AS due) AS a "
            "LEFT JOIN LATERAL ("
            f"SELECT r.* FROM {s}.holders AS h JOIN {s}.records AS r "
            "ON r.hierarchy = h.hierarchy AND r.number = h.number "
            "WHERE h.who = ANY(%s) AND r.hierarchy = ANY(%s) AND r.status = 'Reserved' "
            "ORDER BY array_position(%s, h.who), h.number LIMIT 1) AS q ON true"
        )
        names = ("status", "usage", "uses", "vendor", "internal_number_type", "release_date")
        self.assigned = names
        self.assign_write = (
            f"WITH u AS (UPDATE {s}.records SET {', '.join(f'{n} = %s' for n in names)}, "
            "version = version + 1 WHERE hierarchy = %s AND number = %s AND version = %s "
            f"RETURNING 1), h AS (INSERT INTO {s}.holders (who, number, hierarchy) "
            "SELECT unnest(%s::text[]), %s, %s ON CONFLICT DO NOTHING), "
            f"c AS (INSERT INTO {s}.node_counts AS c (hierarchy, status, total) "
            "VALUES (%s, %s, -1), (%s, %s, 1) ON CONFLICT (hierarchy, status) "
            "DO UPDATE SET total = c.total + excluded.total RETURNING 1), "
            f"n AS (UPDATE {s}.journal_seq SET last = last + 1 WHERE id = 1 "
            "AND (SELECT 1 / count(*) FROM u) = 1 AND (SELECT count(*) FROM c) >= 0 "
            f"RETURNING last) INSERT INTO {s}.journal ({_JOURNAL}) "
            "SELECT n.last, 1, 'assign', %s, NULL, NULL, %s, %s, NULL, %s, %s FROM n"
        )

    def _update_many(self, names: tuple[str, ...]) -> str:
        columns = ", ".join(f"{name} = v.{name}" for name in names)
        arrays = ", ".join(f"%s::{_TYPES.get(name, 'text')}[]" for name in names)
        return (
            f"UPDATE {self.s}.records AS r SET {columns} "
            f"FROM unnest(%s::text[], %s::text[], %s::bigint[], {arrays}) "
            f"AS v(hierarchy, number, old_version, {', '.join(names)}) "
            "WHERE r.hierarchy = v.hierarchy AND r.number = v.number "
            "AND r.version = v.old_version"
        )

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        cursor = self.cursor
        cursor.execute("BEGIN")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

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
            sets = ", ".join(f"{name} = %s" for name in names)
            sql = (
                f"UPDATE {self.s}.records SET {sets} "
                "WHERE hierarchy = %s AND number = %s AND version = %s"
            )
            self.updates[names] = sql
        values = [new[index[name]] for name in names]
        cursor = self.cursor
        cursor.execute(sql, (*values, row[1], row[0], version))
        if cursor.rowcount != 1:
            raise RuntimeError(f"{row[0]} at {row[1]} changed under us")
        return new

    def _changed_many(self, names: tuple[str, ...], pairs: list[tuple[Row, list[Any]]]) -> None:
        """Many rows' new values of `names` (version included) in one compare-and-set UPDATE."""
        index = self.index
        columns: list[list[Any]] = [
            [row[1] for row, _ in pairs],
            [row[0] for row, _ in pairs],
            [row[index["version"]] for row, _ in pairs],
        ]
        columns += [[new[index[name]] for _, new in pairs] for name in names]
        self.cursor.execute(self.update_many[names], columns)
        if self.cursor.rowcount != len(pairs):
            raise RuntimeError("a record changed under us")

    def _recount(self, before: Row, after: Sequence[Any]) -> None:
        status = self.index["status"]
        if before[status] != after[status]:
            self.cursor.execute(
                self.recount_sql, (before[1], before[status], after[1], after[status])
            )

    def _recount_many(self, changes: list[tuple[Row, list[Any]]]) -> None:
        status = self.index["status"]
        counts: Counter[tuple[str, str]] = Counter()
        for before, after in changes:
            counts[(before[1], before[status])] -= 1
            counts[(after[1], after[status])] += 1
        keys = sorted(key for key, total in counts.items() if total)
        if keys:
            self.cursor.execute(
                self.count_sql,
                ([k[0] for k in keys], [k[1] for k in keys], [counts[k] for k in keys]),
            )

    def _journal(self, operation: str, changes: Sequence[tuple[Row, Sequence[Any]]]) -> None:
        """One journal row per change, seqs taken from `journal_seq`, in one statement."""
        at = self.now()
        if len(changes) == 1:
            ((before, after),) = changes
            self.cursor.execute(
                self.journal_one,
                (1, operation, after[0], after[1], at, _json(before), _json(after)),
            )
            return
        total = len(changes)
        self.cursor.execute(
            self.journal_many,
            (
                total,
                total,
                operation,
                at,
                list(range(1, total + 1)),
                [after[0] for _, after in changes],
                [after[1] for _, after in changes],
                [_json(before) for before, _ in changes],
                [_json(after) for _, after in changes],
            ),
        )

    def _hold(self, rows: list[tuple[str, str, str]]) -> None:
        self.cursor.execute(self.hold_sql, [list(column) for column in zip(*rows, strict=True)])

    def _unhold(self, rows: list[tuple[str, str, str]]) -> None:
        self.cursor.execute(self.unhold_sql, [list(column) for column in zip(*rows, strict=True)])

    def _find(self, number: str, at: str) -> Row | None:
        cursor = self.cursor
        for node in lineage(at):
            row = cursor.execute(self.by_key, (node, number)).fetchone()
            if row is not None:
                return tuple(row)
        return None

    def _due(self, row: Row, now: datetime) -> bool:
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

    def _current(self, row: Row, now: datetime) -> Row:
        """The row as of now: a due release is stored first, as numinv's next write does."""
        if not self._due(row, now):
            return row
        after = self._changed(row, self._lapsed(row))
        self._recount(row, after)
        self._journal("release_due", [(row, after)])
        return tuple(after)

    def _anything_due(self, now: datetime) -> bool:
        row = self.cursor.execute(
            f"SELECT release_date FROM {self.s}.records WHERE release_date IS NOT NULL "
            "ORDER BY release_date LIMIT 1"
        ).fetchone()
        return row is not None and row[0] <= now

    # -- reads ----------------------------------------------------------------------

    def get(self, number: str, at: str) -> Row:
        checked(number, at)
        row = self._find(number, at)
        if row is None:
            raise LookupError(f"{number} is not visible from {at}")
        if self._due(row, self.now()):
            new = list(row)
            for name, value in self._lapsed(row).items():
                new[self.index[name]] = value
            return tuple(new)
        return row

    def available_numbers(self, at: str, limit: int) -> list[Row]:
        checked("0", at)
        if self._anything_due(self.now()):
            raise NotImplementedError("the floor lists nothing while a release is due")
        found: list[Row] = []
        for node in lineage(at):
            found += self.cursor.execute(
                self.first_available, (node, limit - len(found))
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
        now = self.now()
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
            held = [(consumer.id, row[0], row[1])]
            if consumer.owner:
                held.append((consumer.owner, row[0], row[1]))
            self._hold(held)
            self._journal("assign", [(row, after)])
        return tuple(after)

    def assign_next_pipelined(self, consumer: Consumer) -> Row:
        """`assign_next` tuned by hand for round trips, as far as SQL goes: three.

        `BEGIN` with one statement that reads whether a release is due and the
        consumer's reservation; the claim; then one statement that makes every
        write (the row, the holders, the counts, the journal in commit order),
        sent with the `COMMIT`.
        """
        at = consumer.hierarchy
        checked("0", at)
        status, usage, vendor = _KINDS[consumer.kind]
        names = [name for name in (consumer.id, consumer.owner) if name]
        line = list(lineage(at))
        now = self.now()
        db, cursor = self.db, self.cursor
        try:
            with db.pipeline():
                self.side.execute("BEGIN")
                cursor.execute(self.due_and_reserved, (now, names, line, names))
            ((due, *reserved),) = cursor.fetchall()
            if due:
                raise NotImplementedError("the floor takes no number while a release is due")
            row = tuple(reserved) if reserved[0] is not None else self._first_available(at)
            after = list(row)
            changes = (status, json.dumps([usage]), _uses([_use(consumer)]), vendor, "", None)
            for name, value in zip(self.assigned, changes, strict=True):
                after[self.index[name]] = value
            after[self.index["version"]] += 1
            number, node, before = row[0], row[1], row[self.index["status"]]
            with db.pipeline():
                self.side.execute(
                    self.assign_write,
                    (
                        *changes,
                        node,
                        number,
                        row[self.index["version"]],
                        names,
                        number,
                        node,
                        *(node, before, node, status),
                        *(number, node, now, _json(row), _json(after)),
                    ),
                )
                self.side.execute("COMMIT")
        except BaseException:
            self.side.execute("ROLLBACK")
            raise
        return tuple(after)

    def _reserved(self, consumer: Consumer) -> Row | None:
        line = lineage(consumer.hierarchy)
        names = [name for name in (consumer.id, consumer.owner) if name]
        for name in names:
            held = self.cursor.execute(
                f"SELECT number, hierarchy FROM {self.s}.holders WHERE who = %s ORDER BY number",
                (name,),
            ).fetchall()
            for number, node in held:
                row = self._find(number, node)
                if node in line and row is not None and row[self.index["status"]] == "Reserved":
                    return row
        return None

    def _first_available(self, at: str) -> Row:
        for node in lineage(at):
            row = self.cursor.execute(
                f"{self.first_available} FOR UPDATE SKIP LOCKED", (node, 1)
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
            row = self._current(row, now)
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
                    changes["release_date"] = now + timedelta(days=self.cooling_days)
                    changes["cooling_use"] = None
                    changes["tag_before_cooling"] = None
                elif row[index["reserved_for"]] is not None:
                    changes["status"] = "Reserved"
            after = self._changed(row, changes)
            self._recount(row, after)
            self._unhold([(consumer.id, row[0], row[1])])
            self._journal("unassign", [(row, after)])
        return tuple(after)

    def reserve(self, number: str, at: str, tag: str) -> Row:
        checked(number, at)
        with self.transaction():
            row = self._find(number, at)
            if row is None or row[self.index["status"]] not in ("Available", "Reserved"):
                raise ValueError(f"cannot reserve {number}")
            row = self._current(row, self.now())
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
                self._unhold([(row[self.index["reserved_for"]], row[0], row[1])])
            self._journal("unreserve", [(row, after)])
        return tuple(after)

    def release_due(self) -> int:
        """Store every reached release, in transactions of up to 512 records."""
        now = self.now()
        names = (*_LAPSE, "version")
        index = self.index
        released = 0
        while True:
            with self.transaction() as cursor:
                rows = cursor.execute(
                    f"{self.select} WHERE release_date <= %s "
                    "ORDER BY release_date, number, hierarchy LIMIT %s FOR UPDATE",
                    (now, _BATCH),
                ).fetchall()
                changes: list[tuple[Row, list[Any]]] = []
                for row in rows:
                    if self._due(row, now):
                        new = list(row)
                        for name, value in self._lapsed(row).items():
                            new[index[name]] = value
                        new[index["version"]] += 1
                        changes.append((row, new))
                if changes:
                    self._changed_many(names, changes)
                    self._recount_many(changes)
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
        with self.transaction() as cursor:
            nodes = [
                node
                for (node,) in cursor.execute(
                    f"SELECT DISTINCT hierarchy FROM {self.s}.node_counts"
                ).fetchall()
            ]
            for node in nodes:
                rows = cursor.execute(
                    f"{self.select} WHERE hierarchy = %s ORDER BY number", (node,)
                ).fetchall()
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
                    fixes.append((row, uses, kept, gone, added))
            changes: list[tuple[Row, list[Any]]] = []
            gone_rows: list[tuple[str, str, str]] = []
            added_rows: list[tuple[str, str, str]] = []
            at_tag = index["tag_before_cooling"]
            for row, uses, kept, gone, added in fixes:
                new = list(row)
                new[at_uses] = _uses(kept)
                new[index["status"]] = kept[-1]["status"]
                new[index["usage"]] = json.dumps(list(dict.fromkeys(u["usage"] for u in kept)))
                new[index["vendor"]] = ""
                if not uses:  # taken in use: a cooling or a release date ends
                    new[index["release_date"]] = None
                    new[index["cooling_use"]] = None
                    new[at_tag] = None
                    if row[at_tag] is not None:
                        new[index["tag"]] = row[at_tag]
                new[index["version"]] += 1
                gone_rows += [(who, row[0], row[1]) for who in gone]
                added_rows += [(who, row[0], row[1]) for who in added]
                changes.append((row, new))
            if changes:
                self._changed_many((*_FIX, "version"), changes)
                self._recount_many(changes)
                if gone_rows:
                    self._unhold(gone_rows)
                if added_rows:
                    self._hold(added_rows)
                self._journal("audit", changes)
        return len(changes)

    def add_range(self, numbers: NumberRange, at: str, template: NumberRecord) -> int:
        """Load a range: one COPY of the rows, the count, a journal row per block of 1,000."""
        checked(numbers.first, at)
        rest = [self._column(getattr(template, name)) for name in self.columns[1:]]
        tail = "\t" + "\t".join(map(_copy_field, rest)) + "\n"
        width = len(numbers.first)
        s = self.s
        with self.transaction() as cursor:
            clash = cursor.execute(
                f"SELECT 1 FROM {s}.records WHERE hierarchy = %s AND number BETWEEN %s AND %s "
                "AND char_length(number) = %s LIMIT 1",
                (at, numbers.first, numbers.last, width),
            ).fetchone()
            if clash is not None:
                raise ValueError(f"{numbers} clashes")
            with cursor.copy(f"COPY {s}.records ({', '.join(self.columns)}) FROM STDIN") as copy:
                chunk: list[str] = []
                for number in numbers:
                    chunk.append(number + tail)
                    if len(chunk) == 4096:
                        copy.write("".join(chunk))
                        chunk.clear()
                copy.write("".join(chunk))
            cursor.execute(self.count_sql, ([at], ["Available"], [len(numbers)]))
            ((last,),) = cursor.execute(self.next_seq, (len(numbers),)).fetchall()
            first_seq, when = last - len(numbers) + 1, _text(self.now())
            lines = []
            start = numbers.start
            while start <= numbers.stop:  # one row per block of 1,000 (docs/history.md)
                stop = min((start // _BLOCK + 1) * _BLOCK - 1, numbers.stop)
                first, final = numbers.format(start), numbers.format(stop)
                after = _json([first, *rest])
                lines.append(
                    f"{first_seq + start - numbers.start}\t{stop - start + 1}\tadd\t{first}\t"
                    f"{final}\t{first[:-3]}\t{at}\t{when}\t\\N\t\\N\t"
                    f"{after.translate(_COPY_ESCAPES)}\n"
                )
                start = stop + 1
            with cursor.copy(f"COPY {s}.journal ({_JOURNAL}) FROM STDIN") as copy:
                copy.write("".join(lines))
        return len(numbers)

    @staticmethod
    def _column(value: object) -> object:
        if isinstance(value, str | int) or value is None:
            return str(value) if isinstance(value, str) else value
        if isinstance(value, tuple):
            return json.dumps(list(value)) if value else "[]"
        if isinstance(value, datetime):
            return _text(value)
        raise TypeError(f"no column encoding for {value!r}")
