"""SPEC 6: every row of the status transition table, through the public API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from numinv import (
    Consumer,
    InvalidInput,
    InvalidTransition,
    Inventory,
    Settings,
    Status,
    Usage,
)
from tests.clock import Clock

SITE = "sys.acme.uk.london"
PHONE = Consumer("device/cucm/Phone", "SEP001", SITE)
PHONE_2 = Consumer("device/cucm/Phone", "SEP002", SITE)
HUNT = Consumer("device/cucm/HuntPilot", "HP1", SITE)
HANDLER = Consumer("device/cuc/Callhandler", "CH1", SITE)
TEAMS = Consumer("device/msteamsonline/CsOnlineUser", "alice@acme", SITE)
AUDIOCODES = Consumer("device/audiocodes", "AC-7", SITE)


def make(clock: Clock, **settings: object) -> Inventory:
    inventory = Inventory(clock=clock, settings=Settings(**settings))  # type: ignore[arg-type]
    inventory.add_range(SITE, "2000", count=10, tag="london")
    return inventory


# -- assign ---------------------------------------------------------------------


def test_assign_from_available_takes_the_kinds_status_and_usage(clock: Clock) -> None:
    inventory = make(clock)

    record = inventory.assign("2000", HUNT)

    assert (record.status, record.usage, record.vendor) == (
        Status.USED_UTILITY,
        (Usage.HUNT_PILOT,),
        "",
    )


def test_assign_to_a_used_number_is_refused_unless_shared(clock: Clock) -> None:
    inventory = make(clock)
    before = inventory.assign("2000", PHONE)

    with pytest.raises(InvalidTransition, match="shared"):
        inventory.assign("2000", PHONE_2)

    assert inventory.get("2000", SITE) == before


def test_a_hunt_pilot_added_last_makes_status_used_utility(clock: Clock) -> None:
    inventory = make(clock)
    inventory.assign("2000", PHONE)

    record = inventory.assign("2000", HUNT, shared=True)

    assert record.status is Status.USED_UTILITY
    assert record.usage == (Usage.DEVICE, Usage.HUNT_PILOT)
    assert [use.consumer_id for use in record.uses] == ["SEP001", "HP1"]


def test_a_phone_added_to_a_hunt_pilot_makes_status_used_and_keeps_usage_order(
    clock: Clock,
) -> None:
    inventory = make(clock)
    inventory.assign("2000", HUNT)

    record = inventory.assign("2000", PHONE, shared=True)

    assert record.status is Status.USED
    assert record.usage == (Usage.HUNT_PILOT, Usage.DEVICE)


def test_a_call_handler_shared_with_devices_reads_call_handler_pilot_then_device(
    clock: Clock,
) -> None:
    inventory = make(clock)
    inventory.assign("2000", HANDLER)
    inventory.assign("2000", PHONE, shared=True)

    record = inventory.assign("2000", PHONE_2, shared=True)

    assert record.usage == (Usage.CALL_HANDLER_PILOT, Usage.DEVICE)
    assert record.status is Status.USED
    assert len(record.uses) == 3


def test_assigning_the_same_consumer_again_changes_nothing_and_emits_nothing(
    clock: Clock,
) -> None:
    inventory = make(clock)
    first = inventory.assign("2000", PHONE)
    events: list[object] = []
    inventory.subscribe(events.append)

    again = inventory.assign("2000", PHONE)

    assert again == first
    assert again.version == first.version
    assert events == []


def test_assign_to_a_reserved_number_is_refused_without_claim(clock: Clock) -> None:
    inventory = make(clock)
    reserved = inventory.reserve("2000", SITE, tag="new starter")

    with pytest.raises(InvalidTransition, match="reserved"):
        inventory.assign("2000", PHONE)

    assert inventory.get("2000", SITE) == reserved


def test_claiming_a_reservation_assigns_and_keeps_tag_and_notes(clock: Clock) -> None:
    inventory = make(clock)
    inventory.reserve("2000", SITE, tag="Bob", notes="joins Monday", days=10)

    record = inventory.assign("2000", PHONE, claim=True)

    assert record.status is Status.USED
    assert (record.tag, record.reservation_notes) == ("Bob", "joins Monday")
    assert record.release_date is None
    assert record.reserved_for is None


def test_a_reservation_for_a_named_consumer_can_be_claimed_only_by_it(clock: Clock) -> None:
    inventory = make(clock)
    reserved = inventory.reserve("2000", SITE, reserved_for="SEP002")

    with pytest.raises(InvalidTransition, match="SEP002"):
        inventory.assign("2000", PHONE, claim=True)
    assert inventory.get("2000", SITE) == reserved

    record = inventory.assign("2000", PHONE_2, claim=True)
    assert record.status is Status.USED


def test_assign_to_a_cooling_number_is_refused(clock: Clock) -> None:
    inventory = make(clock)
    cooling = inventory.cool("2000", SITE, days=5)

    with pytest.raises(InvalidTransition, match="cooling"):
        inventory.assign("2000", PHONE)

    assert inventory.get("2000", SITE) == cooling


def test_an_audiocodes_device_back_within_its_cooling_gets_its_number_back(
    clock: Clock,
) -> None:
    inventory = make(clock)
    inventory.assign("2000", AUDIOCODES)
    inventory.unassign("2000", AUDIOCODES)
    clock.advance(days=1)

    record = inventory.assign("2000", AUDIOCODES)

    assert (record.status, record.usage, record.vendor) == (
        Status.USED,
        (Usage.DEVICE,),
        "AudioCodes",
    )
    assert record.release_date is None
    assert record.tag == "london"


def test_another_audiocodes_device_cannot_take_a_cooling_number(clock: Clock) -> None:
    inventory = make(clock)
    inventory.assign("2000", AUDIOCODES)
    inventory.unassign("2000", AUDIOCODES)
    other = Consumer("device/audiocodes", "AC-8", SITE)

    with pytest.raises(InvalidTransition):
        inventory.assign("2000", other)


def test_a_phone_whose_removal_cooled_the_number_cannot_return(clock: Clock) -> None:
    inventory = make(clock, auto_cooling=True)
    inventory.assign("2000", PHONE)
    inventory.unassign("2000", PHONE)

    with pytest.raises(InvalidTransition):
        inventory.assign("2000", PHONE)


# -- unassign ---------------------------------------------------------------------


def test_unassign_with_other_uses_left_takes_the_newest_remaining_status(clock: Clock) -> None:
    inventory = make(clock)
    inventory.assign("2000", HUNT)
    inventory.assign("2000", PHONE, shared=True)

    record = inventory.unassign("2000", PHONE)

    assert record.status is Status.USED_UTILITY
    assert record.usage == (Usage.HUNT_PILOT,)
    assert [use.consumer_id for use in record.uses] == ["HP1"]


def test_unassigning_the_last_use_without_auto_cooling_makes_it_available(clock: Clock) -> None:
    inventory = make(clock)
    inventory.assign("2000", PHONE)

    record = inventory.unassign("2000", PHONE)

    assert (record.status, record.usage, record.uses) == (Status.AVAILABLE, (), ())
    assert record.release_date is None


def test_with_auto_cooling_the_last_used_kind_removed_cools_for_cooling_days(
    clock: Clock,
) -> None:
    inventory = make(clock, auto_cooling=True, cooling_days=30)
    inventory.assign("2000", TEAMS)

    record = inventory.unassign("2000", TEAMS)

    assert record.status is Status.COOLING
    assert record.release_date == clock.now + timedelta(days=30)
    assert (record.usage, record.uses, record.vendor) == ((), (), "")


def test_auto_cooling_is_off_by_default() -> None:
    assert Settings().auto_cooling is False
    assert Settings().cooling_days == 30


def test_removing_the_last_used_utility_use_does_not_cool_even_with_auto_cooling(
    clock: Clock,
) -> None:
    inventory = make(clock, auto_cooling=True)
    inventory.assign("2000", HUNT)

    record = inventory.unassign("2000", HUNT)

    assert record.status is Status.AVAILABLE


def test_an_audiocodes_removal_cools_for_its_own_days_even_without_auto_cooling(
    clock: Clock,
) -> None:
    inventory = make(clock, cooling_days=30, audiocodes_cooling_days=2)
    inventory.assign("2000", AUDIOCODES)

    record = inventory.unassign("2000", AUDIOCODES)

    assert record.status is Status.COOLING
    assert record.release_date == clock.now + timedelta(days=2)


def test_an_audiocodes_cooling_tag_says_in_how_many_days_and_on_which_date(
    clock: Clock,
) -> None:
    inventory = make(clock, audiocodes_cooling_days=2)
    inventory.assign("2000", AUDIOCODES)

    record = inventory.unassign("2000", AUDIOCODES)

    release = (clock.now + timedelta(days=2)).date().isoformat()
    assert "2 days" in record.tag
    assert release in record.tag


def test_the_previous_tag_comes_back_when_audiocodes_cooling_is_released(clock: Clock) -> None:
    inventory = make(clock)
    inventory.assign("2000", AUDIOCODES)
    inventory.unassign("2000", AUDIOCODES)

    record = inventory.release("2000", SITE)

    assert record.tag == "london"


def test_the_previous_tag_comes_back_when_audiocodes_cooling_runs_out(clock: Clock) -> None:
    inventory = make(clock, audiocodes_cooling_days=2)
    inventory.assign("2000", AUDIOCODES)
    inventory.unassign("2000", AUDIOCODES)
    clock.advance(days=2)

    record = inventory.get("2000", SITE)

    assert (record.status, record.tag) == (Status.AVAILABLE, "london")


def test_unassigning_a_consumer_that_does_not_use_the_number_is_refused(clock: Clock) -> None:
    inventory = make(clock)
    before = inventory.assign("2000", PHONE)

    with pytest.raises(InvalidTransition, match="SEP002"):
        inventory.unassign("2000", PHONE_2)

    assert inventory.get("2000", SITE) == before


def test_unassigning_an_available_number_is_refused(clock: Clock) -> None:
    inventory = make(clock)

    with pytest.raises(InvalidTransition):
        inventory.unassign("2000", PHONE)


# -- reserve and unreserve -----------------------------------------------------------


def test_reserve_sets_tag_notes_and_a_lapse_date(clock: Clock) -> None:
    inventory = make(clock)

    record = inventory.reserve("2000", SITE, tag="Carol", notes="starts 1 May", days=7)

    assert record.status is Status.RESERVED
    assert (record.tag, record.reservation_notes) == ("Carol", "starts 1 May")
    assert record.release_date == clock.now + timedelta(days=7)
    assert record.uses == ()


def test_reserving_a_reserved_number_updates_tag_notes_and_duration(clock: Clock) -> None:
    inventory = make(clock)
    inventory.reserve("2000", SITE, tag="Carol", notes="a", days=7)

    record = inventory.reserve("2000", SITE, tag="Dave", notes="b", days=14)

    assert (record.status, record.tag, record.reservation_notes) == (Status.RESERVED, "Dave", "b")
    assert record.release_date == clock.now + timedelta(days=14)


def test_unreserve_clears_notes_release_date_and_reserved_for(clock: Clock) -> None:
    inventory = make(clock)
    inventory.reserve("2000", SITE, tag="Carol", notes="a", days=7, reserved_for="SEP001")

    record = inventory.unreserve("2000", SITE)

    assert record.status is Status.AVAILABLE
    assert (record.reservation_notes, record.release_date, record.reserved_for) == ("", None, None)
    assert record.tag == "Carol"


def test_a_timed_reservation_lapses_by_itself(clock: Clock) -> None:
    inventory = make(clock)
    inventory.reserve("2000", SITE, days=3)
    clock.advance(days=3)

    assert inventory.get("2000", SITE).status is Status.AVAILABLE
    assert inventory.assign("2000", PHONE).status is Status.USED


# -- cool and release ---------------------------------------------------------------


def test_cool_without_a_duration_uses_cooling_days(clock: Clock) -> None:
    inventory = make(clock, cooling_days=12)

    record = inventory.cool("2000", SITE)

    assert record.status is Status.COOLING
    assert record.release_date == clock.now + timedelta(days=12)


def test_cool_until_a_date(clock: Clock) -> None:
    inventory = make(clock)
    until = clock.now + timedelta(days=3, hours=4)

    record = inventory.cool("2000", SITE, until=until)

    assert record.release_date == until


def test_cooling_a_cooling_number_moves_its_release_date(clock: Clock) -> None:
    inventory = make(clock)
    inventory.cool("2000", SITE, days=10)

    shorter = inventory.cool("2000", SITE, days=2)
    longer = inventory.cool("2000", SITE, days=40)

    assert shorter.release_date == clock.now + timedelta(days=2)
    assert longer.release_date == clock.now + timedelta(days=40)


@pytest.mark.parametrize("days", [0, 1000, -1, 2.5, "3", True])
def test_manual_cooling_takes_1_to_999_days(clock: Clock, days: object) -> None:
    inventory = make(clock)

    with pytest.raises(InvalidInput, match="days"):
        inventory.cool("2000", SITE, days=days)  # type: ignore[arg-type]

    assert inventory.get("2000", SITE).status is Status.AVAILABLE


def test_cooling_until_a_past_date_is_refused(clock: Clock) -> None:
    inventory = make(clock)

    with pytest.raises(InvalidTransition, match="future"):
        inventory.cool("2000", SITE, until=clock.now - timedelta(days=1))


def test_release_makes_a_cooling_number_available_whatever_its_date(clock: Clock) -> None:
    inventory = make(clock)
    inventory.cool("2000", SITE, days=500)

    record = inventory.release("2000", SITE)

    assert (record.status, record.release_date) == (Status.AVAILABLE, None)


# -- anything else ---------------------------------------------------------------------

REFUSED = [
    ("Available", "unreserve"),
    ("Available", "release"),
    ("Used", "reserve"),
    ("Used", "unreserve"),
    ("Used", "cool"),
    ("Used", "release"),
    ("Reserved", "cool"),
    ("Reserved", "release"),
    ("Reserved", "unassign"),
    ("Cooling", "reserve"),
    ("Cooling", "unreserve"),
    ("Cooling", "unassign"),
]


def _into(inventory: Inventory, status: str) -> None:
    if status == "Used":
        inventory.assign("2000", PHONE)
    elif status == "Reserved":
        inventory.reserve("2000", SITE)
    elif status == "Cooling":
        inventory.cool("2000", SITE, days=3)


def _do(inventory: Inventory, operation: str) -> None:
    calls = {
        "reserve": lambda: inventory.reserve("2000", SITE),
        "unreserve": lambda: inventory.unreserve("2000", SITE),
        "cool": lambda: inventory.cool("2000", SITE),
        "release": lambda: inventory.release("2000", SITE),
        "unassign": lambda: inventory.unassign("2000", PHONE_2),
    }
    calls[operation]()


@pytest.mark.parametrize(("status", "operation"), REFUSED)
def test_any_other_transition_is_refused_naming_number_node_status_and_operation(
    clock: Clock, status: str, operation: str
) -> None:
    inventory = make(clock)
    _into(inventory, status)
    before = inventory.get("2000", SITE)

    with pytest.raises(InvalidTransition) as refusal:
        _do(inventory, operation)

    error = refusal.value
    assert (error.number, error.hierarchy, error.status, error.operation) == (
        "2000",
        SITE,
        status,
        operation,
    )
    assert "2000" in str(error)
    assert SITE in str(error)
    assert inventory.get("2000", SITE) == before


def test_a_number_from_a_shared_pool_is_assigned_at_the_pools_node(clock: Clock) -> None:
    inventory = make(clock)
    inventory.add_range("sys.acme.uk", "3000", count=2)

    record = inventory.assign("3000", PHONE)

    assert record.hierarchy == "sys.acme.uk"
    assert record.uses[0].hierarchy == SITE


def test_a_consumer_cannot_use_a_number_it_cannot_see(clock: Clock) -> None:
    inventory = make(clock)
    outsider = Consumer("device/cucm/Phone", "X", "sys.other.site")

    with pytest.raises(LookupError):
        inventory.assign("2000", outsider)


def test_every_stored_change_raises_the_version(clock: Clock) -> None:
    inventory = make(clock)
    versions = [inventory.get("2000", SITE).version]
    versions.append(inventory.assign("2000", PHONE).version)
    versions.append(inventory.unassign("2000", PHONE).version)
    versions.append(inventory.reserve("2000", SITE).version)
    versions.append(inventory.update("2000", SITE, description="x").version)

    assert versions == sorted(set(versions))
