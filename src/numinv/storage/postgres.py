"""`PostgresRepository`: the repository in PostgreSQL, for several service instances at once.

Layout (docs/storage.md, docs/deploying.md): the tables of `SqliteRepository`
in a schema the host names, created and migrated by the library under an
advisory lock. `records` has a column per `NumberRecord` field
(`numinv.storage.rows`), keyed by (hierarchy, number); every text key is
`COLLATE "C"`, so keys compare in byte order whatever the database's
collation; release dates are `timestamptz`. `e164` and `holders` index
records by E.164 number and by consumer id, owner and reserved-for name;
`node_counts` keeps per-node, per-status counts; `retired` the last version
of deleted records; `node_settings` what administrators set per node, and
`settings_version` a number a trigger raises at every change of them (so
that each process may keep settings it read while the number stands); the
`journal` its entries, numbered from the single row of `journal_seq`.

Connections come from a `psycopg_pool.ConnectionPool`. A transaction holds
one connection from `BEGIN ISOLATION LEVEL READ COMMITTED` to its commit; a
read made on the thread that holds an open transaction reads inside it, and
other reads take a pool connection in autocommit (committed state). Every
write is a compare-and-set on `version` or an insert that refuses a taken
key, so READ COMMITTED is enough: a conditional `UPDATE` that meets a row
another transaction changed waits for it, re-reads it, and finds the version
moved on. `claim` locks the rows it returns and skips rows other
transactions hold (`FOR UPDATE SKIP LOCKED`).

The journal's sequence is allocated by the transaction's last write
(`journal`, called just before commit, or `journal_at_commit`, sent with
the `COMMIT` itself) on the single row of `journal_seq`, whose row lock is
held until commit, so seq order is commit order. Count changes are
collected in memory and written at that same moment, sorted, so that
writers lock the shared rows in one order.

Every driver error is translated in one place, `_Database.translated`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote

import attrs

try:
    import psycopg
    from psycopg import errors as pg
    from psycopg.pq import TransactionStatus
    from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
except ImportError as missing:  # a bare "No module named 'psycopg'" named no remedy
    raise ImportError(
        "numinv's PostgreSQL store needs psycopg 3 and psycopg_pool (numinv's postgres "
        f"extra): python3 -m pip install 'psycopg[binary]' psycopg-pool ({missing})"
    ) from missing

from numinv.core.checks import keepable
from numinv.core.hierarchy import is_at_or_below
from numinv.core.journal import Entry, block_of, blocks, expand
from numinv.core.numbers import NumberRange, number_range
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import ConcurrentUpdate, InvalidInput, NotFound, NumberBusy, StorageError
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query, ended, same_key
from numinv.storage.rows import (
    COLUMNS,
    DATETIME_AS_IS,
    TEXT,
    Codec,
    refuse_unkeepable,
    time_text,
)

__all__ = ["SCHEMA_VERSION", "PostgresRepository"]

# Release dates and journal times are `timestamptz`; everything else is stored
# as `SqliteRepository` stores it.
_CODEC: Final = Codec({datetime | None: DATETIME_AS_IS})

# -- schema ---------------------------------------------------------------------

# Each migration is frozen once released: a later schema is a new entry, never
# an edit. `{s}` stands for the quoted schema name.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """
        CREATE TABLE {s}.records (
            number text COLLATE "C" NOT NULL,
            hierarchy text COLLATE "C" NOT NULL,
            status text COLLATE "C" NOT NULL,
            usage text NOT NULL,
            uses text NOT NULL,
            vendor text NOT NULL,
            internal_number_type text NOT NULL,
            release_date timestamptz,
            reserved_for text COLLATE "C",
            e164 text NOT NULL,
            primary_e164 text COLLATE "C",
            tag text NOT NULL,
            description text NOT NULL,
            reservation_notes text NOT NULL,
            extra1 text NOT NULL,
            extra2 text NOT NULL,
            extra3 text NOT NULL,
            extra4 text NOT NULL,
            extra5 text NOT NULL,
            extra6 text NOT NULL,
            extra7 text NOT NULL,
            extra8 text NOT NULL,
            extra9 text NOT NULL,
            admin_vendor text NOT NULL,
            service_type text,
            cooling_use text,
            tag_before_cooling text,
            version bigint NOT NULL,
            admin_number_type text NOT NULL,
            PRIMARY KEY (hierarchy, number)
        )
        """,
        "CREATE INDEX records_by_number ON {s}.records (number)",
        "CREATE INDEX records_by_status ON {s}.records (hierarchy, status, number)",
        """
        CREATE INDEX records_by_release_date ON {s}.records (release_date, number, hierarchy)
        WHERE release_date IS NOT NULL
        """,
        """
        CREATE TABLE {s}.e164 (
            e164 text COLLATE "C" NOT NULL,
            number text COLLATE "C" NOT NULL,
            hierarchy text COLLATE "C" NOT NULL,
            PRIMARY KEY (e164, number, hierarchy)
        )
        """,
        """
        CREATE TABLE {s}.holders (
            who text COLLATE "C" NOT NULL,
            number text COLLATE "C" NOT NULL,
            hierarchy text COLLATE "C" NOT NULL,
            PRIMARY KEY (who, number, hierarchy)
        )
        """,
        """
        CREATE TABLE {s}.node_counts (
            hierarchy text COLLATE "C" NOT NULL,
            status text COLLATE "C" NOT NULL,
            total bigint NOT NULL,
            PRIMARY KEY (hierarchy, status)
        )
        """,
        """
        CREATE TABLE {s}.retired (
            hierarchy text COLLATE "C" NOT NULL,
            number text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            PRIMARY KEY (hierarchy, number)
        )
        """,
        """
        CREATE TABLE {s}.node_settings (
            hierarchy text COLLATE "C" NOT NULL PRIMARY KEY,
            auto_cooling boolean,
            cooling_days integer,
            audiocodes_cooling_days integer,
            prevent_duplicates boolean,
            exhaustion_threshold double precision
        )
        """,
        """
        CREATE TABLE {s}.journal (
            seq bigint PRIMARY KEY,
            span integer NOT NULL,
            operation text NOT NULL,
            number text COLLATE "C" NOT NULL,
            last text COLLATE "C",
            block text COLLATE "C",
            hierarchy text COLLATE "C" NOT NULL,
            at timestamptz NOT NULL,
            actor text,
            before text,
            after text
        )
        """,
        "CREATE INDEX journal_by_number ON {s}.journal (number) WHERE last IS NULL",
        "CREATE INDEX journal_by_block ON {s}.journal (block) WHERE last IS NOT NULL",
        "CREATE INDEX journal_by_time ON {s}.journal (at)",
        """
        CREATE TABLE {s}.journal_seq (
            id integer PRIMARY KEY CHECK (id = 1),
            last bigint NOT NULL
        )
        """,
        "INSERT INTO {s}.journal_seq (id, last) VALUES (1, 0)",
    ),
    # 2: a version of the node settings, raised by any change of them, however made,
    # so that a process may keep settings it read for as long as the version stands.
    (
        """
        CREATE TABLE {s}.settings_version (
            id integer PRIMARY KEY CHECK (id = 1),
            version bigint NOT NULL
        )
        """,
        "INSERT INTO {s}.settings_version (id, version) VALUES (1, 0)",
        """
        CREATE FUNCTION {s}.settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {s}.settings_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON {s}.node_settings FOR EACH STATEMENT EXECUTE FUNCTION {s}.settings_changed()
        """,
    ),
    # 3: the trigger raises the version of its own schema, whatever the schema is called:
    # a schema renamed, or restored from a dump under another name, kept raising the
    # version of the schema it was made in.
    (
        """
        CREATE OR REPLACE FUNCTION {s}.settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format(
                'UPDATE %I.settings_version SET version = version + 1 WHERE id = 1',
                TG_TABLE_SCHEMA
            );
            RETURN NULL;
        END
        $$
        """,
    ),
    # 4: the held-back records of a node by release date: a scan for the due ones
    # (`Query.due_by`) finds a few among many without walking them all. The index by
    # number in byte order by its own operators (`~<~`): one the planner could use for
    # `number >= %s` or `ORDER BY number` walked every number of the table, in order,
    # for a page of one node's (see `_Sql._scan`). The table is locked first, whole: locked
    # part way (an index built, then one dropped), a writer between the two deadlocked.
    (
        "LOCK TABLE {s}.records IN ACCESS EXCLUSIVE MODE",
        """
        CREATE INDEX records_due_by_status ON {s}.records (hierarchy, status, release_date)
        WHERE release_date IS NOT NULL
        """,
        "DROP INDEX {s}.records_by_number",
        "CREATE INDEX records_by_number ON {s}.records (number text_pattern_ops)",
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)

# The advisory lock class of numinv's migrations (the second key is the schema's).
_LOCK_CLASS: Final = 0x6E756D69  # "numi"

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
_PREPARED: Final = 512  # statements each connection keeps prepared (psycopg's LRU)
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
            return self.values[len(rows)], [*fixed, *(value for row in rows for value in row)]
        return self.arrays, [*fixed, *_columns(rows, len(self.types))]


# Without the one row of `journal_seq` (a TRUNCATE, a partial restore) the update that
# numbers the entries matches nothing, and the entries would be dropped while the change
# commits. The logarithm of zero fails instead, with an error of its own (`translated`).
_SEQ_ROW_GUARD = "UNION ALL SELECT ln(count(*))::bigint FROM n HAVING count(*) = 0"


# What a schema holds, `schema_version` first: any relation (a table, a view, a
# sequence...), function, or type of its own. Numinv writes only into a schema of its
# own or an empty one (a DBA's, made for it).
_HELD: Final = (
    "SELECT name FROM (SELECT c.relname AS name FROM pg_class AS c JOIN pg_namespace AS n "
    "ON n.oid = c.relnamespace WHERE n.nspname = %s "
    "UNION ALL SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n "
    "ON n.oid = p.pronamespace WHERE n.nspname = %s "
    "UNION ALL SELECT t.typname FROM pg_type AS t JOIN pg_namespace AS n "
    "ON n.oid = t.typnamespace WHERE n.nspname = %s AND t.typtype IN ('d', 'e', 'r', 'm')) "
    "AS held ORDER BY name = 'schema_version' DESC LIMIT 1"
)
# The tables every version of numinv's schema has, beside `schema_version`: a look-alike
# `schema_version` of another application's has not got them.
_OUR_TABLES: Final = ("records", "journal", "journal_seq", "node_counts")
_OURS: Final = (
    "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    f"WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname IN {_OUR_TABLES!r}"
)


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
    record = entry.record
    if entry.numbers is None:
        before_text, after_text = TEXT.texts(entry.before, entry.after)
        yield (
            offset,
            1,
            entry.operation,
            record.number,
            None,
            None,
            record.hierarchy,
            entry.at,
            entry.actor,
            before_text,
            after_text,
        )
        return
    for piece in blocks(entry.numbers):
        first = piece.first
        before = None if entry.before is None else attrs.evolve(entry.before, number=first)
        after = None if entry.after is None else attrs.evolve(entry.after, number=first)
        yield (
            offset + piece.start - entry.numbers.start,
            len(piece),
            entry.operation,
            first,
            piece.last,
            block_of(first),
            record.hierarchy,
            entry.at,
            entry.actor,
            None if before is None else TEXT.to_json(before),
            None if after is None else TEXT.to_json(after),
        )


def _entry_of(row: Sequence[Any]) -> tuple[int, Entry]:
    seq, _, operation, number, last, _, _, at, actor, before_text, after_text = row
    after = None if after_text is None else TEXT.from_json(after_text)
    if before_text is None:
        before = None
    elif before_text.startswith("{"):
        assert after is not None
        before = TEXT.from_diff(before_text, after)
    else:
        before = TEXT.from_json(before_text)
    numbers = None if last is None else number_range(number, last)
    return int(seq), Entry(operation, before, after, at.astimezone(UTC), actor, numbers)


# -- locks for uniqueness checks -----------------------------------------------------------

_FEW: Final = 64  # numbers (or blocks) locked one by one at most
_LOCK_BUDGET: Final = 256  # advisory locks a transaction takes before it takes one for all
# How long a transaction past the budget waits for the other checks to end (`_Open.lock`),
# as a share of the server's deadlock_timeout (100 ms of the default 1 s): a writer that
# starts waiting for one of its numbers meanwhile looks for a deadlock only after that.
_ALONE_WAIT: Final = 0.1
# Seconds psycopg_pool tries to open a connection, its waits doubling (1 s, 2 s), before
# it gives up (`_Database.reconnect_failed`). Its own default, five minutes, let the
# waits grow to a minute: a server back after an outage was not asked again for as long.
_RECONNECT: Final = 3.0


def _lock_key(schema: str, kind: str, text: str) -> int:
    name = f"{schema}\x1f{kind}\x1f{text}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(name, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# An advisory lock: where it sorts (the text of the numbers it covers, then its level:
# a block of a million, of a thousand, a number, an E.164 number), and its key.
_Lock = tuple[str, int, int]


def _lock(schema: str, level: int, text: str) -> _Lock:
    return (text, level, _lock_key(schema, "mkne"[level], text))


@attrs.frozen
class _Keys:
    """Advisory locks that make a uniqueness check and the write after it one step.

    READ COMMITTED lets two transactions both read that a number is free at
    two related nodes and both add it (the keys differ, so no index refuses
    either). So a read that a uniqueness check makes inside a transaction
    (`holding`, `within`, `with_e164`) first takes transaction-long locks on
    what it reads, and reads once they are granted: a second writer of the
    same numbers waits for the first to commit, then sees what it added.
    Locks are hierarchical, so that a range costs few of them: a number
    locks itself and shares its block of a thousand and its block of a
    million; a range of more numbers locks its blocks of a thousand and
    shares their blocks of a million; a range of more blocks locks its blocks
    of a million.

    Every transaction takes them in one order, that of the numbers they cover
    (a block before the numbers in it): a load that took its numbers' locks
    in the order of their keys' hashes deadlocked with an import checking the
    same numbers one by one, and both failed once their retries ran out.
    """

    shared: tuple[_Lock, ...]
    exclusive: tuple[_Lock, ...]
    everything: int  # the schema's own key, shared by every check

    @staticmethod
    def of_number(schema: str, number: str) -> _Keys:
        return _Keys(
            (_lock(schema, 0, number[:-6]), _lock(schema, 1, block_of(number))),
            (_lock(schema, 2, number),),
            _lock_key(schema, "*", ""),
        )

    @staticmethod
    def of_range(schema: str, numbers: NumberRange) -> _Keys:
        ends = (numbers.first, numbers.last)
        millions = {_lock(schema, 0, number[:-6]) for number in ends}
        if len(numbers) <= _FEW:  # at most two blocks of each size
            thousands = {_lock(schema, 1, block_of(number)) for number in ends}
            return _Keys(
                (*millions, *thousands),
                tuple(_lock(schema, 2, number) for number in numbers),
                _lock_key(schema, "*", ""),
            )
        pieces = list(blocks(numbers))
        if len(pieces) <= _FEW:
            return _Keys(
                tuple(millions),
                tuple(_lock(schema, 1, block_of(piece.first)) for piece in pieces),
                _lock_key(schema, "*", ""),
            )
        spanned = {_lock(schema, 0, piece.first[:-6]) for piece in pieces}
        return _Keys((), tuple(spanned), _lock_key(schema, "*", ""))

    @staticmethod
    def of_e164(schema: str, e164: str) -> _Keys:
        return _Keys((), (_lock(schema, 3, e164),), _lock_key(schema, "*", ""))


@functools.lru_cache(maxsize=256)
def _held_with(update: str, indexes: tuple[str, ...]) -> str:
    writes = "".join(f", i{index} AS ({sql})" for index, sql in enumerate(indexes))
    return f"WITH u AS ({update} RETURNING 1){writes} SELECT 1 / count(*) FROM u"


class _Refused(Exception):
    """A check's locks asked for without waiting were not all granted (`_Open.lock`):
    `alone`, only the number's own (another writer checks or changes that number), else
    a block's or the schema's (a range operation, an import); `escalating`, the schema's
    key alone, past `_LOCK_BUDGET`, while other checks share it."""

    def __init__(self, *, alone: bool, escalating: bool = False) -> None:
        super().__init__("refused")
        self.alone = alone
        self.escalating = escalating


def _wanted(keys: _Keys, locked: set[tuple[bool, int]]) -> list[tuple[tuple[str, int], bool, int]]:
    """The locks of `keys` not in `locked`, in the one order every transaction takes them
    (where they sort, whether exclusive, key): first a share of the schema's own key if
    nothing is held yet, or that key alone past `_LOCK_BUDGET` (see `_Open.lock`)."""
    wanted = sorted(
        {
            ((text, level), exclusive, key)
            for exclusive, locks in ((False, keys.shared), (True, keys.exclusive))
            for text, level, key in locks
            if (exclusive, key) not in locked
        }
    )
    if wanted and len(locked) + len(wanted) + 1 > _LOCK_BUDGET:
        return [(("", -1), True, keys.everything)]
    if wanted and not locked:
        wanted.insert(0, (("", -1), False, keys.everything))
    return wanted


@functools.lru_cache(maxsize=256)
def _lock_sql(exclusive: tuple[bool, ...], *, wait: bool = True) -> str:
    """Take the locks in the order given, each shared or not (`exclusive`); without
    waiting (`wait=False`), answering whether each was granted."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    calls = (f"{function}{'' if alone else '_shared'}(%s::bigint)" for alone in exclusive)
    return "SELECT " + ", ".join(calls)


