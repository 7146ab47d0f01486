"""Rules a third mutation probe broke one at a time without any test failing.

31 single changes to the in-memory and SQLite stores, the audit, the unit of
work, integrity, serialization, settings and kinds; the unit, behaviour and
contract tests let eight through, two of them equivalent (the audit's
`describe` hook asked for a record already in use, whose answer the lifecycle
ignores, and a held-unassigned step after a use was recorded, a no-op on a
record in use). Each test here fails with its rule broken, on every store
where it takes a store.
"""

from __future__ import annotations

import pytest

from numinv import Consumer, InvalidInput, NumberRecord, Observation, Settings, Status
from numinv.serialization import from_dict, to_dict
from numinv.storage.protocol import Query
from tests.behaviour.conftest import MakeInventory

PHONE = "device/cucm/Phone"


def _numbers(records: list[NumberRecord]) -> list[str]:
    return [record.number for record in records]


# -- a page's cursor (Query.after) -----------------------------------------------------------


def test_a_scan_cursor_equal_to_the_prefix_is_still_exclusive(make: MakeInventory) -> None:
    """`Query.after` is exclusive even when it is the prefix itself and a stored number
    (as `assign_next` asks, looking past a first number it passed over)."""
    inventory = make()
    inventory.add_range("sys.a", "1000")
    inventory.add_range("sys.a", "10000", "10001")
    inventory.add_range("sys.a", "1001")
    scan = inventory.repository.scan
    assert _numbers(scan(Query("sys.a", prefix="1000", after="1000"))) == ["10000", "10001"]
    available = Query("sys.a", status=Status.AVAILABLE, prefix="1000", after="1000")
    assert _numbers(scan(available)) == ["10000", "10001"]


# -- the audit (SPEC 3, 10, 18; decision 65) -------------------------------------------------


def test_an_audit_finds_no_conflict_in_a_use_by_the_person_a_number_is_reserved_for(
    make: MakeInventory,
) -> None:
    """SPEC 18: a number reserved for a person is theirs through any consumer they own;
    an audit that sees one of them on it reports no conflict."""
    inventory = make()
    inventory.add_range("sys.a", "1000")
    inventory.reserve("1000", "sys.a", reserved_for="alice")
    inventory.assign("1000", Consumer(PHONE, "p1", "sys.a", owner="alice"), claim=True)
    seen = [
        Observation("1000", Consumer(PHONE, "p1", "sys.a", owner="alice")),
        Observation("1000", Consumer(PHONE, "p2", "sys.a", owner="alice")),  # her second phone
    ]
    assert list(inventory.audit(seen, fix=False).conflicts) == []
    bobs = Consumer(PHONE, "p3", "sys.a", vendor="Microsoft", owner="bob")
    conflicts = inventory.audit([*seen, Observation("1000", bobs)], fix=False).conflicts
    # The conflict names the consumer as observed: it lost its owner and vendor once.
    assert [conflict.consumer for conflict in conflicts] == [bobs]


def test_a_number_an_audit_adds_again_takes_a_version_above_the_deleted_one(
    make: MakeInventory,
) -> None:
    """Decision 65: a number loaded again at a node where it was deleted continues above
    the deleted record's version, when an audit's `add_missing` loads it too."""
    inventory = make()
    inventory.add_range("sys.a", "1000")
    inventory.update("1000", "sys.a", tag="x")
    inventory.update("1000", "sys.a", tag="y")
    inventory.delete_range("sys.a", "1000")
    seen = [Observation("1000", Consumer(PHONE, "p1", "sys.a"))]
    inventory.audit(seen, add_missing=True)
    added = inventory.get("1000", "sys.a")
    assert added.version == 4  # the deleted record was at version 3
    assert make().repository.get("1000", "sys.a") == added


def test_an_audit_adds_a_number_once_in_a_line_of_descent(make: MakeInventory) -> None:
    """SPEC 3 with SPEC 10: `add_missing` may not add one number at a node and below it,
    though both observations are of one audit (the first adds it, the other conflicts)."""
    inventory = make()
    seen = [
        Observation("1000", Consumer(PHONE, "p1", "sys.a")),
        Observation("1000", Consumer(PHONE, "p2", "sys.a.b")),
    ]
    report = inventory.audit(seen, add_missing=True)
    assert [record.hierarchy for record in inventory.repository.holding("1000")] == ["sys.a"]
    assert [(c.hierarchy, c.reason) for c in report.conflicts] == [
        ("sys.a.b", "cannot add it at sys.a.b: it exists at sys.a")
    ]


# -- what an import accepts (SPEC table) -----------------------------------------------------


def test_an_imported_record_naming_one_e164_number_twice_is_refused(make: MakeInventory) -> None:
    """A record's E.164 numbers are distinct: one listing a number twice is refused, by
    `import_records` and as a file is read."""
    twice = NumberRecord("1000", "sys.a", e164=("+441234567890", "+441234567890"))
    inventory = make()
    with pytest.raises(InvalidInput, match=r"e164 must be distinct E\.164 numbers"):
        inventory.import_records([twice])
    assert list(inventory.search()) == []
    assert inventory.repository.with_e164("+441234567890") == []
    with pytest.raises(InvalidInput, match=r"e164 must be distinct E\.164 numbers"):
        from_dict(to_dict(twice))  # as a file is read


# -- settings --------------------------------------------------------------------------------


def test_a_teluri_prefix_has_at_most_fifteen_digits() -> None:
    """An E.164 number has at most 15 digits, and so has the TelURI prefix."""
    assert Settings(teluri_prefix="+" + "1" * 15).teluri_prefix == "+111111111111111"
    assert Settings(teluri_prefix="+1").teluri_prefix == "+1"
    for prefix in ("+" + "1" * 16, "+", "88800"):
        with pytest.raises(InvalidInput, match="teluri_prefix must be '\\+' and 1 to 15 digits"):
            Settings(teluri_prefix=prefix)
