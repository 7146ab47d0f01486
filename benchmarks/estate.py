"""The inventories the benchmarks measure, built fast and checked against the library's own.

A pool is one site's numbers, the lowest 90 % Used (as `assign_next`, which
takes the lowest first, leaves a pool) and the rest Available, loaded with
`add_range`. Used records are not assigned one call at a time (a million
calls, each a committed transaction): the record `Inventory.assign` makes is
taken from a real assignment on a scratch inventory, copied per number with
that number's own consumer, and stored through one repository transaction
`insert`, the call `Inventory.import_records` ends in. The estate is then
checked through the public API: the first Used number reads back equal to
the real assignment, and the node's counts are as planned.

Beside the site's pool, the customer above it holds a tenth as many
Available numbers (from `CUSTOMER_FIRST`): `get` from the site of one of
them walks up from the site to the customer.

SQLite files are opened by numinv with `synchronous = FULL` (a committed
change survives a power cut); the benchmarks set `synchronous = OFF` on
numinv's writing connection and the floor's alike, so that no fsync is
timed on either side (see docs/performance.md).

PostgreSQL estates are each a fresh schema of one server: the one
`NUMINV_POSTGRES_URL` names, else a throwaway cluster started once per
`Store` (tests/postgres_server.py, itself run with `fsync = off`). numinv's
pool connections and the floor's connect with the same connection string,
which sets `synchronous_commit = off` on each session: no commit waits for
a WAL flush on either side, whatever the server's own settings.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from benchmarks.timing import paused_gc
from numinv import (
    Consumer,
    InMemoryRepository,
    Inventory,
    NumberRecord,
    Observation,
    Repository,
    SqliteRepository,
    Status,
    Use,
)
from numinv.core.numbers import NumberRange, number_range

if TYPE_CHECKING:
    from numinv.storage.postgres import PostgresRepository

__all__ = [
    "CUSTOMER",
    "CUSTOMER_FIRST",
    "DRIFT_EVERY",
    "FIRST",
    "KIND",
    "PG_SESSION",
    "SITE",
    "STORES",
    "SYNCHRONOUS",
    "TAG",
    "Clock",
    "Pool",
    "Store",
    "audit_estate",
    "observations",
    "pool",
]

SITE = "sys.acme.uk.london"
CUSTOMER = "sys.acme.uk"
FIRST = "10000000"
CUSTOMER_FIRST = "20000000"
TAG = "bench"
KIND = "device/cucm/Phone"
STORES = ("memory", "sqlite", "postgres")
# For numinv's writing connection and the floor's: no fsync on either side.
SYNCHRONOUS = "OFF"
# For every PostgreSQL session of numinv's and of the floor's: no commit waits for a WAL flush.
PG_SESSION = "-c synchronous_commit=off"
# Every DRIFT_EVERY-th number is observed on another phone than the one recorded.
DRIFT_EVERY = 100


class Clock:
    """A clock the benchmark moves by hand, so that cooling falls due when it says."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


