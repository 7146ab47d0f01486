"""The lifecycle state machine, and the inventory's own calls, over PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from numinv import Consumer, Inventory, Repository, Status
from numinv.testing import InventoryMachine
from tests.examples import examples


class PostgresInventoryMachine(InventoryMachine):
    url = ""

    def make_repository(self) -> Repository:
        from numinv.storage.postgres import PostgresRepository

        self.schema = f"numinv_machine_{uuid.uuid4().hex[:12]}"
        self.postgres = PostgresRepository(self.url, schema=self.schema, pool_size=2)
        return self.postgres

    def teardown(self) -> None:
        import psycopg

        self.postgres.close()
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@pytest.mark.slow
def test_the_inventory_machine_keeps_every_invariant_on_postgres(postgres_url: str) -> None:
    PostgresInventoryMachine.url = postgres_url
    run_state_machine_as_test(
        PostgresInventoryMachine,
        settings=settings(
            max_examples=examples(100),
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.fixture
def inventory(postgres_url: str, schema: str) -> Iterator[Inventory]:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        yield Inventory(repository, actor=lambda: "admin")


def test_assign_next_takes_numbers_in_order_on_postgres(inventory: Inventory) -> None:
    inventory.add_range("sys.acme", "1000", count=5)
    phone = Consumer("device/cucm/Phone", "SEP1", "sys.acme.uk")
    taken = [inventory.assign_next(phone).number for _ in range(3)]
    assert taken == ["1000", "1001", "1002"]


def test_a_loaded_range_has_one_history_entry_per_number(inventory: Inventory) -> None:
    inventory.add_range("sys.acme", "10995", count=10)
    history = inventory.history("11001")
    assert [
        (change.operation, change.after.number if change.after else None) for change in history
    ] == [("add", "11001")]
    assert history[0].actor == "admin"


def test_the_change_feed_lists_every_change_in_seq_order(inventory: Inventory) -> None:
    inventory.add_range("sys.acme", "1000", count=3)
    inventory.reserve("1001", "sys.acme", tag="held")
    changes = inventory.changes(after=0)
    assert [change.seq for change in changes] == [1, 2, 3, 4]
    assert changes[-1].after is not None
    assert changes[-1].after.status is Status.RESERVED


def test_loads_of_disjoint_numbers_into_one_new_node_all_succeed(inventory: Inventory) -> None:
    """Two writers each make the node they load into: the one that finds the node list
    changed under it runs again, and loads (they race on the node list, not on numbers)."""
    import threading

    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def load(prefix: str) -> None:
        for node in range(20):
            start.wait()
            try:
                inventory.add_range(f"sys.n{node}", f"{prefix}000", count=10)
            except BaseException as error:  # reported below
                failures.append(error)

    threads = [threading.Thread(target=load, args=(prefix,)) for prefix in ("21", "22")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(len(list(inventory.search(at=f"sys.n{node}"))) for node in range(20)) == 400
