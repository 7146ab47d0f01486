"""SPEC 18: reservations for a person, owners, and what each person holds."""

from __future__ import annotations

import pytest

from numinv import (
    Conflict,
    Consumer,
    InvalidTransition,
    NotFound,
    Settings,
    Status,
)
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

SITE = "sys.acme.uk.london"
POOL = "sys.acme.uk"
ALICE_PHONE = Consumer("device/cucm/Phone", "SEPA11CE", SITE, owner="alice")
ALICE_TEAMS = Consumer("device/msteamsonline/CsOnlineUser", "alice", SITE)
BOB_PHONE = Consumer("device/cucm/Phone", "SEPB0B", SITE, owner="bob")
PILOT = Consumer("device/cucm/HuntPilot", "HP1", SITE)


@pytest.fixture
def make_loaded(make: MakeInventory) -> MakeInventory:
    def loaded(**options: object) -> object:
        inventory = make(**options)
        inventory.add_range(SITE, "2000", count=5)
        inventory.add_range(POOL, "3000", count=5)
        return inventory

    return loaded  # type: ignore[return-value]


def test_a_persons_phone_claims_the_number_reserved_for_that_person(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice", tag="new starter")

    record = inventory.assign("2001", ALICE_PHONE, claim=True)

    assert record.status is Status.USED
    assert record.reserved_for == "alice"
    assert record.tag == "new starter"


def test_the_person_itself_may_claim_by_its_consumer_id(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")
    assert inventory.assign("2001", ALICE_TEAMS, claim=True).status is Status.USED


def test_anybody_else_is_refused_the_number(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")

    with pytest.raises(InvalidTransition, match="reserved for 'alice'"):
        inventory.assign("2001", BOB_PHONE, claim=True)
    assert inventory.get("2001", SITE).status is Status.RESERVED


def test_nobody_else_may_share_a_number_held_for_a_person(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")
    inventory.assign("2001", ALICE_PHONE, claim=True)

    with pytest.raises(InvalidTransition):
        inventory.assign("2001", PILOT, shared=True)
    assert inventory.assign("2001", ALICE_TEAMS, shared=True).usage == ("Device", "User")


def test_reserving_it_for_somebody_else_is_a_conflict(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")

    with pytest.raises(Conflict, match="alice"):
        inventory.reserve("2001", SITE, reserved_for="bob")
    assert inventory.get("2001", SITE).reserved_for == "alice"


def test_reserving_again_without_a_person_keeps_the_flag(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")
    record = inventory.reserve("2001", SITE, notes="desk 4")
    assert (record.reserved_for, record.reservation_notes) == ("alice", "desk 4")


def test_the_number_goes_back_to_the_person_when_the_phone_is_removed(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")
    inventory.assign("2001", ALICE_PHONE, claim=True)

    record = inventory.unassign("2001", ALICE_PHONE)

    assert (record.status, record.reserved_for) == (Status.RESERVED, "alice")
    assert "2001" not in [r.number for r in inventory.available(SITE)]


def test_after_cooling_the_number_goes_back_to_the_person(
    make_loaded: MakeInventory, clock: Clock
) -> None:
    inventory = make_loaded(settings=Settings(auto_cooling=True, cooling_days=3))
    inventory.reserve("2001", SITE, reserved_for="alice")
    inventory.assign("2001", ALICE_PHONE, claim=True)
    assert inventory.unassign("2001", ALICE_PHONE).status is Status.COOLING
    clock.advance(days=4)

    record = inventory.get("2001", SITE)

    assert (record.status, record.reserved_for, record.release_date) == (
        Status.RESERVED,
        "alice",
        None,
    )
    assert inventory.release_due()[0].status is Status.RESERVED


def test_assign_next_takes_the_number_reserved_for_the_consumers_owner_first(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.reserve("3003", POOL, reserved_for="alice")

    assert inventory.assign_next(ALICE_PHONE).number == "3003"
    assert inventory.assign_next(BOB_PHONE).number == "2000"


def test_assign_next_takes_the_persons_number_at_its_own_node_before_a_pool(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.reserve("3000", POOL, reserved_for="alice")
    inventory.reserve("2004", SITE, reserved_for="alice")

    assert inventory.assign_next(ALICE_PHONE).number == "2004"
    assert inventory.assign_next(ALICE_TEAMS).number == "3000"


def test_assign_next_skips_a_persons_number_it_cannot_see(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.acme.fr", "4000", count=2)
    inventory.add_range(SITE, "2000", count=2)
    inventory.reserve("4000", "sys.acme.fr", reserved_for="alice")

    assert inventory.assign_next(ALICE_PHONE).number == "2000"


def test_unreserve_removes_the_reservation_and_its_flag(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice", notes="HR", days=3)

    record = inventory.unreserve("2001", SITE)

    assert (record.status, record.reserved_for, record.release_date) == (
        Status.AVAILABLE,
        None,
        None,
    )


def test_unreserve_of_a_used_number_keeps_it_used_and_drops_the_flag(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")
    inventory.assign("2001", ALICE_PHONE, claim=True)

    record = inventory.unreserve("2001", SITE)

    assert (record.status, record.reserved_for) == (Status.USED, None)
    assert inventory.unassign("2001", ALICE_PHONE).status is Status.AVAILABLE


def test_unreserve_of_a_number_neither_reserved_nor_flagged_is_refused(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.assign("2001", BOB_PHONE)
    with pytest.raises(InvalidTransition, match="not reserved"):
        inventory.unreserve("2001", SITE)


def test_a_timed_reservation_for_a_person_ends_with_its_flag(
    make_loaded: MakeInventory, clock: Clock
) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice", days=2)
    clock.advance(days=2)

    record = inventory.get("2001", SITE)

    assert (record.status, record.reserved_for) == (Status.AVAILABLE, None)


def test_reserve_next_reserves_the_first_number_available_would_offer(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.assign("2000", BOB_PHONE)

    record = inventory.reserve_next(SITE, tag="new starter", reserved_for="alice", days=14)

    assert (record.number, record.status, record.reserved_for) == ("2001", Status.RESERVED, "alice")
    assert [r.number for r in inventory.available(SITE, limit=1)] == ["2002"]


def test_reserve_next_with_nothing_available_is_not_found(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.reserve("2000", SITE)
    with pytest.raises(NotFound):
        inventory.reserve_next(SITE)


def test_numbers_of_lists_what_a_person_uses_and_holds(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.reserve("3004", POOL, reserved_for="alice")
    inventory.assign("2000", ALICE_PHONE)
    inventory.assign("2001", ALICE_TEAMS)
    inventory.assign("2002", BOB_PHONE)

    held = inventory.numbers_of("alice")

    assert [(r.number, r.status) for r in held] == [
        ("2000", Status.USED),
        ("2001", Status.USED),
        ("3004", Status.RESERVED),
    ]
    assert [r.number for r in inventory.numbers_of("SEPB0B")] == ["2002"]
    assert inventory.numbers_of("carol") == []


def test_numbers_of_follows_changes(make_loaded: MakeInventory) -> None:
    inventory = make_loaded()
    inventory.assign("2000", ALICE_PHONE)
    inventory.unassign("2000", ALICE_PHONE)
    assert inventory.numbers_of("alice") == []


def test_numbers_of_leaves_out_a_timed_reservation_that_lapsed_before_any_sweep(
    make_loaded: MakeInventory, clock: Clock
) -> None:
    """A read shows a lapsed hold as released (SPEC 22): the number is nobody's now,
    whether or not `release_due` has run."""
    inventory = make_loaded()
    inventory.reserve("2000", SITE, reserved_for="alice", days=2)
    inventory.reserve("2001", SITE, reserved_for="alice")
    clock.advance(days=3)

    assert [r.number for r in inventory.numbers_of("alice")] == ["2001"]
    inventory.release_due()
    assert [r.number for r in inventory.numbers_of("alice")] == ["2001"]


def test_numbers_of_at_a_node_keeps_its_line_of_descent(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.add_range("sys.acme.fr", "4000")
    inventory.reserve("2000", SITE, reserved_for="alice")
    inventory.reserve("4000", "sys.acme.fr", reserved_for="alice")

    assert [r.number for r in inventory.numbers_of("alice", at="sys.acme.uk")] == ["2000"]
    assert [r.number for r in inventory.numbers_of("alice", at="sys.acme")] == ["2000", "4000"]


def test_the_flag_outlives_the_deletion_of_the_persons_devices(
    make_loaded: MakeInventory,
) -> None:
    inventory = make_loaded()
    inventory.reserve("2001", SITE, reserved_for="alice")
    inventory.assign("2001", ALICE_PHONE, claim=True)
    inventory.assign("2001", ALICE_TEAMS, shared=True)
    inventory.unassign("2001", ALICE_PHONE)
    inventory.unassign("2001", ALICE_TEAMS)

    assert [r.number for r in inventory.numbers_of("alice")] == ["2001"]
    assert inventory.assign_next(ALICE_TEAMS).number == "2001"


def test_callers_for_one_person_at_once_take_different_reserved_numbers(
    make: MakeInventory,
) -> None:
    """SPEC 16: concurrent callers get distinct numbers without chasing one candidate. The
    person's reserved numbers were read without taking them: on PostgreSQL the callers all
    went for the same one, retried, and a quarter of them failed with numbers to spare."""
    import threading

    inventory = make()
    inventory.add_range(SITE, "5000", count=80)
    inventory.reserve_range(SITE, "5000", count=40, reserved_for="alice")
    taken: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def caller(worker: int) -> None:
        start.wait(10)
        for call in range(5):
            phone = Consumer("device/cucm/Phone", f"SEP{worker:02d}{call}", SITE, owner="alice")
            try:
                taken.append(inventory.assign_next(phone).number)
            except BaseException as failure:
                failures.append(failure)

    threads = [threading.Thread(target=caller, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(taken) == [f"{5000 + n}" for n in range(40)]  # hers, each once
    assert inventory.retried <= 4


def test_assign_next_stores_the_lapse_of_a_persons_reservation_it_met(
    make: MakeInventory, clock: Clock
) -> None:
    """SPEC 22: the write that meets a lapsed reservation stores its release first. Claiming
    the person's reservations, `assign_next` passed over a lapsed one without storing it."""
    inventory = make()
    inventory.add_range("sys.acme", "1200", count=2)
    inventory.add_range(SITE, "5000", count=2)
    inventory.reserve("1200", "sys.acme", days=1, reserved_for="alice")
    clock.advance(days=2)
    taken = inventory.assign_next(ALICE_PHONE)
    assert taken.number == "5000"
    operations = [change.operation for change in inventory.history("1200")]
    assert operations[-1] == "release_due"
    assert inventory.get("1200", "sys.acme").status is Status.AVAILABLE
