"""`PostgresRepository`: the repository in a PostgreSQL schema, opened, migrated and shared."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from numinv.core.checks import keepable
from numinv.errors import InvalidInput
from numinv.storage.postgres.connections import _Database
from numinv.storage.postgres.reads import _Reads
from numinv.storage.postgres.transaction import _PostgresTransaction


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
            ((count,),) = tx._execute(self._db.sql.prune, (before, before)).rows
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
