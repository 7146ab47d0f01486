"""`SqliteRepository`: the repository on the standard library's `sqlite3`, a file or `:memory:`.

Layout (docs/storage.md): one `records` table with a column per
`NumberRecord` field, keyed by (hierarchy, number); an `e164` table of
(E.164, number, hierarchy) associations; a `nodes` table of per-node,
per-status counts; and `schema_version`, the migrations applied. Every read
of the protocol is answered by an index; the adapter keeps `e164` and
`nodes` in step inside each transaction (no triggers).

One connection per repository, guarded by one re-entrant lock held for every
read and for the whole of a transaction, so threads may share a repository.
Several processes may share a file: writers take SQLite's write lock up
front (`BEGIN IMMEDIATE`) and wait for it up to `timeout` seconds.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import repeat
from types import TracebackType
from typing import Any, Final

from numinv.core.hierarchy import is_at_or_below
from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord, ServiceType, Status, Usage, Use
from numinv.errors import ConcurrentUpdate, InvalidInput, NumInvError, StorageError
from numinv.storage.protocol import Query

__all__ = ["SCHEMA_VERSION", "SqliteRepository"]


# -- schema ---------------------------------------------------------------------

# Each migration is frozen once released: a later schema is a new entry, never
# an edit, so every file moves through the same steps.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """
        CREATE TABLE records (
            number TEXT NOT NULL,
            hierarchy TEXT NOT NULL,
            status TEXT NOT NULL,
            usage TEXT NOT NULL,
            uses TEXT NOT NULL,
            vendor TEXT NOT NULL,
            internal_number_type TEXT NOT NULL,
            release_date TEXT,
            reserved_for TEXT,
            e164 TEXT NOT NULL,
            primary_e164 TEXT,
            tag TEXT NOT NULL,
            description TEXT NOT NULL,
            reservation_notes TEXT NOT NULL,
            extra1 TEXT NOT NULL,
            extra2 TEXT NOT NULL,
            extra3 TEXT NOT NULL,
            extra4 TEXT NOT NULL,
            extra5 TEXT NOT NULL,
            extra6 TEXT NOT NULL,
            extra7 TEXT NOT NULL,
            extra8 TEXT NOT NULL,
            extra9 TEXT NOT NULL,
            admin_vendor TEXT NOT NULL,
            service_type TEXT,
            cooling_use TEXT,
            tag_before_cooling TEXT,
            version INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, number)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX records_by_number ON records (number)",
        "CREATE INDEX records_by_status ON records (hierarchy, status, number)",
        """
        CREATE INDEX records_by_release_date ON records (release_date, number, hierarchy)
        WHERE release_date IS NOT NULL
        """,
        """
        CREATE TABLE e164 (
            e164 TEXT NOT NULL,
            number TEXT NOT NULL,
            hierarchy TEXT NOT NULL,
            PRIMARY KEY (e164, number, hierarchy)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE nodes (
            hierarchy TEXT NOT NULL,
            status TEXT NOT NULL,
            total INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, status)
        ) WITHOUT ROWID
        """,
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
_HAS_VERSIONS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"

_COLUMNS = (
    "number, hierarchy, status, usage, uses, vendor, internal_number_type, release_date, "
    "reserved_for, e164, primary_e164, tag, description, reservation_notes, extra1, extra2, "
    "extra3, extra4, extra5, extra6, extra7, extra8, extra9, admin_vendor, service_type, "
    "cooling_use, tag_before_cooling, version"
)
_SELECT = f"SELECT {_COLUMNS} FROM records"
_INSERT = f"INSERT INTO records ({_COLUMNS}) VALUES ({', '.join('?' * 28)})"
_UPDATE = (
    "UPDATE records SET "
    + ", ".join(f"{name} = ?" for name in _COLUMNS.split(", ")[2:])
    + " WHERE number = ? AND hierarchy = ? AND version = ?"
)
_DELETE = "DELETE FROM records WHERE number = ? AND hierarchy = ? AND version = ?"
_VERSION_OF = "SELECT version FROM records WHERE hierarchy = ? AND number = ?"

