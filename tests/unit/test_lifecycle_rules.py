"""Lifecycle rules no other test pins, found by a mutation probe (SPEC 5, 6, 8, 13, 19, 20)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from numinv import (
    Consumer,
    ConsumerKind,
    Cooling,
    InMemoryRepository,
    InvalidTransition,
    Inventory,
    NumberRecord,
    Observation,
    ServiceRow,
    Settings,
    Status,
    Usage,
)
from tests.clock import Clock

SITE = "sys.acme.uk.london"
AUDIOCODES = Consumer("device/audiocodes", "AC1", SITE)


def describe(consumer: Consumer, record: NumberRecord) -> str:
    return f"{consumer.kind.rsplit('/', 1)[-1]} {consumer.id}"


def test_reserving_a_number_keeps_its_description_under_a_describe_hook(clock: Clock) -> None:
    """SPEC 13: a describe hook's description is cleared only when the number becomes
    Available again; reserving an Available number keeps the administrator's description."""
    inventory = Inventory(clock=clock, describe=describe)
    inventory.add_range(SITE, "2000", description="reception desk")

    record = inventory.reserve("2000", SITE, tag="new starter")

    assert (record.status, record.description) == (Status.RESERVED, "reception desk")


def test_an_unassigned_observation_naming_only_its_vendor_keeps_the_number_type() -> None:
    """SPEC 20: a Microsoft tenant number observed unassigned is Available with vendor
    Microsoft and its number type; an observation that names no type keeps the one set."""
    inventory = Inventory()
    inventory.add_range(
        SITE, "+442071230000", vendor="Microsoft", internal_number_type="Calling Plan"
    )

    inventory.audit([Observation("+442071230000", vendor="Microsoft")])

    record = inventory.get("+442071230000", SITE)
    assert (record.status, record.vendor, record.internal_number_type) == (
        Status.AVAILABLE,
        "Microsoft",
        "Calling Plan",
    )


def test_a_device_whose_kind_no_longer_returns_from_cooling_is_refused(clock: Clock) -> None:
    """SPEC 5 and 6: only a consumer whose kind may return from cooling takes its number
    back; a host that re-registers the kind without it is obeyed for numbers already cooling."""
    repository = InMemoryRepository()
    inventory = Inventory(repository, clock=clock)
    inventory.add_range(SITE, "2000")
    inventory.assign("2000", AUDIOCODES)
    inventory.unassign("2000", AUDIOCODES)
    stays = ConsumerKind(
        "device/audiocodes",
        Status.USED,
        Usage.DEVICE,
        vendor="AudioCodes",
        cooling=Cooling.ALWAYS,
        cooling_days="audiocodes_cooling_days",
    )
    host = Inventory(repository, clock=clock, kinds=[stays])

    with pytest.raises(InvalidTransition, match="cooling"):
        host.assign("2000", AUDIOCODES)
    assert host.get("2000", SITE).status is Status.COOLING


def test_unreserving_clears_a_described_numbers_description(clock: Clock) -> None:
    """SPEC 13: with a describe hook the description is cleared when the number becomes
    Available again, from Reserved as from Used or Cooling."""
    inventory = Inventory(clock=clock, describe=describe)
    inventory.add_range(SITE, "2000")
    inventory.reserve("2000", SITE)
    inventory.update("2000", SITE, description="held for Bob")

    record = inventory.unreserve("2000", SITE)

    assert (record.status, record.description) == (Status.AVAILABLE, "")


def test_a_service_type_is_refused_to_a_user_the_audit_found_on_somebody_elses_number() -> None:
    """SPEC 18: while a number is reserved for alice only alice may take it; bob, whom an
    audit found using it, cannot have a service type give it to him."""
    inventory = Inventory()
    inventory.add_range(SITE, "2000")
    inventory.reserve("2000", SITE, reserved_for="alice")
    bob = Consumer("device/msteamsonline/CsOnlineUser", "bob", SITE)
    inventory.audit([Observation("2000", bob)])
    before = inventory.get("2000", SITE)

    with pytest.raises(InvalidTransition, match="reserved for 'alice'"):
        inventory.apply_service("2000", SITE, "bob", "Cisco-MS-Hybrid")
    assert inventory.get("2000", SITE) == before


def test_a_service_type_without_a_number_clears_what_a_number_left_by_its_users_kept() -> None:
    """SPEC 8: No-Hybrid-Service leaves Extra2 and Extra4 blank, also on a number whose
    hybrid uses were removed one by one before the subscriber's service type changed."""
    inventory = Inventory()
    inventory.add_range(SITE, "2000")
    inventory.apply_service("2000", SITE, "alice", "Cisco-MS-Hybrid")
    inventory.unassign("2000", Consumer("device/cucm/Phone", "alice", SITE))
    inventory.unassign("2000", Consumer("device/msteamsonline/CsOnlineUser", "alice", SITE))

    record = inventory.apply_service("2000", SITE, "alice", "No-Hybrid-Service")

    assert (record.status, record.service_type, record.extra2, record.extra4) == (
        Status.AVAILABLE,
        None,
        "",
        "",
    )


def test_a_host_row_overrides_a_built_in_service_type() -> None:
    """SPEC 22: the hybrid service types are data a host may extend, like the consumer
    kinds, so a host's row of a built-in name replaces the built-in row."""
    row = ServiceRow("Cisco-Only", ("device/cucm/Phone",), "Cisco-Only", False)
    inventory = Inventory(service_types=[row])
    inventory.add_range(SITE, "2000")

    record = inventory.apply_service("2000", SITE, "alice", "Cisco-Only")

    assert (record.status, record.extra2) == (Status.USED, "Cisco-Only")


@pytest.mark.parametrize(
    "kind",
    [
        "device/cucm/Phone",
        "device/cucm/DeviceProfile",
        "device/cucm/RemoteDestinationProfile",
        "device/msteamsonline/CsOnlineUser",
        "device/spark/Number",
    ],
)
def test_every_used_status_kind_cools_its_number_with_auto_cooling(clock: Clock, kind: str) -> None:
    """SPEC 6: removing the last use cools the number when its kind is a Used-status kind
    and `Settings.auto_cooling` is on, for `cooling_days`."""
    inventory = Inventory(clock=clock, settings=Settings(auto_cooling=True, cooling_days=9))
    inventory.add_range(SITE, "2000")
    inventory.assign("2000", Consumer(kind, "c1", SITE))

    record = inventory.unassign("2000", Consumer(kind, "c1", SITE))

    assert (record.status, record.release_date) == (
        Status.COOLING,
        clock.now + timedelta(days=9),
    )


def test_a_service_type_without_a_number_leaves_another_subscribers_number_alone() -> None:
    """SPEC 8: changing a subscriber's service type moves that subscriber's number; bob,
    who holds nothing on alice's hybrid number, moving to No-Hybrid-Service leaves her
    service type, Extra2 and Extra4 as they were."""
    inventory = Inventory()
    inventory.add_range(SITE, "2000")
    before = inventory.apply_service("2000", SITE, "alice", "Cisco-MS-Hybrid")

    after = inventory.apply_service("2000", SITE, "bob", "No-Hybrid-Service")

    assert after == before
    assert (after.service_type, after.extra2, after.extra4) == (
        "Cisco-MS-Hybrid",
        "Cisco-MS-Hybrid",
        "+888002000",
    )
