"""`assign_next` from several processes at once: throughput, and retries per number assigned.

Each worker is a fresh Python process that opens its store, says `ready`,
waits for `go`, makes its calls and says how many calls it ran again
(`Inventory.retried`). The clock runs from `go` to the last worker's
answer, so starting processes and opening stores are not timed.

The floor is the simplest competent hand-written code taking numbers on the
same PostgreSQL schema: a transaction per number that picks the first
Available row of the node with `FOR UPDATE SKIP LOCKED` and marks it used.
The second reference, "job", is hand-written code doing all of numinv's job
(benchmarks/floors/postgres.py): the same claim, and with it the consumer's
reservations looked up first, the node counts, the holders index and the
journal, numbered in commit order, written in the same transaction. The
third, "pipelined", does the same job tuned for round trips: its reads go in
one statement with `BEGIN`, and its writes in one statement with `COMMIT`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import attrs

_ROOT = Path(__file__).resolve().parent.parent  # where `benchmarks` is found

__all__ = ["Run", "drain"]

SITE = "sys.bench.site"
KIND = "device/cucm/Phone"

# Workers read: the store ("postgres", "floor", "job", "pipelined" or "sqlite"), where it is
# (a URL and schema, or a file), a worker name, how many calls to make untimed first (to
# warm up) and how many to make timed. A warm-up call's consumer is `{name}-warm-{n}`.
WORKER = """
import sys
kind, where, schema, name, warm, calls = sys.argv[1:7]
warm, calls = int(warm), int(calls)
SITE, KIND = "sys.bench.site", "device/cucm/Phone"

if kind == "floor":
    import json
    import psycopg

    connection = psycopg.connect(where, autocommit=True)
    table = '"' + schema.replace('"', '""') + '".records'
    pick = (
        f"SELECT number FROM {table} WHERE hierarchy = %s AND status = 'Available' "
        "ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    take = (
        f"UPDATE {table} SET status = 'Used', usage = %s, uses = %s, "
        "version = version + 1 WHERE hierarchy = %s AND number = %s"
    )

    def take_one(consumer):
        use = json.dumps([{"consumer_id": consumer, "hierarchy": SITE, "kind": KIND,
                           "owner": "", "status": "Used", "usage": "Device", "vendor": ""}])
        with connection.transaction():
            (number,) = connection.execute(pick, (SITE,)).fetchone()
            connection.execute(take, ('["Device"]', use, SITE, number))

    for n in range(warm):
        take_one(f"{name}-warm-{n}")
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(calls):
        take_one(f"{name}-{n}")
    print("done 0", flush=True)
elif kind in ("job", "pipelined"):
    from datetime import UTC, datetime
    from benchmarks.floors.postgres import PostgresFloor
    from numinv import Consumer

    floor = PostgresFloor(where, schema, lambda: datetime.now(UTC))
    take = floor.assign_next if kind == "job" else floor.assign_next_pipelined
    for n in range(warm):
        take(Consumer(KIND, f"{name}-warm-{n}", SITE))
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(calls):
        take(Consumer(KIND, f"{name}-{n}", SITE))
    print("done 0", flush=True)
    floor.close()
else:
    from numinv import Consumer, Inventory
    if kind == "postgres":
        from numinv.storage.postgres import PostgresRepository
        repository = PostgresRepository(where, schema=schema, pool_size=2)
    else:
        from numinv import SqliteRepository
        repository = SqliteRepository(where)
    inventory = Inventory(repository)
    for n in range(warm):
        inventory.assign_next(Consumer(KIND, f"{name}-warm-{n}", SITE))
    retried = inventory.retried
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(calls):
        inventory.assign_next(Consumer(KIND, f"{name}-{n}", SITE))
    print(f"done {inventory.retried - retried}", flush=True)
    repository.close()
"""


@attrs.frozen
class Run:
    """One timed run: how many numbers were assigned, in how long, with how many retries."""

    assigned: int
    seconds: float
    retried: int

    @property
    def per_second(self) -> float:
        return self.assigned / self.seconds


def drain(kind: str, where: str, schema: str, processes: int, calls: int, *, warm: int = 0) -> Run:
    """`processes` workers each assigning `calls` numbers from one pool, all at once, each
    after `warm` calls of its own untimed (`processes * (warm + calls)` numbers in all)."""
    workers = [
        subprocess.Popen(
            [
                *(sys.executable, "-c", WORKER, kind, where, schema),
                *(f"w{index}", str(warm), str(calls)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=_ROOT,
        )
        for index in range(processes)
    ]
    try:
        for worker in workers:
            _expect(worker, "ready")
        start = time.perf_counter()
        _say(workers, "go")
        answers = [_expect(worker, "done") for worker in workers]
        elapsed = time.perf_counter() - start
    finally:
        for worker in workers:
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(60)
    retried = sum(int(answer.split()[1]) for answer in answers)
    return Run(processes * calls, elapsed, retried)


def _say(workers: Sequence[subprocess.Popen[str]], line: str) -> None:
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(line + "\n")
        worker.stdin.flush()


def _expect(worker: subprocess.Popen[str], word: str) -> str:
    assert worker.stdout is not None
    line = worker.stdout.readline()
    if not line.startswith(word):
        raise RuntimeError(f"a worker said {line!r} instead of {word!r}")
    return line
