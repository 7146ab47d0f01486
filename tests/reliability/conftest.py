"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository


@pytest.fixture(params=["memory", "sqlite file", "postgres"])
def two_connections(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Repository, Repository]]:
    """Two repository objects on one store (the in-memory store: the same object twice)."""
    if request.param == "memory":
        shared = InMemoryRepository()
        yield shared, shared
        return
    if request.param == "postgres":
        from numinv.storage.postgres import PostgresRepository

        url, schema = (
            request.getfixturevalue("postgres_url"),
            request.getfixturevalue("empty_schema")(),
        )
        with (
            PostgresRepository(url, schema=schema) as first,
            PostgresRepository(url, schema=schema) as second,
        ):
            yield first, second
        return
    path = tmp_path / "numbers.db"
    with SqliteRepository(path) as first, SqliteRepository(path) as second:
        yield first, second