# -- the connections ----------------------------------------------------------------

_BEGIN: Final = "BEGIN ISOLATION LEVEL READ COMMITTED"
_SET_LOCK_TIMEOUT: Final = "SELECT set_config('lock_timeout', %s, true)"  # to the end
# The schema's key alone if it is free, and whether another transaction waits for this one.
_ALONE_AT_ONCE: Final = (
    "SELECT pg_try_advisory_xact_lock(%s::bigint), EXISTS (SELECT FROM pg_locks"
    " WHERE NOT granted AND pg_backend_pid() = ANY (pg_blocking_pids(pid)))"
)
_SET_ALONE_WAIT: Final = (
    "SELECT set_config('lock_timeout', greatest(1, round(setting::float8 * %s))::text || 'ms',"
    " true) FROM pg_settings WHERE name = 'deadlock_timeout'"
)


# A cursor keeps its last answer until its next statement: one that answered more rows
# than this is closed after the read, not kept, so a large read's memory goes with it.
_KEPT_ANSWER = 1_000


class _Kept:
    """The cursors kept for one pool connection: making a cursor costs about a fifth of
    a read by key, so each connection keeps three, one per role in `_Open.execute`."""

    __slots__ = ("ahead", "answer", "connection", "unanswered")

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection
        self.answer = connection.cursor()  # a statement whose answer is read
        self.ahead = connection.cursor()  # what goes with `BEGIN`
        self.unanswered = connection.cursor()  # `BEGIN` and writes nobody waits for

    def rows(self, cursor: psycopg.Cursor[Any]) -> list[tuple[Any, ...]]:
        """The answer's rows; after a large one, the answering cursor is made anew."""
        rows = cursor.fetchall()
        if len(rows) > _KEPT_ANSWER and cursor is self.answer:
            cursor.close()
            self.answer = self.connection.cursor()
        return rows


