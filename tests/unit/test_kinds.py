"""SPEC 5: each consumer kind triggers a status, a usage value and a vendor."""

from __future__ import annotations

import pytest

from numinv import Consumer, ConsumerKind, InvalidInput, Inventory, Status, Usage

SITE = "sys.acme.uk.london"

# The table of SPEC 5, written out here (not read from the code) on purpose.
SPEC_TABLE = [
    ("device/cucm/Phone", "Used", ("Device",), ""),
    ("device/cucm/DeviceProfile", "Used", ("Device",), ""),
    ("device/cucm/RemoteDestinationProfile", "Used", ("Device",), ""),
    ("device/cucm/HuntPilot", "Used-Utility", ("Hunt_Pilot",), ""),
    ("device/cucm/CallPickupGroup", "Used-Utility", ("Pickup_Group_Pilot",), ""),
    ("device/cuc/Callhandler", "Used-Utility", ("Call_Handler_Pilot",), ""),
    ("device/cucm/VoicemailPilot", "Used-Utility", ("Voicemail_Pilot",), ""),
    ("device/cucm/MeetMe", "Used-Utility", ("Meet_Me",), ""),
    ("device/cucm/CtiRoutePoint", "Used-Utility", ("CTI_RoutePoint",), ""),
    ("device/cucm/CallPark", "Used-Utility", ("Call_Park",), ""),
    ("device/cucm/DirectedCallPark", "Used-Utility", ("Directed_Call_Park",), ""),
    ("device/msteamsonline/CsOnlineUser", "Used", ("User",), "Microsoft"),
    ("device/spark/Number", "Used", ("User",), "Webex Calling"),
    ("device/audiocodes", "Used", ("Device",), "AudioCodes"),
]


@pytest.fixture
def inventory() -> Inventory:
    inventory = Inventory()
    inventory.add_range(SITE, "2000", count=10)
    return inventory


@pytest.mark.parametrize(("kind", "status", "usage", "vendor"), SPEC_TABLE)
def test_assigning_to_each_kind_sets_its_status_usage_and_vendor(
    inventory: Inventory, kind: str, status: str, usage: tuple[str, ...], vendor: str
) -> None:
    record = inventory.assign("2000", Consumer(kind, "c1", SITE))

    assert record.status == status
    assert record.usage == usage
    assert record.vendor == vendor
    assert [(use.kind, use.consumer_id) for use in record.uses] == [(kind, "c1")]


def test_a_voss_phone_is_used_utility_with_the_phones_own_vendor(inventory: Inventory) -> None:
    phone = Consumer("data/PRS_MultiVendorPhone_DAT", "p1", SITE, vendor="Yealink")

    record = inventory.assign("2000", phone)

    assert (record.status, record.usage, record.vendor) == (
        Status.USED_UTILITY,
        (Usage.VOSS_PHONE,),
        "Yealink",
    )


def test_an_unknown_kind_is_refused_naming_it(inventory: Inventory) -> None:
    with pytest.raises(InvalidInput, match="device/zoom/Phone"):
        inventory.assign("2000", Consumer("device/zoom/Phone", "z1", SITE))

    assert inventory.get("2000", SITE).status is Status.AVAILABLE


def test_a_host_registers_a_kind_without_touching_the_library() -> None:
    zoom = ConsumerKind("device/zoom/Phone", Status.USED, Usage.DEVICE, vendor="Zoom")
    inventory = Inventory(kinds=[zoom])
    inventory.add_range(SITE, "2000")

    record = inventory.assign("2000", Consumer("device/zoom/Phone", "z1", SITE))

    assert (record.status, record.usage, record.vendor) == (Status.USED, (Usage.DEVICE,), "Zoom")


def test_a_host_may_override_a_built_in_kind() -> None:
    utility_phone = ConsumerKind("device/cucm/Phone", Status.USED_UTILITY, Usage.DEVICE)
    inventory = Inventory(kinds={"device/cucm/Phone": utility_phone})
    inventory.add_range(SITE, "2000")

    record = inventory.assign("2000", Consumer("device/cucm/Phone", "p1", SITE))

    assert record.status is Status.USED_UTILITY


@pytest.mark.parametrize(
    "bad",
    [
        {"status": Status.AVAILABLE},
        {"usage": "Telepathy"},
        {"cooling_days": "no_such_setting"},
        {"cooling": "sometimes"},
        # Each was accepted, then failed every assign with AttributeError, or stored a
        # plain-text status in memory that SQLite and PostgreSQL refused.
        {"status": "Used"},
        {"vendor": None},
        {"vendor": 5},
        {"vendor": "Zo\x00om"},
        {"cooling_days": []},
        {"vendor_from_consumer": "yes"},
        {"returns_from_cooling": 1},
        {"cooling_tag": None},
        {"name": "x/y\x00"},
        {"name": " x/y"},  # a consumer's kind could never match it
        {"name": "x/" + "y" * 600},
    ],
)
def test_a_kind_row_that_cannot_work_is_refused_when_defined(bad: dict[str, object]) -> None:
    row: dict[str, object] = {"name": "x/y", "status": Status.USED, "usage": Usage.DEVICE, **bad}

    with pytest.raises(InvalidInput) as refused:
        ConsumerKind(**row)  # type: ignore[arg-type]
    (field,) = bad
    shown = repr(bad[field])[:40]
    assert field in str(refused.value) or shown in str(refused.value)


def test_kinds_must_be_consumer_kind_rows() -> None:
    with pytest.raises(InvalidInput):
        Inventory(kinds=["device/zoom/Phone"])  # type: ignore[list-item]
