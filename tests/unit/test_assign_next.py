"""SPEC 3 and 12: `assign_next` takes the first number `available` offers, safely under races."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

import attrs
import pytest

from numinv import (
    ConcurrentUpdate,
    Consumer,
    InMemoryRepository,
    Inventory,
    NotFound,
    NumberRecord,
    Status,
)
from numinv.storage.protocol import Query, Transaction
from tests.clock import Clock

SITE = "sys.acme.uk.london"


def phone(name: str, at: str = SITE) -> Consumer:
    return Consumer("device/cucm/Phone", name, at)


def test_site_numbers_are_used_before_the_shared_pool_above() -> None:
    inventory = Inventory()
    inventory.add_range("sys.acme.uk", "1000", count=2)
    inventory.add_range(SITE, "5000", count=2)

    numbers = [inventory.assign_next(phone(f"p{i}")).number for i in range(4)]

    assert numbers == ["5000", "5001", "1000", "1001"]


def test_reserved_and_cooling_numbers_are_skipped(clock: Clock) -> None:
    inventory = Inventory(clock=clock)
    inventory.add_range(SITE, "5000", count=4)
    inventory.reserve("5000", SITE)
    inventory.cool("5001", SITE, days=3)

    assert inventory.assign_next(phone("p1")).number == "5002"


def test_a_prefix_narrows_the_candidates() -> None:
    inventory = Inventory()
    inventory.add_range(SITE, "5000", count=3)
    inventory.add_range(SITE, "6000", count=3)

    assert inventory.assign_next(phone("p1"), prefix="6").number == "6000"


def test_an_empty_pool_raises_not_found_naming_the_node() -> None:
    inventory = Inventory()
    inventory.add_range(SITE, "5000")
    inventory.assign_next(phone("p1"))

    with pytest.raises(NotFound, match=SITE):
        inventory.assign_next(phone("p2"))


class LosingFirstRace(InMemoryRepository):
    """A store where another writer takes the first candidate just before our write."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def transaction(self) -> AbstractContextManager[Transaction]:
        if self.armed:
            self.armed = False
            with super().transaction() as other_writer:
                (first,) = other_writer.scan(Query(SITE, Status.AVAILABLE, limit=1))
                taken = attrs.evolve(first, status=Status.RESERVED, version=first.version + 1)
                other_writer.replace([(first, taken)])
        return super().transaction()


def test_a_lost_compare_and_set_moves_on_to_the_next_candidate() -> None:
    repository = LosingFirstRace()
    inventory = Inventory(repository)
    inventory.add_range(SITE, "5000", count=3)
    repository.armed = True

    record = inventory.assign_next(phone("p1"))

    assert record.number == "5001"
    assert inventory.get("5000", SITE).status is Status.RESERVED


def test_a_stale_write_raises_concurrent_update() -> None:
    inventory = Inventory()
    inventory.add_range(SITE, "5000")
    stale = inventory.get("5000", SITE)
    inventory.update("5000", SITE, tag="moved on")

    with pytest.raises(ConcurrentUpdate), inventory.repository.transaction() as tx:
        tx.replace([(stale, NumberRecord("5000", SITE, version=stale.version + 1))])

    assert inventory.get("5000", SITE).tag == "moved on"


def test_concurrent_callers_get_distinct_numbers() -> None:
    inventory = Inventory()
    inventory.add_range(SITE, "5000", count=200)
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        barrier.wait()
        for turn in range(25):
            number = inventory.assign_next(phone(f"t{index}-{turn}")).number
            with lock:
                results.append(number)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 200
    assert len(set(results)) == 200
    assert all(len(r.uses) == 1 for r in inventory.search(status=Status.USED))
