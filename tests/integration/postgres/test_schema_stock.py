"""The tests' stock of schemas (tests/conftest.py): a schema given back is lent again as new."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from numinv import Consumer, Inventory
from numinv.core.numbers import number_range
from numinv.storage.postgres import PostgresRepository
from numinv.storage.protocol import Query

SITE = "sys.acme.uk.london"


def _everything(repository: PostgresRepository) -> dict[str, Any]:
    numbers = number_range("1000", count=10)
    return {
        "records": repository.within(numbers),
        "counts": repository.counts(),
        "scan": repository.scan(Query(SITE, limit=100)),
        "changes": repository.changes(0, 100),
        "settings": repository.node_settings(None),
        "retired": repository.retired(numbers, SITE),
        "held": repository.held_by("SEP1000"),
        "e164": repository.with_e164("+441000"),
        "next release": repository.next_release(),
    }


def _rows(url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema (the side door past the repository)."""
    with psycopg.connect(url, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> %s",
            (schema, "schema_version"),
        ).fetchall()
        return {
            table: connection.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1').fetchall()
            for (table,) in tables
        }


def test_a_schema_given_back_is_lent_again_with_nothing_left_in_it(
    postgres_url: str, schema_stock: Any
) -> None:
    name = schema_stock.take()
    new = _rows(postgres_url, name)
    with PostgresRepository(postgres_url, schema=name) as repository:
        empty = _everything(repository)
        inventory = Inventory(repository)
        inventory.configure(SITE, auto_cooling=True, cooling_days=3)
        inventory.add_range(SITE, "1000", count=10)
        phone = Consumer("device/cucm/Phone", "SEP1000", SITE)
        inventory.assign("1000", phone)
        inventory.associate_e164("1000", SITE, "+441000")
        inventory.assign("1001", Consumer("device/cucm/Phone", "SEP1001", SITE))
        inventory.unassign("1001", Consumer("device/cucm/Phone", "SEP1001", SITE))
        inventory.delete_range(SITE, "1005", count=2)
        assert _everything(repository) != empty
    assert all(_rows(postgres_url, name)[table] for table in ("holders", "e164", "retired"))
    schema_stock.give_back(name)
    again = schema_stock.take()
    assert again == name
    try:
        assert _rows(postgres_url, again) == new
        with PostgresRepository(postgres_url, schema=again) as repository:
            assert _everything(repository) == empty
            Inventory(repository).add_range(SITE, "1000", count=1)
            assert [change.seq for change in repository.changes(0, 10)] == [1]
            assert repository.history("1000")[0].at <= datetime.now(UTC)
    finally:
        schema_stock.give_back(again)
