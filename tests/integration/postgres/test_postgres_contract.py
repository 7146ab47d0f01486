"""`PostgresRepository` keeps every storage rule of the repository contract, on a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from numinv.storage.protocol import Repository
from numinv.testing.contract import RepositoryContract


class TestPostgresRepository(RepositoryContract):
    @pytest.fixture
    def repository(
        self, postgres_url: str, empty_schema: Callable[[], str]
    ) -> Iterator[Repository]:
        from numinv.storage.postgres import PostgresRepository

        self.url = postgres_url
        with PostgresRepository(postgres_url, schema=empty_schema()) as repository:
            yield repository

    def open_second(self, repository: Repository) -> Repository | None:
        """A second pool on the same schema: another instance of the service."""
        from numinv.storage.postgres import PostgresRepository

        assert isinstance(repository, PostgresRepository)
        return PostgresRepository(self.url, schema=repository.schema)
