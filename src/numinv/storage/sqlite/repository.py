"""`SqliteRepository`: the repository in an SQLite file or in memory."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from numinv.errors import InvalidInput
from numinv.storage.rows import time_text
from numinv.storage.sqlite.connections import _Database
from numinv.storage.sqlite.reads import _Reads
from numinv.storage.sqlite.statements import _PRUNE, _PRUNE_COUNT
from numinv.storage.sqlite.transaction import _SqliteTransaction


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
