"""`SqliteRepository`: the repository on the standard library's `sqlite3`, a file or `:memory:`.

Layout (docs/storage.md): a `records` table with a column per `NumberRecord`
field (`numinv.storage.rows`), keyed by (hierarchy, number); `e164` and
`holders` tables from E.164 numbers and from consumer ids, owners and
reserved-for names to records; `nodes`, the per-node, per-status counts;
`retired`, the last version of each deleted record; `node_settings`; the
`journal` with its sequence in `journal_seq`; and `schema_version`, the
migrations applied. Every read of the protocol is answered by an index; the
adapter keeps the side tables in step inside each transaction (no triggers).

A file has two connections: one writes, guarded by a re-entrant lock held
for the whole of a transaction, and one reads committed state for the other
threads, so a read never waits behind a write (the write-ahead log lets them
run side by side). A read made on the thread that holds the open transaction
reads inside it. Several processes may share a file: writers take SQLite's
write lock up front (`BEGIN IMMEDIATE`) and wait for it up to `timeout`
seconds. Every driver error is translated in one place, `_Database.translated`.
"""

from __future__ import annotations

import functools
import math
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar, cast

import attrs

from numinv.core.hierarchy import is_at_or_below
from numinv.core.journal import Entry, block_of, blocks, expand
from numinv.core.numbers import NumberRange, number_range
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import ConcurrentUpdate, InvalidInput, NumInvError, StorageError
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query, ended, same_key
from numinv.storage.rows import COLUMNS, TEXT, refuse_unkeepable, time_text

__all__ = ["SCHEMA_VERSION", "SqliteRepository"]