_GET = f"{_SELECT} WHERE hierarchy = ? AND number = ?"
_HOLDING = f"{_SELECT} WHERE number = ? ORDER BY hierarchy"
# Text order of numbers of one width and `+` prefix is their numeric order;
# the length test drops numbers of other widths that sort in between.
_WITHIN = (
    f"{_SELECT} WHERE number BETWEEN ? AND ? AND length(number) = ? ORDER BY number, hierarchy"
)
_WITHIN_NODE = (
    f"{_SELECT} WHERE hierarchy = ? AND number BETWEEN ? AND ? AND length(number) = ? "
    "ORDER BY number"
)
_TAKEN = (
    "SELECT number FROM records "
    "WHERE hierarchy = ? AND number BETWEEN ? AND ? AND length(number) = ? LIMIT 1"
)
_DUE = f"{_SELECT} WHERE release_date <= ? ORDER BY release_date, number, hierarchy LIMIT ?"
_WITH_E164 = (
    f"SELECT {', '.join('r.' + name for name in _COLUMNS.split(', '))} "
    "FROM e164 AS a JOIN records AS r ON r.hierarchy = a.hierarchy AND r.number = a.number "
    "WHERE a.e164 = ? ORDER BY r.number, r.hierarchy"
)
# Every path at or below `p` lies in [p, p + "/"): "/" follows "." in text order.
_NODE_COUNTS = (
    "SELECT hierarchy, status, total FROM nodes WHERE hierarchy >= ? AND hierarchy < ? "
    "AND total > 0 ORDER BY hierarchy"
)
_ALL_NODE_COUNTS = "SELECT hierarchy, status, total FROM nodes WHERE total > 0 ORDER BY hierarchy"
_ADD_COUNT = "UPDATE nodes SET total = total + ? WHERE hierarchy = ? AND status = ?"
_NEW_COUNT = "INSERT INTO nodes (total, hierarchy, status) VALUES (?, ?, ?)"
_DROP_COUNT = "DELETE FROM nodes WHERE hierarchy = ? AND status = ? AND total = 0"
_ASSOCIATE = "INSERT OR IGNORE INTO e164 (e164, number, hierarchy) VALUES (?, ?, ?)"
_DISSOCIATE = "DELETE FROM e164 WHERE e164 = ? AND number = ? AND hierarchy = ?"

# Numbers hold only '+' and digits, which all sort below ':'.
_AFTER_DIGITS = ":"


@functools.cache
def _scan_sql(status: bool, prefix: bool, after: bool) -> str:
    """The page query of `scan` for the filters given."""
    where = ["hierarchy = ?"]
    if status:
        where.append("status = ?")
    if prefix:
        where.append("number >= ? AND number < ?")
    if after:
        where.append("number > ?")
    # Name the index: a planner left to guess may walk a node's every number
    # in key order and filter on status, slower the fuller the node.
    source = "records INDEXED BY records_by_status" if status else "records"
    return f"SELECT {_COLUMNS} FROM {source} WHERE {' AND '.join(where)} ORDER BY number LIMIT ?"


# -- rows <-> records -------------------------------------------------------------

_STATUSES: Final = {status.value: status for status in Status}
_SERVICE_TYPES: Final = {service_type.value: service_type for service_type in ServiceType}
_NO_LIST = "[]"


def _time_text(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds: fixed width, so text order is time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(
            f"{value!r} has no time zone; numinv stores aware datetimes", value=value
        )
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=4096)
def _list_text(values: tuple[str, ...]) -> str:
    return json.dumps(values) if values else _NO_LIST


@functools.lru_cache(maxsize=4096)
def _usage_of(text: str) -> tuple[Usage, ...]:
    return tuple(map(Usage, json.loads(text))) if text != _NO_LIST else ()


