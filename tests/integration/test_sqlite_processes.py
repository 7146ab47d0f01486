"""Several processes and threads on one SQLite file, and a process killed while it writes."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from numinv import Consumer, Inventory, NotFound, Status
from numinv.core.numbers import number_range
from numinv.storage.sqlite import SCHEMA_VERSION, SqliteRepository

SITE = "sys.acme.uk.london"
POOL = 400
PROCESSES = 4
THREADS = 8

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

# A consumer process: waits for "go", then assigns until nothing is left,
# printing each number with the consumer it went to.
ASSIGNER = """
import sys, time
from numinv import Consumer, Inventory, NotFound
from numinv.storage.sqlite import SqliteRepository

path, worker, site = sys.argv[1:4]
with SqliteRepository(path) as repository:
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
        time.sleep(0.0005)  # a worker does something with its number: the others get a turn
"""

# A loading process: pages spill into the write-ahead log while it loads, so
# that a kill lands part way through the transaction, not before it.
LOADER = """
import sys, time
from numinv import Inventory
from numinv.storage.sqlite import SqliteRepository

repository = SqliteRepository(sys.argv[1])
repository._db.connection.execute("PRAGMA cache_size = 64")
print("loading", flush=True)
Inventory(repository).add_range(sys.argv[2], "1000000", count=int(sys.argv[3]))
print("loaded", flush=True)
time.sleep(60)
"""


def phone(name: str) -> Consumer:
    return Consumer("device/cucm/Phone", name, SITE)


def test_processes_assigning_from_one_pool_each_get_distinct_numbers(tmp_path: Path) -> None:
    path = tmp_path / "pool.db"
    with SqliteRepository(path) as repository:
        Inventory(repository).add_range("sys.acme.uk", "1000", count=POOL)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", ASSIGNER, str(path), f"p{index}", SITE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(PROCESSES)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    given: dict[str, list[str]] = {}
    for worker in workers:
        output, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        for line in output.splitlines():
            number, consumer = line.split()
            given.setdefault(number, []).append(consumer)
    assert sorted(given) == list(number_range("1000", count=POOL))
    assert all(len(consumers) == 1 for consumers in given.values())
    assert len({consumer[:2] for consumers in given.values() for consumer in consumers}) > 1
    with SqliteRepository(path) as repository:
        for record in repository.within(number_range("1000", count=POOL)):
            assert record.status is Status.USED
            assert [use.consumer_id for use in record.uses] == given[record.number]


def test_threads_assigning_from_one_repository_each_get_distinct_numbers(
    tmp_path: Path,
) -> None:
    with SqliteRepository(tmp_path / "pool.db") as repository:
        inventory = Inventory(repository)
        inventory.add_range("sys.acme.uk", "1000", count=POOL)
        given: list[tuple[str, str]] = []
        failures: list[BaseException] = []
        start = threading.Barrier(THREADS)

        def assign(worker: int) -> None:
            try:
                start.wait(10)
                for n in range(POOL):
                    consumer = phone(f"t{worker}-{n}")
                    given.append((inventory.assign_next(consumer).number, consumer.id))
            except NotFound:
                return
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=assign, args=(worker,)) for worker in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        assert sorted(number for number, _ in given) == list(number_range("1000", count=POOL))
        for number, consumer in given:
            assert [use.consumer_id for use in inventory.get(number, SITE).uses] == [consumer]


def killed_while_loading(path: Path, size: int, *, after_commit: bool) -> int:
    """Run the loader and SIGKILL it part way through its load, or after its commit."""
    wal = path.with_name(path.name + "-wal")
    loader = subprocess.Popen(
        [sys.executable, "-c", LOADER, str(path), SITE, str(size)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert loader.stdout is not None
        assert loader.stdout.readline() == "loading\n"
        if after_commit:
            assert loader.stdout.readline() == "loaded\n"
        deadline = time.monotonic() + 20
        while not after_commit and time.monotonic() < deadline and loader.poll() is None:
            if wal.exists() and wal.stat().st_size > 2_000_000:
                break
            time.sleep(0.005)
    finally:
        loader.kill()
        loader.wait()
    return loader.returncode


def stored_cleanly(path: Path) -> int:
    """Open the file after a crash; check it whole and return how many records it holds."""
    with SqliteRepository(path) as repository:
        connection = repository._db.connection
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        versions = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        assert versions == (SCHEMA_VERSION,)
        (stored,) = connection.execute("SELECT count(*) FROM records").fetchone()
        counted = sum(sum(statuses.values()) for statuses in repository.counts().values())
        assert counted == stored
        Inventory(repository).add_range(SITE, "2000", count=10)  # and still takes writes
        return int(stored)


def test_a_load_killed_part_way_leaves_all_of_the_range_or_none(tmp_path: Path) -> None:
    path, size = tmp_path / "crash.db", 200_000
    assert killed_while_loading(path, size, after_commit=False) == -9  # killed, not finished
    assert stored_cleanly(path) in (0, size)


def test_a_load_killed_after_it_committed_keeps_the_whole_range(tmp_path: Path) -> None:
    path, size = tmp_path / "crash.db", 20_000
    assert killed_while_loading(path, size, after_commit=True) == -9
    assert stored_cleanly(path) == size
