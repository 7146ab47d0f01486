"""Utilization per node, from kept counts, with low pools flagged."""

from __future__ import annotations

import pytest

from numinv import Consumer, InvalidInput, Inventory, Status
from tests.clock import Clock

SITE = "sys.acme.uk.london"


@pytest.fixture
def inventory(clock: Clock) -> Inventory:
    inventory = Inventory(clock=clock)
    inventory.add_range(SITE, "2000", count=20)
    inventory.add_range("sys.acme.uk", "3000", count=4)
    for index in range(19):
        inventory.assign_next(Consumer("device/cucm/Phone", f"p{index}", SITE))
    inventory.reserve("3000", "sys.acme.uk")
    inventory.cool("3001", "sys.acme.uk", days=3)
    return inventory


def test_counts_per_node_and_status_add_up_to_the_numbers_loaded(inventory: Inventory) -> None:
    report = inventory.utilization()

    site, pool = report[SITE], report["sys.acme.uk"]
    assert (site.total, site.available, site.counts[Status.USED]) == (20, 1, 19)
    assert pool.counts == {
        Status.AVAILABLE: 2,
        Status.USED: 0,
        Status.USED_UTILITY: 0,
        Status.COOLING: 1,
        Status.RESERVED: 1,
    }
    assert pool.available_share == 0.5


def test_nodes_under_the_threshold_are_flagged(inventory: Inventory) -> None:
    report = inventory.utilization(below=0.10)

    assert [node.hierarchy for node in report.low] == [SITE]
    assert report[SITE].low
    assert not report["sys.acme.uk"].low


def test_utilization_can_be_limited_to_a_subtree(inventory: Inventory) -> None:
    assert list(inventory.utilization(at=SITE)) == [SITE]


def test_cooling_that_ended_counts_as_available(inventory: Inventory, clock: Clock) -> None:
    clock.advance(days=3)

    assert inventory.utilization()["sys.acme.uk"].available == 3


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "10%", None])
def test_the_threshold_is_a_share_from_0_to_1(inventory: Inventory, threshold: object) -> None:
    with pytest.raises(InvalidInput):
        inventory.utilization(below=threshold)  # type: ignore[arg-type]
