"""Test profiles: `dev` (the default) for quick local runs, `ci` for everything at full size.

`python3 tasks.py test` (the README's test command, which `.ci/run` runs)
sets `NUMINV_HYPOTHESIS_PROFILE=ci`. Tests that name their own
number of examples ask `examples(n)`, which scales it to the profile. Under
`dev`, tests marked `slow` (many processes, a wheel built, every transcript
of a page run in a shell) are skipped; `ci` runs them.

A PostgreSQL server for the tests that need one (`postgres_url`,
`new_schema`, `empty_schema`, `open_postgres`) is found or started by
tests/postgres_server.py. Without a server those tests skip, saying why;
with `NUMINV_REQUIRE_POSTGRES=1` they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    import psycopg

    from numinv.storage.postgres import PostgresRepository
    from numinv.storage.protocol import Repository


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


# The tables a schema keeps, their counters set back to 0 (no repository that read them
# is still open).
_KEPT = ("schema_version", "journal_seq", "settings_version")


class _SchemaStock:
    """Schemas numinv has made and a test emptied, lent again to the next test.

    Making a schema (and dropping it) costs a test about 25 ms; emptying one
    costs 2. A schema comes back only when it can be emptied within a second
    and still has numinv's latest version; otherwise it is dropped.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.free: list[str] = []
        self.made: set[str] = set()
        self.connection: psycopg.Connection[Any] | None = None  # that empties them

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        from numinv.storage.postgres import PostgresRepository

        name = f"numinv_test_{uuid.uuid4().hex[:12]}"
        self.made.add(name)
        PostgresRepository(self.url, schema=name).close()  # creates it
        return name

    def give_back(self, name: str) -> None:
        import psycopg

        from numinv.storage.postgres import SCHEMA_VERSION

        quoted = f'"{name}"'
        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.connect(self.url, autocommit=True)
                self.connection.execute("SET lock_timeout = '1s'")
            connection = self.connection
            with connection.transaction():
                tables = connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                    "AND tablename <> ALL(%s)",
                    (name, list(_KEPT)),
                ).fetchall()
                for (table,) in tables:
                    connection.execute(f'DELETE FROM {quoted}."{table}"')
                connection.execute(f"UPDATE {quoted}.journal_seq SET last = 0")
                connection.execute(f"UPDATE {quoted}.settings_version SET version = 0")
                (found,) = connection.execute(
                    f"SELECT max(version) FROM {quoted}.schema_version"
                ).fetchone() or (None,)
                if found != SCHEMA_VERSION:
                    raise RuntimeError(f"schema {name} is at version {found}")
        except Exception:  # changed beyond emptying: not lent again
            self.made.discard(name)
            _drop(self.url, name)
            return
        self.free.append(name)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        for name in self.made:
            _drop(self.url, name)


@pytest.fixture(scope="session")
def schema_stock(postgres_url: str) -> Iterator[_SchemaStock]:
    """This session's (this worker's) schemas to lend; all dropped at its end."""
    stock = _SchemaStock(postgres_url)
    yield stock
    stock.close()


@pytest.fixture
def empty_schema(schema_stock: _SchemaStock) -> Iterator[Callable[[], str]]:
    """Names empty schemas of numinv's latest version, emptied again when the test ends."""
    lent: list[str] = []

    def take() -> str:
        lent.append(schema_stock.take())
        return lent[-1]

    yield take
    for name in lent:
        schema_stock.give_back(name)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    """A repository of each shipped store: in memory, a SQLite file, an empty PostgreSQL schema."""
    from numinv import InMemoryRepository, SqliteRepository

    if request.param == "memory":
        yield InMemoryRepository()
    elif request.param == "postgres":
        yield request.getfixturevalue("open_postgres")()
    else:
        with SqliteRepository(tmp_path / "numbers.db") as sqlite:
            yield sqlite


@pytest.fixture
def open_postgres(
    postgres_url: str, empty_schema: Callable[[], str]
) -> Iterator[Callable[[], PostgresRepository]]:
    """Opens a `PostgresRepository` on an empty schema; each is closed when the test ends."""
    from numinv.storage.postgres import PostgresRepository

    opened: list[PostgresRepository] = []

    def open_repository() -> PostgresRepository:
        opened.append(PostgresRepository(postgres_url, schema=empty_schema()))
        return opened[-1]

    yield open_repository
    for repository in opened:
        repository.close()
