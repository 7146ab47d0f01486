"""SPEC 21: moving numbers between nodes, every field kept, all or nothing."""

from __future__ import annotations

import pytest

from numinv import (
    Conflict,
    Consumer,
    DuplicateNumber,
    Event,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Status,
)
from tests.behaviour.conftest import MakeInventory

CUSTOMER = "sys.acme.uk"
LONDON = "sys.acme.uk.london"
LEEDS = "sys.acme.uk.leeds"
PHONE = Consumer("device/cucm/Phone", "SEP1", LONDON)


def test_a_move_keeps_every_field_status_use_and_e164(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000", count=3, tag="pool", extra3="billing 7")
    inventory.assign("2000", PHONE)
    inventory.associate_e164("2000", CUSTOMER, "+442071230000", primary=True)
    inventory.reserve("2001", CUSTOMER, notes="for the new wing", days=10)
    before = [inventory.get(n, CUSTOMER) for n in ("2000", "2001", "2002")]

    assert inventory.move_range(CUSTOMER, "2000", count=3, to=LONDON) == 3

    after = [inventory.get(n, LONDON) for n in ("2000", "2001", "2002")]
    assert [a.hierarchy for a in after] == [LONDON] * 3
    for old, new in zip(before, after, strict=True):
        kept = {name: getattr(old, name) for name in ("status", "uses", "e164", "tag", "extra3")}
        assert {name: getattr(new, name) for name in kept} == kept
        assert new.version > old.version
    assert inventory.find("2000", LEEDS) is None


def test_a_moved_number_keeps_its_history(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000")
    inventory.assign("2000", PHONE)
    inventory.move_range(CUSTOMER, "2000", to=LONDON)

    history = inventory.history("2000", at=LONDON)

    assert [c.operation for c in history] == ["add", "assign", "move"]
    assert history[-1].after == inventory.get("2000", LONDON)


def test_a_move_is_one_event_per_number(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000", count=2)
    events: list[Event] = []
    inventory.subscribe(events.append)

    inventory.move_range(CUSTOMER, "2000", count=2, to=LEEDS)

    assert [(e.operation, e.before.hierarchy, e.record.hierarchy) for e in events if e.before] == [
        ("move", CUSTOMER, LEEDS),
        ("move", CUSTOMER, LEEDS),
    ]


def test_a_move_that_would_strand_a_user_is_refused(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000", count=2)
    inventory.assign("2001", PHONE)

    with pytest.raises(InvalidTransition, match="SEP1"):
        inventory.move_range(CUSTOMER, "2000", count=2, to=LEEDS)
    assert inventory.get("2000", LEEDS).hierarchy == CUSTOMER


def test_a_move_that_would_strand_the_device_a_number_cools_from_is_refused(
    make: MakeInventory,
) -> None:
    """An AudioCodes device that comes back within the cooling gets its number back: moved
    where it cannot see it, the number was lost to it for good."""
    gateway = Consumer("device/audiocodes", "gw1", LONDON)
    inventory = make()
    inventory.add_range(LONDON, "2000")
    inventory.assign("2000", gateway)
    inventory.unassign("2000", gateway)
    assert inventory.get("2000", LONDON).status is Status.COOLING

    with pytest.raises(InvalidTransition, match=r"gw1.*release it first"):
        inventory.move_range(LONDON, "2000", to=LEEDS)
    assert inventory.get("2000", LONDON).hierarchy == LONDON
    inventory.move_range(LONDON, "2000", to=CUSTOMER)  # it still sees it there
    assert inventory.assign("2000", gateway).status is Status.USED


def test_a_move_that_would_break_uniqueness_is_refused_naming_the_numbers(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range("sys.acme.fr", "2000", count=3)
    inventory.add_range(LONDON, "2001")

    with pytest.raises(DuplicateNumber) as refusal:
        inventory.move_range("sys.acme.fr", "2000", count=3, to=CUSTOMER)

    assert refusal.value.conflicts == (("2001", LONDON),)
    assert inventory.get("2000", "sys.acme.fr").hierarchy == "sys.acme.fr"


def test_a_move_within_a_line_of_descent_ignores_the_records_it_moves(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000", count=2)
    assert inventory.move_range(CUSTOMER, "2000", count=2, to=LONDON) == 2
    assert inventory.move_range(LONDON, "2000", count=2, to=CUSTOMER) == 2


def test_a_move_that_would_make_an_e164_point_twice_is_refused(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.acme.fr", "4000")
    inventory.associate_e164("4000", "sys.acme.fr", "+33123456789")
    inventory.add_range(LONDON, "2000")
    inventory.associate_e164("2000", LONDON, "+33123456789")

    with pytest.raises(Conflict, match=r"\+33123456789"):
        inventory.move_range("sys.acme.fr", "4000", to=CUSTOMER)


def test_a_move_of_numbers_that_are_not_there_is_refused(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000")
    with pytest.raises(NotFound):
        inventory.move_range(CUSTOMER, "2000", count=2, to=LONDON)
    with pytest.raises(InvalidInput):
        inventory.move_range(CUSTOMER, "2000", to=CUSTOMER)
    assert inventory.get("2000", CUSTOMER).status is Status.AVAILABLE


def test_a_number_moved_back_continues_above_every_version_it_had(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER, "2000")
    for tag in "abc":
        inventory.update("2000", CUSTOMER, tag=tag)
    inventory.move_range(CUSTOMER, "2000", to=LONDON)
    at_london = inventory.get("2000", LONDON).version
    inventory.move_range(LONDON, "2000", to=CUSTOMER)

    assert inventory.get("2000", CUSTOMER).version > at_london