@functools.lru_cache(maxsize=4096)
def _e164_of(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text != _NO_LIST else ()


# A use is stored as the JSON object `converter.unstructure` makes of it, keys
# sorted. It is written and read here by hand because cattrs costs more than
# the rest of a row; a test holds the two forms equal.
_USAGES: Final = {usage.value: usage for usage in Usage}


def _use_data(use: Use) -> dict[str, str]:
    return {
        "consumer_id": use.consumer_id,
        "hierarchy": use.hierarchy,
        "kind": use.kind,
        "status": use.status.value,
        "usage": use.usage.value,
        "vendor": use.vendor,
    }


def _use_from(data: dict[str, str]) -> Use:
    return Use(
        kind=data["kind"],
        consumer_id=data["consumer_id"],
        usage=_USAGES[data["usage"]],
        vendor=data["vendor"],
        status=_STATUSES[data["status"]],
        hierarchy=data["hierarchy"],
    )


@functools.lru_cache(maxsize=4096)
def _uses_text(uses: tuple[Use, ...]) -> str:
    return json.dumps([_use_data(use) for use in uses]) if uses else _NO_LIST


@functools.lru_cache(maxsize=4096)
def _uses_of(text: str) -> tuple[Use, ...]:
    return tuple(map(_use_from, json.loads(text))) if text != _NO_LIST else ()


def _use_text(use: Use | None) -> str | None:
    return None if use is None else json.dumps(_use_data(use))


def _use_of(text: str) -> Use:
    return _use_from(json.loads(text))


def _to_row(r: NumberRecord) -> tuple[Any, ...]:
    """The record as the values of `_COLUMNS`, which are its fields in their order."""
    return (
        r.number,
        r.hierarchy,
        str(r.status),
        _list_text(r.usage),
        _uses_text(r.uses),
        r.vendor,
        r.internal_number_type,
        _time_text(r.release_date),
        r.reserved_for,
        _list_text(r.e164),
        r.primary_e164,
        r.tag,
        r.description,
        r.reservation_notes,
        r.extra1,
        r.extra2,
        r.extra3,
        r.extra4,
        r.extra5,
        r.extra6,
        r.extra7,
        r.extra8,
        r.extra9,
        r.admin_vendor,
        None if r.service_type is None else str(r.service_type),
        _use_text(r.cooling_use),
        r.tag_before_cooling,
        r.version,
    )


def _from_row(row: tuple[Any, ...]) -> NumberRecord:
    """The record a row of `_COLUMNS` holds; only the JSON columns go through cattrs."""
    values = list(row)
    values[2] = _STATUSES[values[2]]
    values[3] = _usage_of(values[3])
    values[4] = _uses_of(values[4])
    if values[7] is not None:
        values[7] = datetime.fromisoformat(values[7])
    values[9] = _e164_of(values[9])
    if values[24] is not None:
        values[24] = _SERVICE_TYPES[values[24]]
    if values[25] is not None:
        values[25] = _use_of(values[25])
    return NumberRecord(*values)


# -- the connection ---------------------------------------------------------------


class _Database:
    """The connection, its lock, and the open transaction's unwritten node counts."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.lock = threading.RLock()
        self.in_transaction = False
        # (hierarchy, status) -> change of its count, written once per transaction.
        self.counts: Counter[tuple[str, Status]] = Counter()
        try:
            self.connection = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise self.open_error(error) from error
        try:
            self.configure()
            self.migrate()
        except BaseException:
            self.connection.close()
            raise

    def configure(self) -> None:
        try:
            execute = self.connection.execute
            execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if self.path not in ("", ":memory:"):
                execute("PRAGMA journal_mode = WAL")
            # FULL: a committed assignment survives a power cut, not only a crash.
            execute("PRAGMA synchronous = FULL")
            # 32 MiB of pages: a large load keeps its index pages in memory until commit.
            execute("PRAGMA cache_size = -32768")
        except sqlite3.Error as error:
            raise self.open_error(error) from error

    def migrate(self) -> None:
        """Create or upgrade the schema; refuse a file written by a newer numinv."""
        try:
            if self.schema_version() == SCHEMA_VERSION:
                return
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                self.upgrade(self.schema_version())
                self.connection.execute("COMMIT")
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise self.open_error(error) from error

    def schema_version(self) -> int:
        execute = self.connection.execute
        if not execute(_HAS_VERSIONS).fetchone():
            return 0
        (found,) = execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        if found > SCHEMA_VERSION:
            raise InvalidInput(
                f"{self.path!r} has schema version {found}, newer than version "
                f"{SCHEMA_VERSION} that this numinv knows: upgrade numinv to open it",
                value=self.path,
            )
        return int(found)

    def upgrade(self, found: int) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version - 1]:
                self.connection.execute(statement)
            self.connection.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now)
            )

    def open_error(self, error: sqlite3.Error) -> NumInvError:
        if _is_busy(error):
            return self.error(error)
        return InvalidInput(
            f"cannot open {self.path!r} as a numinv database: {error}", value=self.path
        )

    def error(self, error: sqlite3.Error) -> NumInvError:
        """A driver error as the `NumInvError` a caller can act on."""
        if _is_busy(error):
            return StorageError(
                f"{self.path!r} is locked by another writer; gave up after {self.timeout:g} s",
                value=self.path,
            )
        if isinstance(error, sqlite3.ProgrammingError) and "closed" in str(error):
            return StorageError(f"{self.path!r} is closed", value=self.path)
        return StorageError(f"{self.path!r}: {error}", value=self.path)

    def rows(
        self, sql: str, parameters: tuple[Any, ...], *, counted: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows of a query; `counted` first writes the open transaction's counts."""
        with self.lock:
            try:
                if counted:
                    self.write_counts()
                return self.connection.execute(sql, parameters).fetchall()
            except sqlite3.Error as error:
                raise self.error(error) from error

    def records(self, sql: str, parameters: tuple[Any, ...]) -> list[NumberRecord]:
        return list(map(_from_row, self.rows(sql, parameters)))

    def write_counts(self) -> None:
        """Write the transaction's count changes: at commit, or before counts are read."""
        if not self.counts:
            return
        execute = self.connection.execute
        for (hierarchy, status), change in self.counts.items():
            if not change:
                continue
            key = (hierarchy, str(status))
            if execute(_ADD_COUNT, (change, *key)).rowcount == 0:
                execute(_NEW_COUNT, (change, *key))
            elif change < 0:
                execute(_DROP_COUNT, key)
        self.counts.clear()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            if self.in_transaction:  # joined by a nested call: the outer one commits
                yield
                return
            self.begin()
            self.in_transaction = True
            try:
                yield
                self.commit()
            except BaseException:
                self.rollback()
                raise
            finally:
                self.in_transaction = False
                self.counts.clear()

    def begin(self) -> None:
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self.error(error) from error

    def commit(self) -> None:
        try:
            self.write_counts()
            self.connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise self.error(error) from error

    def rollback(self) -> None:
        if self.connection.in_transaction:
            # The error that made us roll back is the one the caller needs; a
            # rollback that fails too shows up at the next BEGIN.
            with suppress(sqlite3.Error):
                self.connection.execute("ROLLBACK")

    def close(self) -> None:
        with self.lock:
            self.connection.close()


def _is_busy(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(error)


# -- reads and writes ---------------------------------------------------------------


class _Reads:
    """The read side of the protocol, over a shared `_Database`."""

    def __init__(self, database: _Database) -> None:
        self._db = database

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        rows = self._db.rows(_GET, (hierarchy, number))
        return _from_row(rows[0]) if rows else None

    def holding(self, number: str) -> list[NumberRecord]:
        return self._db.records(_HOLDING, (number,))

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        span = (numbers.first, numbers.last, len(numbers.first))
        if hierarchy is None:
            return self._db.records(_WITHIN, span)
        return self._db.records(_WITHIN_NODE, (hierarchy, *span))

    def scan(self, query: Query) -> list[NumberRecord]:
        parameters: list[Any] = [query.hierarchy]
        if query.status is not None:
            parameters.append(str(query.status))
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        parameters.append(query.limit)
        sql = _scan_sql(query.status is not None, query.prefix is not None, query.after is not None)
        return self._db.records(sql, tuple(parameters))

    def nodes(self, under: str | None = None) -> list[str]:
        return list(self.counts(under))

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        return self._db.records(_DUE, (_time_text(now), limit))

    def with_e164(self, e164: str) -> list[NumberRecord]:
        return self._db.records(_WITH_E164, (e164,))

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        if under is None:
            rows = self._db.rows(_ALL_NODE_COUNTS, (), counted=True)
        else:
            rows = self._db.rows(_NODE_COUNTS, (under, under + "/"), counted=True)
        found: dict[str, dict[Status, int]] = {}
        for hierarchy, status, total in rows:
            if under is None or is_at_or_below(hierarchy, under):
                statuses = found.get(hierarchy)
                if statuses is None:
                    statuses = found[hierarchy] = dict.fromkeys(Status, 0)
                statuses[_STATUSES[status]] = total
        return found


class _SqliteTransaction(_Reads):
    """Compare-and-set writes inside the open SQLite transaction."""

    def insert(self, records: Iterable[NumberRecord]) -> None:
        db = self._db
        written: list[NumberRecord] = []
        pending: list[NumberRecord] = []

        def rows() -> Iterator[tuple[Any, ...]]:
            # A row is stored once the next one is asked for: count it then, so
            # that a refusal part way leaves counts and associations in step.
            for record in records:
                pending[:] = [record]
                yield _to_row(record)
                written.append(record)
            pending.clear()

        with db.lock:
            try:
                db.connection.executemany(_INSERT, rows())
            except sqlite3.IntegrityError as error:
                record = pending[0]
                raise ConcurrentUpdate(
                    f"{record.number} at {record.hierarchy} was added by another writer",
                    number=record.number,
                    hierarchy=record.hierarchy,
                ) from error
            except sqlite3.Error as error:
                raise db.error(error) from error
            finally:
                self._indexed(written)

    def _indexed(self, records: list[NumberRecord]) -> None:
        """Count stored records and associate their E.164 numbers."""
        counts = self._db.counts
        associations: list[tuple[str, str, str]] = []
        for record in records:
            counts[(record.hierarchy, record.status)] += 1
            associations += [(e164, *record.key) for e164 in record.e164]
        if associations:
            self._execute_many(_ASSOCIATE, associations)

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        db = self._db
        hierarchy = template.hierarchy
        with db.lock:
            taken = db.rows(_TAKEN, (hierarchy, numbers.first, numbers.last, len(numbers.first)))
            if taken:
                raise ConcurrentUpdate(
                    f"{taken[0][0]} at {hierarchy} was added by another writer",
                    number=taken[0][0],
                    hierarchy=hierarchy,
                )
            # The rows straight from the template: no record per number.
            rest = _to_row(template)[1:]
            try:
                db.connection.executemany(_INSERT, zip(numbers, *map(repeat, rest), strict=False))
            except sqlite3.IntegrityError as error:
                raise ConcurrentUpdate(
                    f"a number of {numbers} at {hierarchy} was added by another writer",
                    hierarchy=hierarchy,
                ) from error
            except sqlite3.Error as error:
                raise db.error(error) from error
            db.counts[(hierarchy, template.status)] += len(numbers)
            if template.e164:
                self._execute_many(
                    _ASSOCIATE,
                    ((e164, number, hierarchy) for number in numbers for e164 in template.e164),
                )

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        db = self._db
        with db.lock:
            execute = db.connection.execute
            counts = db.counts
            for old, new in changes:
                if new.key != old.key:
                    raise InvalidInput(
                        f"cannot replace {old.number} at {old.hierarchy} by a record of "
                        f"{new.number} at {new.hierarchy}",
                        number=old.number,
                        hierarchy=old.hierarchy,
                    )
                try:
                    cursor = execute(_UPDATE, (*_to_row(new)[2:], *old.key, old.version))
                except sqlite3.Error as error:
                    raise db.error(error) from error
                if cursor.rowcount != 1:
                    raise self._stale(old)
                if old.status != new.status:
                    counts[(old.hierarchy, old.status)] -= 1
                    counts[(new.hierarchy, new.status)] += 1
                if old.e164 != new.e164:
                    self._reassociate(old, new.e164)

    def delete(self, records: Iterable[NumberRecord]) -> None:
        db = self._db
        with db.lock:
            execute = db.connection.execute
            for record in records:
                try:
                    cursor = execute(_DELETE, (*record.key, record.version))
                except sqlite3.Error as error:
                    raise db.error(error) from error
                if cursor.rowcount != 1:
                    raise self._stale(record)
                db.counts[(record.hierarchy, record.status)] -= 1
                if record.e164:
                    self._reassociate(record, ())

    def _reassociate(self, old: NumberRecord, e164: tuple[str, ...]) -> None:
        gone = [(e, *old.key) for e in old.e164 if e not in e164]
        added = [(e, *old.key) for e in e164 if e not in old.e164]
        self._execute_many(_DISSOCIATE, gone)
        self._execute_many(_ASSOCIATE, added)

    def _stale(self, record: NumberRecord) -> ConcurrentUpdate:
        stored = self._db.rows(_VERSION_OF, (record.hierarchy, record.number))
        found = f"at version {stored[0][0]}" if stored else "gone"
        return ConcurrentUpdate(
            f"{record.number} at {record.hierarchy} changed under us: expected version "
            f"{record.version}, found {found}",
            number=record.number,
            hierarchy=record.hierarchy,
        )

    def _execute_many(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        try:
            self._db.connection.executemany(sql, rows)
        except sqlite3.Error as error:
            raise self._db.error(error) from error


class SqliteRepository(_Reads):
    """A repository in an SQLite database: a file shared by threads and processes, or memory.

    Args:
        path: the database file (created with its schema on first use), or
            `":memory:"` for a private in-memory database.
        timeout: seconds a writer waits for another connection's write lock
            before giving up with `StorageError`.

    Raises:
        InvalidInput: the file cannot be opened as a numinv database, or its
            schema is newer than this version of numinv knows.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidInput(f"path must be a file path or ':memory:', not {path!r}", value=path)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise InvalidInput(f"timeout must be seconds >= 0, not {timeout!r}", value=timeout)
        self._path = os.fspath(path)
        super().__init__(_Database(self._path, float(timeout)))

    @property
    def path(self) -> str:
        return self._path

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        with self._db.transaction():
            yield _SqliteTransaction(self._db)

    def close(self) -> None:
        """Close the connection; the repository cannot be used afterwards."""
        self._db.close()

    def __enter__(self) -> SqliteRepository:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteRepository({self._path!r})"
