"""The shipped repositories keep every storage rule of the contract."""

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


class TestSqliteRepositoryInAFile(RepositoryContract):
    @pytest.fixture
    def repository(self, tmp_path: Path) -> Iterator[Repository]:
        with SqliteRepository(tmp_path / "x.db") as repository:
            yield repository
