"""SPEC 6, cooling and release: no scheduler needed, `release_due` sweeps explicitly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from numinv import Consumer, Event, InvalidInput, Inventory, Settings, Status
from numinv.core.lifecycle import Lapse, Rules, transition
from tests.clock import Clock

SITE = "sys.acme.uk.london"
TEAMS = Consumer("device/msteamsonline/CsOnlineUser", "alice", SITE)


@pytest.fixture
def inventory(clock: Clock) -> Inventory:
    inventory = Inventory(clock=clock, settings=Settings(auto_cooling=True, cooling_days=3))
    inventory.add_range(SITE, "2000", count=5)
    return inventory


def test_no_look_up_shows_cooling_after_the_release_date(
    inventory: Inventory, clock: Clock
) -> None:
    inventory.cool("2000", SITE, days=2)
    clock.advance(days=2)

    assert inventory.get("2000", SITE).status is Status.AVAILABLE
    assert [r.status for r in inventory.search(prefix="2000")] == [Status.AVAILABLE]


def test_a_number_whose_cooling_ended_is_offered_again(inventory: Inventory, clock: Clock) -> None:
    for number in ("2000", "2001", "2002", "2003", "2004"):
        inventory.cool(number, SITE, days=1)
    assert list(inventory.available(SITE)) == []
    clock.advance(days=1)

    assert [r.number for r in inventory.available(SITE)] == ["2000", "2001", "2002", "2003", "2004"]
    assert inventory.assign_next(TEAMS).number == "2000"


def test_cooling_is_still_shown_one_second_before_the_release_date(
    inventory: Inventory, clock: Clock
) -> None:
    inventory.cool("2000", SITE, days=2)
    clock.advance(days=2, seconds=-1)

    assert inventory.get("2000", SITE).status is Status.COOLING


def test_release_due_sweeps_what_is_due_and_returns_it(inventory: Inventory, clock: Clock) -> None:
    inventory.cool("2000", SITE, days=1)
    inventory.cool("2001", SITE, days=5)
    inventory.reserve("2002", SITE, days=1)
    clock.advance(days=2)

    released = inventory.release_due()

    assert sorted(r.number for r in released) == ["2000", "2002"]
    assert all(r.status is Status.AVAILABLE for r in released)
    assert inventory.release_due() == []


def test_release_due_emits_one_event_per_released_number(
    inventory: Inventory, clock: Clock
) -> None:
    inventory.cool("2000", SITE, days=1)
    inventory.cool("2001", SITE, days=1)
    events: list[Event] = []
    inventory.subscribe(events.append)
    clock.advance(days=1)

    inventory.release_due()

    assert [(e.operation, e.after.number if e.after else None) for e in events] == [
        ("release_due", "2000"),
        ("release_due", "2001"),
    ]


def test_a_due_release_restores_the_tag_and_clears_the_date(
    inventory: Inventory, clock: Clock
) -> None:
    inventory.update("2000", SITE, tag="desk 4")
    device = Consumer("device/audiocodes", "AC-1", SITE)
    inventory.assign("2000", device)
    inventory.unassign("2000", device)
    clock.advance(days=30)

    (record,) = inventory.release_due()

    assert (record.status, record.tag, record.release_date) == (Status.AVAILABLE, "desk 4", None)
    assert record.cooling_use is None


def test_the_lapse_transition_leaves_a_record_that_is_not_due_unchanged() -> None:
    from numinv import NumberRecord

    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = NumberRecord(
        "2000", SITE, status=Status.COOLING, release_date=now + timedelta(seconds=1)
    )

    assert transition(record, Lapse(), Rules(now)) is record


def test_the_clock_must_be_timezone_aware() -> None:
    inventory = Inventory(clock=lambda: datetime(2026, 1, 1))

    with pytest.raises(InvalidInput, match="aware"):
        inventory.add_range(SITE, "2000")


def test_time_from_another_timezone_is_used_as_utc() -> None:
    from datetime import timezone

    plus_two = timezone(timedelta(hours=2))
    inventory = Inventory(clock=lambda: datetime(2026, 1, 1, 12, tzinfo=plus_two))
    inventory.add_range(SITE, "2000")

    record = inventory.cool("2000", SITE, days=1)

    assert record.release_date == datetime(2026, 1, 2, 10, tzinfo=UTC)
