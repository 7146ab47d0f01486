"""Fixtures for tests on a real PostgreSQL server, found or started by tests/postgres_server.py.

Without a server the tests skip, saying why; with `NUMINV_REQUIRE_POSTGRES=1`
they fail instead. Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.postgres_server import REQUIRE_VARIABLE, ServerUnavailable, required, server_url


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"{REQUIRE_VARIABLE} is set, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server for this test session."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as error:
        _unavailable(f"the postgres extra is not installed ({error})")
    server = server_url()
    try:
        url = server.__enter__()
    except ServerUnavailable as error:
        _unavailable(f"no PostgreSQL server: {error}")
        raise
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


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
