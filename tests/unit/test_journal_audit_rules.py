"""SPEC 4, 8, 10, 11, 15: rules of the journal, the audit and the read side that a probe of
mutants found no test holding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from numinv import (
    Consumer,
    Event,
    InMemoryRepository,
    InvalidInput,
    Inventory,
    NumberRecord,
    Observation,
    Repository,
    SqliteRepository,
    Status,
    Usage,
)
from numinv.events import Dispatcher
from numinv.serialization import from_dict, to_dict
from tests.clock import Clock

SITE = "sys.acme.uk.london"
POOL = "sys.acme.uk"
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)


@pytest.fixture(params=["memory", "sqlite"])
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    """The shipped stores that need no server: the journal's reading is shared between them."""
    if request.param == "memory":
        yield InMemoryRepository()
        return
    sqlite = SqliteRepository(tmp_path / "numbers.db")
    yield sqlite
    sqlite.close()


@pytest.fixture
def inventory(repository: Repository, clock: Clock) -> Inventory:
    return Inventory(repository, clock=clock)


# -- the change feed (SPEC 15) -------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 9, 11])
def test_the_feed_gives_at_most_limit_changes_wherever_the_limit_ends(
    inventory: Inventory, limit: int
) -> None:
    """SPEC 15 / API: `changes(after, limit)` gives the first `limit` changes after `after`,
    whether the limit ends inside a range load's compact entry or among single changes."""
    inventory.add_range(SITE, "1000", count=10)
    inventory.assign("1000", PHONE)
    inventory.update("1001", SITE, tag="a")
    inventory.update("1002", SITE, tag="b")

    for after in (0, 2, 9, 10):
        changes = inventory.changes(after=after, limit=limit)
        assert [c.seq for c in changes] == list(range(after + 1, min(after + 1 + limit, 14)))


# -- events (SPEC 11, 15) ------------------------------------------------------------------


def test_events_are_delivered_in_seq_order_whatever_order_their_transactions_registered(
    clock: Clock,
) -> None:
    """SPEC 15 / `Event`: events carry their entry's seq and are delivered in seq order. A
    store that numbers entries at the commit (PostgreSQL) may have a later transaction
    register its seq first: its events wait for those of the earlier seq."""
    dispatcher = Dispatcher()
    seen: list[int | None] = []
    dispatcher.subscribe(lambda event: seen.append(event.seq))
    later = dispatcher.register(3)
    earlier = dispatcher.register(1)

    dispatcher.ready(later, [Event("update", None, None, clock.now, seq=3)])
    assert seen == []
    dispatcher.ready(earlier, [Event("update", None, None, clock.now, seq=n) for n in (1, 2)])

    assert seen == [1, 2, 3]


# -- the audit (SPEC 10) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "wrong"),
    [
        (False, {"vendor": "Microsoft"}),
        (False, {"internal_number_type": "Calling Plan"}),
        (True, {"vendor": "Microsoft"}),
        (True, {"usage": (Usage.HUNT_PILOT,)}),
    ],
    ids=["unused-vendor", "unused-number-type", "used-vendor", "used-usage"],
)
def test_an_audit_recomputes_a_field_shown_that_does_not_match_the_uses(
    inventory: Inventory, used: bool, wrong: dict[str, object]
) -> None:
    """SPEC 10: status, usage and vendor that do not match the uses are recomputed, each on
    its own; with no use, the vendor (and its number type) shown are the ones an
    administrator set (SPEC 8, 22), blank here."""
    inventory.add_range(SITE, "2000")
    if used:
        inventory.assign("2000", PHONE)
    good = inventory.get("2000", SITE)
    broken = attrs.evolve(good, **wrong, version=good.version + 1)  # type: ignore[arg-type]
    with inventory.repository.transaction() as tx:
        tx.replace([(good, broken)])

    report = inventory.audit([Observation("2000", PHONE)] if used else [])

    assert attrs.evolve(inventory.get("2000", SITE), version=good.version) == good
    assert [(c.number, c.reason) for c in report.changes] == [("2000", "status recomputed")]


# -- reading (SPEC 8) ----------------------------------------------------------------------


def test_a_search_for_the_blank_vendor_finds_the_cisco_numbers(inventory: Inventory) -> None:
    """SPEC 8: Cisco is the blank vendor, so a search for vendor "" finds what a search for
    "Cisco" finds: the blank numbers and those naming Cisco beside another vendor."""
    teams = Consumer("device/msteamsonline/CsOnlineUser", "ann", SITE)
    inventory.add_range(SITE, "2000", count=3)
    inventory.update("2002", SITE, vendor="Microsoft")
    inventory.assign("2000", PHONE)
    inventory.assign("2000", teams, shared=True)

    blank = [(r.number, r.vendor) for r in inventory.search(vendor="")]

    assert blank == [("2000", "Cisco, Microsoft"), ("2001", "")]
    assert blank == [(r.number, r.vendor) for r in inventory.search(vendor="Cisco")]


# -- records from outside (SPEC 4, 6) ------------------------------------------------------


def test_a_cooling_record_without_a_release_date_is_refused_on_import(
    inventory: Inventory,
) -> None:
    """SPEC 4, 6: a release date is set while Cooling, and a number leaves cooling when it
    is reached; an imported Cooling record without one would cool for ever, so it is refused
    (by `import_records` and by `from_dict`) and nothing is stored."""
    record = NumberRecord("2000", SITE, status=Status.COOLING)

    with pytest.raises(InvalidInput, match="release_date must be set while Cooling"):
        inventory.import_records([NumberRecord("2001", SITE), record])
    with pytest.raises(InvalidInput, match="release_date must be set while Cooling"):
        from_dict(to_dict(record))

    assert list(inventory.search()) == []
