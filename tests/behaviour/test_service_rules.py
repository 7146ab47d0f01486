"""Service rules a mutation probe of `Inventory` found unguarded (SPEC 6, 13, 16, 18, 19, 22).

Each test pins one rule that could break, unseen by the rest of the suite,
through a one-line change of `numinv.inventory`, `numinv.settings`,
`numinv.core.uniqueness` or `numinv.work`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from numinv import Consumer, InvalidInput, Status
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

SITE = "sys.acme.uk.london"
POOL = "sys.acme.uk"
OTHER = "sys.acme.fr.paris"
ALICE_PHONE = Consumer("device/cucm/Phone", "SEPA11CE", SITE, owner="alice")


# -- settings per node (SPEC 19) -----------------------------------------------------------


def test_cool_range_without_days_takes_the_cooling_days_set_at_the_node(
    make: MakeInventory, clock: Clock
) -> None:
    """SPEC 19, 6: a range cooled without a duration cools for the days in force at its node."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.configure(POOL, cooling_days=7)

    assert inventory.cool_range(SITE, "2000", count=2) == 2

    assert {inventory.get(n, SITE).release_date for n in ("2000", "2001")} == {
        clock.now + timedelta(days=7)
    }


def test_reserve_next_passes_over_a_duplicate_where_a_node_prevents_them(
    make: MakeInventory,
) -> None:
    """SPEC 22, 19: with prevent-duplicates set at a node, `reserve_next` never picks a
    number that also exists at another node (loaded before the setting)."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.add_range(OTHER, "2000")
    inventory.configure(POOL, prevent_duplicates=True)

    assert inventory.reserve_next(SITE).number == "2001"
    assert inventory.get("2000", SITE).status is Status.AVAILABLE


# -- picking the next number, cooling (SPEC 6, 16) -------------------------------------------


def test_reserve_next_keeps_to_its_prefix(make: MakeInventory) -> None:
    """SPEC 16: `reserve_next(prefix=...)` reserves the first Available number with the
    prefix, as `available(prefix=...)` offers."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.add_range(SITE, "3000", count=2)

    record = inventory.reserve_next(SITE, prefix="3")

    assert (record.number, record.status) == ("3000", Status.RESERVED)
    assert inventory.get("2000", SITE).status is Status.AVAILABLE


def test_cooling_for_days_and_until_a_date_at_once_is_refused(
    make: MakeInventory, clock: Clock
) -> None:
    """SPEC 6, 14: manual cooling takes a duration in days or a release date, not both; both
    at once is refused as bad input and changes nothing."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    until = clock.now + timedelta(days=3)

    with pytest.raises(InvalidInput, match="not both"):
        inventory.cool("2000", SITE, days=5, until=until)
    with pytest.raises(InvalidInput, match="not both"):
        inventory.cool_range(SITE, "2000", count=2, days=5, until=until)

    assert {inventory.get(n, SITE).status for n in ("2000", "2001")} == {Status.AVAILABLE}


# -- reservations for a person (SPEC 18) -----------------------------------------------------


def test_assign_next_with_a_prefix_passes_over_a_persons_number_outside_it(
    make: MakeInventory,
) -> None:
    """SPEC 18, 3: `assign_next(prefix=...)` takes the person's reserved number only when it
    matches the prefix; otherwise the first Available number with the prefix."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.add_range(SITE, "3000", count=2)
    inventory.reserve("3001", SITE, reserved_for="alice")

    record = inventory.assign_next(ALICE_PHONE, prefix="2")

    assert record.number == "2000"
    assert inventory.get("3001", SITE).status is Status.RESERVED
    assert inventory.assign_next(ALICE_PHONE, prefix="3").number == "3001"


def test_assign_next_describes_the_persons_number_it_takes(make: MakeInventory) -> None:
    """SPEC 13, 18: the host's describe hook fills the description of a number reserved for
    the person when `assign_next` hands it out, as for any assignment."""
    inventory = make(describe=lambda consumer, record: f"for {consumer.id}")
    inventory.add_range(SITE, "2000", count=2)
    inventory.reserve("2001", SITE, reserved_for="alice")

    record = inventory.assign_next(ALICE_PHONE)

    assert (record.number, record.description) == ("2001", "for SEPA11CE")


def test_numbers_of_at_a_node_includes_numbers_held_above_it(make: MakeInventory) -> None:
    """SPEC 18: `numbers_of(who, at=...)` keeps the whole line of descent of `at`, the
    numbers at its ancestors as well as below it."""
    inventory = make()
    inventory.add_range(POOL, "3000")
    inventory.add_range(OTHER, "4000")
    inventory.reserve("3000", POOL, reserved_for="alice")
    inventory.reserve("4000", OTHER, reserved_for="alice")

    assert [r.number for r in inventory.numbers_of("alice", at=SITE)] == ["3000"]
