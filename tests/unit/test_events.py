"""SPEC 11: one event per stored change, after commit, never for refused work."""

from __future__ import annotations

import logging

import pytest

from numinv import (
    Consumer,
    DuplicateNumber,
    Event,
    InvalidTransition,
    Inventory,
    Status,
)
from tests.clock import Clock

SITE = "sys.acme.uk.london"
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)


@pytest.fixture
def inventory(clock: Clock) -> Inventory:
    return Inventory(clock=clock)


def test_loading_a_range_emits_one_event_per_number(inventory: Inventory, clock: Clock) -> None:
    events: list[Event] = []
    inventory.subscribe(events.append)

    inventory.add_range(SITE, "2000", count=3, tag="t")

    assert [(e.operation, e.before, e.after.number if e.after else "") for e in events] == [
        ("add", None, "2000"),
        ("add", None, "2001"),
        ("add", None, "2002"),
    ]
    assert all(e.at == clock.now for e in events)
    assert [e.after for e in events] == list(inventory.search())


def test_an_event_carries_the_record_before_and_after(inventory: Inventory) -> None:
    inventory.add_range(SITE, "2000")
    before = inventory.get("2000", SITE)
    events: list[Event] = []
    inventory.subscribe(events.append)

    after = inventory.assign("2000", PHONE)

    assert events == [Event("assign", before, after, events[0].at)]


def test_a_refused_call_emits_nothing(inventory: Inventory) -> None:
    inventory.add_range(SITE, "2000", count=3)
    inventory.assign("2001", PHONE)
    events: list[Event] = []
    inventory.subscribe(events.append)

    with pytest.raises(DuplicateNumber):
        inventory.add_range("sys.acme", "2000", count=3)
    with pytest.raises(InvalidTransition):
        inventory.delete_range(SITE, "2000", count=3)
    with pytest.raises(InvalidTransition):
        inventory.reserve_range(SITE, "2000", count=3)

    assert events == []


def test_listeners_see_the_change_already_committed(inventory: Inventory) -> None:
    inventory.add_range(SITE, "2000")
    seen: list[Status] = []
    inventory.subscribe(lambda event: seen.append(inventory.get("2000", SITE).status))

    inventory.assign("2000", PHONE)

    assert seen == [Status.USED]


def test_deleting_a_range_emits_events_with_no_after(inventory: Inventory) -> None:
    inventory.add_range(SITE, "2000", count=2)
    events: list[Event] = []
    inventory.subscribe(events.append)

    inventory.delete_range(SITE, "2000", count=2)

    assert [(e.operation, e.before.number if e.before else "", e.after) for e in events] == [
        ("delete", "2000", None),
        ("delete", "2001", None),
    ]


def test_unsubscribing_stops_the_events(inventory: Inventory) -> None:
    events: list[Event] = []
    unsubscribe = inventory.subscribe(events.append)
    inventory.add_range(SITE, "2000")

    unsubscribe()
    inventory.add_range(SITE, "2001")
    unsubscribe()

    assert len(events) == 1


def test_a_failing_listener_neither_undoes_the_change_nor_starves_others(
    inventory: Inventory, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("push to CUCM failed")

    events: list[Event] = []
    inventory.subscribe(broken)
    inventory.subscribe(events.append)

    with caplog.at_level(logging.ERROR, logger="numinv.events"):
        inventory.add_range(SITE, "2000")

    assert inventory.find("2000", SITE) is not None
    assert len(events) == 1
    assert "push to CUCM failed" in caplog.text


def test_replaying_events_rebuilds_the_inventory(inventory: Inventory, clock: Clock) -> None:
    replica: dict[tuple[str, str], object] = {}

    def apply(event: Event) -> None:
        if event.before is not None:
            del replica[event.before.key]
        if event.after is not None:
            replica[event.after.key] = event.after

    inventory.subscribe(apply)
    inventory.add_range(SITE, "2000", count=4)
    inventory.add_range("sys.acme", "3000", count=2)
    inventory.assign("2000", PHONE)
    inventory.cool("2001", SITE, days=1)
    inventory.reserve_range(SITE, "2002", count=2, days=2)
    inventory.delete_range("sys.acme", "3001")
    clock.advance(days=3)
    inventory.release_due()

    assert replica == {record.key: record for record in inventory.search()}
