"""A read never writes, even when something is due (#13 item 2, SPEC 22).

Every read entry point of `Inventory` runs with records whose release date
has passed: it opens no transaction, emits no event, adds no journal change,
shows the due records released to the microsecond, works on a read-only
database and does not wait behind another process's write lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from numinv import Consumer, Event, Inventory, Observation, Status
from numinv.storage.protocol import Repository, Transaction
from numinv.storage.sqlite import SqliteRepository
from tests.clock import Clock

SITE = "sys.acme.uk.london"
PHONE = Consumer("device/cucm/Phone", "SEP1000", SITE)


def load(inventory: Inventory, clock: Clock) -> datetime:
    """Cooling and reserved numbers, then time moved past their release dates."""
    inventory.add_range(SITE, "1000", "1009")
    inventory.assign("1000", PHONE)
    inventory.unassign("1000", PHONE)
    inventory.cool_range(SITE, "1001", "1003", days=2)
    inventory.reserve_range(SITE, "1004", "1005", days=1, reserved_for="alice")
    inventory.reserve("1006", SITE, reserved_for="bob")
    release = inventory.get("1001", SITE).release_date
    assert release is not None
    clock.now = release + timedelta(days=1)
    return release


READS: dict[str, Callable[[Inventory], object]] = {
    "get": lambda inv: inv.get("1001", SITE),
    "find": lambda inv: inv.find("1004", SITE),
    "search": lambda inv: list(inv.search()),
    "search by status": lambda inv: list(inv.search(status="Available")),
    "available": lambda inv: list(inv.available(SITE)),
    "numbers_of": lambda inv: inv.numbers_of("alice"),
    "utilization": lambda inv: inv.utilization(),
    "settings_at": lambda inv: inv.settings_at(SITE),
    "history": lambda inv: inv.history("1001"),
    "changes": lambda inv: inv.changes(),
    "audit dry run": lambda inv: inv.audit([Observation("1002", PHONE)], fix=False),
    "audit dry run adding": lambda inv: inv.audit(
        [Observation("1999", PHONE)], fix=False, add_missing=True
    ),
}


class Counting:
    """Counts the transactions a repository opens."""

    def __init__(self, repository: Repository) -> None:
        self.opened = 0
        original = repository.transaction

        def transaction() -> AbstractContextManager[Transaction]:
            self.opened += 1
            return original()

        repository.transaction = transaction  # type: ignore[method-assign]


@pytest.fixture
def repository(each_store: Repository) -> Repository:
    return each_store


@pytest.mark.parametrize("read", READS)
def test_a_read_with_numbers_due_opens_no_transaction_and_emits_nothing(
    repository: Repository, read: str
) -> None:
    clock = Clock()
    inventory = Inventory(repository, clock=clock)
    load(inventory, clock)
    events: list[Event] = []
    inventory.subscribe(events.append)
    last = inventory.changes(after=0, limit=1_000_000)[-1].seq
    counting = Counting(repository)

    READS[read](inventory)

    assert (counting.opened, events) == (0, [])
    assert inventory.changes(after=last) == []
    assert repository.due(clock.now, 100), "the due records are still stored as they were"


def test_a_read_shows_a_cooling_released_from_its_exact_release_date(
    repository: Repository,
) -> None:
    clock = Clock()
    inventory = Inventory(repository, clock=clock)
    release = load(inventory, clock)

    clock.now = release - timedelta(microseconds=1)
    before = inventory.get("1001", SITE).status
    clock.now = release
    at = inventory.get("1001", SITE)

    assert (before, at.status, at.release_date) == (Status.COOLING, Status.AVAILABLE, None)
    assert [r.number for r in inventory.available(SITE, limit=3)] == ["1000", "1001", "1002"]


def test_a_dry_run_audit_reports_what_it_would_fix_and_writes_nothing(
    repository: Repository,
) -> None:
    clock = Clock()
    inventory = Inventory(repository, clock=clock)
    load(inventory, clock)
    stored = repository.get("1002", SITE)

    report = inventory.audit([Observation("1002", PHONE)], fix=False)

    assert report.changed == 1
    assert not report.fixed
    assert repository.get("1002", SITE) == stored
    assert inventory.get("1002", SITE).status is Status.AVAILABLE


def test_the_next_write_stores_the_release_it_touches_and_release_due_the_rest(
    repository: Repository,
) -> None:
    clock = Clock()
    inventory = Inventory(repository, clock=clock)
    load(inventory, clock)

    inventory.update("1001", SITE, tag="touched")
    touched = [c.operation for c in inventory.history("1001")][-2:]
    released = inventory.release_due()

    assert touched == ["release_due", "update"]
    assert sorted(r.number for r in released) == ["1002", "1003", "1004", "1005"]
    assert repository.due(clock.now, 100) == []


def read_only_copy(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.db"
    clock = Clock()
    with SqliteRepository(path) as writable:
        load(Inventory(writable, clock=clock), clock)
    return path


@pytest.mark.parametrize("how", ["read_only=True", "mode=ro URI"])
@pytest.mark.parametrize("read", READS)
def test_every_read_works_on_a_read_only_database_with_numbers_due(
    tmp_path: Path, how: str, read: str
) -> None:
    path = read_only_copy(tmp_path)
    clock = Clock()
    clock.now = clock.now + timedelta(days=30)
    opened = (
        SqliteRepository(path, read_only=True)
        if how == "read_only=True"
        else SqliteRepository(f"file:{path}?mode=ro")
    )
    with opened as repository:
        READS[read](Inventory(repository, clock=clock))
        assert repository.read_only


def test_a_database_on_a_read_only_mount_is_read_without_the_files_of_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backup on a read-only mount: SQLite could not make the `-shm` file its
    write-ahead log needs, and refused every read ("attempt to write a readonly
    database"). Nobody can change such a file: it is read as immutable, which needs no
    such file. A folder only this user cannot write is not enough (another user may be
    writing the file: read as immutable, it never showed their commits)."""
    import os

    import numinv.storage.sqlite.connections as sqlite_module

    path = read_only_copy(tmp_path)
    real_statvfs, real_access = os.statvfs, os.access

    def mounted_read_only(name: object) -> object:
        found = real_statvfs(name)  # type: ignore[arg-type]
        if os.fspath(name) != str(tmp_path):  # type: ignore[arg-type]
            return found
        return type("Mount", (), {"f_flag": found.f_flag | os.ST_RDONLY})()

    monkeypatch.setattr(
        sqlite_module.os,
        "access",
        lambda name, mode, **kw: mode != os.W_OK and real_access(name, mode),
    )
    assert not sqlite_module._unchangeable(str(path))  # not writable by us: not enough
    monkeypatch.setattr(sqlite_module.os, "statvfs", mounted_read_only)
    assert sqlite_module._unchangeable(str(path))
    with SqliteRepository(path, read_only=True) as repository:
        assert Inventory(repository).get("1009", SITE).number == "1009"
    assert not Path(f"{path}-shm").exists()  # read as immutable: no file made
    Path(f"{path}-wal").write_bytes(b"changes")  # a log may hold changes the file lacks
    assert not sqlite_module._unchangeable(str(path))


def test_a_get_returns_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    clock = Clock()
    with SqliteRepository(path, timeout=30) as repository:
        inventory = Inventory(repository, clock=clock)
        load(inventory, clock)
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE records SET tag = 'held' WHERE number = '1009'")
            started = time.monotonic()
            record = inventory.get("1001", SITE)
            listed = list(inventory.search(status="Available"))
            waited = time.monotonic() - started
        finally:
            writer.execute("ROLLBACK")
            writer.close()
    assert record.status is Status.AVAILABLE
    assert len(listed) == 9
    assert waited < 20, f"the reads waited {waited:.1f} s behind the write lock"
