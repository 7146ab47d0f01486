"""What the kit found wrong in the library: one minimal reproduction each, strict xfail.

Each test states the rule (from SPEC.md, docs/decisions.md or the protocol's
docstring) and fails today. The lead fixes the library, then removes the mark.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from numinv import ConcurrentUpdate, InMemoryRepository, NumberRecord, SqliteRepository
from numinv.storage.protocol import Repository

NODE = "sys.a"


@pytest.fixture(params=["memory", "sqlite"])
def repository(request: pytest.FixtureRequest) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
    else:
        with SqliteRepository(":memory:") as store:
            yield store


@pytest.mark.xfail(
    strict=True,
    reason=(
        "library bug: a write call refused part way keeps the records it wrote before the "
        "refusal; a caller that catches ConcurrentUpdate and goes on commits them (SQLite "
        "then also counts them wrong). The contract now asks each write call to be all or "
        "nothing (docs/testing.md, decision 71)."
    ),
)
def test_an_insert_refused_part_way_keeps_none_of_its_records(repository: Repository) -> None:
    with repository.transaction() as tx:
        tx.insert([NumberRecord("1000", NODE)])
    with repository.transaction() as tx:
        with pytest.raises(ConcurrentUpdate):
            tx.insert([NumberRecord("1001", NODE), NumberRecord("1000", NODE)])
        assert tx.get("1001", NODE) is None
    counted = sum(repository.counts()[NODE].values())
    assert repository.get("1001", NODE) is None
    assert counted == 1
