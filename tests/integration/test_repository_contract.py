"""The shipped repositories keep every storage rule of the contract."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository
from numinv.testing.contract import RepositoryContract


class TestInMemoryRepository(RepositoryContract):
    @pytest.fixture
    def repository(self) -> Repository:
        return InMemoryRepository()


class TestSqliteRepositoryInMemory(RepositoryContract):
    @pytest.fixture
    def repository(self) -> Iterator[Repository]:
        with SqliteRepository(":memory:") as repository:
            yield repository


# A file in memory-backed storage where there is one: the same code paths (WAL, two
# connections), without a disk's flush on every commit of some 150 tests.
FAST = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class TestSqliteRepositoryInAFile(RepositoryContract):
    @pytest.fixture
    def repository(self, tmp_path: Path) -> Iterator[Repository]:
        folder = Path(tempfile.mkdtemp(dir=FAST)) if FAST else tmp_path
        try:
            with SqliteRepository(folder / "x.db") as repository:
                yield repository
        finally:
            if FAST:
                shutil.rmtree(folder, ignore_errors=True)

    def open_second(self, repository: Repository) -> Repository | None:
        assert isinstance(repository, SqliteRepository)
        return SqliteRepository(repository.path)
