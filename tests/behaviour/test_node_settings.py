"""SPEC 19: settings per hierarchy node, inherited down the tree, stored in the repository."""

from __future__ import annotations

import pytest

from numinv import (
    Consumer,
    DuplicateNumber,
    InvalidHierarchy,
    InvalidInput,
    Settings,
    Status,
)
from tests.behaviour.conftest import MakeInventory

CUSTOMER_A = "sys.acme.uk"
CUSTOMER_B = "sys.acme.fr"
SITE_A = "sys.acme.uk.london"
SITE_B = "sys.acme.fr.paris"


def phone(site: str, name: str = "SEP1") -> Consumer:
    return Consumer("device/cucm/Phone", name, site)


def test_unset_settings_inherit_the_inventorys(make: MakeInventory) -> None:
    inventory = make(settings=Settings(auto_cooling=True, cooling_days=12))
    assert inventory.settings_at(SITE_A) == inventory.settings


def test_a_node_setting_applies_at_and_below_the_node(make: MakeInventory) -> None:
    inventory = make()
    inventory.configure(CUSTOMER_A, auto_cooling=True, cooling_days=7)

    assert inventory.settings_at(SITE_A).auto_cooling is True
    assert inventory.settings_at(SITE_A).cooling_days == 7
    assert inventory.settings_at(CUSTOMER_B).auto_cooling is False
    assert inventory.settings_at("sys").cooling_days == 30


def test_the_nearest_node_that_sets_a_value_wins(make: MakeInventory) -> None:
    inventory = make()
    inventory.configure("sys.acme", cooling_days=20, audiocodes_cooling_days=5)
    inventory.configure(CUSTOMER_A, cooling_days=7)

    settings = inventory.settings_at(SITE_A)

    assert (settings.cooling_days, settings.audiocodes_cooling_days) == (7, 5)


def test_none_sets_a_node_back_to_inherit(make: MakeInventory) -> None:
    inventory = make()
    inventory.configure(CUSTOMER_A, auto_cooling=True, cooling_days=7)
    inventory.configure(CUSTOMER_A, cooling_days=7)
    assert inventory.settings_at(SITE_A).auto_cooling is False
    inventory.configure(CUSTOMER_A)
    assert inventory.settings_at(SITE_A) == inventory.settings


def test_the_cooling_in_force_at_the_consumers_node_applies(make: MakeInventory) -> None:
    inventory = make()
    inventory.configure(CUSTOMER_A, auto_cooling=True, cooling_days=7)
    inventory.add_range(SITE_A, "2000")
    inventory.add_range(SITE_B, "2000")
    inventory.assign("2000", phone(SITE_A))
    inventory.assign("2000", phone(SITE_B))

    cooled = inventory.unassign("2000", phone(SITE_A))
    freed = inventory.unassign("2000", phone(SITE_B))

    assert cooled.status is Status.COOLING
    assert cooled.release_date is not None
    assert (cooled.release_date - inventory.history("2000", at=SITE_A)[-1].at).days == 7
    assert freed.status is Status.AVAILABLE


def test_audiocodes_cooling_days_per_node(make: MakeInventory) -> None:
    inventory = make()
    inventory.configure(CUSTOMER_A, audiocodes_cooling_days=9)
    inventory.add_range(SITE_A, "2000")
    device = Consumer("device/audiocodes", "gw1", SITE_A)
    inventory.assign("2000", device)

    record = inventory.unassign("2000", device)

    assert record.tag.startswith("Cooling: released in 9 days")


def test_settings_are_stored_so_every_instance_sees_them(make: MakeInventory) -> None:
    first, second = make(), make()
    first.configure(CUSTOMER_A, auto_cooling=True)
    assert second.settings_at(SITE_A).auto_cooling is True


def test_prevent_duplicates_at_a_node_refuses_a_number_held_anywhere(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE_B, "2000", count=3)
    inventory.configure(CUSTOMER_A, prevent_duplicates=True)

    with pytest.raises(DuplicateNumber):
        inventory.add_range(SITE_A, "2001")
    # Where neither node prevents duplicates, siblings may share a number.
    assert inventory.add_range("sys.other", "2001") == 1


def test_a_number_held_under_a_preventing_node_refuses_copies_elsewhere(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.configure(CUSTOMER_A, prevent_duplicates=True)
    inventory.add_range(SITE_A, "2000")

    with pytest.raises(DuplicateNumber):
        inventory.add_range(SITE_B, "2000")


def test_the_exhaustion_threshold_in_force_flags_a_node(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE_A, "2000", count=10)
    inventory.add_range(SITE_B, "2000", count=10)
    for index in range(8):
        inventory.assign(f"200{index}", phone(SITE_A, f"A{index}"))
        inventory.assign(f"200{index}", phone(SITE_B, f"B{index}"))
    inventory.configure(CUSTOMER_A, exhaustion_threshold=0.25)

    report = inventory.utilization()

    assert report[SITE_A].low is True
    assert report[SITE_B].low is False
    assert inventory.utilization(below=0.5)[SITE_B].low is True


def test_utilization_rolls_up_a_subtree(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(CUSTOMER_A, "3000", count=10)
    inventory.add_range(SITE_A, "2000", count=10)
    inventory.add_range(SITE_B, "2000", count=5)
    inventory.assign("2000", phone(SITE_A))

    total = inventory.utilization().rollup(CUSTOMER_A)

    assert (total.total, total.available) == (20, 19)
    assert inventory.utilization(CUSTOMER_A).rollup("sys").total == 20


def test_a_bad_setting_is_refused_naming_it_and_changes_nothing(make: MakeInventory) -> None:
    inventory = make()
    for bad in ({"cooling_days": 0}, {"auto_cooling": "yes"}, {"exhaustion_threshold": 2}):
        with pytest.raises(InvalidInput, match=repr(next(iter(bad.values())))):
            inventory.configure(CUSTOMER_A, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidHierarchy):
        inventory.configure("sys..acme", auto_cooling=True)
    assert inventory.settings_at(SITE_A) == inventory.settings
