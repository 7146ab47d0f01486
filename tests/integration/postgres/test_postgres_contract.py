"""`PostgresRepository` keeps every storage rule of the repository contract, on a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from numinv.storage.protocol import Repository
from numinv.testing.contract import RepositoryContract


class TestPostgresRepository(RepositoryContract):
    @pytest.fixture
    def repository(self, postgres_url: str, schema: str) -> Iterator[Repository]:
        from numinv.storage.postgres import PostgresRepository

        with PostgresRepository(postgres_url, schema=schema) as repository:
            yield repository
