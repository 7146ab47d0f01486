"""What the kit found wrong in the library: one minimal reproduction each, strict xfail.

Each test states the rule (from SPEC.md, docs/decisions.md or the protocol's
docstring) and fails today. The lead fixes the library, then removes the mark.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from numinv import (
    ConcurrentUpdate,
    Consumer,
    InMemoryRepository,
    Inventory,
    NumberRecord,
    Observation,
    Settings,
    SqliteRepository,
    Status,
)
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


# -- the inventory: each found by InventoryMachine (tolerated in tests/kit/known.py) ----------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def bug(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"library bug: {reason}")


@bug(
    "an audit stores an observed internal number type as spelled ('CallingPlan'), "
    "not in the spelling SPEC 8 stores ('Calling Plan')"
)
def test_an_observed_number_type_is_stored_in_its_first_spelling() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100")
    seen = Observation("100", vendor="Microsoft", internal_number_type="CallingPlan")
    inventory.audit([seen])
    assert inventory.get("100", NODE).internal_number_type == "Calling Plan"


@bug(
    "an audit that finds nothing to fix on a number whose release date passed stores, "
    "after the release, an 'audit' change identical to it but for the version"
)
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


@bug(
    "an observation held inactive shows the number type set before it: decision 66 shows "
    "the type set (Extension) beside the vendor shown (Webex Calling)"
)
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


@bug(
    "cool() without days uses the inventory's cooling_days, not the cooling days in force "
    "at the number's node (SPEC 6 default cooling_days, SPEC 19 set per node)"
)
def test_manual_cooling_lasts_the_cooling_days_in_force_at_the_node() -> None:
    clock = Clock()
    inventory = Inventory(settings=Settings(cooling_days=30), clock=clock)
    inventory.add_range(NODE, "100")
    inventory.configure(NODE, cooling_days=5)
    assert inventory.cool("100", NODE).release_date == clock.now + timedelta(days=5)


@bug(
    "import_records refuses a record the lifecycle leaves: a deactivated number keeps its "
    "number type set apart from its vendor (decision 66), and the import calls that "
    "inconsistent (decision 35), so an export does not import"
)
def test_an_exported_deactivated_number_imports_again() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100", vendor="Microsoft", internal_number_type="Calling Plan")
    inventory.deactivate("100", NODE)
    exported = list(inventory.search())
    again = Inventory(clock=Clock())
    assert again.import_records(exported) == 1


@bug(
    "assign_next hands out a number reserved for the consumer's person although it also "
    "exists at another node and prevent-duplicates is on (SPEC 22: never handed out)"
)
def test_assign_next_never_hands_out_a_reserved_duplicate() -> None:
    inventory = Inventory(clock=Clock())
    inventory.add_range(NODE, "100")
    inventory.add_range("sys.b", "100")
    inventory.add_range(NODE, "101")
    inventory.reserve("100", NODE, reserved_for="alice")
    inventory.configure("sys", prevent_duplicates=True)
    phone = Consumer("device/cucm/Phone", "SEP1", NODE, owner="alice")
    assert inventory.assign_next(phone).number == "101"


@bug(
    "a service type without a number releases the subscriber's number with the cooling in "
    "force along the line of `at`, not at the subscriber's use's node (SPEC 8, SPEC 19)"
)
def test_a_service_taken_away_cools_as_the_subscribers_node_says() -> None:
    inventory = Inventory(settings=Settings(auto_cooling=False), clock=Clock())
    inventory.add_range(NODE, "100")
    inventory.configure(f"{NODE}.s1", auto_cooling=True)
    inventory.apply_service("100", f"{NODE}.s1", "sub1", "Cisco-Only")
    released = inventory.apply_service("100", NODE, "sub1", "No-Hybrid-Service")
    assert released.status is Status.COOLING


@bug(
    "assign_next by a consumer whose id is also its owner, whose timed reservation has "
    "lapsed, reads the reserved record twice, stores its release on the first read and "
    "then fails its own compare-and-set: ConcurrentUpdate with no other writer"
)
def test_assign_next_after_a_lapsed_reservation_for_the_consumer_itself() -> None:
    clock = Clock()
    inventory = Inventory(clock=clock)
    inventory.add_range(NODE, "100", count=2)
    inventory.reserve("100", NODE, reserved_for="alice", days=1)
    clock.now += timedelta(days=2)
    alice = Consumer("device/cucm/Phone", "alice", NODE, owner="alice")
    assert inventory.assign_next(alice).number == "100"
