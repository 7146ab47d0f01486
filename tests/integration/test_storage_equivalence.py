"""The SQLite store and the in-memory store answer every read alike, whatever was written.

`numinv.testing.RepositoryMachine` applies the same random writes (inserts,
loaded ranges, replacements, deletions, stale compare-and-sets, node
settings, journal entries, transactions that fail part way, claims, prunes)
to both stores and compares what every read returns; on a file, some writes
go through a second repository object on the same database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository
from numinv.testing import RepositoryMachine
from tests.examples import examples, steps

FAST = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
SETTINGS = settings(
    max_examples=examples(40),
    stateful_step_count=steps(20),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SqliteInMemoryMachine(RepositoryMachine):
    def make_repository(self) -> Repository:
        return SqliteRepository(":memory:")


class SqliteFileMachine(RepositoryMachine):
    def make_repository(self) -> Repository:
        self.folder = Path(tempfile.mkdtemp(dir=FAST))
        return SqliteRepository(self.folder / "x.db")

    def open_second(self, repository: Repository) -> Repository | None:
        assert isinstance(repository, SqliteRepository)
        return SqliteRepository(repository.path)

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.folder, ignore_errors=True)


TestSqliteAndMemoryAnswerAlike = SqliteInMemoryMachine.TestCase
TestSqliteAndMemoryAnswerAlike.settings = SETTINGS

TestASqliteFileAndMemoryAnswerAlike = SqliteFileMachine.TestCase
TestASqliteFileAndMemoryAnswerAlike.settings = settings(SETTINGS, max_examples=examples(15))
