"""Events arrive in commit order, none lost, none twice, under contention (#13 item 3).

Three threads update one record as fast as they can while a listener
yields the processor at every event; the listener must see every committed
change exactly once, in `seq` order, with the record's versions rising.
"""

from __future__ import annotations

import threading
import time

import pytest

from numinv import Event, Inventory
from numinv.storage.protocol import Repository

SITE = "sys.acme.uk.london"
THREADS, UPDATES = 3, 40


@pytest.fixture
def repository(each_store: Repository) -> Repository:
    return each_store


def test_three_threads_updating_one_record_deliver_every_event_once_in_seq_order(
    repository: Repository,
) -> None:
    inventory = Inventory(repository)
    inventory.add_range(SITE, "1000")
    start = inventory.changes()[-1].seq
    seen: list[Event] = []

    def listener(event: Event) -> None:
        time.sleep(0)  # yield: another thread may commit and try to deliver meanwhile
        seen.append(event)

    inventory.subscribe(listener)
    barrier = threading.Barrier(THREADS)

    def work(name: str) -> None:
        barrier.wait()
        for index in range(UPDATES):
            inventory.update("1000", SITE, tag=f"{name}{index}")

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    journal = inventory.changes(after=start, limit=10_000)
    assert len(journal) == THREADS * UPDATES
    assert [event.seq for event in seen] == [change.seq for change in journal]
    versions = [event.after.version for event in seen if event.after is not None]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert seen[-1].after == inventory.get("1000", SITE)
