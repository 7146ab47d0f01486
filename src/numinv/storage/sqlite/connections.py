"""The connections of one file (`_Database`); every driver error translated."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from numinv.core.records import NumberRecord, Status
from numinv.errors import ConcurrentUpdate, InvalidInput, NumInvError, StorageError
from numinv.storage.protocol import ended
from numinv.storage.rows import TEXT
from numinv.storage.sqlite.schema import _HAS_SCHEMA, _MIGRATIONS, SCHEMA_VERSION
from numinv.storage.sqlite.statements import _ADD_COUNT, _DROP_COUNT

T = TypeVar("T")


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
