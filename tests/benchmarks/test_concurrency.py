"""The multi-process benchmark's workers (benchmarks/concurrency.py) do the job they are timed at.

Each kind of worker takes numbers from one pool from two processes at once,
after a warm-up call of its own that the clock does not count. Every call
takes a number of its own. The kinds that do numinv's whole job
(numinv on either store, and the hand-written "job" reference) also keep the
node counts and journal every number taken; the raw floor only marks rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from benchmarks.concurrency import KIND, SITE, drain

from numinv import Inventory, SqliteRepository, Status
from numinv.storage.protocol import Query

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes"),
]

PROCESSES, WARM, CALLS, POOL = 2, 1, 4, 20
TAKEN = PROCESSES * (WARM + CALLS)


def _check(inventory: Inventory, *, whole_job: bool) -> None:
    used = inventory.repository.scan(Query(SITE, Status.USED, limit=100))
    uses = [use for record in used for use in record.uses]
    assert len(used) == TAKEN  # one number per call, none taken twice
    assert sorted(use.consumer_id for use in uses) == sorted(
        [f"w{p}-{n}" for p in range(PROCESSES) for n in range(CALLS)]
        + [f"w{p}-warm-{n}" for p in range(PROCESSES) for n in range(WARM)]
    )
    assert {use.kind for use in uses} == {KIND}
    counts = inventory.repository.counts(SITE)[SITE]
    assigned = [c.number for c in inventory.changes(after=0, limit=1000) if c.operation == "assign"]
    if whole_job:
        assert (counts[Status.AVAILABLE], counts[Status.USED]) == (POOL - TAKEN, TAKEN)
        assert sorted(assigned) == [record.number for record in used]
    else:
        assert counts[Status.AVAILABLE] == POOL  # the raw floor keeps no counts
        assert assigned == []  # and no journal


WORKERS = [("postgres", True), ("job", True), ("pipelined", True), ("floor", False)]


@pytest.mark.parametrize(("kind", "whole_job"), WORKERS)
def test_each_postgres_worker_takes_one_number_per_call(
    kind: str, whole_job: bool, postgres_url: str, empty_schema: Callable[[], str]
) -> None:
    from numinv.storage.postgres import PostgresRepository

    schema = empty_schema()
    with PostgresRepository(postgres_url, schema=schema) as repository:
        inventory = Inventory(repository)
        inventory.add_range(SITE, "20000000", count=POOL)
        run = drain(kind, postgres_url, schema, PROCESSES, CALLS, warm=WARM)
        assert (run.assigned, run.retried) == (PROCESSES * CALLS, 0)  # the timed calls
        _check(inventory, whole_job=whole_job)


def test_the_sqlite_worker_takes_one_number_per_call(tmp_path: Path) -> None:
    path = str(tmp_path / "pool.db")
    with SqliteRepository(path) as repository:
        inventory = Inventory(repository)
        inventory.add_range(SITE, "20000000", count=POOL)
        run = drain("sqlite", path, "", PROCESSES, CALLS, warm=WARM)
        assert run.assigned == PROCESSES * CALLS
        _check(inventory, whole_job=True)
