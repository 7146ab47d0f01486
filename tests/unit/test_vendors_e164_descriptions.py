"""SPEC 7, 8 and 13: vendors shown, number types, E.164 associations, descriptions."""

from __future__ import annotations

import pytest

from numinv import (
    Conflict,
    Consumer,
    InvalidInput,
    InvalidNumber,
    Inventory,
    NotFound,
    NumberRecord,
    Settings,
    Status,
)
from tests.clock import Clock

SITE = "sys.acme.uk.london"
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)
TEAMS = Consumer("device/msteamsonline/CsOnlineUser", "alice", SITE)
WEBEX = Consumer("device/spark/Number", "bob", SITE)
AUDIOCODES = Consumer("device/audiocodes", "AC1", SITE)


@pytest.fixture
def inventory(clock: Clock) -> Inventory:
    inventory = Inventory(clock=clock)
    inventory.add_range(SITE, "2000", count=10)
    return inventory


# -- vendor shown ------------------------------------------------------------------


def test_a_number_used_by_cisco_alone_shows_a_blank_vendor(inventory: Inventory) -> None:
    inventory.assign("2000", PHONE)

    assert inventory.get("2000", SITE).vendor == ""


def test_cisco_mixed_with_microsoft_is_named_in_order_of_first_addition(
    inventory: Inventory,
) -> None:
    inventory.assign("2000", PHONE)

    assert inventory.assign("2000", TEAMS, shared=True).vendor == "Cisco, Microsoft"


def test_vendors_follow_the_order_their_uses_were_added(inventory: Inventory) -> None:
    inventory.assign("2000", TEAMS)
    inventory.assign("2000", PHONE, shared=True)

    assert inventory.assign("2000", WEBEX, shared=True).vendor == (
        "Microsoft, Cisco, Webex Calling"
    )


def test_a_pool_loaded_as_microsoft_shows_microsoft_while_available(
    inventory: Inventory,
) -> None:
    inventory.add_range("sys.acme", "3000", count=2, vendor="Microsoft")

    assert inventory.get("3000", SITE).vendor == "Microsoft"


def test_the_administrators_vendor_comes_back_when_the_number_is_free_again(
    inventory: Inventory,
) -> None:
    inventory.update("2000", SITE, vendor="Microsoft", internal_number_type="Calling Plan")
    assert inventory.assign("2000", WEBEX).vendor == "Webex Calling"

    record = inventory.unassign("2000", WEBEX)

    assert (record.status, record.vendor) == (Status.AVAILABLE, "Microsoft")


def test_updating_the_vendor_of_a_number_in_use_does_not_hide_its_uses_vendor(
    inventory: Inventory,
) -> None:
    inventory.assign("2000", AUDIOCODES)

    record = inventory.update("2000", SITE, vendor="Microsoft")

    assert record.vendor == "AudioCodes"
    assert inventory.unassign("2000", AUDIOCODES).vendor == "Microsoft"


# -- internal number types -------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "given", "stored"),
    [
        ("Microsoft", "Direct Routing", "Direct Routing"),
        ("Microsoft", "DirectRouting", "Direct Routing"),
        ("Microsoft", "CallingPlan", "Calling Plan"),
        ("Microsoft", "OperatorConnect", "Operator Connect"),
        ("Webex Calling", "Phone Number", "Phone Number"),
        ("Webex Calling", "Extension", "Extension"),
        ("", "", ""),
    ],
)
def test_each_vendor_takes_its_own_internal_number_types(
    inventory: Inventory, vendor: str, given: str, stored: str
) -> None:
    inventory.add_range("sys.acme", "4000", vendor=vendor, internal_number_type=given)

    assert inventory.get("4000", SITE).internal_number_type == stored


@pytest.mark.parametrize(
    ("vendor", "given"),
    [
        ("", "Direct Routing"),
        ("Microsoft", "Extension"),
        ("Webex Calling", "Calling Plan"),
        ("Microsoft", "Carrier Pigeon"),
    ],
)
def test_an_internal_number_type_foreign_to_the_vendor_is_refused(
    inventory: Inventory, vendor: str, given: str
) -> None:
    with pytest.raises(InvalidInput, match=given):
        inventory.add_range("sys.acme", "4000", vendor=vendor, internal_number_type=given)

    assert inventory.find("4000", SITE) is None


def test_changing_the_vendor_away_from_a_stored_type_is_refused(inventory: Inventory) -> None:
    inventory.update("2000", SITE, vendor="Microsoft", internal_number_type="Calling Plan")

    with pytest.raises(InvalidInput, match="Calling Plan"):
        inventory.update("2000", SITE, vendor="")

    assert inventory.get("2000", SITE).vendor == "Microsoft"


# -- E.164 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("associations", "display"),
    [
        ([], ""),
        ([("+27726043938", False)], "+27726043938"),
        ([("+27726043938", True)], "+27726043938 (P)"),
        (
            [("+27726043938", True)] + [(f"+2772604394{i}", False) for i in range(8)],
            "+27726043938 (P) [+8]",
        ),
        (
            [("+27726043938", False)] + [(f"+2772604394{i}", False) for i in range(8)],
            "+27726043938 [+8]",
        ),
        ([("+111", False), ("+27726043938", True)], "+27726043938 (P) [+1]"),
    ],
)
def test_e164_display_reads_as_the_spec_shows(
    inventory: Inventory, associations: list[tuple[str, bool]], display: str
) -> None:
    for e164, primary in associations:
        inventory.associate_e164("2000", SITE, e164, primary=primary)

    assert inventory.get("2000", SITE).e164_display == display


