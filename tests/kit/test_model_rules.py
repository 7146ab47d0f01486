"""The model's rules, each pinned by a fixed example beside the library it describes.

`InventoryModel` is what `InventoryMachine` holds every storage adapter to; a
rule the model gets wrong (or too weak) lets a wrong store pass. Each test
drives the model and an `Inventory` over the in-memory store with the same
calls, one step at a time as the machine does (a `Tx` per call, committed when
it succeeded), and asserts what the model predicts, and that the library does
the same. Each one fails if its rule is weakened in the model, which the
state machine alone finds only in a long run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from numinv import Consumer, Inventory, NumberRecord, Observation, Settings, Status
from numinv.audit import AuditReport
from numinv.testing.model import AuditOutcome, InventoryModel, Tx

NODE, OTHER = "sys.a", "sys.b"


class Both:
    """A model and an inventory on the in-memory store, driven with the same calls."""

    def __init__(self, settings: Settings = Settings()) -> None:  # noqa: B008 - frozen
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        self.model = InventoryModel(settings, now=self.now)
        self.inventory = Inventory(settings=settings, clock=lambda: self.now)
        self.seq = 0

    def step(
        self, operation: str, call: Callable[[Inventory], Any], expect: Callable[[Tx], Any]
    ) -> tuple[Any, Any, list[tuple[str, NumberRecord | None, NumberRecord | None]]]:
        """Run one call on both: (the inventory's answer, the model's, the model's changes).

        The journal's new changes must be the ones the model predicts, in its order.
        """
        self.model.now = self.now
        tx = self.model.begin(operation)
        expected = expect(tx)
        found = call(self.inventory)
        self.model.commit(tx)
        predicted = self.model.expected_changes(tx)
        new = self.inventory.changes(after=self.seq)
        if new:
            self.seq = new[-1].seq
        journal = [(change.operation, change.before, change.after) for change in new]
        assert journal == predicted
        return found, expected, predicted

    def same(
        self, operation: str, call: Callable[[Inventory], Any], expect: Callable[[Tx], Any]
    ) -> Any:
        """One call on both that must answer the same; the model's answer."""
        found, expected, _ = self.step(operation, call, expect)
        assert found == expected
        return expected

    def add(self, at: str, first: str, count: int = 1) -> None:
        self.step(
            "add",
            lambda inventory: inventory.add_range(at, first, count=count),
            lambda tx: self.model.add_range(tx, at, first, count=count),
        )

    def update(self, number: str, at: str, tag: str) -> None:
        self.same(
            "update",
            lambda inventory: inventory.update(number, at, tag=tag),
            lambda tx: self.model.update(tx, number, at, tag=tag),
        )

    def cool(self, number: str, at: str, days: int) -> NumberRecord:
        cooled: NumberRecord = self.same(
            "cool",
            lambda inventory: inventory.cool(number, at, days=days),
            lambda tx: self.model.cool(tx, number, at, days=days),
        )
        return cooled

    def delete(self, at: str, first: str) -> None:
        self.step(
            "delete",
            lambda inventory: inventory.delete_range(at, first, count=1),
            lambda tx: self.model.delete_range(tx, at, first, count=1),
        )

    def stored(self) -> dict[tuple[str, str], NumberRecord]:
        """The inventory's records, which must be the model's."""
        records = {record.key: record for record in self.inventory.search()}
        assert records == {key: NumberRecord(**r) for key, r in self.model.records.items()}
        return records


# -- the audit: a number reserved for a person (decision 115) ---------------------------------


def spelled(report: AuditReport) -> AuditOutcome:
    """An audit's report as the model spells it (as `InventoryMachine` compares them)."""
    return AuditOutcome(
        tuple(sorted((c.number, c.hierarchy, str(c.reason)) for c in report.changes)),
        tuple(sorted((c.number, c.hierarchy) for c in report.conflicts)),
        tuple(report.unknown),
    )


def reserved_for_alice_and_used(both: Both) -> Consumer:
    """100 reserved for alice, claimed by her phone: Used, still reserved for her."""
    phone = Consumer("device/cucm/Phone", "SEP1", NODE, owner="alice")
    both.add(NODE, "100")
    both.same(
        "reserve",
        lambda inventory: inventory.reserve("100", NODE, reserved_for="alice"),
        lambda tx: both.model.reserve(tx, "100", NODE, reserved_for="alice"),
    )
    record = both.same(
        "assign",
        lambda inventory: inventory.assign("100", phone, claim=True),
        lambda tx: both.model.assign(tx, "100", phone, claim=True),
    )
    assert (record.status, record.reserved_for) == (Status.USED, "alice")
    return phone


@pytest.mark.parametrize(
    ("owner", "conflicts"),
    [("alice", ()), ("bob", (("100", NODE),))],
    ids=["a device of the person uses it without conflict", "anybody else's is a conflict"],
)
def test_a_number_reserved_for_a_person_and_used_may_be_used_by_her_devices_only(
    owner: str, conflicts: tuple[tuple[str, str], ...]
) -> None:
    both = Both()
    phone = reserved_for_alice_and_used(both)
    other = Consumer("device/cucm/Phone", "SEP2", NODE, owner=owner)
    observed = [Observation("100", phone), Observation("100", other)]
    outcome = both.same(
        "audit",
        lambda inventory: spelled(inventory.audit(observed)),
        lambda tx: both.model.audit(tx, observed),
    )
    assert outcome.conflicts == conflicts
    if not conflicts:
        assert outcome.changes == (("100", NODE, "use recorded"),)


# -- release_due: in the order of the release dates -------------------------------------------


def test_release_due_releases_in_the_order_of_the_release_dates_then_the_numbers() -> None:
    both = Both()
    both.add(NODE, "100", count=3)
    for number, days in (("100", 3), ("101", 1), ("102", 2)):
        both.cool(number, NODE, days)
    both.now += timedelta(days=5)
    released, expected, changes = both.step(
        "release_due",
        lambda inventory: inventory.release_due(),
        both.model.release_due,
    )
    assert [record.number for record in expected] == ["101", "102", "100"]
    assert [after.number for _, _, after in changes if after is not None] == ["101", "102", "100"]
    assert released == expected


# -- versions: never again one that a record at the same key had ------------------------------


def retire_version_4_at(both: Both, at: str) -> None:
    """100 at `at`, changed three times (version 4), then deleted."""
    both.add(at, "100")
    for tag in ("one", "two", "three"):
        both.update("100", at, tag)
    both.delete(at, "100")


def test_a_record_moved_to_a_key_once_deleted_there_continues_above_its_version() -> None:
    both = Both()
    retire_version_4_at(both, OTHER)
    both.add(NODE, "100")
    both.step(
        "move",
        lambda inventory: inventory.move_range(NODE, "100", count=1, to=OTHER),
        lambda tx: both.model.move_range(tx, NODE, "100", count=1, to=OTHER),
    )
    assert both.stored()[("100", OTHER)].version == 5


def test_a_deleted_record_imported_again_continues_above_its_version() -> None:
    both = Both()
    both.add(NODE, "100")
    for tag in ("one", "two", "three"):
        both.update("100", NODE, tag)
    exported = list(both.inventory.search())
    assert exported[0].version == 4
    both.delete(NODE, "100")
    both.step(
        "import",
        lambda inventory: inventory.import_records(exported),
        lambda tx: both.model.import_records(tx, exported),
    )
    again = both.stored()[("100", NODE)]
    assert again.version == 5
    assert again.tag == "three"


# -- cooling again: the AudioCodes cooling tag follows the new release date -------------------


def test_cooling_an_audiocodes_number_again_rewrites_its_cooling_tag() -> None:
    both = Both(Settings(audiocodes_cooling_days=2))
    gateway = Consumer("device/audiocodes", "gw1", NODE)
    both.add(NODE, "100")
    both.same(
        "assign",
        lambda inventory: inventory.assign("100", gateway),
        lambda tx: both.model.assign(tx, "100", gateway),
    )
    cooling = both.same(
        "unassign",
        lambda inventory: inventory.unassign("100", gateway),
        lambda tx: both.model.unassign(tx, "100", gateway),
    )
    assert cooling.tag == "Cooling: released in 2 days, on 2026-01-03"
    again = both.cool("100", NODE, 3)
    assert again.tag == "Cooling: released in 3 days, on 2026-01-04"
    assert both.stored()[("100", NODE)].tag == again.tag


# -- a service type without a number, of a subscriber with nothing on the number ---------------


def test_a_service_type_without_a_number_leaves_another_subscribers_number_alone() -> None:
    both = Both()
    both.add(NODE, "100")
    hybrid = both.same(
        "apply_service",
        lambda inventory: inventory.apply_service("100", NODE, "alice", "Cisco-MS-Hybrid"),
        lambda tx: both.model.apply_service(tx, "100", NODE, "alice", "Cisco-MS-Hybrid"),
    )
    kept = both.same(
        "apply_service",
        lambda inventory: inventory.apply_service("100", NODE, "bob", "No-Hybrid-Service"),
        lambda tx: both.model.apply_service(tx, "100", NODE, "bob", "No-Hybrid-Service"),
    )
    assert kept == hybrid
    assert (kept.service_type, kept.extra2) == ("Cisco-MS-Hybrid", "Cisco-MS-Hybrid")