class _Cursors:
    """The kept cursors (`_Kept`) of each connection of a pool, made at its first use.
    A connection the pool closed is forgotten when a new one comes."""

    __slots__ = ("kept", "lock")

    def __init__(self) -> None:
        self.kept: dict[psycopg.Connection[Any], _Kept] = {}
        self.lock = threading.Lock()

    def of(self, connection: psycopg.Connection[Any]) -> _Kept:
        found = self.kept.get(connection)
        if found is not None:
            return found
        with self.lock:
            self._forget_closed()
            found = self.kept[connection] = _Kept(connection)
        return found

    def forget_closed(self) -> None:
        """Let go of the cursors (and last answers) of connections the pool closed."""
        with self.lock:
            self._forget_closed()

    def _forget_closed(self) -> None:
        for gone in [known for known in self.kept if known.closed]:
            del self.kept[gone]

    def clear(self) -> None:
        with self.lock:
            self.kept.clear()


class _Open:
    """The transaction open on one thread: its connection and the writes it has not sent.

    Round trips are the cost of a short transaction, so nothing that needs no
    answer waits for one: `BEGIN` goes with the first statement (and with it
    the read of the earliest release date and of the settings' version, which
    says whether settings read before still stand), and index writes and changes to
    rows the transaction holds locked (`pending`, `mine`) go with the next
    statement, in one pipeline. Count changes wait for the end (`counts`):
    they are sent once, sorted, in the journal statement or just before the
    commit, so writers lock those shared rows late and in one order.
    """

    __slots__ = (
        "ahead",
        "begun",
        "closing",
        "connection",
        "counts",
        "earliest",
        "ends",
        "escalated",
        "held_numbers",
        "kept",
        "lock_timeout",
        "locked",
        "mine",
        "numbering",
        "pending",
        "settings_version",
        "tree",
    )

    def __init__(
        self, kept: _Kept, ahead: str, ends: list[Callable[[bool], None]], lock_timeout: str
    ) -> None:
        self.connection = kept.connection
        self.lock_timeout = lock_timeout  # the connection's, as `set_config` takes it
        self.kept = kept  # the connection's cursors; an answer is read at once
        self.ends = ends  # what waits for the end of the transaction (`AtEnd.at_end`)
        self.begun = False
        # The earliest release date, asked with `BEGIN` (`ahead`) since nearly every
        # change wants it; forgotten at this transaction's first write.
        self.ahead = ahead
        self.earliest: list[tuple[Any, ...]] | None = None
        # The version of the node settings as this transaction began (None: not read,
        # or this transaction changed them): settings kept at that version still stand.
        self.settings_version: int | None = None
        self.pending: list[tuple[str, Sequence[Any]]] = []
        # Journal entries to write with the commit, in its round trip (`journal_at_commit`).
        self.closing: list[Entry] = []
        # Who learns the seqs of entries kept for the commit, by where they start among
        # them (`journal_at_commit_numbered`).
        self.numbering: list[tuple[int, Callable[[int], None]]] = []
        # (hierarchy, status) -> change of its count.
        self.counts: Counter[tuple[str, str]] = Counter()
        # (exclusive, key) of the advisory locks taken (they last until the end).
        self.locked: set[tuple[bool, int]] = set()
        self.escalated = False  # holds the schema's key alone (see `lock`)
        # The last node list read (`nodes(under)`: under, the nodes), until a write.
        self.tree: tuple[str | None, tuple[str, ...]] | None = None
        # Rows this transaction holds locked (read by `get` or `claim`, or replaced one
        # by one), by key, at the version it last read or wrote: no other writer can
        # change them until the end, so a compare-and-set on one cannot fail and needs
        # no answer. Forgotten when a savepoint is rolled back (some locks may go).
        self.mine: dict[tuple[str, str], int] = {}
        # The numbers of rows it read locked (`get`, `claim`, `within` at a node): a check
        # of one of them must not wait for its advisory locks (`lock`).
        self.held_numbers: set[str] = set()

    def hold(self, records: Iterable[NumberRecord]) -> None:
        """Note rows read locked, at the version read."""
        for record in records:
            self.mine[record.key] = record.version
            self.held_numbers.add(record.number)

    def later(self, sql: str, parameters: Sequence[Any]) -> None:
        """A write whose answer nobody needs: sent with the next statement."""
        self.pending.append((sql, parameters))

    def execute(self, sql: str | None, parameters: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run a statement (None: only what is waiting) after `BEGIN` and the pending writes."""
        kept = self.kept
        cursor = kept.answer
        if self.begun and not self.pending:
            return cursor.execute(sql, parameters) if sql is not None else cursor
        earliest = None
        unanswered = kept.unanswered
        with self.connection.pipeline():
            if not self.begun:
                unanswered.execute(_BEGIN)
                self.begun = True
                if not self.pending:  # read before any write of this transaction
                    earliest = kept.ahead.execute(self.ahead)
            for waiting, values in self.pending:
                unanswered.execute(waiting, values)
            self.pending.clear()
            if sql is not None:
                cursor.execute(sql, parameters)
        if earliest is not None:
            ((release, version),) = earliest.fetchall()
            self.earliest = [] if release is None else [(release,)]
            self.settings_version = version
        return cursor

    def lock(self, keys: _Keys, *, of: str | None = None) -> bool:
        """Queue the advisory locks not held yet (the next statement runs once they are
        granted), in the order of `_Keys`; whether there were any.

        Every check also shares the schema's own key, first. A transaction that
        would hold more than `_LOCK_BUDGET` locks (an import, an audit adding
        many numbers) takes that key alone instead, and keeps every other check
        out, as a store with one writer would; the server's lock table stays
        small. Holding its numbers' locks while it waited for the other checks
        to end, it deadlocked with one of them waiting for those numbers; so it
        waits only while nobody waits for it, and only a moment (`alone_soon`).
        Refused, it is `_Refused(escalating=True)`, and the transaction runs
        again holding that key from its start (`_Database.alone_next`), when it
        holds nothing another may wait for.

        Advisory locks come before row locks: a range operation takes its
        numbers' locks, then their rows. A check of a number (`of`) whose row
        this transaction already holds (a claim picks the row, then checks it)
        must not wait: the writer it would wait for may be waiting for that row.
        It asks for them without waiting, now, and a refusal is `_Refused`
        (`_Reads.holding` says what it means to the caller).
        """
        if self.escalated:
            return False
        wanted = _wanted(keys, self.locked)
        if not wanted:
            return False
        pattern = tuple(exclusive for _, exclusive, _ in wanted)
        values = [key for _, _, key in wanted]
        if values == [keys.everything] and pattern == (True,):  # past the budget
            if not self.alone_soon(keys.everything):
                raise _Refused(alone=False, escalating=True)
            return True
        if of is None or of not in self.held_numbers:
            self.later(_lock_sql(pattern), values)
            granted: Sequence[bool] = [True] * len(wanted)
        else:
            (granted,) = self.kept.rows(self.execute(_lock_sql(pattern, wait=False), values))
        refused = []  # the levels of the locks not granted
        for ((_, level), exclusive, key), got in zip(wanted, granted, strict=True):
            if got:
                self.locked.add((exclusive, key))
                self.escalated |= exclusive and key == keys.everything
            else:
                refused.append(level)
        if refused:
            raise _Refused(alone=min(refused) >= 2)
        return True

    def alone_soon(self, everything: int) -> bool:
        """Take the schema's key alone if the other checks end soon; whether it did.

        Free, it is taken at once. Otherwise, if another transaction already
        waits for this one (for one of its numbers), waiting could close a
        cycle the server would find, so it is refused. Else it waits a
        moment (`_ALONE_WAIT`): one that starts waiting for this transaction
        meanwhile looks for a deadlock only later, when this one has given up.
        A wait that runs out is rolled back to before it, so the transaction
        stays usable (a host may catch the refusal).
        """
        ((taken, awaited),) = self.kept.rows(self.execute(_ALONE_AT_ONCE, [everything]))
        if not taken:
            if awaited:
                return False
            self.later("SAVEPOINT numinv_alone", ())
            self.later(_SET_ALONE_WAIT, (_ALONE_WAIT,))
            try:
                self.execute(_lock_sql((True,)), [everything])
            except pg.LockNotAvailable:
                self.execute("ROLLBACK TO SAVEPOINT numinv_alone")
                return False
            self.later(_SET_LOCK_TIMEOUT, (self.lock_timeout,))
            self.later("RELEASE SAVEPOINT numinv_alone", ())
        self.locked.add((True, everything))
        self.escalated = True
        return True

    def alone(self, everything: int) -> None:
        """Take the schema's key alone first, before anything else (`_Database.alone_next`)."""
        self.later(_lock_sql((True,)), [everything])
        self.locked.add((True, everything))
        self.escalated = True

    def count(self, add_counts: _Batch) -> None:
        """Queue the count changes, in key order, as a pending write."""
        if changed := self.counted(add_counts):
            self.later(*changed)

    def counted(self, add_counts: _Batch) -> tuple[str, list[Any]] | None:
        """The statement of the count changes, in key order (None: none), now taken."""
        changed = sorted((*key, total) for key, total in self.counts.items() if total)
        self.counts.clear()
        return add_counts(changed) if changed else None


def _quoted(schema: object) -> str:
    if not isinstance(schema, str) or not schema or len(schema.encode("utf-8", "replace")) > 63:
        raise InvalidInput(f"schema must be a name of 1 to 63 bytes, not {schema!r}", value=schema)
    keepable(schema, "the schema name")
    if "%" in schema:  # psycopg reads it in a statement as the start of a placeholder
        raise InvalidInput(f"schema must not hold a % sign, not {schema!r}", value=schema)
    if any(sign in schema for sign in "{}$"):  # braces mark statements' slots (`_Batch`),
        # and a dollar sign may end the quoted body of the settings trigger's function
        raise InvalidInput(f"schema must not hold '{{', '}}' or '$', not {schema!r}", value=schema)
    if schema.startswith("pg_"):
        raise InvalidInput(
            f"schema names starting pg_ are PostgreSQL's own, not {schema!r}", value=schema
        )
    return '"' + schema.replace('"', '""') + '"'


def _where(conninfo: str) -> str:
    """The server a connection string names, without its password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error:
        return "the PostgreSQL server"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    name = parts.get("dbname") or parts.get("user") or ""
    return f"PostgreSQL at {host}:{port}/{name}"


class _Database:
    """The pool, the schema's statements, and the transaction open on each thread."""

    def __init__(
        self,
        conninfo: str,
        schema: str,
        pool_size: int,
        timeout: float,
        lock_timeout: float,
        *,
        create: bool = True,
    ) -> None:
        self.schema = schema
        self.quoted = _quoted(schema)
        self.sql = _Sql(self.quoted)
        self.where = _where(conninfo)
        self.conninfo = conninfo  # to ask the server why the pool cannot connect
        self.timeout = timeout
        self.lock_timeout = lock_timeout
        self.waits = f"{max(1, int(lock_timeout * 1000))}ms"  # as the server's setting
        self.local = threading.local()
        self.cursors = _Cursors()
        # Node settings read inside transactions, by the nodes asked, at one settings
        # version (`_PostgresTransaction.node_settings`).
        self.settings: tuple[int, dict[tuple[str, ...], Mapping[str, NodeSettings]]] = (-1, {})
        # Callers waiting for a pool connection, and connections lent out (`borrow`).
        self.counting = threading.Lock()
        self.asking = 0
        self.lent = 0
        self.migrate(conninfo, create=create)
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            kwargs={"autocommit": True},
            configure=self.configure,
            open=False,
            name=f"numinv:{schema}",
            reconnect_timeout=_RECONNECT,
            reconnect_failed=self.reconnect_failed,
        )
        with self.translated():
            self.asked(+1)
            try:
                self.pool.open(wait=True, timeout=timeout)
            finally:  # a pool not full in time is closed by psycopg_pool
                self.asked(-1)

    # -- errors -------------------------------------------------------------

    @contextmanager
    def translated(self, *, taken: str | None = None) -> Iterator[None]:
        """Every driver error as the `NumInvError` a caller can act on.

        A lost race (a taken key, a serialization failure, a deadlock) is
        `ConcurrentUpdate`, which the inventory retries; text the server
        cannot store is `InvalidInput`; a lock or pool wait that ran out, a
        lost connection, or any other failure is `StorageError`. `taken`
        names what a unique-key failure means.
        """
        try:
            yield
        except pg.UniqueViolation as error:
            what = taken or "a record of this transaction"
            raise ConcurrentUpdate(f"{what} was added by another writer") from error
        except (pg.SerializationFailure, pg.DeadlockDetected) as error:
            raise ConcurrentUpdate(
                f"another writer took part of this transaction's work ({error.sqlstate}: "
                f"{_first_line(error)}); try again"
            ) from error
        except pg.InFailedSqlTransaction as error:
            raise self.failed() from error
        except pg.DivisionByZero as error:  # only `update_held` divides
            raise StorageError(
                f"{self.where}: a record this transaction holds locked was not where it was "
                "left; nothing was stored",
                value=self.schema,
            ) from error
        except pg.InvalidArgumentForLogarithm as error:  # only `_SEQ_ROW_GUARD` takes one
            raise StorageError(
                f"{self.where}: the journal's sequence row ({self.quoted}.journal_seq, id 1) "
                "is missing, so no change can be journaled; nothing was stored (restore it "
                "with the last seq of the journal)",
                value=self.schema,
            ) from error
        except pg.LockNotAvailable as error:
            raise StorageError(
                f"{self.where}: waited longer than {self.lock_timeout:g} s for a lock another "
                f"transaction holds ({_first_line(error)})",
                value=self.schema,
            ) from error
        except pg.QueryCanceled as error:  # a statement_timeout, or a cancel request
            raise StorageError(
                f"{self.where}: the server cancelled a statement ({_first_line(error)}); "
                "nothing was stored",
                value=self.schema,
            ) from error
        except PoolTimeout as error:
            raise StorageError(
                f"{self.where}: no connection within {self.timeout:g} s: {self.no_connection()}",
                value=self.schema,
            ) from error
        except PoolClosed as error:
            raise StorageError(
                f"the repository of {self.where} is closed", value=self.schema
            ) from error
        except pg.ProgramLimitExceeded as error:  # e.g. an index entry over its size
            raise InvalidInput(
                f"text too long for PostgreSQL to keep: {_first_line(error)}", value=self.schema
            ) from error
        except (pg.CharacterNotInRepertoire, pg.UntranslatableCharacter) as error:
            raise InvalidInput(
                f"text PostgreSQL cannot store: {_first_line(error)}", value=self.schema
            ) from error
        except psycopg.DataError as error:
            if "NUL" in str(error):
                raise InvalidInput(
                    "text must not hold a NUL character, which PostgreSQL cannot store"
                ) from error
            raise StorageError(f"{self.where}: {_first_line(error)}", value=self.schema) from error
        except psycopg.OperationalError as error:  # most often a connection that broke
            self.purge()
            raise StorageError(f"{self.where}: {_first_line(error)}", value=self.schema) from error
        except psycopg.Error as error:
            raise StorageError(f"{self.where}: {_first_line(error)}", value=self.schema) from error
        except UnicodeEncodeError as error:
            raise InvalidInput(
                f"text holds a lone surrogate, which PostgreSQL cannot store: {error}"
            ) from error

    def no_connection(self) -> str:
        """Why the pool gave no connection: the server refuses a new one (the reason the
        pool itself only logs), opening one takes longer than `timeout`, or every
        connection of the pool is in use."""
        started = time.monotonic()
        try:
            with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=2):
                pass
        except psycopg.Error as error:
            said = _without_secrets(_first_line(error), self.conninfo)
            return f"the server refuses new connections ({said})"
        took = time.monotonic() - started
        if took >= self.timeout:
            return (
                f"opening a connection takes longer than that ({took:.3g} s just now; "
                "give a longer timeout)"
            )
        lent, size = self.lent, self.pool.max_size
        if lent < size:  # the pool is short of connections, not of free ones
            return (
                f"the pool was still opening its connections again ({lent} of {size} "
                "taken), though the server accepts one now: try again"
            )
        return (
            f"all {size} connections of the pool are in use "
            "(give a larger pool_size, or keep transactions shorter)"
        )

    def borrow(self) -> psycopg.Connection[Any]:
        """A connection of the pool, counted as lent until `give_back`."""
        self.asked(+1)
        try:
            connection = self.pool.getconn()
        finally:
            self.asked(-1)
        with self.counting:
            self.lent += 1
        return connection

    def give_back(self, connection: psycopg.Connection[Any]) -> None:
        with self.counting:
            self.lent -= 1
        self.pool.putconn(connection)

    def asked(self, change: int) -> None:
        with self.counting:
            self.asking += change

    def reconnect_failed(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        """psycopg_pool gave up opening a connection (`_RECONNECT`). While a caller waits
        for one, it starts again at once, so a server back after an outage is asked again
        within seconds; with nobody waiting, the next caller starts it."""
        if self.asking:
            with suppress(Exception):  # closed meanwhile
                pool.check()

    def purge(self) -> None:
        """After a connection broke (a server restart, an idle timeout), replace every idle
        connection of the pool that broke with it, so that one call fails, not one per
        pooled connection. Nothing is checked otherwise: a check per call costs a round trip."""
        with suppress(Exception):
            self.pool.check()
        self.cursors.forget_closed()

    def failed(self) -> StorageError:
        """A transaction whose statement failed: PostgreSQL will only roll it back."""
        return StorageError(
            f"{self.where}: a statement of this transaction failed, so PostgreSQL rolled it "
            "back; nothing was stored",
            value=self.schema,
        )

    # -- opening ------------------------------------------------------------

    def configure(self, connection: psycopg.Connection[Any]) -> None:
        """Set up each pool connection: UTC, how long a row lock is waited for, no parallel
        plans, and every statement prepared from its first use.

        Every statement of the adapter reads a few index entries; starting
        parallel workers for one (which a plan guessing at a prepared
        statement's parameters may do) costs milliseconds.

        psycopg (3.3) prepares a statement once it has run a few times (its
        `prepare_threshold`); if that happens in a pipeline that an earlier
        statement made fail, the statement was never prepared on the server,
        yet psycopg believes it was and every later use of it on that
        connection fails. A statement prepared at its first use has its answer
        checked, and is forgotten when the pipeline failed.
        """
        connection.prepare_threshold = 0
        connection.prepared_max = _PREPARED
        connection.execute(
            "SELECT set_config('TimeZone', 'UTC', false), "
            "set_config('lock_timeout', %s, false), "
            "set_config('max_parallel_workers_per_gather', '0', false)",
            (self.waits,),
        )

    def connect(self, conninfo: str) -> psycopg.Connection[Any]:
        """A connection of its own (to migrate); a `connect_timeout` the connection string
        gives bounds the wait for the server, else `timeout` does. No message shows the
        password: libpq quotes the part of a connection string it cannot parse."""
        try:
            if "connect_timeout" in psycopg.conninfo.conninfo_to_dict(conninfo):
                return psycopg.connect(conninfo, autocommit=True)
            wait = max(1, math.ceil(self.timeout))
            return psycopg.connect(conninfo, autocommit=True, connect_timeout=wait)
        except psycopg.ProgrammingError as error:
            said = _without_secrets(_first_line(error), conninfo)
            raise InvalidInput(f"not a PostgreSQL connection string: {said}") from None
        except psycopg.Error as error:
            said = _without_secrets(_first_line(error), conninfo)
            if _BAD_OPTION.search(said):  # libpq refused a value it was given
                raise InvalidInput(f"not a PostgreSQL connection string: {said}") from None
            raise StorageError(
                f"cannot connect to {self.where}: {said}", value=self.schema
            ) from None

    def migrate(self, conninfo: str, *, create: bool = True) -> None:
        """Create or upgrade the schema, once however many processes open it together.

        Refuses a schema written by a newer numinv, and one that holds tables
        but no numinv schema version (another application's); without
        `create`, one that numinv has not made (`NotFound`).
        """
        with self.connect(conninfo) as connection, self.translated():
            # A lock held elsewhere (a table locked by hand, another instance migrating)
            # is waited for as long as any other, not for ever.
            connection.execute(
                "SELECT set_config('lock_timeout', %s, false)",
                (self.waits,),
            )
            found = self.found_version(connection, locked=False)
            if found == len(_MIGRATIONS):
                self.check_seq_row(connection)
                return
            if found == 0 and not create:
                # Another application's schema is named so, not taken for an empty one (a
                # reader was told to load numbers there, and then refused).
                self.found_version(connection, locked=True)
                raise NotFound(f"{self.where} has no numinv schema {self.schema!r}")
            # A session lock taken before the transaction begins, so that the
            # transaction reads the catalog as the previous holder left it.
            key = int.from_bytes(hashlib.sha256(self.schema.encode()).digest()[:4], "big")
            lock = (_LOCK_CLASS, key - 2**31)
            connection.execute("SELECT pg_advisory_lock(%s, %s)", lock)
            try:
                with connection.transaction():
                    self.upgrade(connection, self.found_version(connection, locked=True))
            finally:
                with suppress(psycopg.Error):
                    connection.execute("SELECT pg_advisory_unlock(%s, %s)", lock)

    def check_seq_row(self, connection: psycopg.Connection[Any]) -> None:
        """Refuse a schema whose journal cannot number entries (`_SEQ_ROW_GUARD`)."""
        found = connection.execute(
            f"SELECT count(*) FROM {self.quoted}.journal_seq WHERE id = 1"
        ).fetchone()
        if found is None or found[0] != 1:
            raise StorageError(
                f"{self.where}: the journal's sequence row ({self.quoted}.journal_seq, id 1) "
                "is missing, so no change could be journaled (restore it with the last seq "
                "of the journal)",
                value=self.schema,
            )

    def found_version(self, connection: psycopg.Connection[Any], *, locked: bool) -> int:
        """The schema's version; 0 when it has none (yet: another process may be creating it)."""
        tables = [name for (name,) in connection.execute(_HELD, (self.schema,) * 3)]
        if tables != ["schema_version"]:
            if tables and locked:
                raise InvalidInput(
                    f"schema {self.schema!r} of {self.where} holds {tables[0]!r} but no numinv "
                    "schema; numinv will not write into another application's schema",
                    value=self.schema,
                )
            return 0
        columns = connection.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (f"{self.quoted}.schema_version",),
        ).fetchall()
        ours = {name for (name,) in connection.execute(_OURS, (self.schema,))}
        if columns != [("version", "integer"), ("applied_at", "timestamp with time zone")] or (
            ours != set(_OUR_TABLES)
        ):
            raise InvalidInput(
                f"schema {self.schema!r} of {self.where} has a schema_version table that is "
                "not numinv's; numinv will not write into another application's schema",
                value=self.schema,
            )
        row = connection.execute(
            f"SELECT coalesce(max(version), 0) FROM {self.quoted}.schema_version"
        ).fetchone()
        found = int(row[0]) if row else 0
        known = len(_MIGRATIONS)
        if found > known:
            raise InvalidInput(
                f"schema {self.schema!r} of {self.where} has version {found}, newer than "
                f"version {known} that this numinv knows: upgrade numinv to open it",
                value=self.schema,
            )
        return found

    def upgrade(self, connection: psycopg.Connection[Any], found: int) -> None:
        exists = connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
        ).fetchone()
        if exists is None:
            connection.execute(f"CREATE SCHEMA {self.quoted}")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.quoted}.schema_version ("
            "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version in range(found + 1, len(_MIGRATIONS) + 1):
            for statement in _MIGRATIONS[version - 1]:
                connection.execute(statement.replace("{s}", self.quoted))
            connection.execute(
                f"INSERT INTO {self.quoted}.schema_version (version) VALUES (%s)", (version,)
            )

    # -- reads ---------------------------------------------------------------

    @property
    def open(self) -> _Open | None:
        """The transaction this thread holds open, if any."""
        found: _Open | None = getattr(self.local, "open", None)
        return found

    def rows(
        self, sql: str, parameters: Sequence[Any], held: _Open | None = None
    ) -> list[tuple[Any, ...]]:
        """A query's rows: inside `held` or this thread's open transaction, else committed state.

        A read for text no record can hold (a NUL, a lone surrogate) finds
        nothing, as on the other stores.
        """
        held = held or self.open
        try:
            with self.translated():
                if held is not None:
                    return held.kept.rows(held.execute(sql, parameters))
                return self._read(sql, parameters)
        except InvalidInput:
            return []

    def _read(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        """A read on a pool connection, asked again once on another when the connection
        it got had broken meanwhile (nothing was written: a read may be asked twice)."""
        connection = self.borrow()
        try:
            return self._ask(connection, sql, parameters)
        except psycopg.OperationalError:
            if not connection.closed:
                raise
        finally:
            self.give_back(connection)
        self.purge()
        connection = self.borrow()
        try:
            return self._ask(connection, sql, parameters)
        finally:
            self.give_back(connection)

    def _ask(
        self, connection: psycopg.Connection[Any], sql: str, parameters: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        kept = self.cursors.of(connection)
        return kept.rows(kept.answer.execute(sql, parameters))

    def records(
        self, sql: str, parameters: Sequence[Any], held: _Open | None = None
    ) -> list[NumberRecord]:
        return list(map(_CODEC.record, self.rows(sql, parameters, held)))

    # -- writes ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_Open]:
        held = self.open
        if held is not None:  # joined by a nested call: the outer one commits
            yield held
            return
        with self.translated():
            connection = self.borrow()
        ends: list[Callable[[bool], None]] = []
        committed = False
        try:
            held = _Open(self.cursors.of(connection), self.sql.ahead, ends, self.waits)
            if getattr(self.local, "alone", False):
                self.local.alone = False
                held.alone(_lock_key(self.schema, "*", ""))
            self.local.open = held
            try:
                yield held
                if connection.info.transaction_status == TransactionStatus.INERROR:
                    raise self.failed()
                held.count(self.sql.add_counts)
                if held.begun or held.pending:
                    self.commit(held)
            except BaseException:
                _roll_back(connection)
                raise
            finally:
                self.local.open = None
            committed = True
        finally:
            self.give_back(connection)
            ended(ends, committed)  # a commit whose outcome is unknown counts as not made

    def commit(self, held: _Open) -> None:
        """Send the `COMMIT` (with what waits for it). A connection lost on the way leaves
        the outcome unknown, and the error says so: doing the change again blindly might
        do it twice (a second number for one consumer)."""
        try:
            with self.translated():
                held.execute("COMMIT")
        except StorageError as error:
            if not (held.connection.broken or _lost_in_flight(error.__cause__)):
                raise
            cause = _first_line(error.__cause__) if error.__cause__ else str(error)
            raise StorageError(
                f"{self.where}: the connection was lost while committing ({cause}); the "
                "change may or may not be stored: read it back before doing it again",
                value=self.schema,
            ) from error

    def alone_next(self) -> None:
        """Have the thread's next transaction take the schema's key alone from its start
        (`_Open.alone`): what a transaction refused that key past `_LOCK_BUDGET` calls
        before it runs again. It then waits for the checks under way, holding nothing."""
        self.local.alone = True

    def wait_for(self, keys: _Keys) -> None:
        """Wait, on a connection of its own, until the locks of `keys` are free, and let
        them go at once: what a transaction refused them waits for before running again."""
        wanted = _wanted(keys, set())
        pattern = tuple(exclusive for _, exclusive, _ in wanted)
        with self.translated():
            connection = self.borrow()
        try:
            with self.translated():
                connection.execute(_BEGIN)
                connection.execute(_lock_sql(pattern), [key for _, _, key in wanted])
        finally:
            _roll_back(connection)
            self.give_back(connection)

    def close(self) -> None:
        self.pool.close()
        self.cursors.clear()


def _lost_in_flight(error: BaseException | None) -> bool:
    """Whether an error leaves a `COMMIT` sent with an unknown outcome, before the
    connection shows itself broken: the driver lost the conversation (an error of its
    own, with no SQLSTATE: "cannot exit pipeline mode while busy" when the server ends
    the connection as the answers come back), or the server is going away (class 08,
    and 57 but for a cancelled statement, which never commits)."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or (state[:2] == "57" and state != "57014")


def _roll_back(connection: psycopg.Connection[Any]) -> None:
    """Roll back; a connection that cannot is closed, and the pool replaces it."""
    status = connection.info.transaction_status
    if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            connection.execute("ROLLBACK")
            return
        except psycopg.Error:
            pass
    if status != TransactionStatus.IDLE:
        with suppress(psycopg.Error):
            connection.close()


# How libpq refuses a malformed option (a port of letters, an unknown sslmode): the
# connection string is wrong, not the server unreachable.
_BAD_OPTION = re.compile(r"invalid (integer value .* for connection option|port number|\w+ value:)")


def _without_secrets(text: str, conninfo: str) -> str:
    """`text` with every password the connection string may hold written as `***`: in a
    URL's user part (as written and decoded), as a `password=` keyword or parameter."""
    found = set(re.findall(r"://[^:@/?#]*:([^@/?#]*)@", conninfo))
    found.update(re.findall(r"[?&]password=([^&#]*)", conninfo))
    # Up to the next keyword: a password with an unquoted space is two words to libpq.
    found.update(re.findall(r"\bpassword\s*=\s*(.*?)(?=\s+\w+\s*=|$)", conninfo))
    secrets = {part for value in found for part in (value, value.strip("'"), unquote(value))}
    secrets.update(word for value in found for word in value.split() if len(word) >= 4)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- reads and writes ---------------------------------------------------------------


class _Reads:
    """The read side of the protocol, over a shared `_Database`."""

    _held: _Open | None = None

    def __init__(self, database: _Database) -> None:
        self._db = database

    def _rows(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._db.rows(sql, parameters, self._held)

    def _records(self, sql: str, parameters: Sequence[Any]) -> list[NumberRecord]:
        return self._db.records(sql, parameters, self._held)

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        rows = self._rows(self._db.sql.get, (hierarchy, number))
        return _CODEC.record(rows[0]) if rows else None

    def _claiming(self, keys: _Keys, *, of: str | None = None) -> _Open | None:
        """Inside a transaction, lock what a uniqueness check reads (see `_Keys`; a check
        `of` one number whose row the transaction holds does not wait: `_Open.lock`).

        Returns the transaction when it had to take new locks: a writer it
        waited for may have made nodes its node list lacks (`_still`).
        """
        held = self._held or self._db.open
        if held is None:
            return None
        try:
            with self._db.translated():
                return held if held.lock(keys, of=of) else None
        except _Refused as refused:
            if not refused.escalating:
                raise
            raise ConcurrentUpdate(
                f"this transaction checks more than {_LOCK_BUDGET} numbers, which it does "
                "with every other check kept out, and other writers are checking theirs; "
                "try again",
                wait=self._db.alone_next,
            ) from None

    def _still(self, held: _Open | None) -> None:
        """Refuse a check that went node by node over a node list gone stale.

        The inventory checks a load node by node (`nodes(at)`, then `within`
        at each); a node another writer made meanwhile, and committed while
        this one waited for its locks, would be missed: a lost race.
        """
        if held is None or held.tree is None:
            return
        under, before = held.tree
        # Only a node made meanwhile was missed: one gone holds nothing to check, and
        # the node checked itself was read whatever the list said (a load at a node that
        # a delete emptied and the load filled again failed here, over and over).
        made = set(self.counts(under)).difference(before, [under])
        if made:
            raise ConcurrentUpdate(
                f"the nodes under {under or 'the root'} changed while this transaction read "
                "them; try again"
            )

    def holding(self, number: str) -> list[NumberRecord]:
        """Every record of the number, its check's locks taken first (`_claiming`).

        Refused them (this transaction holds the number's row, and another
        writer checks or changes it: `_Open.lock`), it reads what is committed.
        Another record of the number there makes it a duplicate whatever that
        writer does, and that is the answer. Otherwise the check cannot be made
        now: `NumberBusy` when only the number was refused (`assign_next` looks
        past it), else `ConcurrentUpdate`; either can wait for the writer.
        """
        keys = _Keys.of_number(self._db.schema, number)
        try:
            self._claiming(keys, of=number)
        except _Refused as refused:
            found = self._records(self._db.sql.holding, (number,))
            if len(found) > 1:  # its own record and another: a duplicate all the same
                return found
            wait = functools.partial(self._db.wait_for, keys)
            if refused.alone:
                raise NumberBusy(
                    f"another writer is checking or changing {number}", number=number, wait=wait
                ) from None
            raise ConcurrentUpdate(
                f"another writer is changing the numbers around {number} (a range, an "
                "import); try again",
                number=number,
                wait=wait,
            ) from None
        return self._records(self._db.sql.holding, (number,))

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        held = self._claiming(_Keys.of_range(self._db.schema, numbers))
        span = (numbers.first, numbers.last, len(numbers.first))
        if hierarchy is None:
            found = self._records(self._db.sql.within, span)
        else:
            found = self._records(self._db.sql.within_node, (hierarchy, *span))
        if hierarchy is not None:
            self._still(held)
        return found

    def scan(self, query: Query) -> list[NumberRecord]:
        return self._scan(query, lock=False)

    def _scan(self, query: Query, *, lock: bool) -> list[NumberRecord]:
        if query.status is not None and query.due_by is not None:
            gathered = self._gathered(query, query.status, query.due_by, lock=lock)
            if gathered is not None:
                return gathered
        first, past = query.prefix or "", False
        if query.after is not None and query.after >= first:
            first, past = query.after, True  # the numbers after a cursor in the prefix
        last = (query.prefix or "") + _AFTER_DIGITS
        if query.status is None:
            parameters: list[Any] = [query.hierarchy, first, last]
        else:
            status = str(query.status)
            parameters = [query.hierarchy, status, first, status, last]
        if query.due_by is not None:
            parameters.append(query.due_by)
        parameters.append(min(max(query.limit, 0), _LARGEST_LIMIT))
        sql = self._db.sql.scans[(query.status is not None, past, query.due_by is not None, lock)]
        return self._records(sql, parameters)

    def _gathered(
        self, query: Query, status: Status, due_by: datetime, *, lock: bool
    ) -> list[NumberRecord] | None:
        """A scan for due records by release date, when they are few (None: many)."""
        sql = self._db.sql
        due = [query.hierarchy, str(status), due_by]
        ((count,),) = self._rows(sql.due_count, due)
        if count > _GATHERED:
            return None
        if count == 0:
            return []
        parameters: list[Any] = [*due, str(status), due_by]
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        parameters.append(min(max(query.limit, 0), _LARGEST_LIMIT))
        gather = sql.gathers[(query.prefix is not None, query.after is not None, lock)]
        return self._records(gather, parameters)

    def nodes(self, under: str | None = None) -> list[str]:
        return list(self.counts(under))

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        return self._records(self._db.sql.due, (now, min(max(limit, 0), _LARGEST_LIMIT)))

    def next_release(self) -> datetime | None:
        held = self._held or self._db.open
        if held is not None and held.earliest is not None:
            rows = held.earliest
        else:
            rows = self._rows(self._db.sql.next_release, ())
        return rows[0][0].astimezone(UTC) if rows else None

    def with_e164(self, e164: str) -> list[NumberRecord]:
        self._claiming(_Keys.of_e164(self._db.schema, e164))
        return self._records(self._db.sql.with_e164, (e164,))

    def held_by(self, who: str) -> list[NumberRecord]:
        return self._records(self._db.sql.held_by, (who,))

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        held = self._held or self._db.open
        if held is not None:
            held.count(self._db.sql.add_counts)
        sql = self._db.sql
        if under is None:
            rows = self._rows(sql.all_node_counts, ())
        else:
            rows = self._rows(sql.node_counts, (under, under + "/"))
        found: dict[str, dict[Status, int]] = {}
        for hierarchy, status, total in rows:
            if under is None or is_at_or_below(hierarchy, under):
                statuses = found.get(hierarchy)
                if statuses is None:
                    statuses = found[hierarchy] = dict.fromkeys(Status, 0)
                statuses[Status(status)] = int(total)
        if held is not None:
            held.tree = (under, tuple(found))
        return found

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        if nodes is None:
            rows = self._rows(self._db.sql.all_settings, ())
        else:
            wanted = list(nodes)
            if not wanted:
                return {}
            rows = self._rows(*self._db.sql.some_settings([(node,) for node in wanted]))
        return {
            hierarchy: NodeSettings(**dict(zip(_SETTINGS_FIELDS, settings, strict=True)))
            for hierarchy, *settings in rows
        }

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        rows = self._rows(
            self._db.sql.retired, (hierarchy, numbers.first, numbers.last, len(numbers.first))
        )
        return {number: int(version) for number, version in rows}

    def _kept_journal_first(self) -> None:
        """Inside a transaction, the entries kept for its commit (of calls that joined a
        host's transaction) go before a read of the journal, so that it sees them, as on
        the other stores; the sequence row is then this transaction's until it ends."""
        held = self._held or self._db.open
        if held is not None and held.closing:
            _PostgresTransaction(self._db, held)._closed()

    def changes(self, after: int, limit: int) -> list[Change]:
        if limit <= 0:
            return []
        self._kept_journal_first()
        sql = self._db.sql
        found: list[Change] = []
        rows = self._rows(sql.entry_at, (after,)) if after > 0 else []
        rows += self._rows(sql.entries_after, (after, min(limit, _LARGEST_LIMIT)))
        for row in rows:
            if len(found) >= limit:
                break
            seq, entry = _entry_of(row)
            if seq + entry.span - 1 <= after:
                continue
            first = max(after + 1 - seq, 0)
            found += expand(seq, entry, first=first, last=first + limit - len(found) - 1)
        return found

    def history(self, number: str) -> list[Change]:
        self._kept_journal_first()
        rows = self._rows(
            self._db.sql.history, (number, block_of(number), number, number, len(number))
        )
        found: list[Change] = []
        for row in rows:
            seq, entry = _entry_of(row)
            if entry.numbers is None:
                found += expand(seq, entry)
            else:
                offset = int(number[len(entry.numbers.plus) :]) - entry.numbers.start
                found += expand(seq, entry, first=offset, last=offset)
        return found


class _PostgresTransaction(_Reads):
    """Compare-and-set writes inside the open PostgreSQL transaction."""

    joined = False  # `AtEnd`: set on one opened inside another

    def at_end(self, callback: Callable[[bool], None]) -> None:
        self._open.ends.append(callback)

    def __init__(self, database: _Database, held: _Open) -> None:
        super().__init__(database)
        self._held = held

    @property
    def _open(self) -> _Open:
        assert self._held is not None
        return self._held

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        """At one node, the records with their rows locked until the end, in number order,
        as `get` locks one: a range operation reads them to change them. Read unlocked, a
        range lost its compare-and-set to any single-number writer of one of its numbers
        (`update_range` of twenty numbers beside `update`s of them failed 99 times in 100).
        Across every node (a uniqueness check) nothing is locked."""
        if hierarchy is None:
            return super().within(numbers)
        held = self._claiming(_Keys.of_range(self._db.schema, numbers))
        span = (numbers.first, numbers.last, len(numbers.first))
        found = self._records(self._db.sql.within_node_locked, (hierarchy, *span))
        self._still(held)
        self._open.hold(found)
        return found

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        """The record, its row locked until the end: the transaction reads it to change it.

        Without the lock two writers of one number both read the same version
        and one loses its compare-and-set; with it the second waits for the
        first to commit and reads what it wrote, as on a store with one writer.
        """
        rows = self._rows(self._db.sql.get_locked, (hierarchy, number))
        if not rows:
            return None
        record = _CODEC.record(rows[0])
        self._open.hold((record,))
        return record

    def _execute(
        self, sql: str, parameters: Sequence[Any] = (), **taken: str
    ) -> psycopg.Cursor[Any]:
        with self._db.translated(**taken):
            return self._open.execute(sql, parameters)

    def _copy(self, sql: str, lines: Iterable[str], *, taken: str | None = None) -> None:
        """Send lines of COPY text, in chunks."""
        with self._db.translated():
            self._open.execute(None)  # BEGIN and what is waiting go first
        with (
            self._db.translated(taken=taken),
            self._open.connection.cursor() as cursor,
            cursor.copy(sql) as copy,
        ):
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 4096:
                    copy.write("".join(chunk))
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk))

    # -- each write call all or nothing ---------------------------------------------

    @contextmanager
    def _whole(self, many: bool) -> Iterator[None]:
        """One write call of many rows, all or nothing: a refusal part way (a lost
        compare-and-set) takes back what the call wrote, under a savepoint."""
        if not many:  # one statement is all or nothing by itself
            yield
            return
        held = self._open
        counts = Counter(held.counts)
        self._execute("SAVEPOINT numinv_call")  # sends what waits first
        try:
            yield
        except ConcurrentUpdate:
            held.pending.clear()
            held.counts = counts
            held.mine.clear()  # what the call locked and wrote goes with the savepoint
            held.held_numbers.clear()
            self._execute("ROLLBACK TO SAVEPOINT numinv_call")
            raise
        held.later("RELEASE SAVEPOINT numinv_call", ())

    def insert(self, records: Iterable[NumberRecord]) -> None:
        batch = list(records)
        with self._whole(len(batch) > 1):
            self._insert(batch)
        self._open.earliest = None

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        batch = list(changes)
        with self._whole(len(batch) > 1):
            self._replace(batch)
        self._open.earliest = None

    def delete(self, records: Iterable[NumberRecord]) -> None:
        batch = list(records)
        with self._whole(len(batch) > 1):
            self._delete(batch)
        self._open.earliest = None

    # -- insert ------------------------------------------------------------------

    def _insert(self, records: Iterable[NumberRecord]) -> None:
        self._open.tree = None  # a write may change the node list
        written: list[NumberRecord] = []
        for record in records:
            refuse_unkeepable(record)
            written.append(record)
        if not written:
            return
        sql = self._db.sql
        if len(written) == 1:
            (record,) = written
            cursor = self._execute(sql.insert_one, _CODEC.row(record))
            if cursor.rowcount != 1:
                raise _added(record)
        elif len(written) < _COPY_AT:
            rows = [_CODEC.row(record) for record in written]
            cursor = self._execute(sql.insert_many, _columns(rows, len(COLUMNS)))
            stored = Counter(self._open.kept.rows(cursor))
            for record in written:
                if stored[record.key] <= 0:
                    raise _added(record)
                stored[record.key] -= 1
        else:
            self._copy_records(written)
        self._indexed(written)

    def _copy_records(self, records: list[NumberRecord]) -> None:
        """Load many records by COPY, after refusing keys that are taken."""
        seen: set[tuple[str, str]] = set()
        for record in records:
            if record.key in seen:
                raise _added(record)
            seen.add(record.key)
        taken = self._rows(
            self._db.sql.taken_keys,
            ([record.number for record in records], [record.hierarchy for record in records]),
        )
        if taken:
            number, hierarchy = taken[0]
            raise _added(NumberRecord(number, hierarchy))
        self._copy(
            self._db.sql.copy_records,
            (_copy_line(_CODEC.row(record)) for record in records),
            taken="a record of this batch",
        )

    def _indexed(self, records: list[NumberRecord]) -> None:
        """Count stored records and index their E.164 numbers and holders."""
        counts = self._open.counts
        associations: list[tuple[str, str, str]] = []
        holders: list[tuple[str, str, str]] = []
        for record in records:
            counts[(record.hierarchy, str(record.status))] += 1
            associations += [(e164, *record.key) for e164 in record.e164]
            holders += [(name, *record.key) for name in record.holders]
        if associations:
            self._open.later(*self._db.sql.associate(associations))
        if holders:
            self._open.later(*self._db.sql.hold(holders))

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        self._open.tree = None  # a write may change the node list
        refuse_unkeepable(template)
        sql = self._db.sql
        hierarchy = template.hierarchy
        span = (numbers.first, numbers.last, len(numbers.first))
        taken = self._rows(sql.taken, (hierarchy, *span))
        if taken:
            raise _added(NumberRecord(taken[0][0], hierarchy))
        # The rows straight from the template: its columns after the number, once.
        tail = "\t" + _copy_line(_CODEC.row(template)[1:])
        self._copy(
            sql.copy_records,
            (number + tail for number in numbers),
            taken=f"a number of {numbers} at {hierarchy}",
        )
        self._open.counts[(hierarchy, str(template.status))] += len(numbers)
        if template.e164:
            rows = [(e164, number, hierarchy) for number in numbers for e164 in template.e164]
            self._open.later(*sql.associate(rows))
        names = sorted(template.holders)
        if names:
            rows = [(name, number, hierarchy) for number in numbers for name in names]
            self._open.later(*sql.hold(rows))
        self._open.earliest = None

    # -- replace and delete ----------------------------------------------------------

    def _replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        pairs = list(changes)
        for old, new in pairs:
            same_key(old, new)
            refuse_unkeepable(new)
        if not pairs:
            return
        if len(pairs) == 1 or len({old.key for old, _ in pairs}) < len(pairs):
            # One at a time, in order: a record may be replaced twice in one batch.
            mine = self._open.mine
            for old, new in pairs:
                values = (*_CODEC.row(new)[2:], old.hierarchy, old.number, old.version)
                indexes = self._reindexed([(old, new)])
                if mine.get(old.key) == old.version:  # locked at that version: it matches
                    self._open.later(*self._db.sql.held_with(values, indexes))
                else:
                    cursor = self._execute(self._db.sql.update_one, values)
                    if cursor.rowcount != 1:
                        raise self._stale(old)
                    for statement in indexes:
                        self._open.later(*statement)
                mine[old.key] = new.version
            return
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start : start + _CHUNK]
            rows = [[*_CODEC.row(new), old.version] for old, new in chunk]
            cursor = self._execute(self._db.sql.update_many, _columns(rows, len(COLUMNS) + 1))
            stored = set(self._open.kept.rows(cursor))
            for old, _ in chunk:
                if old.key not in stored:
                    raise self._stale(old)
            for statement in self._reindexed(chunk):
                self._open.later(*statement)

    def _reindexed(
        self, pairs: list[tuple[NumberRecord, NumberRecord]]
    ) -> list[tuple[str, list[Any]]]:
        """Follow replaced records in the counts; the statements that follow them in the
        E.164 and the holders indexes."""
        counts = self._open.counts
        gone_e164: list[tuple[str, str, str]] = []
        new_e164: list[tuple[str, str, str]] = []
        gone_names: list[tuple[str, str, str]] = []
        new_names: list[tuple[str, str, str]] = []
        for old, new in pairs:
            if old.status != new.status:
                counts[(old.hierarchy, str(old.status))] -= 1
                counts[(new.hierarchy, str(new.status))] += 1
            if old.e164 != new.e164:
                gone_e164 += [(e, *old.key) for e in old.e164 if e not in new.e164]
                new_e164 += [(e, *old.key) for e in new.e164 if e not in old.e164]
            if old.uses != new.uses or old.reserved_for != new.reserved_for:
                before, after = old.holders, new.holders
                gone_names += [(name, *old.key) for name in before - after]
                new_names += [(name, *old.key) for name in after - before]
        sql = self._db.sql
        return [
            statement(rows)
            for statement, rows in (
                (sql.dissociate, gone_e164),
                (sql.associate, new_e164),
                (sql.unhold, gone_names),
                (sql.hold, new_names),
            )
            if rows
        ]

    def _delete(self, records: Iterable[NumberRecord]) -> None:
        self._open.tree = None  # a write may change the node list
        doomed = list(records)
        if not doomed:
            return
        sql = self._db.sql
        if len(doomed) == 1:
            (record,) = doomed
            cursor = self._execute(
                sql.delete_one, (record.hierarchy, record.number, record.version)
            )
            if cursor.rowcount != 1:
                raise self._stale(record)
        else:
            for start in range(0, len(doomed), _CHUNK):
                chunk = doomed[start : start + _CHUNK]
                cursor = self._execute(
                    sql.delete_many,
                    (
                        [record.number for record in chunk],
                        [record.hierarchy for record in chunk],
                        [record.version for record in chunk],
                    ),
                )
                stored = Counter(self._open.kept.rows(cursor))
                for record in chunk:
                    if stored[record.key] <= 0:
                        raise self._stale(record)
                    stored[record.key] -= 1
        counts = self._open.counts
        associations: list[tuple[str, str, str]] = []
        holders: list[tuple[str, str, str]] = []
        for record in doomed:
            self._open.mine.pop(record.key, None)
            counts[(record.hierarchy, str(record.status))] -= 1
            associations += [(e164, *record.key) for e164 in record.e164]
            holders += [(name, *record.key) for name in record.holders]
        self._open.later(
            *sql.retire([(record.hierarchy, record.number, record.version) for record in doomed])
        )
        if associations:
            self._open.later(*sql.dissociate(associations))
        if holders:
            self._open.later(*sql.unhold(holders))

    def _stale(self, record: NumberRecord) -> ConcurrentUpdate:
        stored = self._rows(self._db.sql.version_of, (record.hierarchy, record.number))
        found = f"at version {stored[0][0]}" if stored else "gone"
        return ConcurrentUpdate(
            f"{record.number} at {record.hierarchy} changed under us: expected version "
            f"{record.version}, found {found}",
            number=record.number,
            hierarchy=record.hierarchy,
        )

    # -- claim, settings, journal ----------------------------------------------------------

    def claim(self, query: Query) -> list[NumberRecord]:
        claimed = self._scan(query, lock=True)
        self._open.hold(claimed)
        return claimed

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        """Read once per settings version and process: nearly every call asks, and settings
        seldom change. The version, read with `BEGIN`, is raised by every change of the
        settings in the same commit (a trigger), so settings kept at the version this
        transaction began with are those it would read, or newer."""
        held = self._open
        if not held.begun and not held.pending:  # the first statement: `BEGIN` reads it
            with self._db.translated():
                held.execute(None)
        version = held.settings_version
        if version is None or nodes is None:
            return super().node_settings(nodes)
        wanted = tuple(nodes)
        kept, found = self._db.settings
        if kept == version and (settings := found.get(wanted)) is not None:
            return dict(settings)
        settings = super().node_settings(wanted)
        if kept != version:
            found = {}
            self._db.settings = (version, found)
        if len(found) < _SETTINGS_KEPT:
            found[wanted] = settings
        return dict(settings)

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        self._open.settings_version = None  # its own reads see what it sets
        keepable(hierarchy, "the node")
        if settings is None or settings.empty:
            self._open.later(self._db.sql.unconfigure, (hierarchy,))
            return
        values = [getattr(settings, name) for name in _SETTINGS_FIELDS]
        self._open.later(self._db.sql.configure, (hierarchy, *values))

    def journal(self, entries: Sequence[Entry]) -> int:
        _refuse_entries(entries)
        first = self._write_kept(entries, answer=True)
        assert first is not None
        return first

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """Kept until the commit and sent with it: the seq row is locked only while the
        server commits, not while an answer travels back and the commit travels out, nor
        while a host's transaction that the calls joined goes on."""
        _refuse_entries(entries)  # refused now, while the caller can still hear of it
        self._open.closing += entries

    def journal_at_commit_numbered(
        self, entries: Sequence[Entry], numbered: Callable[[int], None]
    ) -> None:
        """`journal_at_commit`, and `numbered(first seq)` once the entries have their seqs:
        at the commit, before it is sent, while the sequence row is this transaction's
        (a call that joined a host's transaction, whose events need the seqs)."""
        _refuse_entries(entries)
        held = self._open
        held.numbering.append((sum(entry.span for entry in held.closing), numbered))
        held.closing += entries

    def _closed(self) -> None:
        """At the commit: queue the journal kept for it, to go with the `COMMIT` (or send
        it first, when somebody waits to learn its seqs)."""
        self._write_kept((), answer=False)

    def _write_kept(self, entries: Sequence[Entry], *, answer: bool) -> int | None:
        """Write the entries kept for the commit, then `entries`: every entry is numbered
        in the order it was given (earlier calls of a host's transaction first). The
        first seq of `entries`, when asked (`answer`) or when somebody waits for seqs."""
        held = self._open
        kept, numbering = held.closing, held.numbering
        if not kept:
            return self._journal(entries, answer=answer) if entries or answer else None
        held.closing, held.numbering = [], []
        first = self._journal([*kept, *entries], answer=answer or bool(numbering))
        if first is None:
            return None
        for offset, numbered in numbering:
            numbered(first + offset)
        return first + sum(entry.span for entry in kept)

    def _journal(self, entries: Sequence[Entry], *, answer: bool) -> int | None:
        """Write the entries; their first seq, or None when it is not asked (`answer`)
        and the statement waits to go with the next (the `COMMIT`)."""
        db, held = self._db, self._open
        total = sum(entry.span for entry in entries)
        # Counts first, then the sequence row: every writer locks them in that order.
        lines: list[tuple[Any, ...]] = []
        offset = 1
        for entry in entries:
            lines += _entry_rows(offset, entry)
            offset += entry.span
        if 0 < len(lines) < _COPY_AT:
            sql, parameters = db.sql.write_journal(lines, total, total)
            if counted := held.counted(db.sql.add_counts):
                sql, parameters = db.sql.after_counts(counted, sql, parameters)
            if not answer:
                held.later(sql, parameters)
                return None
            ((last,),) = self._execute(sql, parameters).fetchall()
            return int(last) - total + 1
        held.count(db.sql.add_counts)
        if total == 0:
            rows = self._rows(db.sql.last_seq, ())
            if not rows:
                raise StorageError(
                    f"{db.where}: the journal's sequence row ({db.quoted}.journal_seq, id 1) "
                    "is missing",
                    value=db.schema,
                )
            return int(rows[0][0]) + 1
        ((last,),) = self._execute(db.sql.take_seqs, (total,)).fetchall()
        base = int(last) - total
        self._copy(db.sql.copy_journal, (_copy_line((base + line[0], *line[1:])) for line in lines))
        return base + 1


def _refuse_entries(entries: Sequence[Entry]) -> None:
    for entry in entries:
        keepable(entry.operation, "the operation")
        if entry.actor is not None:
            keepable(entry.actor, "the actor")


def _added(record: NumberRecord) -> ConcurrentUpdate:
    return ConcurrentUpdate(
        f"{record.number} at {record.hierarchy} was added by another writer",
        number=record.number,
        hierarchy=record.hierarchy,
    )


class PostgresRepository(_Reads):
    """A repository in a PostgreSQL schema, shared by threads, processes and service instances.

    Args:
        conninfo: a libpq connection string or URL
            (`"postgresql://numinv@db.example/telephony"`).
        schema: the schema holding numinv's tables; created and migrated on
            first open (the role needs CREATE on the database, or on an
            existing empty schema).
        pool_size: the most connections this repository opens at once; one
            is held by each open transaction and, briefly, by each read.
        timeout: seconds to wait for a free pool connection (and to connect)
            before `StorageError`.
        lock_timeout: seconds a statement waits for a row lock another
            transaction holds before `StorageError` (default: `timeout`).
        create: False to open only a schema numinv has made (a reader that
            should not make an empty inventory of a mistyped name).

    Raises:
        InvalidInput: the schema name is not a name, or the schema belongs to
            another application or to a newer numinv.
        NotFound: `create` is False and numinv has not made the schema.
        StorageError: the server cannot be reached.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "numinv",
        pool_size: int = 10,
        timeout: float = 30.0,
        lock_timeout: float | None = None,
        create: bool = True,
    ) -> None:
        if not isinstance(conninfo, str):
            raise InvalidInput(f"conninfo must be a connection string, not {conninfo!r}")
        keepable(conninfo, "the connection string")
        if (
            isinstance(pool_size, bool)
            or not isinstance(pool_size, int)
            or not 1 <= pool_size <= 1000
        ):
            raise InvalidInput(
                f"pool_size must be a whole number from 1 to 1000, not {pool_size!r}",
                value=pool_size,
            )
        for name, seconds in (("timeout", timeout), ("lock_timeout", lock_timeout)):
            if seconds is None and name == "lock_timeout":
                continue
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
                or not 0 < seconds <= 86_400
            ):
                raise InvalidInput(
                    f"{name} must be seconds above 0 and at most 86400, not {seconds!r}",
                    value=seconds,
                )
        if not isinstance(create, bool):
            raise InvalidInput(f"create must be True or False, not {create!r}", value=create)
        waits = float(timeout if lock_timeout is None else lock_timeout)
        database = _Database(conninfo, schema, pool_size, float(timeout), waits, create=create)
        super().__init__(database)

    @property
    def schema(self) -> str:
        return self._db.schema

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTransaction]:
        outermost = self._db.open is None  # a nested one joins it, and does not commit
        with self._db.transaction() as held:
            tx = _PostgresTransaction(self._db, held)
            tx.joined = not outermost
            yield tx
            if outermost:
                tx._closed()

    def prune(self, before: datetime) -> int:
        with self.transaction() as tx:
            ((count,),) = tx._execute(self._db.sql.prune, (before, before)).fetchall()
        return int(count)

    def close(self) -> None:
        """Close the pool's connections; the repository cannot be used afterwards."""
        self._db.close()

    def __enter__(self) -> PostgresRepository:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresRepository({self._db.where!r}, schema={self._db.schema!r})"
