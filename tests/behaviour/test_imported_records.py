"""Records read from a file (`import_records`) as every store keeps them: the same on each,
in the lifecycle's spelling, and never one a later change cannot store; reports of
records whose release date has passed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from numinv import InvalidInput, NumberRecord, Status
from numinv.core.checks import MAX_VERSION
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

SITE = "sys.acme.uk.london"


def test_a_record_at_the_last_version_refuses_a_change_alike_on_every_store(
    make: MakeInventory,
) -> None:
    """The memory store stored version 2**63, SQLite raised OverflowError and PostgreSQL a
    StorageError about a bigint; the change is refused, naming the number, and nothing
    changes."""
    inventory = make()
    inventory.import_records([NumberRecord("1000", SITE, version=MAX_VERSION)])
    before = (inventory.get("1000", SITE), inventory.changes())
    with pytest.raises(InvalidInput, match=r"'1000' at 'sys.acme.uk.london' would pass version"):
        inventory.update("1000", SITE, tag="x")
    with pytest.raises(InvalidInput, match="would pass version"):
        inventory.update_range(SITE, "1000", "1000", tag="x")
    assert (inventory.get("1000", SITE), inventory.changes()) == before


def test_a_release_date_in_another_time_zone_is_kept_in_utc_on_every_store(
    make: MakeInventory,
) -> None:
    """The memory store kept the offset it was given; SQLite and PostgreSQL read it back in
    UTC, so exports of one estate differed by store."""
    inventory = make()
    at_kiritimati = datetime(2030, 6, 1, tzinfo=timezone(timedelta(hours=14)))
    inventory.import_records(
        [NumberRecord("1000", SITE, status=Status.COOLING, release_date=at_kiritimati)]
    )
    kept = inventory.get("1000", SITE).release_date
    assert kept == at_kiritimati
    assert kept is not None
    assert kept.tzinfo is UTC
    (change,) = inventory.changes()
    assert change.after is not None
    assert change.after.release_date == kept
    assert change.after.release_date.tzinfo is UTC


def test_a_file_naming_only_the_vendor_shown_sets_it_in_numinvs_spelling(
    make: MakeInventory,
) -> None:
    """A spreadsheet has one vendor column: the number of no user shows the vendor set, so
    that column sets it (an Available Microsoft number showed Microsoft with no vendor set,
    and lost it at its first update). Known vendors are spelt as numinv spells them."""
    inventory = make()
    inventory.import_records(
        [
            NumberRecord("1000", SITE, vendor="microsoft "),
            NumberRecord("1001", SITE, vendor="Cisco", admin_vendor="cisco"),
        ]
    )
    teams = inventory.get("1000", SITE)
    assert (teams.vendor, teams.admin_vendor) == ("Microsoft", "Microsoft")
    assert [record.number for record in inventory.search(vendor="Microsoft")] == ["1000"]
    updated = inventory.update("1000", SITE, tag="x")
    assert (updated.vendor, updated.admin_vendor) == ("Microsoft", "Microsoft")
    cisco = inventory.get("1001", SITE)
    assert (cisco.vendor, cisco.admin_vendor) == ("", "")


@pytest.mark.parametrize("nodes", [1, 3, 20], ids=["leaf", "small subtree", "large subtree"])
def test_a_report_counts_lapsed_holds_as_released_however_large_the_subtree(
    make: MakeInventory, clock: Clock, nodes: int
) -> None:
    """A report of a subtree of a few nodes reads its own due records node by node, a larger
    one every due record; either way a cooling or timed reservation whose date has passed
    counts as what it shows now, inside the subtree and nowhere else."""
    inventory = make()
    sites = [f"sys.acme.uk.site{n:02d}" for n in range(nodes)]
    for n, site in enumerate([*sites, "sys.acme.fr"]):
        inventory.add_range(site, f"{1000 + 100 * n}", count=6)
        inventory.cool_range(site, f"{1000 + 100 * n}", count=2, days=1)
        inventory.reserve(f"{1002 + 100 * n}", site, days=1)
        inventory.reserve(f"{1003 + 100 * n}", site)  # open-ended: never lapses
    clock.advance(days=2)
    under = sites[0] if nodes == 1 else "sys.acme.uk"
    report = inventory.utilization(under)
    assert sorted(report) == sites
    for site in sites:
        shown = Counter(record.status for record in inventory.search(at=site))
        counted = {status: n for status, n in report[site].counts.items() if n}
        assert counted == {Status.AVAILABLE: 5, Status.RESERVED: 1}
        assert shown == Counter({Status.AVAILABLE: 5, Status.RESERVED: 1})
    assert inventory.utilization()["sys.acme.fr"].counts[Status.AVAILABLE] == 5
