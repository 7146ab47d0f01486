"""Processes opening a new SQLite file together all succeed (#13 item 5); busy says how long.

Eight processes (forked, so that they start within a millisecond of each
other) open the same new file at once, each creating the schema or waiting
for whoever does, and load a range. Bounded: a few rounds, each process
with a 30 s timeout; slow because it forks.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from numinv import Inventory, StorageError
from numinv.storage.sqlite import SqliteRepository

PROCESSES, ROUNDS = 8, 8

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fork")


def _open_and_load(path: str, barrier: object, results: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        with SqliteRepository(path, timeout=30) as repository:
            Inventory(repository).add_range(f"sys.p{os.getpid()}", "1000", count=3)
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")  # type: ignore[attr-defined]
    else:
        results.put("ok")  # type: ignore[attr-defined]


@pytest.mark.slow
def test_eight_processes_opening_a_new_file_together_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"new{round_}.db")
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        workers = [
            context.Process(target=_open_and_load, args=(path, barrier, results))
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        failures += [outcome for outcome in outcomes if outcome != "ok"]
        assert failures == [], f"round {round_}"
        with SqliteRepository(path) as repository:
            assert len(repository.nodes()) == PROCESSES


def test_a_schema_another_opener_commits_between_the_checks_is_taken_as_numinvs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The opening check asked "is there a schema_version table?" and "is there any
    table?" in two statements: another process's schema, committed between them, made
    the new file look like another application's, and about one round in a hundred of
    the test above lost a process to `InvalidInput`. Here the other opener commits its
    schema and a range just before this connection's second look at `sqlite_master`,
    whatever form the looks take."""
    path = tmp_path / "new.db"
    connect = sqlite3.connect
    race = {"armed": True, "looks": 0}

    class Racing(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if race["armed"] and "sqlite_master" in sql:
                race["looks"] += 1
                if race["looks"] == 2:
                    race["armed"] = False
                    with SqliteRepository(path) as other:
                        Inventory(other).add_range("sys.other", "1000")
            return super().execute(sql, *args)

    def connecting(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if race["armed"]:
            kwargs["factory"] = Racing
        connection: sqlite3.Connection = connect(*args, **kwargs)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connecting)
    with SqliteRepository(path, timeout=5) as repository:
        Inventory(repository).add_range("sys.this", "1000")
        assert repository.nodes() == ["sys.other", "sys.this"]
    assert race["looks"] == 2


def test_a_writer_that_gives_up_says_how_long_it_waited(tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    with SqliteRepository(path, timeout=0.2) as repository:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageError) as refused:
                Inventory(repository).add_range("sys.a", "1000")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert re.search(r"gave up after \d+\.\d s; the timeout is 0.2 s", str(refused.value))


class _RefusingAtOnce:
    """A connection whose BEGIN is refused as busy at once, as SQLite does for some steps."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: object = ()) -> sqlite3.Cursor:
        if sql.startswith("BEGIN"):
            raise sqlite3.OperationalError("database is locked")
        return self._connection.execute(sql, parameters)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)


def test_a_writer_refused_at_once_does_not_claim_it_waited_the_timeout(tmp_path: Path) -> None:
    with SqliteRepository(tmp_path / "numbers.db", timeout=30) as repository:
        repository._db.connection = _RefusingAtOnce(repository._db.connection)  # type: ignore[assignment]
        with pytest.raises(StorageError) as refused:
            Inventory(repository).add_range("sys.a", "1000")
    message = str(refused.value)
    assert "gave up after 0.0 s" in message
    assert "30 s" in message


def test_another_programs_file_is_refused_and_left_byte_for_byte(tmp_path: Path) -> None:
    """Refused before anything is written: not even switched to write-ahead logging."""
    from numinv import InvalidInput

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE t (x)")
        other.execute("INSERT INTO t VALUES (1)")
    other.close()
    before = path.read_bytes()
    with pytest.raises(InvalidInput, match="another application"):
        SqliteRepository(str(path))
    assert path.read_bytes() == before
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    other.close()
    assert not (tmp_path / "other.db-wal").exists()
