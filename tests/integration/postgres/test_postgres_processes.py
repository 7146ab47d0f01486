"""Several processes on one PostgreSQL schema: claiming numbers, and following the change feed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

import pytest

from numinv import Inventory, NumberRecord
from numinv.core.numbers import number_range
from numinv.storage.protocol import Query
from numinv.storage.rows import TEXT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes"),
]

POOL_NODE = "sys.acme.uk"
SITE = "sys.acme.uk.london"
POOL = 400
ASSIGNERS = 8

# A consumer process: waits for "go", then assigns until nothing is left,
# printing each number with the consumer it went to, and at the end how many
# calls it had to run again.
ASSIGNER = """
import sys
from numinv import Consumer, Inventory, NotFound
from numinv.storage.postgres import PostgresRepository

url, schema, worker, site = sys.argv[1:5]
with PostgresRepository(url, schema=schema, pool_size=2) as repository:
    inventory = Inventory(repository)
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(10**6):
        consumer = Consumer("device/cucm/Phone", f"{worker}-{n}", site)
        try:
            record = inventory.assign_next(consumer)
        except NotFound:
            break
        print(record.number, consumer.id)
    print("retried", inventory.retried)
"""

# A writer process: loads its own ranges (range entries that cross blocks),
# takes and gives back numbers of a pool shared with the other writers, and
# reserves some of its own.
WRITER = """
import sys
from numinv import Consumer, Inventory
from numinv.storage.postgres import PostgresRepository

url, schema, worker = sys.argv[1:4]
k = int(worker)
with PostgresRepository(url, schema=schema, pool_size=2) as repository:
    inventory = Inventory(repository, actor=lambda: f"writer-{k}")
    print("ready", flush=True)
    sys.stdin.readline()
    node = f"sys.writers.w{k}"
    for round in range(6):
        inventory.add_range(node, f"{k}{round}0995", count=1010)
        taken = []
        for n in range(8):
            phone = Consumer("device/cucm/Phone", f"w{k}-{round}-{n}", "sys.shared.site")
            taken.append((inventory.assign_next(phone), phone))
        for record, phone in taken[::2]:
            inventory.unassign(record.number, phone)
        inventory.reserve(f"{k}{round}1000", node, tag=f"round {round}")
        inventory.update_range(node, f"{k}{round}0995", count=20, tag="touched")
    print("done", flush=True)
"""

# The follower: once told "go", reads the change feed in a loop from seq 0 until
# it has read up to the seq it is given on its standard input, printing each
# change. It prints nothing before "go": a line printed while the test reads
# "ready" could go into that read's buffer, which `communicate` never sees
# (a change lost from the output, once, on a loaded machine).
FOLLOWER = """
import json, select, sys
from numinv import Inventory
from numinv.storage.postgres import PostgresRepository
from numinv.storage.rows import TEXT

url, schema = sys.argv[1:3]
with PostgresRepository(url, schema=schema, pool_size=1) as repository:
    inventory = Inventory(repository)
    print("ready", flush=True)
    sys.stdin.readline()
    last, final = 0, None
    while final is None or last < final:
        if final is None and select.select([sys.stdin], [], [], 0)[0]:
            final = int(sys.stdin.readline())
        for change in inventory.changes(after=last, limit=97):
            assert change.seq > last, (change.seq, last)
            last = change.seq
            after = None if change.after is None else TEXT.to_json(change.after)
            before = None if change.before is None else TEXT.to_json(change.before)
            print(json.dumps([change.seq, change.number, change.hierarchy, before, after]))
    print("end", flush=True)
"""


def started(script: str, *arguments: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", script, *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    return process


def say(processes: Sequence[subprocess.Popen[str]], line: str) -> None:
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(line + "\n")
        process.stdin.flush()


def finished(process: subprocess.Popen[str], timeout: float = 300) -> list[str]:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0
    return output.splitlines()


def every_record(repository: object) -> dict[tuple[str, str], NumberRecord]:
    from numinv.storage.postgres import PostgresRepository

    assert isinstance(repository, PostgresRepository)
    found: dict[tuple[str, str], NumberRecord] = {}
    for node in repository.nodes():
        after: str | None = None
        while page := repository.scan(Query(node, after=after, limit=500)):
            found.update((record.key, record) for record in page)
            after = page[-1].number
    return found


def test_eight_processes_draining_one_pool_each_get_distinct_numbers(
    postgres_url: str, schema: str
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        Inventory(repository).add_range(POOL_NODE, "1000", count=POOL)
    workers = [
        started(ASSIGNER, postgres_url, schema, f"p{index}", SITE) for index in range(ASSIGNERS)
    ]
    say(workers, "go")
    given: dict[str, list[str]] = {}
    retried = 0
    for worker in workers:
        *lines, tally = finished(worker)
        retried += int(tally.split()[1])
        for line in lines:
            number, consumer = line.split()
            given.setdefault(number, []).append(consumer)
    assert sorted(given) == list(number_range("1000", count=POOL))
    assert all(len(consumers) == 1 for consumers in given.values())
    assert len({consumers[0].split("-")[0] for consumers in given.values()}) > 1
    assert retried == 0  # rows other callers hold are skipped, not raced for
    with PostgresRepository(postgres_url, schema=schema) as repository:
        for record in repository.within(number_range("1000", count=POOL)):
            assert [use.consumer_id for use in record.uses] == given[record.number]
        assert sum(repository.counts()[POOL_NODE].values()) == POOL


def test_a_follower_sees_every_change_once_in_order_while_processes_write(
    postgres_url: str, schema: str
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        Inventory(repository).add_range("sys.shared", "5000", count=100)
        follower = started(FOLLOWER, postgres_url, schema)
        writers = [started(WRITER, postgres_url, schema, str(k)) for k in range(1, 4)]
        say([follower, *writers], "go")
        for writer in writers:
            assert finished(writer) == ["done"]
        tail = Inventory(repository).changes(after=0, limit=1_000_000)
        final = tail[-1].seq
        say([follower], str(final))
        *lines, end = finished(follower)
        assert end == "end"
        seen = [json.loads(line) for line in lines]
        assert [seq for seq, *_ in seen] == list(range(1, final + 1))
        rebuilt: dict[tuple[str, str], NumberRecord] = {}
        for _, number, hierarchy, before, after in seen:
            if before is not None:
                assert rebuilt.pop((number, hierarchy)) == TEXT.from_json(before)
            if after is not None:
                rebuilt[(number, hierarchy)] = TEXT.from_json(after)
        assert rebuilt == every_record(repository)
