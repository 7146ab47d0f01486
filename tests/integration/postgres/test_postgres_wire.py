"""The wire (`numinv.storage.postgres.wire`): a transaction's statements on libpq, with
psycopg's adapters and errors, answering as psycopg's cursors answer (decision 149)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg

from numinv.storage.postgres import wire
from numinv.storage.postgres.wire import Wire, _numbered


@pytest.fixture
def connection(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        yield connection


def test_placeholders_become_numbered_and_a_doubled_percent_sign_one() -> None:
    assert _numbered("SELECT %s, 'a%%b' LIKE %s") == "SELECT $1, 'a%b' LIKE $2"
    assert _numbered("SELECT 1") == "SELECT 1"


@pytest.mark.parametrize(
    ("value", "cast"),
    [
        ("text with 'quotes', \\ and é", "text"),
        (7, "bigint"),
        (-(2**62), "bigint"),
        (True, "boolean"),
        (0.25, "float8"),
        (datetime(2026, 12, 2, 9, 30, 0, 123456, tzinfo=UTC), "timestamptz"),
        (["a", None, 'b"c', "{d}"], "text[]"),
        ([1, 2, 3], "bigint[]"),
        (None, "text"),
    ],
)
def test_a_value_comes_back_as_a_cursor_gives_it(
    connection: psycopg.Connection[Any], value: object, cast: str
) -> None:
    statement = f"SELECT %s::{cast}"
    (answer,) = Wire(connection).run([(statement, (value,))])
    expected = connection.execute(statement, (value,)).fetchall()
    assert answer.rows == expected
    if isinstance(value, datetime):
        assert answer.rows[0][0] == value


def test_row_counts_are_a_cursors(connection: psycopg.Connection[Any]) -> None:
    connection.execute("CREATE TEMPORARY TABLE t (n int)")
    inserted, updated, returned, nothing = Wire(connection).run(
        [
            ("INSERT INTO t SELECT generate_series(1, %s)", (5,)),
            ("UPDATE t SET n = n + 10 WHERE n > %s", (2,)),
            ("UPDATE t SET n = n + 10 WHERE n > %s RETURNING n", (14,)),
            ("SET LOCAL lock_timeout = '1s'", ()),
        ]
    )
    assert (inserted.rowcount, updated.rowcount) == (5, 3)
    assert (returned.rowcount, sorted(returned.rows)) == (1, [(25,)])
    assert (nothing.rowcount, nothing.rows) == (-1, [])


def test_the_first_failure_is_raised_once_every_answer_came_back(
    connection: psycopg.Connection[Any],
) -> None:
    connection.execute("CREATE TEMPORARY TABLE u (n int PRIMARY KEY)")
    on_the_wire = Wire(connection)
    with pytest.raises(pg.UniqueViolation):
        on_the_wire.run(
            [
                ("BEGIN", ()),
                ("INSERT INTO u VALUES (%s), (%s)", (1, 1)),
                ("INSERT INTO u VALUES (%s)", (2,)),
            ]
        )
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    (rolled_back,) = on_the_wire.run([("ROLLBACK", ())])
    assert rolled_back.rows == []
    assert connection.execute("SELECT count(*) FROM u").fetchall() == [(0,)]
    # the statements prepared on the way still serve, the failed one too
    (done,) = on_the_wire.run([("INSERT INTO u VALUES (%s)", (2,))])
    assert done.rowcount == 1


def test_a_statement_is_prepared_in_the_pipeline_that_first_runs_it_once(
    connection: psycopg.Connection[Any],
) -> None:
    on_the_wire = Wire(connection)
    first, again = on_the_wire.run([("SELECT %s::int * 2", (3,)), ("SELECT %s::int * 2", (4,))])
    assert (first.rows, again.rows) == ([(6,)], [(8,)])
    names = connection.execute("SELECT name FROM pg_prepared_statements").fetchall()
    assert names == [(name.decode(),) for name in on_the_wire.prepared.values()]
    assert len(names) == 1


def test_a_preparation_a_failure_skipped_is_made_at_the_statements_next_use(
    connection: psycopg.Connection[Any],
) -> None:
    """A statement after the failing one was never prepared: counted as prepared, every
    later use of it on the connection would fail ("prepared statement does not exist")."""
    on_the_wire = Wire(connection)
    after = "SELECT %s::int + 1"
    with pytest.raises(pg.DivisionByZero):
        on_the_wire.run([("BEGIN", ()), ("SELECT 1 / %s::int", (0,)), (after, (1,))])
    assert after not in on_the_wire.prepared
    on_the_wire.run([("ROLLBACK", ())])
    assert on_the_wire.run([(after, (1,))])[0].rows == [(2,)]
    assert after in on_the_wire.prepared
    count = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchall()
    assert count == [(len(on_the_wire.prepared),)]


def _on_the_server(connection: psycopg.Connection[Any]) -> list[str]:
    rows = connection.execute("SELECT statement FROM pg_prepared_statements ORDER BY name")
    return [statement for (statement,) in rows.fetchall()]


@pytest.fixture(params=[True, False], ids=["libpq close", "SQL DEALLOCATE"])
def two_kept(
    request: pytest.FixtureRequest,
    connection: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Wire:
    """A wire keeping two statements, deallocating by libpq's message or by SQL."""
    if request.param and psycopg.pq.version() < 170000:
        pytest.skip("libpq before 17 has no message to close a prepared statement")
    monkeypatch.setattr(wire, "_CLOSE", request.param)
    monkeypatch.setattr(wire, "_PREPARED", 2)
    return Wire(connection)


