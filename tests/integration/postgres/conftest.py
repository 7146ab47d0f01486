"""Fixtures for tests on a real PostgreSQL server (`postgres_url`, `new_schema`: tests/conftest.py).

Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def schema(new_schema: Callable[[], str]) -> str:
    """A fresh schema name for this test."""
    return new_schema()


@pytest.fixture
def repository(postgres_url: str, schema: str) -> Iterator[Any]:
    """A `PostgresRepository` on this test's schema, waiting at most 5 s for a row lock."""
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema, lock_timeout=5) as repository:
        yield repository


@pytest.fixture
def sql(postgres_url: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Runs SQL on a connection of its own (the side door past the repository)."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:

        def run(statement: str, *parameters: Any) -> list[tuple[Any, ...]]:
            cursor = connection.execute(statement, parameters or None)
            return cursor.fetchall() if cursor.description else []

        yield run
