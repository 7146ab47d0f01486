"""SPEC 20: numbers the UC applications know but nobody uses; the Inactive status."""

from __future__ import annotations

import pytest

from numinv import (
    Consumer,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Observation,
    Status,
)
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

SITE = "sys.acme.uk.london"
POOL = "sys.acme.uk"
WEBEX_USER = Consumer("device/spark/Number", "ann", SITE)
TEAMS_USER = Consumer("device/msteamsonline/CsOnlineUser", "bob", SITE)


def test_deactivate_makes_an_available_number_an_inactive_webex_number(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)

    record = inventory.deactivate("2001", SITE)

    assert (record.status, record.vendor, record.usage) == (Status.INACTIVE, "Webex Calling", ())


def test_an_inactive_number_is_neither_offered_nor_assignable(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.deactivate("2000", SITE)

    assert [r.number for r in inventory.available(SITE)] == ["2001"]
    assert inventory.assign_next(WEBEX_USER).number == "2001"
    with pytest.raises(InvalidTransition):
        inventory.assign("2000", WEBEX_USER)
    with pytest.raises(NotFound):
        inventory.assign_next(TEAMS_USER)


def test_activate_makes_an_inactive_number_available(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.deactivate("2000", SITE)

    record = inventory.activate("2000", SITE)

    assert (record.status, record.vendor) == (Status.AVAILABLE, "Webex Calling")
    assert inventory.assign("2000", WEBEX_USER).status is Status.USED


def test_activate_and_deactivate_refuse_other_statuses(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.assign("2000", WEBEX_USER)
    with pytest.raises(InvalidTransition):
        inventory.deactivate("2000", SITE)
    with pytest.raises(InvalidTransition):
        inventory.activate("2001", SITE)


def test_an_inactive_number_cannot_be_deleted(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.deactivate("2000", SITE)
    with pytest.raises(InvalidTransition, match="Inactive"):
        inventory.delete_range(SITE, "2000")


def test_utilization_counts_inactive_numbers_where_there_are_some(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=4)
    inventory.add_range(POOL, "3000", count=4)
    inventory.deactivate("2000", SITE)

    report = inventory.utilization()

    assert report[SITE].counts[Status.INACTIVE] == 1
    assert Status.INACTIVE not in report[POOL].counts


def test_an_audit_makes_a_microsoft_tenant_number_nobody_uses_available_with_its_type(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "+442071230000", count=2)
    inventory.assign("+442071230000", TEAMS_USER)

    report = inventory.audit(
        [
            Observation("+442071230000", vendor="Microsoft", internal_number_type="CallingPlan"),
        ]
    )

    record = inventory.get("+442071230000", SITE)
    assert (record.status, record.vendor, record.internal_number_type) == (
        Status.AVAILABLE,
        "Microsoft",
        "Calling Plan",
    )
    assert report.counts["held unassigned"] == 1


def test_an_audit_makes_a_webex_number_reported_inactive_inactive(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)

    inventory.audit([Observation("2001", vendor="Webex Calling", active=False)], at=SITE)

    assert inventory.get("2001", SITE).status is Status.INACTIVE
    assert inventory.get("2000", SITE).status is Status.AVAILABLE


@pytest.mark.parametrize(
    ("vendor", "consumer"),
    [("Microsoft", None), ("Cisco", None), ("AudioCodes", None), ("Webex Calling", WEBEX_USER)],
)
def test_only_a_webex_number_nobody_uses_can_be_reported_inactive(
    make: MakeInventory, vendor: str, consumer: Consumer | None
) -> None:
    """Inactive is Webex Calling's status (SPEC 20): a Microsoft number reported inactive
    used to become an Inactive Webex Calling number."""
    with pytest.raises(InvalidInput, match="Observation of 2001"):
        Observation("2001", consumer, vendor=vendor, active=False)
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.audit([Observation("2001", vendor="", active=False)], at=SITE)
    assert inventory.get("2001", SITE).status is Status.INACTIVE  # a blank vendor says nothing


def test_deactivate_refuses_another_vendors_number_and_changes_nothing(
    make: MakeInventory,
) -> None:
    """Inactive is Webex Calling's status: a Microsoft Calling Plan number deactivated
    used to become a Webex Calling number for good, its vendor and type lost."""
    inventory = make()
    inventory.add_range(SITE, "2000", vendor="Microsoft", internal_number_type="Calling Plan")
    before = inventory.get("2000", SITE)

    with pytest.raises(InvalidTransition, match="its vendor is Microsoft"):
        inventory.deactivate("2000", SITE)

    assert inventory.get("2000", SITE) == before
    inventory.update("2000", SITE, vendor="Webex Calling", internal_number_type="")
    assert inventory.deactivate("2000", SITE).status is Status.INACTIVE


def test_an_inactive_number_keeps_webex_calling_as_its_vendor(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.deactivate("2000", SITE)
    before = inventory.get("2000", SITE)

    for vendor in ("Microsoft", ""):
        with pytest.raises(InvalidTransition, match="an Inactive number is Webex Calling's"):
            inventory.update("2000", SITE, vendor=vendor)
    assert inventory.get("2000", SITE) == before
    assert inventory.update("2000", SITE, tag="spare").vendor == "Webex Calling"


def test_an_inactive_number_imported_without_a_vendor_can_still_be_tagged(
    make: MakeInventory,
) -> None:
    """Only an update that sets another vendor is refused, not one that leaves it."""
    from numinv import NumberRecord

    inventory = make()
    inventory.import_records([NumberRecord("2000", SITE, status=Status.INACTIVE)])
    assert inventory.update("2000", SITE, tag="spare").tag == "spare"


def test_a_number_of_another_vendor_observed_inactive_without_a_vendor_stays_available(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", vendor="Microsoft")
    inventory.audit([Observation("2000", active=False)], at=SITE)
    assert (inventory.get("2000", SITE).status, inventory.get("2000", SITE).vendor) == (
        Status.AVAILABLE,
        "Microsoft",
    )


def test_a_held_back_webex_number_reported_inactive_keeps_its_hold(
    make: MakeInventory, clock: Clock
) -> None:
    """Decision 123: only an Available number becomes Inactive. A reservation or a cooling
    is the inventory's own hold, and the application's report agrees with it (nobody uses
    the number): the hold stands, the vendor is taken, and nothing is in conflict."""
    inventory = make()
    inventory.configure(SITE, auto_cooling=True)
    inventory.add_range(SITE, "2000", count=2)
    inventory.reserve("2000", SITE, tag="new starter")
    inventory.assign("2001", WEBEX_USER)
    inventory.unassign("2001", WEBEX_USER)

    report = inventory.audit(
        [Observation(n, vendor="Webex Calling", active=False) for n in ("2000", "2001")],
        at=SITE,
    )

    reserved, cooling = inventory.get("2000", SITE), inventory.get("2001", SITE)
    assert (reserved.status, reserved.tag, reserved.vendor) == (
        Status.RESERVED,
        "new starter",
        "Webex Calling",
    )
    assert (cooling.status, cooling.vendor) == (Status.COOLING, "Webex Calling")
    assert not report.conflicts

    clock.advance(days=31)  # the cooling ends: the next report makes the number Inactive
    inventory.audit([Observation("2001", vendor="Webex Calling", active=False)], at=SITE)
    assert inventory.get("2001", SITE).status is Status.INACTIVE


def test_a_webex_number_reported_active_again_becomes_available(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.deactivate("2000", SITE)

    inventory.audit([Observation("2000", vendor="Webex Calling")])

    assert inventory.get("2000", SITE).status is Status.AVAILABLE


def test_a_consumer_seen_using_the_number_wins_over_an_unassigned_report(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")

    inventory.audit(
        [Observation("2000", WEBEX_USER), Observation("2000", vendor="Webex Calling", active=False)]
    )

    assert inventory.get("2000", SITE).status is Status.USED


def test_add_missing_adds_an_unassigned_number_at_the_audits_node(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(POOL, "3000")

    report = inventory.audit(
        [Observation("+442071239999", vendor="Microsoft", internal_number_type="Operator Connect")],
        at=POOL,
        add_missing=True,
    )

    record = inventory.get("+442071239999", SITE)
    assert (record.hierarchy, record.status, record.vendor, record.internal_number_type) == (
        POOL,
        Status.AVAILABLE,
        "Microsoft",
        "Operator Connect",
    )
    assert report.counts["number added"] == 1


def test_add_missing_adds_an_unassigned_number_where_the_application_holds_it(
    make: MakeInventory,
) -> None:
    """Decision 63: without a consumer, at the observation's `hierarchy`, else at `at`."""
    inventory = make()
    inventory.add_range(POOL, "3000")

    inventory.audit(
        [Observation("+442071239998", vendor="Microsoft", hierarchy=SITE)],
        at=POOL,
        add_missing=True,
    )

    assert inventory.get("+442071239998", SITE).hierarchy == SITE


def test_an_unassigned_number_with_no_node_to_go_to_stays_unknown(make: MakeInventory) -> None:
    inventory = make()
    report = inventory.audit([Observation("5555", vendor="Webex Calling")], add_missing=True)
    assert [o.number for o in report.unknown] == ["5555"]
    assert list(inventory.search()) == []


def test_an_unassigned_observation_with_a_bad_number_type_is_refused(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    with pytest.raises(InvalidInput, match="Phone Number"):
        inventory.audit(
            [Observation("2000", vendor="Microsoft", internal_number_type="Phone Number")]
        )


def test_a_use_observed_on_an_inactive_number_is_recorded_and_reported_as_a_conflict(
    make: MakeInventory,
) -> None:
    """Inactive is neither offered nor assignable (SPEC 20): a UC application using it is
    as suspicious as one using a Reserved number (SPEC 10), so the audit says so."""
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.deactivate("2000", SITE)

    report = inventory.audit([Observation("2000", WEBEX_USER)], at=SITE)

    assert inventory.get("2000", SITE).status is Status.USED  # the use is recorded
    assert [(c.number, c.status) for c in report.conflicts] == [("2000", Status.INACTIVE)]
    assert "Inactive but used by" in report.conflicts[0].reason