def test_past_the_statements_kept_the_least_recently_run_is_deallocated(
    connection: psycopg.Connection[Any], two_kept: Wire
) -> None:
    """A process meets many rare statements; the ones it runs all the time stay prepared."""
    on_the_wire = two_kept
    a, b, c = (f"SELECT %s::int + {n}" for n in range(3))
    for statement in (a, b, a, c):  # b is the least recently run when c comes
        assert on_the_wire.run([(statement, (1,))])[0].rows[0][0] > 0
    assert list(on_the_wire.prepared) == [a, c]
    assert sorted(_on_the_server(connection)) == sorted(_numbered(s) for s in (a, c))
    (answer,) = on_the_wire.run([(b, (1,))])  # back again: a goes
    assert answer.rows == [(2,)]
    assert list(on_the_wire.prepared) == [c, b]
    assert sorted(_on_the_server(connection)) == sorted(_numbered(s) for s in (c, b))


def test_a_deallocation_a_failure_skipped_keeps_the_statement_prepared(
    connection: psycopg.Connection[Any], two_kept: Wire
) -> None:
    on_the_wire = two_kept
    kept = "SELECT %s::int * 3"
    on_the_wire.run([("BEGIN ISOLATION LEVEL READ COMMITTED", ()), (kept, (1,))])
    with pytest.raises(pg.DivisionByZero):  # each new statement evicts one kept
        on_the_wire.run([("SELECT 1 / %s::int", (0,)), ("SELECT %s::int", (1,))])
    assert {"BEGIN ISOLATION LEVEL READ COMMITTED", kept} <= set(on_the_wire.prepared)
    on_the_wire.run([("ROLLBACK", ())])  # deallocates in a transaction no more
    assert sorted(_on_the_server(connection)) == sorted(map(_numbered, on_the_wire.prepared))
    assert len(on_the_wire.prepared) <= 2


def test_a_value_that_cannot_be_sent_fails_the_call_before_any_statement_is_evicted(
    connection: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wire, "_PREPARED", 2)
    on_the_wire = Wire(connection)
    kept = [f"SELECT %s::int + {n}" for n in range(2)]
    for statement in kept:
        on_the_wire.run([(statement, (1,))])
    with pytest.raises(psycopg.ProgrammingError, match="cannot adapt"):
        on_the_wire.run([("SELECT %s::text", (object(),))])
    assert list(on_the_wire.prepared) == kept
    assert sorted(_on_the_server(connection)) == sorted(map(_numbered, kept))


def test_a_pipeline_of_more_new_statements_than_kept_sends_the_rest_unnamed(
    connection: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wire, "_PREPARED", 2)
    on_the_wire = Wire(connection)
    answers = on_the_wire.run([(f"SELECT %s::int + {n}", (1,)) for n in range(4)])
    assert [answer.rows for answer in answers] == [[(1 + n,)] for n in range(4)]
    assert len(on_the_wire.prepared) == 2
    assert len(_on_the_server(connection)) == 2


def test_a_connection_the_server_ended_fails_as_psycopg_fails_it(
    connection: psycopg.Connection[Any], postgres_url: str
) -> None:
    """libpq's own failure has no SQLSTATE: it is `OperationalError`, which the adapter
    reads as a lost connection (a commit's outcome unknown, the pool checked)."""
    on_the_wire = Wire(connection)
    assert on_the_wire.run([("SELECT 1", ())])[0].rows == [(1,)]
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (connection.pgconn.backend_pid,))
    with pytest.raises(psycopg.OperationalError):
        on_the_wire.run([("BEGIN", ()), ("SELECT 1", ())])
    assert connection.broken


def test_a_statement_the_server_cannot_prepare_fails_and_the_connection_goes_on(
    connection: psycopg.Connection[Any],
) -> None:
    on_the_wire = Wire(connection)
    with pytest.raises(pg.SyntaxError):
        on_the_wire.run([("SELEC %s", (1,))])
    assert on_the_wire.prepared == {}
    assert on_the_wire.run([("SELECT %s::int", (1,))])[0].rows == [(1,)]


def test_a_connection_on_a_descriptor_past_1023_is_waited_for(postgres_url: str) -> None:
    """A host with many files open gets connections numbered past `select`'s limit."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit of open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    opened = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            assert connection.pgconn.socket > 1023
            answer = Wire(connection).run([("SELECT pg_sleep(0.05), %s::int", (7,))])
            assert answer[0].rows == [("", 7)]
    finally:
        for descriptor in opened:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_inventory_on_few_statements_kept_works_and_its_server_agrees(
    repository: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With four statements kept a connection, nearly every statement evicts another, in
    transactions that commit and that are refused and roll back."""
    from numinv import Consumer, InvalidTransition, Inventory, Status

    monkeypatch.setattr(wire, "_PREPARED", 4)
    inventory = Inventory(repository)
    inventory.add_range("site", "+12025550100", count=20)
    phones = [Consumer("device/cucm/Phone", f"phone-{n}", "site") for n in range(6)]
    taken = [inventory.assign_next(phone).number for phone in phones]
    assert len(set(taken)) == 6
    with pytest.raises(InvalidTransition):  # refused inside its transaction: rolled back
        inventory.unreserve(taken[0], "site")
    inventory.reserve("+12025550119", "site", tag="kept")
    inventory.unassign(taken[0], phones[0])
    counts = inventory.repository.counts("site")["site"]
    assert (counts[Status.USED], counts[Status.RESERVED]) == (5, 1)
    assert len(inventory.changes(after=0, limit=100)) == 20 + 6 + 2
    for kept in list(repository._db.cursors.kept.values()):  # every pool connection
        on_the_wire = kept.wire
        assert len(on_the_wire.prepared) <= 4
        names = {name.decode() for name in on_the_wire.prepared.values()}
        on_the_server = kept.connection.execute(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE 'numinv%'"
        )
        assert {name for (name,) in on_the_server.fetchall()} == names  # none left behind
