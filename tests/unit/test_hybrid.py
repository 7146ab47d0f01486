"""SPEC 8: the Cisco-Microsoft hybrid service types, row by row and in any order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from numinv import (
    Event,
    InvalidInput,
    InvalidTransition,
    Inventory,
    ServiceRow,
    ServiceType,
    Settings,
    Status,
)
from tests.clock import Clock
from tests.examples import examples

SITE = "sys.acme.uk.london"
INI = "+442071234567"
E164 = "+27726043938"

# SPEC 8's table, written out: (service type, E.164?) -> status, vendor, usage, extra2, extra4.
# "<INI>" stands for the internal number without its '+'.
TABLE = {
    ("Cisco-MS-Hybrid", True): (
        "Used",
        "Cisco, Microsoft",
        ("Device", "User"),
        "Cisco-MS-Hybrid",
        "",
    ),
    ("Cisco-MS-Hybrid", False): (
        "Used",
        "Cisco, Microsoft",
        ("Device", "User"),
        "Cisco-MS-Hybrid",
        "+88800<INI>",
    ),
    ("Cisco-Only", True): ("Used", "", ("Device",), "", ""),
    ("Cisco-Only", False): ("Used", "", ("Device",), "", ""),
    ("MS-Only-Entvoice", True): ("Used", "Microsoft", ("User",), "MS-Only-Entvoice", ""),
    ("MS-Only-Entvoice", False): (
        "Used",
        "Microsoft",
        ("User",),
        "MS-Only-Entvoice",
        "+88800<INI>",
    ),
    ("MS-Only-Hybrid", True): ("Used", "Microsoft", ("User",), "MS-Only-Hybrid", ""),
    ("MS-Only-Hybrid", False): ("Used", "Microsoft", ("User",), "MS-Only-Hybrid", "+88800<INI>"),
    ("Cisco-No-Services", True): ("Available", "", (), "", ""),
    ("Cisco-No-Services", False): ("Available", "", (), "", ""),
    ("MS-Only-No-Entvoice", True): ("Available", "", (), "", ""),
    ("MS-Only-No-Entvoice", False): ("Available", "", (), "", ""),
    ("No-Hybrid-Service", True): ("Available", "", (), "", ""),
    ("No-Hybrid-Service", False): ("Available", "", (), "", ""),
}


def expected(service: str, with_e164: bool, number: str = INI) -> tuple[object, ...]:
    status, vendor, usage, extra2, extra4 = TABLE[(service, with_e164)]
    return (status, vendor, usage, extra2, extra4.replace("<INI>", number.lstrip("+")))


def shown(inventory: Inventory, number: str = INI) -> tuple[object, ...]:
    record = inventory.get(number, SITE)
    return (record.status, record.vendor, record.usage, record.extra2, record.extra4)


@pytest.fixture
def inventory(clock: Clock) -> Inventory:
    inventory = Inventory(clock=clock)
    inventory.add_range(SITE, INI)
    return inventory


@pytest.mark.parametrize(("service", "with_e164"), sorted(TABLE))
def test_each_service_type_sets_the_row_of_the_table(
    inventory: Inventory, service: str, with_e164: bool
) -> None:
    if with_e164:
        inventory.associate_e164(INI, SITE, E164)

    inventory.apply_service(INI, SITE, "jane", service)

    assert shown(inventory) == expected(service, with_e164)


@pytest.mark.parametrize(
    ("first", "second"), list(itertools.permutations([s.value for s in ServiceType], 2))
)
def test_moving_between_any_two_service_types_lands_on_the_second_row_in_one_event(
    inventory: Inventory, first: str, second: str
) -> None:
    inventory.apply_service(INI, SITE, "jane", first)
    events: list[Event] = []
    inventory.subscribe(events.append)

    inventory.apply_service(INI, SITE, "jane", second)

    assert shown(inventory) == expected(second, with_e164=False)
    assert len(events) <= 1
    assert all(event.operation == "apply_service" for event in events)


def test_associating_an_e164_later_removes_the_generated_teluri(inventory: Inventory) -> None:
    inventory.apply_service(INI, SITE, "jane", ServiceType.MS_ONLY_HYBRID)
    assert inventory.get(INI, SITE).extra4 == "+88800442071234567"

    record = inventory.associate_e164(INI, SITE, E164)

    assert record.extra4 == ""


def test_removing_the_last_e164_brings_the_teluri_back(inventory: Inventory) -> None:
    inventory.associate_e164(INI, SITE, E164)
    inventory.apply_service(INI, SITE, "jane", ServiceType.CISCO_MS_HYBRID)

    record = inventory.dissociate_e164(INI, SITE, E164)

    assert record.extra4 == "+88800442071234567"


def test_the_teluri_prefix_comes_from_settings(clock: Clock) -> None:
    inventory = Inventory(clock=clock, settings=Settings(teluri_prefix="+99912"))
    inventory.add_range(SITE, "2000")

    record = inventory.apply_service("2000", SITE, "jane", "MS-Only-Entvoice")

    assert record.extra4 == "+999122000"


def test_a_service_type_without_a_number_releases_it_through_cooling_when_enabled(
    clock: Clock,
) -> None:
    inventory = Inventory(clock=clock, settings=Settings(auto_cooling=True, cooling_days=5))
    inventory.add_range(SITE, "2000")
    inventory.apply_service("2000", SITE, "jane", "Cisco-MS-Hybrid")

    record = inventory.apply_service("2000", SITE, "jane", "No-Hybrid-Service")

    assert record.status is Status.COOLING
    assert (record.extra2, record.extra4, record.vendor, record.usage) == ("", "", "", ())


def test_extra2_and_extra4_are_managed_while_a_service_type_is_applied(
    inventory: Inventory,
) -> None:
    inventory.apply_service(INI, SITE, "jane", "Cisco-MS-Hybrid")

    with pytest.raises(InvalidTransition, match="extra2"):
        inventory.update(INI, SITE, extra2="mine")

    inventory.apply_service(INI, SITE, "jane", "No-Hybrid-Service")
    assert inventory.update(INI, SITE, extra2="mine").extra2 == "mine"


def test_a_number_used_by_someone_else_cannot_take_a_service_type(inventory: Inventory) -> None:
    from numinv import Consumer

    inventory.assign(INI, Consumer("device/cucm/HuntPilot", "hp", SITE))

    with pytest.raises(InvalidTransition, match="hp"):
        inventory.apply_service(INI, SITE, "jane", "Cisco-Only")


def test_an_unknown_service_type_is_refused_naming_it(inventory: Inventory) -> None:
    from numinv import InvalidInput

    with pytest.raises(InvalidInput, match="Cisco-Plus"):
        inventory.apply_service(INI, SITE, "jane", "Cisco-Plus")


_steps = st.one_of(
    st.sampled_from(ServiceType).map(lambda service: ("service", service)),
    st.sampled_from(["+271", "+272"]).map(lambda e164: ("associate", e164)),
    st.sampled_from(["+271", "+272"]).map(lambda e164: ("dissociate", e164)),
)


@settings(max_examples=examples(150), deadline=None)
@given(steps=st.lists(_steps, min_size=1, max_size=15))
def test_the_record_always_equals_the_row_of_the_last_service_type_and_e164_state(
    steps: list[tuple[str, object]],
) -> None:
    inventory = Inventory()
    inventory.add_range(SITE, INI)
    last: str = ServiceType.NO_HYBRID_SERVICE
    for kind, value in steps:
        if kind == "service":
            inventory.apply_service(INI, SITE, "jane", value)  # type: ignore[arg-type]
            last = str(value)
        elif kind == "associate":
            inventory.associate_e164(INI, SITE, str(value))
        elif str(value) in inventory.get(INI, SITE).e164:
            inventory.dissociate_e164(INI, SITE, str(value))
    with_e164 = bool(inventory.get(INI, SITE).e164)

    assert shown(inventory) == expected(last, with_e164)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"extra2": None}, "extra2 must be text, not None"),
        ({"teluri": 1}, "teluri must be True or False, not 1"),
        # Written into every record the type is given to: such a record could not be read
        # back from its own export.
        ({"extra2": "x" * 70_000}, "extra2 is 70000 characters long ('xxxx"),
        ({"extra2": "a\x00b"}, "extra2 must not hold a NUL character"),
    ],
)
def test_a_service_row_that_cannot_work_is_refused_naming_the_value(
    fields: dict[str, object], said: str
) -> None:
    row: dict[str, object] = {
        "service_type": "Webex-Only",
        "kinds": ("device/cucm/Phone",),
        "extra2": "",
        "teluri": False,
        **fields,
    }
    with pytest.raises(InvalidInput) as refused:
        ServiceRow(**row)  # type: ignore[arg-type]
    assert said in str(refused.value)
