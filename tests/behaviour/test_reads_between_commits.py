"""An answer built from several reads, with another instance's commit landing between them.

Outside a transaction each read sees what is committed when it runs, so a
change committed between two reads of one answer must not make the answer
wrong: at worst it is the answer of either moment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from numinv import (
    ConcurrentUpdate,
    Consumer,
    Inventory,
    NotFound,
    NumberRecord,
    Observation,
    Settings,
    Status,
)
from numinv.storage.protocol import Query
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

PHONE = "device/cucm/Phone"


def _after_first(
    inventory: Inventory, method: str, when: Callable[..., bool], action: Callable[[], Any]
) -> list[bool]:
    """Run `action` (another instance's commit) just after the first call of the inventory's
    repository `method` that `when` accepts has returned."""
    repository = inventory.repository
    real = getattr(repository, method)
    fired: list[bool] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        if not fired and when(*args, **kwargs):
            fired.append(True)
            action()
        return answer

    setattr(repository, method, wrapped)
    return fired


def test_a_number_moved_down_between_the_look_ups_is_still_found(make: MakeInventory) -> None:
    """`get` walks up from the node by key: it looked at sys.a.b, the number moved from
    sys.a to sys.a.b, then it looked at sys.a. Visible from sys.a.b all along, it was
    `NotFound`."""
    reader, writer = make(), make()
    writer.add_range("sys.a", "2000")
    fired = _after_first(
        reader,
        "get",
        lambda number, node: node == "sys.a.b",
        lambda: writer.move_range("sys.a", "2000", to="sys.a.b"),
    )
    found = reader.get("2000", "sys.a.b")
    assert fired == [True]
    assert (found.number, found.hierarchy) == ("2000", "sys.a.b")


def test_a_number_nobody_holds_is_still_not_found(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a.c", "2000")  # a sibling's: not visible from sys.a.b
    with pytest.raises(NotFound, match=r"2000 is not visible from sys\.a\.b"):
        inventory.get("2000", "sys.a.b")
    assert inventory.find("2000", "sys.a.b") is None
    assert inventory.find("2000", "sys.a.c.d") == inventory.get("2000", "sys.a.c")


def test_an_audit_reading_a_number_on_both_sides_of_a_move_reads_again(
    make: MakeInventory,
) -> None:
    """The audit reads node by node: it read 2000 at sys.a, where the phone's observation
    matched it, then 2000 moved to sys.a.b, where the audit read it again with no
    observation left, and its fix took the phone's use away. A number read at two nodes
    of one line of descent was read across a move: the audit reads again."""
    reader, writer = make(), make()
    phone = Consumer(PHONE, "SEP1", "sys.a.b")
    writer.add_range("sys.a", "2000")
    writer.add_range("sys.a.b", "3000", count=2)  # sys.a.b is read after sys.a
    writer.assign("2000", phone)
    writer.assign("3000", Consumer(PHONE, "SEP2", "sys.a.b"))
    fired = _after_first(
        reader,
        "scan",
        lambda query: query.hierarchy == "sys.a",
        lambda: writer.move_range("sys.a", "2000", to="sys.a.b"),
    )
    retried = reader.retried
    # 3000's phone is gone, 3001's has come: a fix to write, so the write is reached.
    seen = [Observation("2000", phone), Observation("3001", Consumer(PHONE, "SEP3", "sys.a.b"))]
    report = reader.audit(seen)
    assert fired == [True]
    assert reader.retried == retried + 1
    stored = writer.get("2000", "sys.a.b")
    assert (stored.status, [use.consumer_id for use in stored.uses]) == (Status.USED, ["SEP1"])
    assert [(c.number, c.reason) for c in report.changes] == [
        ("3000", "use removed"),
        ("3001", "use recorded"),
    ]
    assert writer.get("3000", "sys.a.b").uses == ()
    assert [use.consumer_id for use in writer.get("3001", "sys.a.b").uses] == ["SEP3"]


def test_an_audit_of_a_number_held_by_sibling_sites_writes_at_once(make: MakeInventory) -> None:
    """Sibling sites may each hold a number: read at both, it was not read across a move,
    and the audit writes its fixes without reading again."""
    inventory = make()
    inventory.add_range("sys.a.b", "2000")
    inventory.add_range("sys.a.c", "2000")
    seen = [
        Observation("2000", Consumer(PHONE, "SEP1", "sys.a.b")),
        Observation("2000", Consumer(PHONE, "SEP2", "sys.a.c")),
    ]
    retried = inventory.retried
    report = inventory.audit(seen, at="sys.a")
    assert inventory.retried == retried
    assert [(c.hierarchy, c.reason) for c in report.changes] == [
        ("sys.a.b", "use recorded"),
        ("sys.a.c", "use recorded"),
    ]


def _one_cooling_and_due(make: MakeInventory, clock: Clock) -> tuple[Inventory, Inventory]:
    writer = make()
    writer.add_range("sys.a", "1000", "1009")
    writer.cool("1005", "sys.a", days=1)
    clock.advance(days=2)  # shown Available from now on, stored Cooling until a write
    return make(), writer


def test_a_release_committed_between_a_listings_pages_is_listed(
    make: MakeInventory, clock: Clock
) -> None:
    """`available` reads the Available records and the held-back ones whose release date
    has passed, a page of each: 1005, still stored Cooling when the Available page was
    read and released before the held-back page was, was in neither."""
    reader, writer = _one_cooling_and_due(make, clock)
    fired = _after_first(
        reader,
        "scan",
        lambda query: query.status is Status.AVAILABLE,
        writer.release_due,
    )
    shown = [record.number for record in reader.available("sys.a", limit=100)]
    assert fired == [True]
    assert shown == [f"10{n:02}" for n in range(10)]


def test_a_release_committed_between_a_listings_pages_is_listed_once(
    make: MakeInventory, clock: Clock
) -> None:
    """The other order: the held-back page read (1005 due), the release committed, then
    an Available page holding 1005 as stored now: it was listed twice."""
    reader, writer = _one_cooling_and_due(make, clock)
    fired = _after_first(
        reader,
        "scan",
        lambda query: query.due_by is not None,
        writer.release_due,
    )
    shown = [record.number for record in reader.search(at="sys.a", status="Available")]
    assert fired == [True]
    assert shown == [f"10{n:02}" for n in range(10)]
    assert writer.get("1005", "sys.a").status is Status.AVAILABLE


def test_a_listing_reads_nothing_before_it_is_iterated(make: MakeInventory, clock: Clock) -> None:
    """A listing is lazy: asked for, it has read no page yet (so a page read first, of the
    held-back records, is read when the listing starts, not when it was asked for)."""
    reader, _ = _one_cooling_and_due(make, clock)
    scans = _after_first(reader, "scan", lambda query: True, lambda: None)
    listing = reader.available("sys.a")
    assert scans == []
    assert next(listing).number == "1000"
    assert scans == [True]


def test_an_audit_read_across_a_move_past_its_retries_is_refused_and_writes_nothing(
    make: MakeInventory,
) -> None:
    """Read across a move at every run (`Settings.retries` is 1: two runs), an audit
    raises `ConcurrentUpdate` naming the number, and stores none of its fixes."""
    reader, writer = make(settings=Settings(retries=1)), make()
    phone = Consumer(PHONE, "SEP1", "sys.a.b")
    writer.add_range("sys.a", "2000")
    writer.add_range("sys.a.b", "3000")
    writer.assign("2000", phone)
    repository = reader.repository
    scan, settings = repository.scan, repository.node_settings
    moves: list[str] = []

    def scanning(query: Query) -> list[NumberRecord]:
        found = scan(query)
        if query.hierarchy == "sys.a" and any(r.number == "2000" for r in found):
            moves.append("down")  # read at sys.a: moved below, to be read again there
            writer.move_range("sys.a", "2000", to="sys.a.b")
        return found

    def reading_settings(*args: Any) -> Any:
        if writer.find("2000", "sys.a") is None:  # each run starts with 2000 back up
            moves.append("up")
            writer.move_range("sys.a.b", "2000", to="sys.a")
        return settings(*args)

    repository.scan = scanning
    repository.node_settings = reading_settings
    seen = [Observation("2000", phone), Observation("3000", Consumer(PHONE, "SEP3", "sys.a.b"))]
    with pytest.raises(ConcurrentUpdate, match=r"2000 left sys\.a while the audit read") as lost:
        reader.audit(seen)
    assert lost.value.number == "2000"
    assert moves == ["down", "up", "down"]
    assert writer.get("3000", "sys.a.b").uses == ()
    assert [use.consumer_id for use in writer.get("2000", "sys.a.b").uses] == ["SEP1"]