class Store:
    """Makes empty repositories of one kind: in memory, SQLite files in a temp directory,
    or PostgreSQL schemas on one server (`url`, else `NUMINV_POSTGRES_URL`, else a
    throwaway cluster started here and stopped by `close`)."""

    def __init__(self, name: str, *, url: str | None = None) -> None:
        if name not in STORES:
            raise ValueError(f"unknown store {name!r}; one of {', '.join(STORES)}")
        self.name = name
        self._directory = tempfile.TemporaryDirectory(prefix="numinv-bench-")
        self._opened: list[SqliteRepository] = []
        self._files = 0
        self._stack = contextlib.ExitStack()
        self._schemas: dict[str, PostgresRepository | None] = {}
        self.url = ""
        if name == "postgres":
            self.url = url or self._server()

    def _server(self) -> str:
        from tests.postgres_server import URL_VARIABLE, throwaway_server

        given = os.environ.get(URL_VARIABLE)
        try:
            return given or self._stack.enter_context(throwaway_server())
        except BaseException:
            self._directory.cleanup()
            raise

    @property
    def conninfo(self) -> str:
        """The PostgreSQL connection string of numinv's pools and the floors' connections."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.url, options=PG_SESSION)

    def server_settings(self) -> dict[str, str]:
        """The server's version and durability settings, as a session of ours sees them."""
        import psycopg

        names = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            return {
                name: str(connection.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in names
            }

    def repository(self) -> Repository:
        """A new, empty repository (for SQLite, on a new file; for PostgreSQL, a new schema)."""
        if self.name == "memory":
            return InMemoryRepository()
        if self.name == "postgres":
            from numinv.storage.postgres import PostgresRepository

            schema = self.new_schema()
            opened = PostgresRepository(self.conninfo, schema=schema, pool_size=2)
            self._schemas[schema] = opened
            return opened
        repository = SqliteRepository(self.new_path())
        # The benchmark's one reach inside the adapter: the same `synchronous` as the floor.
        repository._db.connection.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        self._opened.append(repository)
        return repository

    def new_path(self) -> Path:
        """A file name not used yet in this store's directory."""
        self._files += 1
        return Path(self._directory.name) / f"bench-{self._files}.db"

    def new_schema(self) -> str:
        """A PostgreSQL schema name not used yet, dropped by `discard` or `close`."""
        schema = f"numinv_bench_{uuid.uuid4().hex[:12]}"
        self._schemas[schema] = None
        return schema

    def settle(self, repository: Repository) -> None:
        """After an estate is built: PostgreSQL's statistics of its tables brought up to date."""
        schema = getattr(repository, "schema", None)
        if self.name != "postgres" or schema is None:
            return
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            for table in ("records", "holders", "node_counts", "journal"):
                connection.execute(f'VACUUM ANALYZE "{schema}".{table}')

    def discard(self, repository: Repository) -> None:
        """Close a repository and delete what it stored (its file, its schema)."""
        if isinstance(repository, SqliteRepository):
            repository.close()
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(repository.path + suffix)
            return
        schema = getattr(repository, "schema", None)
        if schema is not None:
            self.drop(schema)

    def drop(self, schema: str) -> None:
        """Close numinv's repository of `schema`, if any, and drop the schema."""
        import psycopg

        opened = self._schemas.pop(schema, None)
        if opened is not None:
            opened.close()
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def close(self) -> None:
        """Close every repository opened and delete their files and schemas."""
        for repository in self._opened:
            repository.close()
        self._opened.clear()
        try:
            for schema in list(self._schemas):
                self.drop(schema)
        finally:
            self._directory.cleanup()
            self._stack.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@attrs.frozen
class Pool:
    """A site's numbers: the lowest `used` are Used, the rest Available."""

    inventory: Inventory
    clock: Clock
    numbers: NumberRange
    used: int
    customer: NumberRange | None = None

    @property
    def size(self) -> int:
        return len(self.numbers)

    def part(self, start: int, count: int) -> NumberRange:
        """`count` numbers of the pool from its `start`-th."""
        first = self.numbers.start + start
        return NumberRange(self.numbers.plus, self.numbers.width, first, first + count - 1)


def consumer_id(number: str) -> str:
    return f"phone-{number}"


def pool(store: Store, size: int, used_share: float = 0.9, *, customer: bool = True) -> Pool:
    """A pool of `size` numbers at `SITE`, the lowest `used_share` of them Used.

    With `customer`, `CUSTOMER` also holds `size // 10` Available numbers.
    """
    clock = Clock()
    inventory = Inventory(store.repository(), clock=clock)
    numbers = number_range(FIRST, count=size)
    used = round(size * used_share)
    above = number_range(CUSTOMER_FIRST, count=max(size // 10, 1)) if customer else None
    built = Pool(inventory, clock, numbers, used, above)
    template = _assigned(clock)
    with paused_gc():
        if used:
            with inventory.repository.transaction() as tx:
                tx.insert(_used_records(template, built.part(0, used)))
        if size > used:
            inventory.add_range(SITE, built.part(used, 1).first, count=size - used, tag=TAG)
        if above is not None:
            inventory.add_range(CUSTOMER, above.first, count=len(above), tag=TAG)
    store.settle(inventory.repository)
    _check(built, template)
    return built


def audit_estate(store: Store, size: int) -> Pool:
    """`size` Used numbers, each used by its own phone: what an audit reconciles."""
    return pool(store, size, used_share=1.0, customer=False)


def observations(estate: Pool, variant: str) -> list[Observation]:
    """One per number: its own phone, but every `DRIFT_EVERY`-th on phone `variant`."""
    seen: list[Observation] = []
    for index, number in enumerate(estate.numbers):
        phone = consumer_id(number)
        if index % DRIFT_EVERY == 0:
            phone = f"{phone}-{variant}"
        seen.append(Observation(number, Consumer(KIND, phone, SITE)))
    return seen


def _assigned(clock: Clock) -> NumberRecord:
    """The record `Inventory.assign` makes of `FIRST` for its phone, on a scratch inventory."""
    scratch = Inventory(clock=clock)
    scratch.add_range(SITE, FIRST, count=1, tag=TAG)
    return scratch.assign(FIRST, Consumer(KIND, consumer_id(FIRST), SITE))


def _used_records(template: NumberRecord, numbers: NumberRange) -> Iterator[NumberRecord]:
    """`template` once per number, each with that number's own phone."""
    (use,) = template.uses
    names = [field.name for field in attrs.fields(NumberRecord)]
    values = list(attrs.astuple(template, recurse=False))
    use_values = list(attrs.astuple(use, recurse=False))
    at_number, at_uses = names.index("number"), names.index("uses")
    at_id = [field.name for field in attrs.fields(Use)].index("consumer_id")
    for number in numbers:
        values[at_number] = number
        use_values[at_id] = consumer_id(number)
        values[at_uses] = (Use(*use_values),)
        yield NumberRecord(*values)


def _check(built: Pool, template: NumberRecord) -> None:
    """The estate reads back through the public API as planned."""
    inventory = built.inventory
    if built.used and inventory.get(FIRST, SITE) != template:
        raise AssertionError("a stored Used record differs from what Inventory.assign made")
    counts = inventory.utilization(SITE)[SITE].counts
    expected = {Status.USED: built.used, Status.AVAILABLE: built.size - built.used}
    if any(counts.get(status, 0) != count for status, count in expected.items()):
        raise AssertionError(f"estate counts {dict(counts)}, expected {expected}")
