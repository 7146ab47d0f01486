"""What the server does for a page of one node: a few index pages, whatever the estate.

Each statement is planned the two ways PostgreSQL plans a prepared statement:
with the values given (its first executions) and generic (afterwards, when it
judges that cheaper). A scan written with ranges on the node positioned on the
node alone and walked its every entry (a search by prefix at a node of 125,000
numbers read 618 pages, here 179); one written with `hierarchy = %s` let the
planner walk `records_by_number` through every number of the table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from numinv import Inventory, Status
from numinv.storage.postgres import PostgresRepository
from numinv.storage.postgres.wire import Wire
from numinv.storage.protocol import Query

BIG = "sys.acme.big"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _types(parameters: list[Any]) -> str:
    def sql_type(value: Any) -> str:
        if isinstance(value, datetime):
            return "timestamptz"
        return "bigint" if isinstance(value, int) else "text"

    return ", ".join(sql_type(value) for value in parameters)


def _literal(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


def _pages_read(sql: Any, statement: str, parameters: list[Any], mode: str) -> tuple[int, str]:
    """Index and table pages the statement touched, and its plan, as `mode` plans it."""
    numbered = iter(range(1, len(parameters) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", statement)
    name = f"q_{abs(hash((statement, mode))) % 10**9}"
    sql(f"SET plan_cache_mode = {mode}")
    sql(f"PREPARE {name}({_types(parameters)}) AS {prepared}")
    try:
        values = ", ".join(map(_literal, parameters))
        ((plan,),) = sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {name}({values})")
    finally:
        sql(f"DEALLOCATE {name}")
    top = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    pages = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
    return pages, json.dumps(top)


@pytest.fixture
def estate(open_postgres: Callable[[], PostgresRepository], sql: Any) -> Any:
    """Eight sites of 25,000 numbers each; the last (BIG) with reservations and coolings."""
    repository = open_postgres()
    inventory = Inventory(repository, clock=lambda: NOW)
    for site in range(8):
        node = BIG if site == 7 else f"sys.acme.site{site}"
        inventory.add_range(node, f"{20000000 + site * 1_000_000}", count=25_000)
    inventory.reserve_range(BIG, "27024000", count=20)
    inventory.cool_range(BIG, "27000000", count=3_000, days=30)
    inventory.cool_range(BIG, "27010000", count=5, days=1)
    inventory.reserve_range(BIG, "27012000", count=1_100, days=1)  # many due: walked
    sql(f"VACUUM ANALYZE {repository._db.quoted}.records")  # settled pages, fresh statistics
    return repository, NOW + timedelta(days=2)


@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize(
    ("name", "status", "prefix", "after", "due"),
    [
        ("prefix of another site's numbers", None, "2300123", None, False),
        ("prefix near the end", None, "2702499", None, False),
        ("page after a cursor near the end", None, None, "27024990", False),
        ("a rare status", Status.RESERVED, None, None, False),
        ("a status past a cursor", Status.AVAILABLE, None, "27023000", False),
        ("the few due among many cooling", Status.COOLING, None, None, True),
        ("the few due, by prefix", Status.COOLING, "270100", None, True),
        ("the few due, by a prefix of many cooling", Status.COOLING, "270", None, True),
        ("the few due, by a prefix of the node", Status.COOLING, "27", None, True),
        ("the many due, in number order", Status.RESERVED, "2701", "27012500", True),
    ],
)
def test_a_page_of_a_large_node_reads_a_few_pages(
    estate: Any,
    sql: Any,
    mode: str,
    name: str,
    status: Status | None,
    prefix: str | None,
    after: str | None,
    due: bool,
) -> None:
    repository, now = estate
    statements: list[tuple[str, list[Any]]] = []
    real = Wire.run

    def traced(wire: Wire, sent: Sequence[tuple[str, Sequence[Any]]]) -> Any:
        statements.extend(
            (query, list(params)) for query, params in sent if query.startswith(("SELECT", "WITH"))
        )
        return real(wire, sent)

    query = Query(BIG, status, prefix, after, 10, due_by=now if due else None)
    Wire.run = traced  # type: ignore[method-assign]
    try:
        found = repository.scan(query)
    finally:
        Wire.run = real  # type: ignore[method-assign]
    assert statements
    if due and status is Status.COOLING:
        assert [record.number for record in found] == [f"2701000{n}" for n in range(5)]
    elif due:
        assert [record.number for record in found] == [f"{27012501 + n}" for n in range(10)]
    for statement, parameters in statements:
        pages, plan = _pages_read(sql, statement, parameters, mode)
        assert pages <= 100, f"{name}: {pages} pages\n{statement}\n{plan}"
        if not statement.startswith("WITH"):  # a gather may join back by number
            assert "records_by_number" not in plan, f"{name}\n{plan}"


@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
def test_a_claim_in_a_pool_drained_since_its_statistics_reads_a_few_pages(
    open_postgres: Callable[[], PostgresRepository], sql: Any, mode: str
) -> None:
    """Written `status = %s`, the planner read the order as the number's alone, which the
    primary key gives too: with statistics from when the pool was all Available, a claim
    walked the key past every number taken since (eight processes drained a pool at half
    the speed of four)."""
    repository = open_postgres()
    Inventory(repository, clock=lambda: NOW).add_range(BIG, "27000000", count=25_000)
    table = f"{repository._db.quoted}.records"
    sql(f"VACUUM ANALYZE {table}")  # all Available, as a new pool is when analysed
    sql(f"UPDATE {table} SET status = 'Used' WHERE number < '27020000'")
    sql(f"VACUUM {table}")  # settled pages; the statistics stay the old ones
    statements: list[tuple[str, list[Any]]] = []
    real = Wire.run

    def traced(wire: Wire, sent: Sequence[tuple[str, Sequence[Any]]]) -> Any:
        statements.extend((query, list(params)) for query, params in sent)
        return real(wire, sent)

    Wire.run = traced  # type: ignore[method-assign]
    try:
        with repository.transaction() as tx:
            (claimed,) = tx.claim(Query(BIG, Status.AVAILABLE, limit=1))
    finally:
        Wire.run = real  # type: ignore[method-assign]
    assert claimed.number == "27020000"
    claim = next(s for s in statements if "SKIP LOCKED" in s[0])
    _, plan = _pages_read(sql, claim[0].replace(" FOR UPDATE SKIP LOCKED", ""), claim[1], mode)
    # The pages read depend on dead index entries another test's snapshot keeps; the
    # index is what the statement decides.
    assert '"Index Name": "records_by_status"' in plan, plan
    assert "records_pkey" not in plan, plan