def test_several_e164_numbers_point_to_one_number_with_one_primary(inventory: Inventory) -> None:
    inventory.associate_e164("2000", SITE, "+111", primary=True)
    record = inventory.associate_e164("2000", SITE, "+222", primary=True)

    assert record.e164 == ("+111", "+222")
    assert record.primary_e164 == "+222"


def test_dissociating_the_primary_leaves_no_primary(inventory: Inventory) -> None:
    inventory.associate_e164("2000", SITE, "+111", primary=True)
    inventory.associate_e164("2000", SITE, "+222")

    record = inventory.dissociate_e164("2000", SITE, "+111")

    assert (record.e164, record.primary_e164, record.e164_display) == (("+222",), None, "+222")


def test_an_e164_number_points_to_one_number_in_a_line_of_descent(inventory: Inventory) -> None:
    inventory.add_range("sys.acme", "3000")
    inventory.associate_e164("3000", SITE, "+111")

    with pytest.raises(Conflict, match="3000"):
        inventory.associate_e164("2000", SITE, "+111")

    assert inventory.get("2000", SITE).e164 == ()


def test_sibling_sites_may_point_one_e164_number_at_their_own_numbers(
    inventory: Inventory,
) -> None:
    inventory.add_range("sys.acme.uk.leeds", "2000")
    inventory.associate_e164("2000", SITE, "+111")

    record = inventory.associate_e164("2000", "sys.acme.uk.leeds", "+111")

    assert record.e164 == ("+111",)


def test_with_prevent_duplicates_an_e164_number_is_unique_in_the_whole_tree() -> None:
    inventory = Inventory(settings=Settings(prevent_duplicates=True))
    inventory.add_range(SITE, "2000")
    inventory.add_range("sys.acme.uk.leeds", "2001")
    inventory.associate_e164("2000", SITE, "+111")

    with pytest.raises(Conflict):
        inventory.associate_e164("2001", "sys.acme.uk.leeds", "+111")


@pytest.mark.parametrize("bad", ["27726043938", "+", "+1234567890123456", "+27 72", "abc"])
def test_an_e164_number_is_a_plus_and_1_to_15_digits(inventory: Inventory, bad: str) -> None:
    with pytest.raises(InvalidNumber, match=r"E\.164"):
        inventory.associate_e164("2000", SITE, bad)


def test_dissociating_an_e164_that_is_not_there_is_not_found(inventory: Inventory) -> None:
    with pytest.raises(NotFound, match="\\+111"):
        inventory.dissociate_e164("2000", SITE, "+111")


# -- descriptions --------------------------------------------------------------------


def describe(consumer: Consumer, record: NumberRecord) -> str:
    return f"{consumer.kind.rsplit('/', 1)[-1]} {consumer.id}"


def test_a_describe_hook_fills_the_description_on_assignment(clock: Clock) -> None:
    inventory = Inventory(clock=clock, describe=describe)
    inventory.add_range(SITE, "2000")

    assert inventory.assign("2000", PHONE).description == "Phone SEP1"


def test_the_description_is_cleared_when_the_number_is_available_again(clock: Clock) -> None:
    inventory = Inventory(clock=clock, describe=describe)
    inventory.add_range(SITE, "2000", count=2)
    inventory.assign("2000", PHONE)
    inventory.assign("2001", AUDIOCODES)

    assert inventory.unassign("2000", PHONE).description == ""
    cooling = inventory.unassign("2001", AUDIOCODES)
    assert cooling.description == "audiocodes AC1"
    assert inventory.release("2001", SITE).description == ""


def test_without_a_describe_hook_the_description_is_the_administrators(
    inventory: Inventory,
) -> None:
    inventory.update("2000", SITE, description="reception desk", extra5="billing 42")
    inventory.assign("2000", PHONE)

    record = inventory.unassign("2000", PHONE)

    assert (record.description, record.extra5) == ("reception desk", "billing 42")


def test_free_text_fields_survive_assignment_and_release(inventory: Inventory) -> None:
    inventory.update("2000", SITE, tag="t", extra1="a", extra9="z")
    inventory.assign("2000", PHONE)
    inventory.unassign("2000", PHONE)
    inventory.cool("2000", SITE, days=1)

    record = inventory.release("2000", SITE)

    assert (record.tag, record.extra1, record.extra9) == ("t", "a", "z")


def test_a_describe_hook_that_returns_no_text_is_refused(clock: Clock) -> None:
    inventory = Inventory(clock=clock, describe=lambda consumer, record: 42)  # type: ignore[arg-type,return-value]
    inventory.add_range(SITE, "2000")

    with pytest.raises(InvalidInput):
        inventory.assign("2000", PHONE)

    assert inventory.get("2000", SITE).status is Status.AVAILABLE
