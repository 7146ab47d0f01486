"""Smaller items of #13 (item 10): a sweep failing part way, a foreign file, audits and writers.

- `release_due` commits in batches: when a later batch fails, the earlier
  ones stay released, the error says how many, and a second call carries on.
- An SQLite file of another application is refused and left untouched.
- Audits make progress while another writer changes records all the time:
  an audit re-reads a record changed meanwhile inside its own transaction
  instead of failing with `ConcurrentUpdate`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from numinv import Consumer, InvalidInput, Inventory, Observation, Status
from numinv.core.numbers import number_range
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Repository, Transaction
from numinv.storage.sqlite import SqliteRepository
from tests.clock import Clock

SITE = "sys.acme.uk.london"


class Broken(Exception):
    """The failure of the second batch."""


def failing_on(repository: Repository, call: int) -> None:
    """Make the repository's `call`-th transaction fail as it finishes its writes."""
    original = repository.transaction
    calls = [0]

    @contextmanager
    def failing() -> Iterator[Transaction]:
        with original() as tx:
            yield tx
            raise Broken("injected in the second batch")

    def transaction() -> AbstractContextManager[Transaction]:
        calls[0] += 1
        return failing() if calls[0] == call else original()

    repository.transaction = transaction  # type: ignore[method-assign]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_sweep_failing_in_its_second_batch_keeps_the_first_and_says_so(store: str) -> None:
    repository = InMemoryRepository() if store == "memory" else SqliteRepository(":memory:")
    clock = Clock()
    inventory = Inventory(repository, clock=clock)
    inventory.add_range(SITE, "1000", count=600)
    inventory.cool_range(SITE, "1000", count=600, days=1)
    clock.advance(days=2)
    failing_on(repository, 2)

    with pytest.raises(Broken) as failed:
        inventory.release_due()

    assert "released 512 records" in " ".join(getattr(failed.value, "__notes__", []))
    statuses = [record.status for record in repository.within(number_range("1000", count=600))]
    assert statuses.count(Status.AVAILABLE) == 512
    rest = inventory.release_due()
    assert len(rest) == 88
    assert repository.due(clock.now, 1000) == []


def test_an_sqlite_file_of_another_application_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "theirs.db"
    theirs = sqlite3.connect(path)
    theirs.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    theirs.commit()
    theirs.close()

    with pytest.raises(InvalidInput, match="another application"):
        SqliteRepository(path)

    with sqlite3.connect(path) as again:
        tables = [row[0] for row in again.execute("SELECT name FROM sqlite_master")]
    assert tables == ["invoices"]


def test_audits_succeed_while_another_writer_changes_records_all_the_time(
    two_connections: tuple[Repository, Repository],
) -> None:
    auditing, writing = two_connections
    writer = Inventory(writing)
    writer.add_range(SITE, "1000", count=50)
    phones = [Consumer("device/cucm/Phone", f"SEP{n}", SITE) for n in range(1000, 1050)]
    observed = [Observation(phone.id[3:], phone) for phone in phones]
    stop = threading.Event()
    writes = [0]

    def keep_writing() -> None:
        # A write every millisecond or so: a busy service, not a loop that keeps
        # SQLite's lock nearly all the time (which only measures its busy handler).
        while not stop.is_set():
            writer.update(str(1000 + writes[0] % 50), SITE, description=f"w{writes[0]}")
            writes[0] += 1
            writing.set()
            stop.wait(0.001)

    writing = threading.Event()
    thread = threading.Thread(target=keep_writing)
    thread.start()
    assert writing.wait(10)
    succeeded = 0
    try:
        for round_ in range(6):
            seen = observed if round_ % 2 == 0 else []
            Inventory(auditing).audit(seen)  # raises if it cannot make progress
            succeeded += 1
    finally:
        stop.set()
        thread.join()
    assert succeeded == 6
    assert writes[0] > 0
    assert list(writer.search(status="Used")) == []  # the last audit saw nobody
