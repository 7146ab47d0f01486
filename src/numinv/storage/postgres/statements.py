"""The statements of one schema (`_Sql`).

With the batches and COPY lines they send, and the journal's rows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any, Final

import attrs

from numinv.core.journal import Entry
from numinv.settings import NodeSettings
from numinv.storage.rows import (
    COLUMNS,
    DATETIME_AS_IS,
    Codec,
    journal_entry,
    journal_rows,
    time_text,
)

# Release dates and journal times are `timestamptz`; everything else is stored
# as `SqliteRepository` stores it.
_CODEC: Final = Codec({datetime | None: DATETIME_AS_IS})

_SQL_TYPES: Final = {"release_date": "timestamptz", "version": "bigint"}
_LIST: Final = ", ".join(COLUMNS)
_ARRAYS: Final = ", ".join(f"%s::{_SQL_TYPES.get(name, 'text')}[]" for name in COLUMNS)
_SETTINGS_FIELDS: Final = tuple(field.name for field in attrs.fields(NodeSettings))
_JOURNAL_COLUMNS: Final = (
    "seq, span, operation, number, last, block, hierarchy, at, actor, before, after"
)
# Numbers hold only '+' and digits, which all sort below ':' in byte order.
_AFTER_DIGITS: Final = ":"
_LARGEST_LIMIT: Final = 2**62
# Batches at least this long go by COPY (records) or by one COPY of journal rows.
_COPY_AT: Final = 500
# A scan for due records (`Query.due_by`) reads them by release date and sorts them when a
# node's status has at most this many due (`_Sql.due_count`), rather than walk every record
# of the status in number order: open-ended reservations, or a few due among many
# cooling, are not walked at every read. More than this: the walk finds them soon.
_GATHERED: Final = 1024
_SETTINGS_KEPT: Final = 1024  # node lists whose settings a process keeps, at one version
_PREPARED: Final = 512  # statements each connection keeps prepared (psycopg, and the wire)
_CHUNK: Final = 5000  # rows per statement of a batched UPDATE or DELETE
_SCALAR_ROWS: Final = 16  # at most this many rows go as plain parameters
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _Batch:
    """A statement over rows: scalars in VALUES for a few rows, arrays to unnest for many.

    The template's `{rows}` is a FROM item with the rows' columns; a few rows
    go as plain parameters (arrays cost psycopg far more to send), many as
    one array per column. `fixed` parameters come before the rows'.
    """

    def __init__(self, template: str, types: Sequence[str], *, fixed: int = 0) -> None:
        self.template = template
        self.types = tuple(types)
        self.fixed = fixed
        self.arrays = template.replace(
            "{rows}", "unnest(" + ", ".join(f"%s::{kind}[]" for kind in types) + ")"
        )
        row = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
        self.values = tuple(
            template.replace("{rows}", f"(VALUES {', '.join([row] * count)})")
            for count in range(_SCALAR_ROWS + 1)
        )

    def __call__(self, rows: Sequence[Sequence[Any]], *fixed: Any) -> tuple[str, list[Any]]:
        """The statement and its parameters for these rows."""
        if len(rows) <= _SCALAR_ROWS:
            return self.values[len(rows)], [*fixed, *chain.from_iterable(rows)]
        return self.arrays, [*fixed, *_columns(rows, len(self.types))]


# Without the one row of `journal_seq` (a TRUNCATE, a partial restore) the update that
# numbers the entries matches nothing, and the entries would be dropped while the change
# commits. The logarithm of zero fails instead, with an error of its own (`translated`).
_SEQ_ROW_GUARD = "UNION ALL SELECT ln(count(*))::bigint FROM n HAVING count(*) = 0"


class _Sql:
    """The statements of one schema, made once when the repository opens."""

    def __init__(self, schema: str) -> None:
        s = schema
        self._after_counts: dict[tuple[str, str], str] = {}  # at most 17 x 17 statements
        r = self.table = f"{s}.records"
        self.select = f"SELECT {_LIST} FROM {r}"
        self.insert_one = (
            f"INSERT INTO {r} ({_LIST}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
            "ON CONFLICT DO NOTHING"
        )
        self.insert_many = (
            f"INSERT INTO {r} ({_LIST}) SELECT * FROM unnest({_ARRAYS}) "
            "ON CONFLICT DO NOTHING RETURNING number, hierarchy"
        )
        self.copy_records = f"COPY {r} ({_LIST}) FROM STDIN"
        self.update_one = (
            f"UPDATE {r} SET "
            + ", ".join(f"{name} = %s" for name in COLUMNS[2:])
            + " WHERE hierarchy = %s AND number = %s AND version = %s"
        )
        # The same, for a row this transaction holds locked: sent without waiting for
        # its answer, so it fails (division by zero) rather than match nothing unseen.
        self.update_held = f"WITH u AS ({self.update_one} RETURNING 1) SELECT 1 / count(*) FROM u"
        self.update_many = (
            f"UPDATE {r} AS r SET "
            + ", ".join(f"{name} = v.{name}" for name in COLUMNS[2:])
            + f" FROM unnest({_ARRAYS}, %s::bigint[]) AS v({_LIST}, old_version) "
            "WHERE r.hierarchy = v.hierarchy AND r.number = v.number "
            "AND r.version = v.old_version RETURNING r.number, r.hierarchy"
        )
        self.delete_one = f"DELETE FROM {r} WHERE hierarchy = %s AND number = %s AND version = %s"
        self.delete_many = (
            f"DELETE FROM {r} AS r USING unnest(%s::text[], %s::text[], %s::bigint[]) "
            "AS v(number, hierarchy, version) WHERE r.hierarchy = v.hierarchy "
            "AND r.number = v.number AND r.version = v.version RETURNING r.number, r.hierarchy"
        )
        self.version_of = f"SELECT version FROM {r} WHERE hierarchy = %s AND number = %s"
        self.taken_keys = (
            f"SELECT r.number, r.hierarchy FROM {r} AS r "
            "JOIN unnest(%s::text[], %s::text[]) AS k(number, hierarchy) "
            "ON r.hierarchy = k.hierarchy AND r.number = k.number LIMIT 1"
        )
        self.get = f"{self.select} WHERE hierarchy = %s AND number = %s"
        self.get_locked = f"{self.get} FOR UPDATE"
        self.holding = f"{self.select} WHERE number = %s ORDER BY hierarchy"
        # Text order of numbers of one width and `+` prefix is their numeric
        # order; the length test drops numbers of other widths in between.
        self.within = (  # in byte order by `records_by_number`'s own operators
            f"{self.select} WHERE number ~>=~ %s AND number ~<=~ %s AND char_length(number) = %s "
            "ORDER BY number USING ~<~, hierarchy"
        )
        self.within_node = (
            f"{self.select} WHERE hierarchy = %s AND number BETWEEN %s AND %s "
            "AND char_length(number) = %s ORDER BY number"
        )
        self.within_node_locked = f"{self.within_node} FOR UPDATE"
        self.taken = (
            f"SELECT number FROM {r} WHERE hierarchy = %s AND number BETWEEN %s AND %s "
            "AND char_length(number) = %s LIMIT 1"
        )
        self.due = (
            f"{self.select} WHERE release_date <= %s "
            "ORDER BY release_date, number, hierarchy LIMIT %s"
        )
        self.next_release = (
            f"SELECT release_date FROM {r} WHERE release_date IS NOT NULL "
            "ORDER BY release_date LIMIT 1"
        )
        # What goes with `BEGIN`: the earliest release date and the settings' version.
        self.ahead = (
            f"SELECT ({self.next_release}), (SELECT version FROM {s}.settings_version WHERE id = 1)"
        )
        # LATERAL: one key look-up per index entry, whatever a prepared
        # statement's plan guesses of how many entries a name has.
        joined = ", ".join("r." + name for name in COLUMNS)
        keyed = (
            f"CROSS JOIN LATERAL ({self.select} AS k "
            "WHERE k.hierarchy = i.hierarchy AND k.number = i.number) AS r"
        )
        self.with_e164 = (
            f"SELECT {joined} FROM {s}.e164 AS i {keyed} "
            "WHERE i.e164 = %s ORDER BY r.number, r.hierarchy"
        )
        self.held_by = (
            f"SELECT {joined} FROM {s}.holders AS i {keyed} "
            "WHERE i.who = %s ORDER BY r.number, r.hierarchy"
        )
        # Every path at or below `p` lies in [p, p + "/"): "/" follows "." in byte order.
        self.node_counts = (
            f"SELECT hierarchy, status, total FROM {s}.node_counts "
            "WHERE hierarchy >= %s AND hierarchy < %s AND total > 0 ORDER BY hierarchy"
        )
        self.all_node_counts = (
            f"SELECT hierarchy, status, total FROM {s}.node_counts "
            "WHERE total > 0 ORDER BY hierarchy"
        )
        self.add_counts = _Batch(
            f"INSERT INTO {s}.node_counts AS c (hierarchy, status, total) "
            "SELECT * FROM {rows} AS v(hierarchy, status, total) "
            "ON CONFLICT (hierarchy, status) DO UPDATE SET total = c.total + excluded.total",
            ("text", "text", "bigint"),
        )
        self.associate = _Batch(
            f"INSERT INTO {s}.e164 (e164, number, hierarchy) "
            "SELECT * FROM {rows} AS v(e164, number, hierarchy) ON CONFLICT DO NOTHING",
            ("text", "text", "text"),
        )
        self.dissociate = _Batch(
            f"DELETE FROM {s}.e164 AS a USING {{rows}} AS v(e164, number, hierarchy) "
            "WHERE a.e164 = v.e164 AND a.number = v.number AND a.hierarchy = v.hierarchy",
            ("text", "text", "text"),
        )
        self.hold = _Batch(
            f"INSERT INTO {s}.holders (who, number, hierarchy) "
            "SELECT * FROM {rows} AS v(who, number, hierarchy) ON CONFLICT DO NOTHING",
            ("text", "text", "text"),
        )
        self.unhold = _Batch(
            f"DELETE FROM {s}.holders AS h USING {{rows}} AS v(who, number, hierarchy) "
            "WHERE h.who = v.who AND h.number = v.number AND h.hierarchy = v.hierarchy",
            ("text", "text", "text"),
        )
        self.retire = _Batch(
            f"INSERT INTO {s}.retired AS t (hierarchy, number, version) "
            "SELECT * FROM {rows} AS v(hierarchy, number, version) "
            "ON CONFLICT (hierarchy, number) "
            "DO UPDATE SET version = greatest(t.version, excluded.version)",
            ("text", "text", "bigint"),
        )
        self.retired = (
            f"SELECT number, version FROM {s}.retired WHERE hierarchy = %s "
            "AND number BETWEEN %s AND %s AND char_length(number) = %s"
        )
        fields = ", ".join(_SETTINGS_FIELDS)
        self.all_settings = f"SELECT hierarchy, {fields} FROM {s}.node_settings"
        self.some_settings = _Batch(
            f"SELECT t.hierarchy, {', '.join('t.' + name for name in _SETTINGS_FIELDS)} "
            f"FROM {s}.node_settings AS t JOIN {{rows}} AS v(hierarchy) "
            "ON t.hierarchy = v.hierarchy",
            ("text",),
        )
        self.configure = (
            f"INSERT INTO {s}.node_settings (hierarchy, {fields}) "
            f"VALUES ({', '.join(['%s'] * (len(_SETTINGS_FIELDS) + 1))}) "
            "ON CONFLICT (hierarchy) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in _SETTINGS_FIELDS)
        )
        self.unconfigure = f"DELETE FROM {s}.node_settings WHERE hierarchy = %s"
        self.next_seq = f"UPDATE {s}.journal_seq SET last = last + %s WHERE id = 1 RETURNING last"
        self.last_seq = f"SELECT last FROM {s}.journal_seq WHERE id = 1"
        # The same after the count changes, in one statement: `c` runs first, since
        # the sequence row is taken only once its rows are counted.
        self.seq_after_counts = (
            f"UPDATE {s}.journal_seq SET last = last + %s "
            "WHERE id = 1 AND (SELECT count(*) FROM c) >= 0 RETURNING last"
        )
        # One round trip: take the seqs and write the entries (offsets are 1-based).
        self.write_journal = _Batch(
            f"WITH n AS ({self.next_seq}), "
            f"j AS (INSERT INTO {s}.journal ({_JOURNAL_COLUMNS}) "
            "SELECT n.last - %s + v.o, v.span, v.operation, v.number, v.last, v.block, "
            "v.hierarchy, v.at, v.actor, v.before, v.after FROM n, {rows} "
            "AS v(o, span, operation, number, last, block, hierarchy, at, actor, before, after)) "
            f"SELECT last FROM n {_SEQ_ROW_GUARD}",
            ("bigint", "integer", *["text"] * 5, "timestamptz", *["text"] * 3),
            fixed=2,
        )
        # The seqs alone (before a COPY of the entries), failing as `write_journal` does.
        self.take_seqs = f"WITH n AS ({self.next_seq}) SELECT last FROM n {_SEQ_ROW_GUARD}"
        self.copy_journal = f"COPY {s}.journal ({_JOURNAL_COLUMNS}) FROM STDIN"
        self.entry_at = (
            f"SELECT {_JOURNAL_COLUMNS} FROM {s}.journal WHERE seq <= %s ORDER BY seq DESC LIMIT 1"
        )
        self.entries_after = (
            f"SELECT {_JOURNAL_COLUMNS} FROM {s}.journal WHERE seq > %s ORDER BY seq LIMIT %s"
        )
        self.history = (
            f"SELECT {_JOURNAL_COLUMNS} FROM {s}.journal WHERE number = %s AND last IS NULL "
            f"UNION ALL SELECT {_JOURNAL_COLUMNS} FROM {s}.journal "
            "WHERE block = %s AND last IS NOT NULL AND number <= %s AND last >= %s "
            "AND char_length(number) = %s ORDER BY seq"
        )
        # The oldest entries while older than the time (`Repository.prune`).
        self.prune = (
            f"WITH gone AS (DELETE FROM {s}.journal WHERE at < %s AND seq < coalesce("
            f"(SELECT min(seq) FROM {s}.journal WHERE at >= %s), 9223372036854775807) "
            "RETURNING span) SELECT coalesce(sum(span), 0) FROM gone"
        )
        # The due records of a node's status, by `records_due_by_status`.
        due = "hierarchy = %s AND status = %s AND release_date <= %s"
        self.due_count = (
            f"SELECT count(*) FROM (SELECT 1 FROM {r} WHERE {due} LIMIT {_GATHERED + 1}) AS d"
        )
        self.gathers = {
            (prefix, after, lock): self._gather(due, prefix, after, lock)
            for prefix in (False, True)
            for after in (False, True)
            for lock in (False, True)
        }
        self.scans = {
            (status, past, due, lock): self._scan(status, past, due, lock)
            for status in (False, True)
            for past in (False, True)
            for due in (False, True)
            for lock in (False, True)
        }

    def held_with(
        self, values: Sequence[Any], indexes: list[tuple[str, list[Any]]]
    ) -> tuple[str, list[Any]]:
        """`update_held` of one row, with the index writes that follow it in one statement.

        Each index write is a CTE of the update's statement: the rows they
        change are disjoint (what a record lost, what it gained), and should
        the update fail, the whole transaction fails with it.
        """
        if not indexes:
            return self.update_held, list(values)
        sql = _held_with(self.update_one, tuple(statement for statement, _ in indexes))
        return sql, [*values, *(value for _, parameters in indexes for value in parameters)]

    def after_counts(
        self, counted: tuple[str, list[Any]], journal: str, parameters: list[Any]
    ) -> tuple[str, list[Any]]:
        """A `write_journal` statement that first makes the count changes `counted`."""
        key = (counted[0], journal)
        sql = self._after_counts.get(key)
        if sql is None:
            tail = journal.removeprefix("WITH ").replace(self.next_seq, self.seq_after_counts, 1)
            sql = self._after_counts[key] = f"WITH c AS ({counted[0]} RETURNING 1), {tail}"
        return sql, [*counted[1], *parameters]

    def _gather(self, due: str, prefix: bool, after: bool, lock: bool) -> str:
        """A scan for the few due records of a status: found by release date (the
        materialized part reads only `records_due_by_status`, at most `_GATHERED` rows),
        then narrowed by prefix and cursor, sorted by number and read again, each row's
        status and release date checked as it is locked. (The prefix inside the
        materialized part let a plan for any parameters walk the whole status.)"""
        where = ["status = %s AND release_date <= %s"]
        if prefix:
            where.append("number >= %s AND number < %s")
        if after:
            where.append("number > %s")
        sql = (
            f"WITH d AS MATERIALIZED (SELECT hierarchy, number FROM {self.table} WHERE {due}) "
            f"{self.select} WHERE (hierarchy, number) IN (SELECT hierarchy, number FROM d) "
            f"AND {' AND '.join(where)} ORDER BY number LIMIT %s"
        )
        return sql + " FOR UPDATE SKIP LOCKED" if lock else sql

    def _scan(self, status: bool, past: bool, due: bool, lock: bool) -> str:
        """A page of a node's records (of one status) in number order, from the first
        number (or the one `past` a cursor) up to the end of the prefix (or of all
        numbers: every number sorts below ':').

        Equality on the node, then a range of numbers: a B-tree positions on the
        first number wanted and stops after the last (of one status: it positions
        on the status and first number, and stops at the end of the status).
        Written as ranges (`hierarchy >= %s AND hierarchy <= %s`), it positioned
        on the node alone and walked its every entry before and after them (a
        search by prefix at a large node took 25 ms). No other index can give
        numbers in order: `records_by_number` compares them by its own operators
        (`~<~`).
        """
        key = "hierarchy, status, number" if status else "hierarchy, number"
        start = ">" if past else ">="
        if status:
            # Not `status = %s`: the planner then reads the order as the number's alone,
            # which the primary key gives too, and walked it past every Used number for
            # an Available one (eight processes drained a pool at half the speed). The
            # status and first number as a row position the scan; `status <= %s` ends it.
            where = [f"hierarchy = %s AND (status, number) {start} (%s, %s)"]
            where.append("status <= %s AND number < %s")
        else:
            where = [f"hierarchy = %s AND number {start} %s AND number < %s"]
        if due:
            where.append("release_date <= %s")
        sql = f"{self.select} WHERE {' AND '.join(where)} ORDER BY {key} LIMIT %s"
        # Rows another transaction is taking are skipped, not waited for.
        return sql + " FOR UPDATE SKIP LOCKED" if lock else sql


def _copy_field(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return time_text(value)
    return str(value)


def _copy_line(values: Sequence[Any]) -> str:
    return "\t".join(map(_copy_field, values)) + "\n"


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column (the arrays an `unnest` statement takes)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


# -- the journal's rows -------------------------------------------------------------


def _entry_rows(offset: int, entry: Entry) -> Iterator[tuple[Any, ...]]:
    """The journal rows of an entry whose first change is at `offset` (1-based) of the batch."""
    return journal_rows(offset, entry, DATETIME_AS_IS)


def _entry_of(row: Sequence[Any]) -> tuple[int, Entry]:
    return journal_entry(row, DATETIME_AS_IS)


@functools.lru_cache(maxsize=256)
def _held_with(update: str, indexes: tuple[str, ...]) -> str:
    writes = "".join(f", i{index} AS ({sql})" for index, sql in enumerate(indexes))
    return f"WITH u AS ({update} RETURNING 1){writes} SELECT 1 / count(*) FROM u"
