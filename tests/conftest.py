"""Test profiles: `dev` (the default) for quick local runs, `ci` for everything at full size.

`.ci/run` sets `NUMINV_HYPOTHESIS_PROFILE=ci`. Tests that name their own
number of examples ask `examples(n)`, which scales it to the profile. Under
`dev`, tests marked `slow` (many processes, a wheel built, every transcript
of a page run in a shell) are skipped; `ci` runs them.

A PostgreSQL server for the tests that need one (`postgres_url`,
`new_schema`, `open_postgres`) is found or started by tests/postgres_server.py.
Without a server those tests skip, saying why; with
`NUMINV_REQUIRE_POSTGRES=1` they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from tests.postgres_server import REQUIRE_VARIABLE, ServerUnavailable, required, server_url

PROFILE = os.environ.get("NUMINV_HYPOTHESIS_PROFILE", "dev")
if PROFILE not in ("dev", "ci"):
    raise RuntimeError(f"NUMINV_HYPOTHESIS_PROFILE must be dev or ci, not {PROFILE!r}")

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(PROFILE)

if TYPE_CHECKING:
    from numinv.storage.postgres import PostgresRepository


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PROFILE == "ci":
        return
    skip = pytest.mark.skip(reason="slow: runs under NUMINV_HYPOTHESIS_PROFILE=ci")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


# -- PostgreSQL -------------------------------------------------------------------------


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
def open_postgres(
    postgres_url: str, new_schema: Callable[[], str]
) -> Iterator[Callable[[], PostgresRepository]]:
    """Opens a `PostgresRepository` on a fresh schema; each is closed when the test ends."""
    from numinv.storage.postgres import PostgresRepository

    opened: list[PostgresRepository] = []

    def open_repository() -> PostgresRepository:
        opened.append(PostgresRepository(postgres_url, schema=new_schema()))
        return opened[-1]

    yield open_repository
    for repository in opened:
        repository.close()
