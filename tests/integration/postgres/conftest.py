"""Fixtures for tests on a real PostgreSQL server (`postgres_url`, in tests/conftest.py).

Without a server the tests skip, saying why; with `NUMINV_REQUIRE_POSTGRES=1`
they fail instead. Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def _drop(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def new_schema(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Makes names of fresh schemas, each dropped when the test ends."""
    made: list[str] = []

    def make() -> str:
        made.append(f"numinv_test_{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    for schema in made:
        _drop(postgres_url, schema)


@pytest.fixture
def schema(new_schema: Callable[[], str]) -> str:
    """A fresh schema name for this test."""
    return new_schema()


@pytest.fixture
def sql(postgres_url: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Runs SQL on a connection of its own (the side door past the repository)."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:

        def run(statement: str, *parameters: Any) -> list[tuple[Any, ...]]:
            cursor = connection.execute(statement, parameters or None)
            return cursor.fetchall() if cursor.description else []

        yield run
