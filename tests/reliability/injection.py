"""Faults injected inside the stores, from the tests: no hook in production code.

`MemoryFaults` wraps every internal mutation of `InMemoryRepository` (the
sorted indexes, the name indexes, the journal, the state's write steps and
its top-level dicts) so that the k-th call raises, once, either just before
the mutation or just after it. `SqliteFaults` puts a proxy in front of the
store's write connection so that the k-th statement raises, before SQLite
runs it or after. A dry run (not armed) counts the points.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from numinv.storage import memory
from numinv.storage.memory import InMemoryRepository
from numinv.storage.sorted_keys import SortedKeys
from numinv.storage.sqlite import SqliteRepository


class Fault(Exception):
    """An injected fault that is not a KeyboardInterrupt."""


class Points:
    """Counts fault points and raises at the armed one, once."""

    def __init__(self) -> None:
        self.count = 0
        self.fail_at: int | None = None
        self.error: type[BaseException] = KeyboardInterrupt
        self.where: str = ""
        self.live = False

    def arm(self, fail_at: int | None, error: type[BaseException] = KeyboardInterrupt) -> None:
        self.count, self.fail_at, self.error, self.where = 0, fail_at, error, ""

    def point(self, where: str) -> None:
        if not self.live:
            return
        self.count += 1
        if self.count == self.fail_at:
            self.fail_at = None  # once: the rollback that follows runs undisturbed
            self.where = where
            raise self.error(f"injected at point {self.count}: {where}")


# -- the in-memory store -----------------------------------------------------------

_MUTATORS: tuple[tuple[type, str], ...] = (
    (SortedKeys, "add"),
    (SortedKeys, "remove"),
    (SortedKeys, "discard"),
    (SortedKeys, "ensure"),
    (SortedKeys, "update"),
    (memory._MultiIndex, "add"),
    (memory._MultiIndex, "discard"),
    (memory._Journal, "append"),
    (memory._State, "index"),
    (memory._State, "set_entry"),
    (memory._State, "indexed"),
    (memory._State, "unindexed"),
    (memory._State, "write"),
    (memory._State, "put_range"),
    (memory._State, "retire"),
    (memory._State, "configure"),
    (memory._State, "write_journal"),
)


def _wrapped(points: Points, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        points.point(f"before {name}")
        result = original(*args, **kwargs)
        points.point(f"after {name}")
        return result

    return call


class _FaultyDict(dict):  # type: ignore[type-arg]
    """A dict whose writes are fault points (before and after each)."""

    points: Points
    name: str

    def _around(self, method: str, *args: Any) -> Any:
        self.points.point(f"before {self.name}.{method}")
        result = getattr(dict, method)(self, *args)
        self.points.point(f"after {self.name}.{method}")
        return result

    def __setitem__(self, key: Any, value: Any) -> None:
        self._around("__setitem__", key, value)

    def __delitem__(self, key: Any) -> None:
        self._around("__delitem__", key)

    def pop(self, *args: Any) -> Any:
        return self._around("pop", *args)

    def setdefault(self, *args: Any) -> Any:
        return self._around("setdefault", *args)

    def update(self, *args: Any) -> None:  # type: ignore[override]
        self._around("update", *args)


_DICTS = ("first", "elsewhere", "nodes", "node_place", "settings", "retired")


class MemoryFaults(Points):
    """Fault points at every internal mutation of an in-memory repository."""

    @contextmanager
    def installed(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        for owner, name in _MUTATORS:
            original = getattr(owner, name)
            monkeypatch.setattr(owner, name, _wrapped(self, f"{owner.__name__}.{name}", original))
        yield

    def watch(self, repository: InMemoryRepository) -> None:
        """Make the repository's top-level dicts fault points too."""
        state = repository._state
        for name in _DICTS:
            faulty = _FaultyDict(getattr(state, name))
            faulty.points, faulty.name = self, name
            setattr(state, name, faulty)


# -- SQLite ---------------------------------------------------------------------------


class _FaultyConnection:
    """The write connection, each statement a fault point before and after it runs."""

    def __init__(self, connection: sqlite3.Connection, points: Points) -> None:
        self._connection = connection
        self._points = points

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        head = " ".join(sql.split()[:3])
        self._points.point(f"before {head}")
        cursor = self._connection.execute(sql, parameters)
        self._points.point(f"after {head}")
        return cursor

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        head = " ".join(sql.split()[:3])
        self._points.point(f"before many {head}")
        points = self._points

        def each() -> Iterator[Any]:
            for row in rows:
                points.point(f"row of {head}")
                yield row

        cursor = self._connection.executemany(sql, each())
        self._points.point(f"after many {head}")
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class SqliteFaults(Points):
    """Fault points at every statement (and every row of a bulk statement) of a SQLite store."""

    def watch(self, repository: SqliteRepository) -> None:
        db = repository._db
        db.connection = _FaultyConnection(db.connection, self)  # type: ignore[assignment]
        if db.memory:
            db.reader = db.connection
