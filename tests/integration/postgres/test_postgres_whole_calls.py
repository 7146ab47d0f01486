"""Each write call on PostgreSQL is all or nothing, even when the caller goes on after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from numinv import ConcurrentUpdate, NumberRecord, PostgresRepository

NODE = "sys.a"


@pytest.fixture
def repository(postgres_url: str, schema: str) -> Iterator[PostgresRepository]:
    store = PostgresRepository(postgres_url, schema=schema, pool_size=2)
    yield store
    store.close()


def test_an_insert_refused_part_way_keeps_none_of_its_records(
    repository: PostgresRepository,
) -> None:
    with repository.transaction() as tx:
        tx.insert([NumberRecord("1000", NODE)])
    with repository.transaction() as tx:
        with pytest.raises(ConcurrentUpdate):
            tx.insert([NumberRecord("1001", NODE), NumberRecord("1000", NODE)])
        assert tx.get("1001", NODE) is None
        tx.insert([NumberRecord("1002", NODE)])
    assert repository.get("1001", NODE) is None
    assert repository.get("1002", NODE) is not None
    assert sum(repository.counts()[NODE].values()) == 2


def test_a_replace_refused_part_way_keeps_none_of_its_changes(
    repository: PostgresRepository,
) -> None:
    first, second = NumberRecord("1000", NODE), NumberRecord("1001", NODE)
    with repository.transaction() as tx:
        tx.insert([first, second])
    stale = NumberRecord("1001", NODE, version=9)
    with repository.transaction() as tx, pytest.raises(ConcurrentUpdate):
        tx.replace(
            [
                (first, NumberRecord("1000", NODE, tag="x", version=2)),
                (stale, NumberRecord("1001", NODE, tag="y", version=10)),
            ]
        )
    assert repository.get("1000", NODE) == first
