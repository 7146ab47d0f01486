"""Uniqueness in a line of descent holds between concurrent writers on PostgreSQL.

Two writers that add the same number at related nodes touch different keys,
so no index refuses either: the store must make the check and the write one
step. Here the first writer is held just before it journals (after its
check and its insert; its journal then goes with its commit) while the
second runs its whole call; the second must wait for the first and then be
refused, not succeed beside it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from numinv import ConcurrentUpdate, Conflict, Consumer, DuplicateNumber, Inventory

pytestmark = pytest.mark.slow  # each race holds its first writer for seconds

PARENT = "sys.acme"
CHILD = "sys.acme.uk"
HELD_FOR = 2.0  # seconds the first writer waits for the second before it goes on


class Pausing:
    """A repository whose transactions stop before journaling until told to go (or a timeout)."""

    def __init__(self, repository: Any) -> None:
        self._repository = repository
        self.journaling = threading.Event()
        self.go = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repository, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._repository.transaction() as tx:
            yield _PausingTransaction(tx, self)


class _PausingTransaction:
    def __init__(self, tx: Any, owner: Pausing) -> None:
        self._tx, self._owner = tx, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def journal(self, entries: Any) -> int:
        self._owner.journaling.set()
        self._owner.go.wait(HELD_FOR)
        return int(self._tx.journal(entries))

    def journal_at_commit(self, entries: Any) -> None:
        self._owner.journaling.set()
        self._owner.go.wait(HELD_FOR)
        self._tx.journal_at_commit(entries)


def race(
    repository: Any, first: Callable[[Inventory], object], second: Callable[[Inventory], object]
) -> list[str]:
    """Run `first` held before its journal while `second` runs; say how each ended."""
    pausing = Pausing(repository)
    outcomes: dict[str, str] = {}

    def run(name: str, call: Callable[[Inventory], object], store: Any) -> None:
        try:
            call(Inventory(store))
            outcomes[name] = "stored"
        except (DuplicateNumber, Conflict, ConcurrentUpdate) as error:
            outcomes[name] = type(error).__name__
        finally:
            if name == "second":
                pausing.go.set()

    one = threading.Thread(target=run, args=("first", first, pausing))
    one.start()
    assert pausing.journaling.wait(30)
    two = threading.Thread(target=run, args=("second", second, repository))
    two.start()
    one.join(60)
    two.join(60)
    return [outcomes["first"], outcomes["second"]]


def test_a_number_added_at_a_parent_and_a_child_at_once_is_stored_once(
    postgres_url: str, schema: str
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        outcomes = race(
            repository,
            lambda inventory: inventory.add_range(PARENT, "1000", count=10),
            lambda inventory: inventory.add_range(CHILD, "1005", count=10),
        )
        assert outcomes == ["stored", "DuplicateNumber"]
        assert [record.hierarchy for record in repository.holding("1005")] == [PARENT]


def test_a_load_at_a_parent_beside_a_new_child_node_loses_the_race(
    postgres_url: str, schema: str
) -> None:
    # The parent's load listed the nodes below it before the child existed:
    # it must not trust that list once it has waited for the child's writer.
    # It loses the race, runs again (decision 112) and finds the clash.
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        outcomes = race(
            repository,
            lambda inventory: inventory.add_range(CHILD, "2000500", count=1),
            lambda inventory: inventory.add_range(PARENT, "2000000", count=200_000),
        )
        assert outcomes == ["stored", "DuplicateNumber"]
        assert [r.hierarchy for r in repository.holding("2000500")] == [CHILD]
        assert repository.holding("2000000") == []  # nothing of the parent's load


def test_an_e164_number_given_to_two_numbers_of_a_line_at_once_is_given_once(
    postgres_url: str, schema: str
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        setup = Inventory(repository)
        setup.add_range(PARENT, "1000", count=1)
        setup.add_range(CHILD, "2000", count=1)
        outcomes = race(
            repository,
            lambda inventory: inventory.associate_e164("1000", PARENT, "+442071234567"),
            lambda inventory: inventory.associate_e164("2000", CHILD, "+442071234567"),
        )
        assert outcomes == ["stored", "Conflict"]
        assert [r.number for r in repository.with_e164("+442071234567")] == ["1000"]


def test_writers_of_other_numbers_do_not_wait_for_each_other(
    postgres_url: str, schema: str
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        Inventory(repository).add_range(CHILD, "5000", count=10)
        phone = Consumer("device/cucm/Phone", "SEP1", CHILD)
        outcomes = race(
            repository,
            lambda inventory: inventory.add_range(PARENT, "3000", count=10),
            lambda inventory: inventory.assign("5003", phone),
        )
        assert outcomes == ["stored", "stored"]


def test_a_transaction_checking_many_numbers_holds_few_locks(
    postgres_url: str, schema: str
) -> None:
    import psycopg

    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        with repository.transaction() as tx:
            for number in range(10_000, 11_000):
                tx.holding(str(number))
            ((pid,),) = tx._execute("SELECT pg_backend_pid()").rows
            with psycopg.connect(postgres_url) as side:
                locks = side.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
                    (pid,),
                ).fetchall()
        assert locks[0][0] <= 300


def test_an_import_too_large_for_fine_locks_still_excludes_a_clashing_load(
    postgres_url: str, schema: str
) -> None:
    from numinv import NumberRecord
    from numinv.storage.postgres import PostgresRepository

    batch = [NumberRecord(str(number), PARENT) for number in range(10_000, 10_300)]
    with PostgresRepository(postgres_url, schema=schema) as repository:
        outcomes = race(
            repository,
            lambda inventory: inventory.import_records(batch),
            lambda inventory: inventory.add_range(CHILD, "10299", count=1),
        )
        assert outcomes == ["stored", "DuplicateNumber"]
        assert [record.hierarchy for record in repository.holding("10299")] == [PARENT]
