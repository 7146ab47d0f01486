"""What the kit found wrong in the library, one minimal reproduction each: now regressions.

Each test states a rule (from SPEC.md, docs/decisions.md or the protocol's
docstring) that the library broke when the kit found it. They were strict
xfails until the lead fixed the library (be9254d); they stay as regressions.
A new finding is added here as `@bug(...)` (a strict xfail) and listed in
tests/kit/known.py until it is fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from numinv import (
    ConcurrentUpdate,
    Consumer,
    Inventory,
    NumberRecord,
    Observation,
    Settings,
    Status,
)
from numinv.storage.protocol import Repository

NODE = "sys.a"


@pytest.fixture
def repository(each_store: Repository) -> Repository:
    return each_store


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


# -- the inventory: each found by InventoryMachine (tolerated in tests/kit/known.py) ----------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def bug(reason: str) -> pytest.MarkDecorator:
    """A finding not fixed yet: the test must fail until the library is fixed."""
    return pytest.mark.xfail(strict=True, reason=f"library bug: {reason}")


def test_an_observed_number_type_is_stored_in_its_first_spelling() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100")
    seen = Observation("100", vendor="Microsoft", internal_number_type="CallingPlan")
    inventory.audit([seen])
    assert inventory.get("100", NODE).internal_number_type == "Calling Plan"


def test_an_audit_with_nothing_to_fix_stores_only_the_release_that_is_due() -> None:
    clock = Clock()
    inventory = Inventory(clock=clock)
    inventory.add_range(NODE, "100")
    inventory.cool("100", NODE, days=1)
    clock.now += timedelta(days=2)
    inventory.audit([])
    assert [change.operation for change in inventory.history("100")] == [
        "add",
        "cool",
        "release_due",
    ]


def test_a_number_observed_inactive_shows_the_number_type_observed() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100")
    seen = Observation(
        "100", vendor="Webex Calling", internal_number_type="Extension", active=False
    )
    inventory.audit([seen])
    record = inventory.get("100", NODE)
    assert (record.status, record.vendor) == (Status.INACTIVE, "Webex Calling")
    assert record.internal_number_type == "Extension"


def test_manual_cooling_lasts_the_cooling_days_in_force_at_the_node() -> None:
    clock = Clock()
    inventory = Inventory(settings=Settings(cooling_days=30), clock=clock)
    inventory.add_range(NODE, "100")
    inventory.configure(NODE, cooling_days=5)
    assert inventory.cool("100", NODE).release_date == clock.now + timedelta(days=5)


def test_an_exported_deactivated_number_imports_again() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100", vendor="Webex Calling", internal_number_type="Extension")
    inventory.deactivate("100", NODE)
    exported = list(inventory.search())
    assert (exported[0].status, exported[0].internal_number_type) == ("Inactive", "Extension")
    again = Inventory(clock=Clock())
    assert again.import_records(exported) == 1


def test_assign_next_never_hands_out_a_reserved_duplicate() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100")
    inventory.add_range("sys.b", "100")
    inventory.add_range(NODE, "101")
    inventory.reserve("100", NODE, reserved_for="alice")
    inventory.configure("sys", prevent_duplicates=True)
    phone = Consumer("device/cucm/Phone", "SEP1", NODE, owner="alice")
    assert inventory.assign_next(phone).number == "101"


def test_a_service_taken_away_cools_as_the_subscribers_node_says() -> None:
    inventory = Inventory(settings=Settings(auto_cooling=False), clock=Clock())
    inventory.add_range(NODE, "100")
    inventory.configure(f"{NODE}.s1", auto_cooling=True)
    inventory.apply_service("100", f"{NODE}.s1", "sub1", "Cisco-Only")
    released = inventory.apply_service("100", NODE, "sub1", "No-Hybrid-Service")
    assert released.status is Status.COOLING


def test_assign_next_after_a_lapsed_reservation_for_the_consumer_itself() -> None:
    clock = Clock()
    inventory = Inventory(clock=clock)
    inventory.add_range(NODE, "100", count=2)
    inventory.reserve("100", NODE, reserved_for="alice", days=1)
    clock.now += timedelta(days=2)
    alice = Consumer("device/cucm/Phone", "alice", NODE, owner="alice")
    assert inventory.assign_next(alice).number == "100"