T = TypeVar("T")


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
    (
        # The journal, reservations for a person, settings per node (SPEC 15, 18, 19, 22).
        "ALTER TABLE records ADD COLUMN admin_number_type TEXT NOT NULL DEFAULT ''",
        "UPDATE records SET admin_number_type = internal_number_type",
        """
        CREATE TABLE holders (
            who TEXT NOT NULL,
            number TEXT NOT NULL,
            hierarchy TEXT NOT NULL,
            PRIMARY KEY (who, number, hierarchy)
        ) WITHOUT ROWID
        """,
        """
        INSERT OR IGNORE INTO holders (who, number, hierarchy)
        SELECT json_extract(u.value, '$.consumer_id'), r.number, r.hierarchy
        FROM records AS r, json_each(r.uses) AS u
        """,
        """
        INSERT OR IGNORE INTO holders (who, number, hierarchy)
        SELECT reserved_for, number, hierarchy FROM records WHERE reserved_for IS NOT NULL
        """,
        """
        CREATE TABLE retired (
            hierarchy TEXT NOT NULL,
            number TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, number)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE node_settings (
            hierarchy TEXT NOT NULL PRIMARY KEY,
            auto_cooling INTEGER,
            cooling_days INTEGER,
            audiocodes_cooling_days INTEGER,
            prevent_duplicates INTEGER,
            exhaustion_threshold REAL
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY,
            span INTEGER NOT NULL,
            operation TEXT NOT NULL,
            number TEXT NOT NULL,
            last TEXT,
            block TEXT,
            hierarchy TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT,
            before TEXT,
            after TEXT
        )
        """,
        "CREATE INDEX journal_by_number ON journal (number) WHERE last IS NULL",
        "CREATE INDEX journal_by_block ON journal (block) WHERE last IS NOT NULL",
        "CREATE INDEX journal_by_time ON journal (at)",
        """
        CREATE TABLE journal_seq (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last INTEGER NOT NULL
        )
        """,
        "INSERT INTO journal_seq (id, last) VALUES (1, 0)",
    ),
    (
        # The held-back records of a node by release date: a scan for the due ones
        # (`Query.due_by`) finds a few among many without walking them all.
        """
        CREATE INDEX records_due_by_status ON records (hierarchy, status, release_date)
        WHERE release_date IS NOT NULL
        """,
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
# Both questions in one statement, so from one snapshot: another opener's schema,
# committed between "no schema_version" and "some table", made a new file look like
# another application's.
_HAS_SCHEMA = (
    "SELECT EXISTS (SELECT 1 FROM sqlite_master"
    " WHERE type = 'table' AND name = 'schema_version'),"
    " EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')"
)

_LIST = ", ".join(COLUMNS)
_SELECT = f"SELECT {_LIST} FROM records"
_INSERT = f"INSERT INTO records ({_LIST}) VALUES ({', '.join('?' * len(COLUMNS))})"
_DELETE = "DELETE FROM records WHERE number = ? AND hierarchy = ? AND version = ?"


@functools.lru_cache(maxsize=256)
def _update_of(columns: tuple[int, ...]) -> str:
    """The compare-and-set `UPDATE` of these columns (positions in `COLUMNS`)."""
    if not columns:
        return _UPDATE_NOTHING
    assignments = ", ".join(f"{COLUMNS[index]} = ?" for index in columns)
    return f"UPDATE records SET {assignments} WHERE number = ? AND hierarchy = ? AND version = ?"


# A record equal to the one stored but for nothing: still compare its version.
_UPDATE_NOTHING = (
    "UPDATE records SET version = version WHERE number = ? AND hierarchy = ? AND version = ?"
)
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
_NEXT_RELEASE = (
    "SELECT release_date FROM records WHERE release_date IS NOT NULL ORDER BY release_date LIMIT 1"
)
_WITH_E164 = (
    f"SELECT {', '.join('r.' + name for name in COLUMNS)} "
    "FROM e164 AS a JOIN records AS r ON r.hierarchy = a.hierarchy AND r.number = a.number "
    "WHERE a.e164 = ? ORDER BY r.number, r.hierarchy"
)
_HELD_BY = (
    f"SELECT {', '.join('r.' + name for name in COLUMNS)} "
    "FROM holders AS h JOIN records AS r ON r.hierarchy = h.hierarchy AND r.number = h.number "
    "WHERE h.who = ? ORDER BY r.number, r.hierarchy"
)
# Every path at or below `p` lies in [p, p + "/"): "/" follows "." in text order.
_NODE_COUNTS = (
    "SELECT hierarchy, status, total FROM nodes WHERE hierarchy >= ? AND hierarchy < ? "
    "AND total > 0 ORDER BY hierarchy"
)
_ALL_NODE_COUNTS = "SELECT hierarchy, status, total FROM nodes WHERE total > 0 ORDER BY hierarchy"
_ADD_COUNT = (
    "INSERT INTO nodes (hierarchy, status, total) VALUES (?, ?, ?) "
    "ON CONFLICT (hierarchy, status) DO UPDATE SET total = total + excluded.total"
)
_DROP_COUNT = "DELETE FROM nodes WHERE hierarchy = ? AND status = ? AND total = 0"
_ASSOCIATE = "INSERT OR IGNORE INTO e164 (e164, number, hierarchy) VALUES (?, ?, ?)"
_DISSOCIATE = "DELETE FROM e164 WHERE e164 = ? AND number = ? AND hierarchy = ?"
_HOLD = "INSERT OR IGNORE INTO holders (who, number, hierarchy) VALUES (?, ?, ?)"
_UNHOLD = "DELETE FROM holders WHERE who = ? AND number = ? AND hierarchy = ?"
_RETIRE = (
    "INSERT INTO retired (hierarchy, number, version) VALUES (?, ?, ?) "
    "ON CONFLICT (hierarchy, number) DO UPDATE SET version = max(version, excluded.version)"
)
_RETIRED = (
    "SELECT number, version FROM retired "
    "WHERE hierarchy = ? AND number BETWEEN ? AND ? AND length(number) = ?"
)
_SETTINGS_FIELDS: Final = tuple(field.name for field in attrs.fields(NodeSettings))
_ALL_SETTINGS = f"SELECT hierarchy, {', '.join(_SETTINGS_FIELDS)} FROM node_settings"
_CONFIGURE = (
    f"INSERT OR REPLACE INTO node_settings (hierarchy, {', '.join(_SETTINGS_FIELDS)}) "
    f"VALUES ({', '.join('?' * (len(_SETTINGS_FIELDS) + 1))})"
)
_UNCONFIGURE = "DELETE FROM node_settings WHERE hierarchy = ?"
_NEXT_SEQ = "UPDATE journal_seq SET last = last + ? WHERE id = 1 RETURNING last"
_JOURNAL_COLUMNS = "seq, span, operation, number, last, block, hierarchy, at, actor, before, after"
_WRITE_JOURNAL = f"INSERT INTO journal ({_JOURNAL_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_ENTRY_AT = f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq <= ? ORDER BY seq DESC LIMIT 1"
_ENTRIES_AFTER = f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
_HISTORY = (
    f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE number = ? AND last IS NULL "
    f"UNION ALL SELECT {_JOURNAL_COLUMNS} FROM journal WHERE block = ? AND last IS NOT NULL "
    "AND number <= ? AND last >= ? AND length(number) = ? ORDER BY seq"
)
# The oldest entries while older than the time (`Repository.prune`): those before the
# first entry that is not.
_PRUNED = (
    "FROM journal WHERE at < ? AND seq < "
    "coalesce((SELECT min(seq) FROM journal WHERE at >= ?), 9223372036854775807)"
)
_PRUNE_COUNT = f"SELECT coalesce(sum(span), 0) {_PRUNED}"
_PRUNE = f"DELETE {_PRUNED}"

# Numbers hold only '+' and digits, which all sort below ':'.
_AFTER_DIGITS = ":"


def _scan_sql(status: bool, prefix: bool, after: bool, due: bool) -> str:
    """The page query of `scan` for the filters given."""
    where = ["hierarchy = ?"]
    if status:
        where.append("status = ?")
    if prefix:
        where.append("number >= ? AND number < ?")
    if after:
        where.append("number > ?")
    if due:
        where.append("release_date <= ?")
    # Name the index: a planner left to guess may walk a node's every number
    # in key order and filter on status, slower the fuller the node.
    source = "records INDEXED BY records_by_status" if status else "records"
    return f"SELECT {_LIST} FROM {source} WHERE {' AND '.join(where)} ORDER BY number LIMIT ?"


# A scan for due records (`Query.due_by`) reads them by release date and sorts them when
# a node's status has at most this many due (`_DUE_COUNT`), rather than walk every record
# of the status in number order: open-ended reservations, or a few due among many
# cooling, are not walked at every read. More than this: the walk finds them soon.
_GATHERED: Final = 1024
_DUE_INDEX = "records INDEXED BY records_due_by_status"
_DUE_WHERE = "hierarchy = ? AND status = ? AND release_date <= ?"
_DUE_COUNT: Final = (
    f"SELECT count(*) FROM (SELECT 1 FROM {_DUE_INDEX} WHERE {_DUE_WHERE} LIMIT {_GATHERED + 1})"
)


def _gather_sql(prefix: bool, after: bool) -> str:
    where = [_DUE_WHERE]
    if prefix:
        where.append("number >= ? AND number < ?")
    if after:
        where.append("number > ?")
    return f"SELECT {_LIST} FROM {_DUE_INDEX} WHERE {' AND '.join(where)} ORDER BY number LIMIT ?"


_GATHERS: Final = {
    (prefix, after): _gather_sql(prefix, after)
    for prefix in (False, True)
    for after in (False, True)
}

_SCANS: Final = {
    (status, prefix, after, due): _scan_sql(status, prefix, after, due)
    for status in (False, True)
    for prefix in (False, True)
    for after in (False, True)
    for due in (False, True)
}


# -- the journal's rows -------------------------------------------------------------


def _entry_rows(seq: int, entry: Entry) -> Iterator[tuple[Any, ...]]:
    at = time_text(entry.at)
    record = entry.record
    if entry.numbers is None:
        before_text, after_text = TEXT.texts(entry.before, entry.after)
        yield (
            seq,
            1,
            entry.operation,
            record.number,
            None,
            None,
            record.hierarchy,
            at,
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
            seq + piece.start - entry.numbers.start,
            len(piece),
            entry.operation,
            first,
            piece.last,
            block_of(first),
            record.hierarchy,
            at,
            entry.actor,
            None if before is None else TEXT.to_json(before),
            None if after is None else TEXT.to_json(after),
        )


def _entry_of(row: tuple[Any, ...]) -> tuple[int, Entry]:
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
    return seq, Entry(operation, before, after, datetime.fromisoformat(at), actor, numbers)


# -- the connections ----------------------------------------------------------------


def _unkeepable(error: UnicodeEncodeError) -> InvalidInput:
    """Text SQLite cannot store (a lone surrogate), refused as the in-memory store's checks do."""
    text = error.object if isinstance(error.object, str) else repr(error.object)
    return InvalidInput(f"{text!r} holds a lone surrogate, which no store can keep", value=text)


def _is_busy(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(error)


def _unchangeable(path: str) -> bool:
    """Whether nobody can change the file: it lies on a file system mounted read-only (a
    backup on a read-only mount), so no writer could make the files write-ahead logging
    needs, and no log holds changes the file lacks. SQLite, which would make the `-shm`
    file to read a file in that mode, is then told the file is immutable. A folder only
    this user cannot write is not enough: another user may be writing the file."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mounted_read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no such folder, or no statvfs (Windows)
        return False
    log = path + "-wal"
    return mounted_read_only and not (os.path.exists(log) and os.path.getsize(log) > 0)


class _Database:
    """The connections, their locks, and the open transaction's unwritten node counts."""

    def __init__(self, path: str, timeout: float, *, read_only: bool, uri: bool) -> None:
        self.path = path
        self.timeout = timeout
        self.read_only = read_only
        self.lock = threading.RLock()
        self.read_lock = threading.Lock()
        self.owner: int | None = None  # the thread holding the open transaction
        self.ends: list[Callable[[bool], None]] = []  # what waits for its end (`at_end`)
        # (hierarchy, status) -> change of its count, written once per transaction.
        self.counts: Counter[tuple[str, Status]] = Counter()
        # name -> (the commit it was read after, what was read): see `cached`.
        self.cache: dict[str, tuple[int, Any]] = {}
        # Moved on by what drops the settings from the cache, once it is done: a private
        # in-memory database's version of them (`cached`).
        self.generation = 0
        self.memory = path in ("", ":memory:") or (uri and "mode=memory" in path)
        self.reader: sqlite3.Connection
        target = path
        if read_only and not uri:
            target, uri = Path(path).absolute().as_uri() + "?mode=ro", True
            if _unchangeable(path):
                target += "&immutable=1"
        with self.opening():
            self.connection = sqlite3.connect(
                target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri
            )
        try:
            self.configure(self.connection)
            if read_only:
                self.check_schema(writable=False)
            else:
                self.check_schema(writable=True)  # another program's file: left untouched
                self.write_ahead()
                self.migrate()
            if self.memory:
                self.reader = self.connection
            else:
                with self.opening():
                    self.reader = sqlite3.connect(
                        target,
                        timeout=timeout,
                        isolation_level=None,
                        check_same_thread=False,
                        uri=uri,
                    )
                self.configure(self.reader)
        except BaseException:
            self.connection.close()
            raise

    # -- errors -------------------------------------------------------------

    @contextmanager
    def translated(self, *, taken: NumberRecord | str | None = None) -> Iterator[None]:
        """Every driver error as the `NumInvError` a caller can act on (see `translate`)."""
        started = time.monotonic()
        try:
            yield
        except (sqlite3.Error, UnicodeEncodeError) as error:
            raise self.translate(error, started, taken) from error

    def translate(
        self,
        error: sqlite3.Error | UnicodeEncodeError,
        started: float,
        taken: NumberRecord | str | None = None,
    ) -> NumInvError:
        """The one mapping of driver errors: what a caller can act on.

        `taken` names what a unique-key failure means: that record (or text)
        was added by another writer.
        """
        if isinstance(error, UnicodeEncodeError):
            return _unkeepable(error)
        if isinstance(error, sqlite3.IntegrityError):
            if taken is None:
                return StorageError(f"{self.path!r}: {error}", value=self.path)
            if isinstance(taken, NumberRecord):
                return ConcurrentUpdate(
                    f"{taken.number} at {taken.hierarchy} was added by another writer",
                    number=taken.number,
                    hierarchy=taken.hierarchy,
                )
            return ConcurrentUpdate(f"{taken} was added by another writer")
        return self.error(error, time.monotonic() - started)

    @contextmanager
    def opening(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except sqlite3.Error as error:
            if _is_busy(error):
                raise self.error(error, time.monotonic() - started) from error
            raise InvalidInput(
                f"cannot open {self.path!r} as a numinv database: {error}", value=self.path
            ) from error

    def error(self, error: sqlite3.Error, waited: float | None = None) -> NumInvError:
        if _is_busy(error):
            # Say what happened: SQLite refuses some steps at once, without waiting.
            how_long = "" if waited is None else f"gave up after {waited:.1f} s; "
            return StorageError(
                f"{self.path!r} is locked by another connection ({how_long}"
                f"the timeout is {self.timeout:g} s)",
                value=self.path,
            )
        if isinstance(error, sqlite3.ProgrammingError) and "closed" in str(error):
            return StorageError(f"{self.path!r} is closed", value=self.path)
        if "readonly" in str(error) or "read-only" in str(error):
            return StorageError(f"{self.path!r} is open for reading only", value=self.path)
        return StorageError(f"{self.path!r}: {error}", value=self.path)

    # -- opening ------------------------------------------------------------

    def configure(self, connection: sqlite3.Connection) -> None:
        """What each connection sets for itself; the file itself is left as it is."""
        with self.opening():
            execute = connection.execute
            execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            # FULL: a committed assignment survives a power cut, not only a crash.
            execute("PRAGMA synchronous = FULL")
            # 32 MiB of pages: a large load keeps its index pages in memory until commit.
            execute("PRAGMA cache_size = -32768")

    def write_ahead(self) -> None:
        """Switch the file to write-ahead logging (kept in the file): readers never wait
        for the writer. Done once the file is known to be numinv's, or new."""
        if not self.memory:
            with self.opening():
                self.retrying(lambda: self.connection.execute("PRAGMA journal_mode = WAL"))

    def retrying(self, step: Any) -> Any:
        """Run a step SQLite refuses at once while another connection changes the file.

        Switching to WAL needs a moment with no other connection writing, and
        SQLite does not wait for it as it does for a lock: try again until
        `timeout` has passed.
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.005
        while True:
            try:
                return step()
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def migrate(self) -> None:
        """Create or upgrade the schema; refuse a file written by a newer numinv or another app."""
        if self.check_schema(writable=True) == SCHEMA_VERSION:
            return
        with self.opening():
            self.retrying(lambda: self.connection.execute("BEGIN IMMEDIATE"))
            try:
                self.upgrade(self.check_schema(writable=True))
                self.connection.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    self.connection.execute("ROLLBACK")
                raise

    def check_schema(self, *, writable: bool) -> int:
        execute = self.connection.execute
        with self.opening():
            has_versions, has_tables = execute(_HAS_SCHEMA).fetchone()
            if not has_versions:
                if has_tables:
                    raise InvalidInput(
                        f"{self.path!r} is an SQLite database of another application "
                        "(it has tables but no numinv schema); numinv will not write into it",
                        value=self.path,
                    )
                found = 0
            else:
                (found,) = execute(
                    "SELECT coalesce(max(version), 0) FROM schema_version"
                ).fetchone()
        if found > SCHEMA_VERSION:
            raise InvalidInput(
                f"{self.path!r} has schema version {found}, newer than version "
                f"{SCHEMA_VERSION} that this numinv knows: upgrade numinv to open it",
                value=self.path,
            )
        if not writable and found < SCHEMA_VERSION:
            raise InvalidInput(
                f"{self.path!r} has schema version {found}; it must be opened for writing once "
                f"to be upgraded to version {SCHEMA_VERSION}",
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

    # -- reads ---------------------------------------------------------------

    def rows(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        """A query's rows: inside the open transaction on its own thread, else committed state."""
        # Inline `try`s, not `translated()`: a context manager per statement costs more here
        # than the statement itself.
        started = time.monotonic()
        try:
            if self.owner == threading.get_ident():
                return self.connection.execute(sql, parameters).fetchall()
            with self.read_lock if self.reader is not self.connection else self.lock:
                return self.reader.execute(sql, parameters).fetchall()
        except UnicodeEncodeError:
            return []  # no stored text holds a lone surrogate: nothing matches
        except sqlite3.Error as error:
            raise self.translate(error, started) from error

    def records(self, sql: str, parameters: Sequence[Any]) -> list[NumberRecord]:
        return list(map(TEXT.record, self.rows(sql, parameters)))

    def cached(self, name: str, read: Callable[[], T], *, ours: bool = True) -> T:
        """What `read` answers, read again only once something was committed since.

        A connection's `PRAGMA data_version` moves when another connection
        commits, never for its own commits. Outside a transaction the reading
        connection's is asked (the writing connection is another to it); inside
        one the writing connection's, so that a loop of this repository's own
        writes keeps what it read (what they change themselves drops the cache:
        `configure`, a rollback). A private in-memory database has one
        connection: its changes count unless `ours` is False (what only
        `configure` changes, or a rollback takes back): then `generation` is
        the version, so that a value read before such a change and kept after
        it is not taken for current.
        """
        try:
            if self.memory:
                changes = self.connection.total_changes  # asked even when not wanted: once
                version: tuple[str, int] = ("m", changes if ours else self.generation)
            elif self.owner == threading.get_ident():
                ((number,),) = self.connection.execute("PRAGMA data_version").fetchall()
                version = ("w", number)
            else:
                with self.read_lock:
                    ((number,),) = self.reader.execute("PRAGMA data_version").fetchall()
                version = ("r", number)
        except sqlite3.Error as error:  # a closed repository says so here
            raise self.translate(error, time.monotonic()) from error
        key = f"{name} {version[0]}"
        held = self.cache.get(key)
        if held is not None and held[0] == version[1]:
            return cast(T, held[1])
        value = read()
        self.cache[key] = (version[1], value)
        return value

    # -- writes ----------------------------------------------------------------

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A statement inside the open transaction (the caller holds the lock)."""
        started = time.monotonic()
        try:
            return self.connection.execute(sql, parameters)
        except (sqlite3.Error, UnicodeEncodeError) as error:
            raise self.translate(error, started) from error

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        started = time.monotonic()
        try:
            return self.connection.executemany(sql, rows)
        except (sqlite3.Error, UnicodeEncodeError) as error:
            raise self.translate(error, started) from error

    def write_counts(self) -> None:
        """Write the transaction's count changes: at commit, or before counts are read."""
        changed = [(h, str(s), n) for (h, s), n in self.counts.items() if n]
        self.counts.clear()
        if changed:
            self.executemany(_ADD_COUNT, changed)
            self.executemany(_DROP_COUNT, [(h, s) for h, s, n in changed if n < 0])

    @contextmanager
    def transaction(self) -> Iterator[bool]:
        """The transaction open on this thread; whether this call joined one already open.
        What waits for its end (`ends`) runs once the lock is let go."""
        ends: list[Callable[[bool], None]] = []
        committed = False
        try:
            with self.lock:
                if self.owner is not None:  # joined by a nested call: the outer one commits
                    yield True
                    return
                self._begin()
                self.owner, self.ends = threading.get_ident(), ends
                try:
                    # Inside the guard: an interrupt just after BEGIN still rolls back.
                    with self.translated():
                        self.connection.execute("BEGIN IMMEDIATE")
                    yield False
                    self.write_counts()
                    with self.translated():
                        self.connection.execute("COMMIT")
                except BaseException:
                    self.cache.clear()  # it may hold what this transaction read of its writes
                    if self.connection.in_transaction:
                        # The error that made us roll back is the one the caller needs; a
                        # rollback that fails too shows up at the next BEGIN.
                        with suppress(sqlite3.Error):
                            self.connection.execute("ROLLBACK")
                    self.generation += 1
                    raise
                finally:
                    self.owner, self.ends = None, []
                    self.counts.clear()
            committed = True
        finally:
            ended(ends, committed)

    def _begin(self) -> None:
        """Ready the connection for a transaction of this thread's."""
        if self.read_only:
            raise StorageError(f"{self.path!r} is open for reading only", value=self.path)
        with self.translated():  # a closed repository says so here
            if self.connection.in_transaction:
                # Left open by an interrupt that came between a BEGIN and our guard:
                # nothing of it was committed, and it must not swallow this one.
                self.connection.execute("ROLLBACK")

    def close(self) -> None:
        with self.lock:
            if self.reader is not self.connection:
                self.reader.close()
            self.connection.close()


# -- reads and writes ---------------------------------------------------------------


class _Reads:
    """The read side of the protocol, over a shared `_Database`."""

    def __init__(self, database: _Database) -> None:
        self._db = database

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        rows = self._db.rows(_GET, (hierarchy, number))
        return TEXT.record(rows[0]) if rows else None

    def holding(self, number: str) -> list[NumberRecord]:
        return self._db.records(_HOLDING, (number,))

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        span = (numbers.first, numbers.last, len(numbers.first))
        if hierarchy is None:
            return self._db.records(_WITHIN, span)
        return self._db.records(_WITHIN_NODE, (hierarchy, *span))

    def scan(self, query: Query) -> list[NumberRecord]:
        if query.status is not None and query.due_by is not None:
            gathered = self._gathered(query, query.status, query.due_by)
            if gathered is not None:
                return gathered
        parameters: list[Any] = [query.hierarchy]
        if query.status is not None:
            parameters.append(str(query.status))
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        if query.due_by is not None:
            parameters.append(time_text(query.due_by))
        parameters.append(query.limit)
        sql = _SCANS[
            (
                query.status is not None,
                query.prefix is not None,
                query.after is not None,
                query.due_by is not None,
            )
        ]
        return self._db.records(sql, parameters)

    def _gathered(
        self, query: Query, status: Status, due_by: datetime
    ) -> list[NumberRecord] | None:
        """A scan for due records by release date, when they are few (None: many)."""
        due = [query.hierarchy, str(status), time_text(due_by)]
        ((count,),) = self._db.rows(_DUE_COUNT, due)
        if count > _GATHERED:
            return None
        if count == 0:
            return []
        parameters: list[Any] = due
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        parameters.append(query.limit)
        sql = _GATHERS[(query.prefix is not None, query.after is not None)]
        return self._db.records(sql, parameters)

    def nodes(self, under: str | None = None) -> list[str]:
        return list(self.counts(under))

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        return self._db.records(_DUE, (time_text(now), limit))

    def next_release(self) -> datetime | None:
        db = self._db
        if db.owner == threading.get_ident():  # inside a transaction: its own writes count
            rows = db.rows(_NEXT_RELEASE, ())
            return datetime.fromisoformat(rows[0][0]) if rows else None
        return db.cached("next_release", self._next_release)

    def _next_release(self) -> datetime | None:
        rows = self._db.rows(_NEXT_RELEASE, ())
        return datetime.fromisoformat(rows[0][0]) if rows else None

    def with_e164(self, e164: str) -> list[NumberRecord]:
        return self._db.records(_WITH_E164, (e164,))

    def held_by(self, who: str) -> list[NumberRecord]:
        return self._db.records(_HELD_BY, (who,))

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        db = self._db
        if db.owner == threading.get_ident():
            with db.lock:
                db.write_counts()
        if under is None:
            rows = db.rows(_ALL_NODE_COUNTS, ())
        else:
            rows = db.rows(_NODE_COUNTS, (under, under + "/"))
        found: dict[str, dict[Status, int]] = {}
        for hierarchy, status, total in rows:
            if under is None or is_at_or_below(hierarchy, under):
                statuses = found.get(hierarchy)
                if statuses is None:
                    statuses = found[hierarchy] = dict.fromkeys(Status, 0)
                statuses[Status(status)] = total
        return found

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        # A small table that rarely changes: read whole, and again only after a commit.
        every = self._db.cached("node_settings", self._all_settings, ours=False)
        if nodes is None:
            return dict(every)
        if not every:
            return {}
        return {node: found for node in nodes if (found := every.get(node)) is not None}

    def _all_settings(self) -> dict[str, NodeSettings]:
        rows = self._db.rows(_ALL_SETTINGS, ())
        found: dict[str, NodeSettings] = {}
        for hierarchy, *settings in rows:
            values: dict[str, Any] = dict(zip(_SETTINGS_FIELDS, settings, strict=True))
            for name in ("auto_cooling", "prevent_duplicates"):
                if values[name] is not None:
                    values[name] = bool(values[name])
            found[hierarchy] = NodeSettings(**values)
        return found

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        rows = self._db.rows(_RETIRED, (hierarchy, numbers.first, numbers.last, len(numbers.first)))
        return dict(rows)

    def changes(self, after: int, limit: int) -> list[Change]:
        if limit <= 0:
            return []
        found: list[Change] = []
        rows = self._db.rows(_ENTRY_AT, (after,)) if after > 0 else []
        rows += self._db.rows(_ENTRIES_AFTER, (after, limit))
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
        rows = self._db.rows(_HISTORY, (number, block_of(number), number, number, len(number)))
        found: list[Change] = []
        for row in rows:
            seq, entry = _entry_of(row)
            if entry.numbers is None:
                found += expand(seq, entry)
            else:
                offset = int(number[len(entry.numbers.plus) :]) - entry.numbers.start
                found += expand(seq, entry, first=offset, last=offset)
        return found


class _SqliteTransaction(_Reads):
    """Compare-and-set writes inside the open SQLite transaction."""

    joined = False  # `AtEnd`: set on one opened inside another

    def at_end(self, callback: Callable[[bool], None]) -> None:
        self._db.ends.append(callback)

    @contextmanager
    def _whole(self, many: bool) -> Iterator[None]:
        """One write call, all or nothing: a refusal part way takes back what it wrote."""
        if not many:  # one statement is all or nothing by itself
            yield
            return
        db = self._db
        counts = Counter(db.counts)
        db.execute("SAVEPOINT numinv_call")
        try:
            yield
        except Exception:
            with suppress(sqlite3.Error):
                db.connection.execute("ROLLBACK TO numinv_call")
                db.connection.execute("RELEASE numinv_call")
            db.counts = counts
            raise
        db.execute("RELEASE numinv_call")

    def insert(self, records: Iterable[NumberRecord]) -> None:
        db = self._db
        written: list[NumberRecord] = []
        batch = list(records)

        for record in batch:
            refuse_unkeepable(record)

        def rows() -> Iterator[list[Any]]:
            for record in batch:
                written.append(record)
                yield TEXT.row(record)

        with db.lock, self._whole(len(batch) > 1):
            try:
                db.connection.executemany(_INSERT, rows())
            except sqlite3.IntegrityError as error:
                # The statement that failed is the last row handed over.
                record = written[-1]
                raise ConcurrentUpdate(
                    f"{record.number} at {record.hierarchy} was added by another writer",
                    number=record.number,
                    hierarchy=record.hierarchy,
                ) from error
            except sqlite3.Error as error:
                raise db.error(error) from error
            except UnicodeEncodeError as error:
                raise _unkeepable(error) from error
            self._indexed(written)

    def _indexed(self, records: list[NumberRecord]) -> None:
        """Count stored records and index their E.164 numbers and holders."""
        db = self._db
        associations: list[tuple[str, str, str]] = []
        holders: list[tuple[str, str, str]] = []
        for record in records:
            db.counts[(record.hierarchy, record.status)] += 1
            associations += [(e164, *record.key) for e164 in record.e164]
            holders += [(name, *record.key) for name in record.holders]
        if associations:
            db.executemany(_ASSOCIATE, associations)
        if holders:
            db.executemany(_HOLD, holders)

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        refuse_unkeepable(template)
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
            rest = TEXT.row(template)[1:]
            with db.translated(taken=f"a number of {numbers} at {hierarchy}"):
                db.connection.executemany(_INSERT, zip(numbers, *map(repeat, rest), strict=False))
            db.counts[(hierarchy, template.status)] += len(numbers)
            if template.e164:
                db.executemany(
                    _ASSOCIATE,
                    ((e164, number, hierarchy) for number in numbers for e164 in template.e164),
                )
            names = template.holders
            if names:
                db.executemany(
                    _HOLD, ((name, number, hierarchy) for number in numbers for name in names)
                )

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        db = self._db
        with db.lock:
            batch: list[tuple[NumberRecord, NumberRecord]] = []
            for old, new in changes:
                same_key(old, new)
                refuse_unkeepable(new)
                batch.append((old, new))
            if not batch:
                return
            if len(batch) > 1:
                self._replace_many(batch)
                return
            old, new = batch[0]
            # Only the columns that change: SQLite then leaves alone the indexes of the others.
            columns, values = TEXT.changed(old, new)
            cursor = db.execute(_update_of(columns), (*values, *old.key, old.version))
            if cursor.rowcount != 1:
                raise self._stale(old)
            self._replaced(batch)

    def _replace_many(self, batch: list[tuple[NumberRecord, NumberRecord]]) -> None:
        db = self._db
        with self._whole(True):
            # One statement for each shape of change (the columns it sets), for many rows:
            # a count short of the rows finds the stale one.
            shapes: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
            for old, new in batch:
                columns, values = TEXT.changed(old, new)
                shapes.setdefault(columns, []).append((*values, *old.key, old.version))
            done = 0
            for columns, rows in shapes.items():
                done += db.executemany(_update_of(columns), rows).rowcount
            if done != len(batch):
                raise self._stale(self._first_stale(batch))
            self._replaced(batch)

    def _replaced(self, batch: list[tuple[NumberRecord, NumberRecord]]) -> None:
        """Keep counts and side tables in step with replaced records."""
        counts = self._db.counts
        for old, new in batch:
            if old.status != new.status:
                counts[(old.hierarchy, old.status)] -= 1
                counts[(new.hierarchy, new.status)] += 1
            if old.e164 != new.e164:
                self._reassociate(old, old.e164, new.e164, _ASSOCIATE, _DISSOCIATE)
            if old.uses != new.uses or old.reserved_for != new.reserved_for:
                self._reassociate(old, tuple(old.holders), tuple(new.holders), _HOLD, _UNHOLD)

    def _first_stale(self, batch: list[tuple[NumberRecord, NumberRecord]]) -> NumberRecord:
        """The first record of a batch whose stored version is not the one it replaced."""
        for old, new in batch:
            stored = self._db.rows(_VERSION_OF, (old.hierarchy, old.number))
            if not stored or stored[0][0] not in (old.version, new.version):
                return old
        return batch[0][0]

    def delete(self, records: Iterable[NumberRecord]) -> None:
        db = self._db
        batch = list(records)
        with db.lock, self._whole(len(batch) > 1):
            for record in batch:
                cursor = db.execute(_DELETE, (*record.key, record.version))
                if cursor.rowcount != 1:
                    raise self._stale(record)
                db.counts[(record.hierarchy, record.status)] -= 1
                db.execute(_RETIRE, (record.hierarchy, record.number, record.version))
                if record.e164:
                    self._reassociate(record, record.e164, (), _ASSOCIATE, _DISSOCIATE)
                names = tuple(record.holders)
                if names:
                    self._reassociate(record, names, (), _HOLD, _UNHOLD)

    def _reassociate(
        self,
        record: NumberRecord,
        old: tuple[str, ...],
        new: tuple[str, ...],
        add: str,
        remove: str,
    ) -> None:
        db = self._db
        gone = [(name, *record.key) for name in old if name not in new]
        added = [(name, *record.key) for name in new if name not in old]
        if gone:
            db.executemany(remove, gone)
        if added:
            db.executemany(add, added)

    def _stale(self, record: NumberRecord) -> ConcurrentUpdate:
        stored = self._db.rows(_VERSION_OF, (record.hierarchy, record.number))
        found = f"at version {stored[0][0]}" if stored else "gone"
        return ConcurrentUpdate(
            f"{record.number} at {record.hierarchy} changed under us: expected version "
            f"{record.version}, found {found}",
            number=record.number,
            hierarchy=record.hierarchy,
        )

    def claim(self, query: Query) -> list[NumberRecord]:
        return self.scan(query)  # writers are serialised: what this transaction reads is its own

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        db = self._db
        with db.lock:
            for key in [key for key in db.cache if key.startswith("node_settings")]:
                del db.cache[key]
            if settings is None or settings.empty:
                db.execute(_UNCONFIGURE, (hierarchy,))
            else:
                values = [getattr(settings, name) for name in _SETTINGS_FIELDS]
                db.execute(_CONFIGURE, (hierarchy, *values))
            db.generation += 1  # written: a value read before this is old (`cached`)

    def journal(self, entries: Sequence[Entry]) -> int:
        db = self._db
        total = sum(entry.span for entry in entries)
        with db.lock:
            ((last,),) = db.execute(_NEXT_SEQ, (total,)).fetchall()
            first = int(last) - total + 1
            rows: list[tuple[Any, ...]] = []
            seq = first
            for entry in entries:
                rows += _entry_rows(seq, entry)
                seq += entry.span
            db.executemany(_WRITE_JOURNAL, rows)
            return first

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """Written at once: one writer at a time, so the seqs are in commit order already."""
        self.journal(entries)


class SqliteRepository(_Reads):
    """A repository in an SQLite database: a file shared by threads and processes, or memory.

    Args:
        path: the database file (created with its schema on first use), a
            `file:` URI, or `":memory:"` for a private in-memory database.
        timeout: seconds a writer waits for another connection's write lock
            before giving up with `StorageError`.
        read_only: open an existing file for reading only (every read works;
            a transaction raises `StorageError`).

    Raises:
        InvalidInput: the file cannot be opened as a numinv database, belongs
            to another application, or its schema is newer than this version
            of numinv knows.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidInput(f"path must be a file path or ':memory:', not {path!r}", value=path)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or not 0 <= timeout <= 86_400
        ):
            raise InvalidInput(
                f"timeout must be seconds from 0 to 86400, not {timeout!r}", value=timeout
            )
        if not isinstance(read_only, bool):
            raise InvalidInput(f"read_only must be True or False, not {read_only!r}")
        self._path = os.fspath(path)
        if not isinstance(self._path, str) or "\x00" in self._path:
            raise InvalidInput(f"{path!r} is not a file path", value=path)
        try:
            self._path.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a name not in UTF-8)
            raise InvalidInput(
                f"{path!r} is not a file path SQLite can open: it is not UTF-8 text", value=path
            ) from None
        uri = self._path.startswith("file:")
        if uri and "mode=ro" in self._path:
            read_only = True
        if not uri and not read_only and self._path not in ("", ":memory:"):
            read_only = os.path.exists(self._path) and not os.access(self._path, os.W_OK)
        super().__init__(_Database(self._path, float(timeout), read_only=read_only, uri=uri))

    @property
    def path(self) -> str:
        return self._path

    @property
    def read_only(self) -> bool:
        return self._db.read_only

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        with self._db.transaction() as joined:
            tx = _SqliteTransaction(self._db)
            tx.joined = joined
            yield tx

    def prune(self, before: datetime) -> int:
        db = self._db
        cut = time_text(before)
        with db.transaction():
            ((count,),) = db.execute(_PRUNE_COUNT, (cut, cut)).fetchall()
            db.execute(_PRUNE, (cut, cut))
        return int(count)

    def close(self) -> None:
        """Close the connections; the repository cannot be used afterwards."""
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
