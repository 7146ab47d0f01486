"""Edges of the PostgreSQL store a fourth mutation probe changed without a test failing:
errors translated for the caller to act on, scans at their bounds, counts after a
refused batch, names PostgreSQL would cut or cannot keep, secrets in messages."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import psycopg
import pytest

from numinv import NumberRecord, Status
from numinv.core.numbers import number_range
from numinv.errors import ConcurrentUpdate, InvalidInput
from numinv.settings import NodeSettings
from numinv.storage.postgres import PostgresRepository
from numinv.storage.protocol import Query

NODE = "sys.acme.uk"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SQL = Callable[..., list[tuple[Any, ...]]]


def record(number: str, **fields: Any) -> NumberRecord:
    return NumberRecord(number=number, hierarchy=NODE, **fields)


def test_a_range_load_meeting_keys_another_writer_committed_meanwhile_is_a_lost_race(
    repository: PostgresRepository, sql: SQL
) -> None:
    """Its check saw nothing (the other load was not committed); its COPY waited for the
    other's keys and met them once committed: `ConcurrentUpdate`, which is run again."""
    first = repository.transaction()
    tx = first.__enter__()
    tx.insert_range(number_range("1000", count=50), record("0"))
    outcome: list[str] = []

    def second() -> None:
        try:
            with repository.transaction() as other:
                other.insert_range(number_range("1040", count=20), record("0"))
            outcome.append("stored")
        except Exception as error:
            outcome.append(type(error).__name__)

    loader = threading.Thread(target=second)
    loader.start()
    deadline = time.monotonic() + 20
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    while sql(waiting) == [(0,)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sql(waiting) != [(0,)], "the second load never waited for the first"
    first.__exit__(None, None, None)
    loader.join(30)
    assert outcome == ["ConcurrentUpdate"]


def test_a_scan_by_prefix_after_a_number_below_it_stays_in_the_prefix(
    repository: PostgresRepository,
) -> None:
    with repository.transaction() as tx:
        tx.insert([record(number) for number in ("1500", "1600", "2000", "2100", "3000")])
    found = repository.scan(Query(NODE, prefix="2", after="1500"))
    assert [r.number for r in found] == ["2000", "2100"]


def test_a_scan_for_due_records_with_limit_0_finds_none(repository: PostgresRepository) -> None:
    cooling = {"status": Status.COOLING, "release_date": NOW - timedelta(days=1)}
    with repository.transaction() as tx:
        tx.insert([record(f"100{n}", **cooling) for n in range(3)])
    assert repository.scan(Query(NODE, Status.COOLING, due_by=NOW, limit=0)) == []
    with repository.transaction() as tx:
        assert tx.claim(Query(NODE, Status.COOLING, due_by=NOW, limit=0)) == []


def test_a_stale_replace_of_a_row_held_locked_at_a_newer_version_is_a_lost_race(
    repository: PostgresRepository,
) -> None:
    with repository.transaction() as tx:
        tx.insert([record("1000")])
    stale = repository.get("1000", NODE)
    assert stale is not None
    with repository.transaction() as tx:
        tx.replace([(stale, attrs.evolve(stale, description="x", version=stale.version + 1))])
    with repository.transaction() as tx:
        tx.get("1000", NODE)  # locked, at version 2
        with pytest.raises(ConcurrentUpdate):
            tx.replace([(stale, attrs.evolve(stale, description="y", version=stale.version + 1))])
    kept = repository.get("1000", NODE)
    assert kept is not None
    assert (kept.description, kept.version) == ("x", 2)


def test_counts_stay_as_the_records_after_a_batch_refused_part_way(
    repository: PostgresRepository,
) -> None:
    """The host catches the refusal and commits what else it did: the counts of the
    refused batch's first changes are put back with them."""
    with repository.transaction() as tx:
        tx.insert([record("1000"), record("2000")])
    a, b = repository.get("1000", NODE), repository.get("2000", NODE)
    assert a is not None
    assert b is not None
    reserved = attrs.evolve(a, status=Status.RESERVED, reserved_for="ann", version=a.version + 1)
    described = attrs.evolve(reserved, description="x", version=reserved.version + 1)
    stale = attrs.evolve(b, version=b.version + 5)
    with repository.transaction() as tx, pytest.raises(ConcurrentUpdate):
        tx.replace(
            [
                (a, reserved),
                (reserved, described),
                (stale, attrs.evolve(stale, version=stale.version + 1)),
            ]
        )
    stored = Counter(r.status for r in repository.scan(Query(NODE)))
    counted = {status: n for status, n in repository.counts()[NODE].items() if n}
    assert stored == Counter({Status.AVAILABLE: 2})
    assert counted == {Status.AVAILABLE: 2}


def test_configure_refuses_a_node_postgresql_cannot_keep_and_the_transaction_goes_on(
    repository: PostgresRepository,
) -> None:
    with repository.transaction() as tx:
        with pytest.raises(InvalidInput):
            tx.configure("sys.a\x00b", NodeSettings(cooling_days=30))
        tx.insert([record("1000")])
    assert repository.get("1000", NODE) is not None


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://numinv@127.0.0.1:1/db?password=Secr%zzet&sslmode=require",
        "postgresql://numinv@127.0.0.1:1/db?sslmode=require&password=Secr%zzet&connect_timeout=2",
    ],
    ids=["then-another-parameter", "between-parameters"],
)
def test_a_password_among_the_urls_parameters_never_shows(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        PostgresRepository(url, schema="x", timeout=2)
    assert "Secr" not in str(refused.value)
    assert "zzet" not in str(refused.value)


def test_a_schema_name_over_63_bytes_in_fewer_characters_is_refused(postgres_url: str) -> None:
    """PostgreSQL cuts an identifier to 63 bytes: two 38-letter names of 64 bytes that
    differ in their last letter would be one schema, and share its records."""
    stem = uuid.uuid4().hex[:9] + "ж" * 27  # 63 bytes
    for name in (stem + "a", stem + "b"):
        with pytest.raises(InvalidInput, match="63 bytes"):
            PostgresRepository(postgres_url, schema=name)


@pytest.fixture
def latin1_url(postgres_url: str) -> Iterator[str]:
    """A database in LATIN1 (the server's, a DBA's choice), dropped after the test."""
    name = f"numinv_latin1_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
            "TEMPLATE template0"
        )
    try:
        yield psycopg.conninfo.make_conninfo(postgres_url, dbname=name)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.parametrize("client", ["UTF8", None], ids=["utf8-client", "latin1-client"])
def test_text_a_latin1_database_cannot_hold_is_refused_as_the_callers(
    latin1_url: str, client: str | None
) -> None:
    """The caller's data, not a failure of the store: `InvalidInput`, naming the text,
    whether the server (a UTF8 client) or psycopg (a LATIN1 client) meets it first."""
    url = latin1_url if client is None else f"{latin1_url} client_encoding={client}"
    with PostgresRepository(url, schema=f"s_{uuid.uuid4().hex[:8]}") as repository:
        with pytest.raises(InvalidInput) as refused, repository.transaction() as tx:
            tx.insert([record("1000", description="price 5 €")])
        assert "surrogate" not in str(refused.value)
        assert repository.get("1000", NODE) is None
        with repository.transaction() as tx:
            tx.insert([record("1000", description="price 5 £")])  # LATIN1 has it
        stored = repository.get("1000", NODE)
        assert stored is not None
        assert stored.description == "price 5 £"
