"""Part two of SPEC.md (sections 15-22), checked on every shipped store.

`make(**options)` builds an `Inventory` on the store under test, with the
test's clock; calling it again gives a second instance on the same store,
as a second service instance would open it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from numinv import InMemoryRepository, Inventory, Repository, SqliteRepository
from tests.clock import Clock

MakeInventory = Callable[..., Inventory]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Repository]]:
    """Opens the store under test; every call after the first opens it again."""
    opened: list[Repository] = []
    memory = InMemoryRepository()
    schema = ""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("empty_schema")()

    def open_store() -> Repository:
        if request.param == "memory":
            repository: Repository = memory
        elif request.param == "sqlite":
            repository = SqliteRepository(tmp_path / "numbers.db")
        else:
            from numinv.storage.postgres import PostgresRepository

            repository = PostgresRepository(url, schema=schema)
        opened.append(repository)
        return repository

    yield open_store
    for repository in opened:
        close = getattr(repository, "close", None)
        if close is not None:
            close()


@pytest.fixture
def make(store: Callable[[], Repository], clock: Clock) -> MakeInventory:
    def make(**options: Any) -> Inventory:
        options.setdefault("clock", clock)
        return Inventory(store(), **options)

    return make
