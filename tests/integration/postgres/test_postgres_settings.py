"""Node settings on PostgreSQL: kept per process while their version stands, never stale.

A transaction reads the settings' version with `BEGIN`; settings read at that
version answer later transactions that begin at it. Every change of the
settings raises the version in its own commit (a trigger on the table), so
a change made by another repository, another process, or by hand in SQL is
read by the next transaction that begins after it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from numinv import Inventory, StorageError
from numinv.settings import NodeSettings

NODE = "sys.acme.uk"
SITE = "sys.acme.uk.london"
LINE = ("sys", "sys.acme", NODE, SITE)
SQL = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def two(postgres_url: str, schema: str) -> Iterator[tuple[Any, Any]]:
    """Two repositories on one schema, as two service instances have."""
    from numinv.storage.postgres import PostgresRepository

    with (
        PostgresRepository(postgres_url, schema=schema, lock_timeout=0.3) as first,
        PostgresRepository(postgres_url, schema=schema) as second,
    ):
        yield first, second


def settings_in_a_transaction(repository: Any, nodes: tuple[str, ...] = LINE) -> dict[str, Any]:
    with repository.transaction() as tx:
        return dict(tx.node_settings(nodes))


def keep_five_days(repository: Any) -> None:
    """Set five cooling days at NODE, and read them once in a transaction: they are kept."""
    Inventory(repository).configure(NODE, cooling_days=5)
    assert settings_in_a_transaction(repository) == {NODE: NodeSettings(cooling_days=5)}


def test_settings_another_instance_changes_are_read_by_the_next_transaction(
    two: tuple[Any, Any],
) -> None:
    first, second = two
    keep_five_days(first)
    Inventory(second).configure(NODE, cooling_days=9)
    Inventory(second).configure(SITE, auto_cooling=False)
    assert settings_in_a_transaction(first) == {
        NODE: NodeSettings(cooling_days=9),
        SITE: NodeSettings(auto_cooling=False),
    }
    Inventory(second).configure(SITE)  # cleared
    assert settings_in_a_transaction(first) == {NODE: NodeSettings(cooling_days=9)}


def test_settings_changed_by_hand_in_sql_are_read_by_the_next_transaction(
    two: tuple[Any, Any], schema: str, sql: SQL
) -> None:
    first, _ = two
    keep_five_days(first)
    sql(f'UPDATE "{schema}".node_settings SET cooling_days = 7')
    assert settings_in_a_transaction(first) == {NODE: NodeSettings(cooling_days=7)}
    sql(f'TRUNCATE "{schema}".node_settings')
    assert settings_in_a_transaction(first) == {}


def test_settings_kept_at_their_version_are_read_without_asking_the_server(
    two: tuple[Any, Any], schema: str, postgres_url: str
) -> None:
    import psycopg

    first, _ = two
    keep_five_days(first)
    with psycopg.connect(postgres_url) as holder:
        # Nobody can read the table now; the version is still there to read.
        holder.execute(f'LOCK TABLE "{schema}".node_settings IN ACCESS EXCLUSIVE MODE')
        assert settings_in_a_transaction(first) == {NODE: NodeSettings(cooling_days=5)}
        with pytest.raises(StorageError, match="lock"):  # not kept: read from the table
            settings_in_a_transaction(first, ("sys.other",))
        holder.rollback()


def test_a_transaction_reads_the_settings_it_sets_itself(two: tuple[Any, Any]) -> None:
    first, _ = two
    keep_five_days(first)
    with first.transaction() as tx:
        assert tx.node_settings(LINE) == {NODE: NodeSettings(cooling_days=5)}
        tx.configure(NODE, NodeSettings(cooling_days=6))
        assert tx.node_settings(LINE) == {NODE: NodeSettings(cooling_days=6)}
    assert settings_in_a_transaction(first) == {NODE: NodeSettings(cooling_days=6)}


def test_settings_of_a_transaction_rolled_back_leave_the_kept_ones_standing(
    two: tuple[Any, Any],
) -> None:
    first, second = two
    keep_five_days(first)

    def configure_then_fail() -> None:
        with second.transaction() as tx:
            tx.configure(NODE, NodeSettings(cooling_days=8))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        configure_then_fail()
    assert settings_in_a_transaction(first) == {NODE: NodeSettings(cooling_days=5)}
    assert settings_in_a_transaction(second) == {NODE: NodeSettings(cooling_days=5)}


def test_a_schema_of_version_one_gains_the_settings_version_on_opening(
    postgres_url: str, schema: str, sql: SQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numinv.storage.postgres import SCHEMA_VERSION, PostgresRepository, connections

    with monkeypatch.context() as patched:
        patched.setattr(connections, "_MIGRATIONS", connections._MIGRATIONS[:1])
        with PostgresRepository(postgres_url, schema=schema) as old:
            Inventory(old).configure(NODE, cooling_days=5)
    assert sql(f'SELECT max(version) FROM "{schema}".schema_version') == [(1,)]
    with PostgresRepository(postgres_url, schema=schema) as repository:
        assert settings_in_a_transaction(repository) == {NODE: NodeSettings(cooling_days=5)}
        sql(f'UPDATE "{schema}".node_settings SET cooling_days = 6')
        assert settings_in_a_transaction(repository) == {NODE: NodeSettings(cooling_days=6)}
    assert sql(f'SELECT max(version) FROM "{schema}".schema_version') == [(SCHEMA_VERSION,)]


def test_a_schema_renamed_or_restored_under_another_name_raises_its_own_settings_version(
    postgres_url: str, schema: str, sql: SQL, new_schema: Any
) -> None:
    """The trigger named the schema it was made in: after `ALTER SCHEMA ... RENAME` (or a
    dump restored under another name) a `configure` raised the old schema's version, and
    an instance kept settings that no longer stood (a number went Available, not Cooling).
    """
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as made:
        Inventory(made).configure(NODE, cooling_days=5)
    renamed = new_schema()
    sql(f'ALTER SCHEMA "{schema}" RENAME TO "{renamed}"')
    before = sql(f'SELECT version FROM "{renamed}".settings_version')[0][0]
    with (
        PostgresRepository(postgres_url, schema=renamed) as one,
        PostgresRepository(postgres_url, schema=renamed) as other,
    ):
        assert settings_in_a_transaction(one) == {NODE: NodeSettings(cooling_days=5)}
        Inventory(other).configure(NODE, cooling_days=9)
        assert settings_in_a_transaction(one) == {NODE: NodeSettings(cooling_days=9)}
    assert sql(f'SELECT version FROM "{renamed}".settings_version')[0][0] > before


def test_inventory_calls_apply_the_settings_kept_without_reading_the_table(
    two: tuple[Any, Any], schema: str, postgres_url: str
) -> None:
    import psycopg

    from numinv import Consumer, Status

    first, _ = two
    inventory = Inventory(first)
    inventory.configure(NODE, auto_cooling=True, cooling_days=3)
    inventory.add_range(SITE, "1000", count=5)
    phone = Consumer("device/cucm/Phone", "SEP1", SITE)
    inventory.assign_next(phone)  # reads the settings, and keeps them
    with psycopg.connect(postgres_url) as holder:
        holder.execute(f'LOCK TABLE "{schema}".node_settings IN ACCESS EXCLUSIVE MODE')
        taken = inventory.assign_next(Consumer("device/cucm/Phone", "SEP2", SITE))
        cooled = inventory.unassign(taken.number, Consumer("device/cucm/Phone", "SEP2", SITE))
        holder.rollback()
    assert cooled.status is Status.COOLING
    assert cooled.release_date is not None
    assert (cooled.release_date - datetime.now(UTC)).days in (2, 3)  # the node's 3 days
