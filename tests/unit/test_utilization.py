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


# -- rollups judged by the threshold in force at their root (SPEC 19) ---------------------


def _two_sites() -> Inventory:
    inventory = Inventory()
    inventory.add_range("sys.a.b", "1000", count=10)
    inventory.add_range("sys.a.c", "2000", count=10)
    inventory.configure("sys.a", exhaustion_threshold=0.9)  # a node holding no numbers
    inventory.reserve_range("sys.a.b", "1000", count=5)
    return inventory


def test_a_rollup_takes_the_threshold_set_at_its_root_though_it_holds_no_numbers() -> None:
    report = _two_sites().utilization()
    rolled = report.rollup("sys.a")
    assert (rolled.available_share, rolled.threshold, rolled.low) == (0.75, 0.9, True)
    assert report.rollup("sys").threshold == 0.10  # above the setting: the inventory's
    assert report.rollup("sys.a.b").threshold == 0.9  # inherited by a site
    assert report.rollup("sys.a", threshold=0.5).low is False  # asked for: that one


def test_a_report_asked_at_a_node_has_the_threshold_in_force_there() -> None:
    inventory = _two_sites()
    assert inventory.utilization("sys.a").threshold == 0.9
    assert inventory.utilization().threshold == 0.10
    assert inventory.utilization("sys.a", below=0.2).threshold == 0.2


@pytest.mark.parametrize(
    ("hierarchy", "threshold"), [(5, None), ("sys..a", None), ("sys.a", 5), ("sys.a", "x")]
)
def test_a_rollup_refuses_bad_input_as_numinv_errors(hierarchy: object, threshold: object) -> None:
    from numinv import NumInvError

    report = _two_sites().utilization()
    with pytest.raises(NumInvError):
        report.rollup(hierarchy, threshold=threshold)  # type: ignore[arg-type]


def test_the_thresholds_in_force_are_listed_in_node_order_as_the_nodes_are() -> None:
    """The mapping was built from a set: its order changed from one run to the next."""
    inventory = Inventory()
    for first, node in enumerate(("sys.b.z", "sys.a", "sys.c.y.x", "sys.b")):
        inventory.add_range(node, f"{1000 + first}")
    report = inventory.utilization()
    assert list(report.in_force) == sorted(report.in_force)
    assert list(report.nodes) == sorted(report.nodes)
    assert set(report.in_force) >= {"sys", "sys.b", "sys.c", "sys.c.y"}
