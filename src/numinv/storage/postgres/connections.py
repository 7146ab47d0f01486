"""The pool and the transaction open on each thread (`_Database`).

Every driver error is translated here, in `_Database.translated`.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final
from urllib.parse import unquote

import psycopg
from psycopg import errors as pg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from numinv.core.checks import keepable
from numinv.core.records import NumberRecord
from numinv.errors import ConcurrentUpdate, InvalidInput, NotFound, StorageError
from numinv.settings import NodeSettings
from numinv.storage.postgres.held import _BEGIN, _Cursors, _Kept, _Open
from numinv.storage.postgres.locks import _Keys, _lock_key, _lock_sql, _wanted
from numinv.storage.postgres.schema import _HELD, _LOCK_CLASS, _MIGRATIONS, _OUR_TABLES, _OURS
from numinv.storage.postgres.statements import _CODEC, _PREPARED, _Sql
from numinv.storage.protocol import ended

# Seconds psycopg_pool tries to open a connection, its waits doubling (1 s, 2 s), before
# it gives up (`_Database.reconnect_failed`). Its own default, five minutes, let the
# waits grow to a minute: a server back after an outage was not asked again for as long.
_RECONNECT: Final = 3.0


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
            bad = error.object[error.start : error.end]
            if any("\ud800" <= character <= "\udfff" for character in bad):
                raise InvalidInput(
                    f"text holds a lone surrogate, which PostgreSQL cannot store: {error}"
                ) from error
            raise InvalidInput(  # a client encoding other than UTF8 (a LATIN1 database's)
                f"text the connection's encoding ({error.encoding}) cannot carry: {bad!r}",
                value=bad,
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
                    return held.execute(sql, parameters).rows
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
        (answer,) = self.cursors.of(connection).wire.run([(sql, parameters)])
        return answer.rows

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
                _roll_back(held.kept)
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
            _roll_back(self.cursors.of(connection))
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


def _roll_back(kept: _Kept) -> None:
    """Roll back; a connection that cannot is closed, and the pool replaces it.

    The `ROLLBACK` goes on the wire (`_Kept.wire`): psycopg deallocates every
    prepared statement of a connection after a `ROLLBACK` it runs itself, the
    wire's too.
    """
    connection = kept.connection
    status = connection.info.transaction_status
    if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            kept.wire.run([("ROLLBACK", ())])
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
