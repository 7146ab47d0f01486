"""Lifecycle rules broken on purpose, one defect each, injected without editing the library.

Each entry of `BROKEN_RULES` patches the running library (a handler of
`numinv.core.lifecycle.TRANSITIONS`, or a function or method) through
pytest's `monkeypatch`, so the library is whole again after the test.
`tests/kit/test_broken_rules.py` proves that `InventoryMachine` fails on each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

import numinv.audit
import numinv.core.kinds
import numinv.core.lifecycle as lifecycle
import numinv.inventory
import numinv.reading
import numinv.work
from numinv.core.kinds import Cooling
from numinv.core.lifecycle import (
    Assign,
    Delete,
    Lapse,
    Reserve,
    Rules,
    Unassign,
    Unreserve,
)
from numinv.core.records import Consumer, Event, NumberRecord, Observation, Status
from numinv.errors import InvalidTransition
from numinv.inventory import Inventory

Patch = Callable[[pytest.MonkeyPatch], None]
TABLE: Any = lifecycle.TRANSITIONS  # a dict at run time; patched row by row


def _row(
    monkeypatch: pytest.MonkeyPatch, action: type, status: Status, handler: Callable[..., Any]
) -> None:
    row = TABLE[(action, status)]
    monkeypatch.setitem(TABLE, (action, status), attrs.evolve(row, handler=handler))


def reserve_refused_from_available(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(record: NumberRecord, action: Reserve, rules: Rules) -> Any:
        raise InvalidTransition(f"cannot reserve {record.number}", number=record.number)

    _row(monkeypatch, Reserve, Status.AVAILABLE, refuse)


def last_use_removed_never_cools(monkeypatch: pytest.MonkeyPatch) -> None:
    def unassign(record: NumberRecord, action: Unassign, rules: Rules) -> Any:
        use = next(u for u in record.uses if u.key == (action.kind, action.consumer_id))
        remaining = tuple(u for u in record.uses if u is not use)
        if remaining:
            return lifecycle._in_use(record, remaining)
        return lifecycle._not_in_use(record, lifecycle._free(record))

    for status in (Status.USED, Status.USED_UTILITY):
        _row(monkeypatch, Unassign, status, unassign)


def claim_ignores_reserved_for(monkeypatch: pytest.MonkeyPatch) -> None:
    def claim(record: NumberRecord, action: Assign, rules: Rules) -> Any:
        if not action.claim:
            raise InvalidTransition("reserved", number=record.number)
        return lifecycle._first_use(record, action.use, action.description)

    _row(monkeypatch, Assign, Status.RESERVED, claim)


def release_never_lapses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cooling whose date has passed is never released (release_due would loop for ever)."""
    _row(monkeypatch, Lapse, Status.COOLING, lambda record, action, rules: {})


def sharing_keeps_the_first_status(monkeypatch: pytest.MonkeyPatch) -> None:
    original = TABLE[(Assign, Status.USED)].handler

    def share(record: NumberRecord, action: Assign, rules: Rules) -> Any:
        changes = original(record, action, rules)
        if "status" in changes and record.uses:
            changes["status"] = record.uses[0].status
        return changes

    for status in (Status.USED, Status.USED_UTILITY):
        _row(monkeypatch, Assign, status, share)


def audiocodes_cools_for_cooling_days(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = dict(numinv.core.kinds.BUILTIN_KINDS)
    gateway = kinds["device/audiocodes"]
    kinds["device/audiocodes"] = attrs.evolve(gateway, cooling_days="cooling_days")
    monkeypatch.setattr(numinv.core.kinds, "BUILTIN_KINDS", kinds)


def unreserve_keeps_the_person(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreserve(record: NumberRecord, action: Unreserve, rules: Rules) -> Any:
        return {"status": Status.AVAILABLE, "reservation_notes": "", "release_date": None}

    _row(monkeypatch, Unreserve, Status.RESERVED, unreserve)


def return_from_cooling_keeps_the_cooling_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    original = TABLE[(Assign, Status.COOLING)].handler

    def back(record: NumberRecord, action: Assign, rules: Rules) -> Any:
        changes = original(record, action, rules)
        changes.pop("tag", None)
        return changes

    _row(monkeypatch, Assign, Status.COOLING, back)


def reads_show_a_passed_release_date(monkeypatch: pytest.MonkeyPatch) -> None:
    def as_of(record: NumberRecord, rules: Rules) -> NumberRecord:
        return record

    monkeypatch.setattr(numinv.inventory, "as_of", as_of)
    monkeypatch.setattr(numinv.reading, "as_of", as_of)


def available_offers_ancestors_first(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Inventory.available

    def available(self: Inventory, at: str, **options: Any) -> Iterator[NumberRecord]:
        found = list(original(self, at, **{**options, "limit": None}))
        found.sort(key=lambda r: (r.hierarchy.count("."), r.number))
        limit = options.get("limit")
        return iter(found if limit is None else found[:limit])

    monkeypatch.setattr(Inventory, "available", available)


def versions_never_move(monkeypatch: pytest.MonkeyPatch) -> None:
    original = lifecycle._evolved

    def evolved(record: NumberRecord, changes: Any, version: int | None = None) -> NumberRecord:
        return original(record, changes, None)

    monkeypatch.setattr(lifecycle, "_evolved", evolved)


def delete_takes_reserved_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    row = TABLE[(Delete, Status.AVAILABLE)]
    monkeypatch.setitem(TABLE, (Delete, Status.RESERVED), attrs.evolve(row, source=Status.RESERVED))


def freed_numbers_forget_their_person(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "_free", lambda record: Status.AVAILABLE)


def audit_keeps_unobserved_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    original = numinv.audit.Audit.fix

    def fix(self: numinv.audit.Audit, record: NumberRecord, observations: list[Any]) -> Any:
        kept = [
            Observation(
                record.number,
                Consumer(u.kind, u.consumer_id, u.hierarchy or record.hierarchy, owner=u.owner),
            )
            for u in record.uses
        ]
        return original(self, record, [*observations, *kept])

    monkeypatch.setattr(numinv.audit.Audit, "fix", fix)


def loads_announce_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    original = numinv.work.UnitOfWork._events

    def events(self: numinv.work.UnitOfWork, first: int) -> Iterator[Event]:
        return (e for e in original(self, first) if e.operation != "add")

    monkeypatch.setattr(numinv.work.UnitOfWork, "_events", events)


def a_stored_release_is_not_journaled(monkeypatch: pytest.MonkeyPatch) -> None:
    def current(self: numinv.work.UnitOfWork, record: NumberRecord) -> NumberRecord:
        if record.release_date is None or not lifecycle.is_due(record, self.rules.now):
            return record
        lapsed = lifecycle.transition(record, Lapse(), self.rules)
        self.tx.replace([(record, lapsed)])
        return lapsed

    monkeypatch.setattr(numinv.work.UnitOfWork, "current", current)


def duplicates_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numinv.inventory, "_duplicates", lambda reader, record, rules: [])


def telephone_uri_keeps_its_plus(monkeypatch: pytest.MonkeyPatch) -> None:
    original = lifecycle.extra4_for

    def extra4(record: NumberRecord, row: Any, e164: Any, prefix: str) -> str:
        found = original(record, row, e164, prefix)
        return found and prefix + record.number

    monkeypatch.setattr(lifecycle, "extra4_for", extra4)


def cooling_tag_counts_whole_days_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def tag(release: datetime, now: datetime) -> str:
        days = max(0, math.floor((release - now) / timedelta(days=1)))
        return f"Cooling: released in {days} {'day' if days == 1 else 'days'}, on {release.date()}"

    monkeypatch.setattr(lifecycle, "_cooling_tag", tag)


def descriptions_outlive_their_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "_freed", lambda before, after: False)


def cisco_shows_the_number_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "shown_number_type", lambda number_type, vendor: number_type)


def auto_cooling_for_utility_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = dict(numinv.core.kinds.BUILTIN_KINDS)
    pilot = kinds["device/cucm/HuntPilot"]
    kinds["device/cucm/HuntPilot"] = attrs.evolve(pilot, cooling=Cooling.AUTO)
    monkeypatch.setattr(numinv.core.kinds, "BUILTIN_KINDS", kinds)


def a_timed_reservation_keeps_its_person(monkeypatch: pytest.MonkeyPatch) -> None:
    def lapse(record: NumberRecord, action: Lapse, rules: Rules) -> Any:
        if not lifecycle.is_due(record, rules.now):
            return {}
        return {
            "status": lifecycle._free(record),
            "reservation_notes": "",
            "release_date": None,
        }

    _row(monkeypatch, Lapse, Status.RESERVED, lapse)


def cooling_ignores_the_consumers_node(monkeypatch: pytest.MonkeyPatch) -> None:
    original = lifecycle._without

    def without(record: NumberRecord, use: Any, node: str, rules: Rules) -> Any:
        return original(record, use, record.hierarchy, rules)

    monkeypatch.setattr(lifecycle, "_without", without)


BROKEN_RULES: dict[str, Patch] = {
    "reserve refused from Available": reserve_refused_from_available,
    "the last use removed never cools": last_use_removed_never_cools,
    "a claim that ignores reserved_for": claim_ignores_reserved_for,
    "a release that never lapses": release_never_lapses,
    "sharing keeps the first use's status": sharing_keeps_the_first_status,
    "AudioCodes cools for cooling_days": audiocodes_cools_for_cooling_days,
    "unreserve keeps the person": unreserve_keeps_the_person,
    "a return from cooling keeps the cooling tag": return_from_cooling_keeps_the_cooling_tag,
    "reads show a passed release date": reads_show_a_passed_release_date,
    "available offers ancestors first": available_offers_ancestors_first,
    "versions never move": versions_never_move,
    "delete takes Reserved numbers": delete_takes_reserved_numbers,
    "a freed number forgets its person": freed_numbers_forget_their_person,
    "the audit keeps unobserved uses": audit_keeps_unobserved_uses,
    "loads announce nothing": loads_announce_nothing,
    "a stored release is not journaled": a_stored_release_is_not_journaled,
    "prevent-duplicates ignored": duplicates_ignored,
    "the TelURI keeps its plus": telephone_uri_keeps_its_plus,
    "the cooling tag counts whole days down": cooling_tag_counts_whole_days_down,
    "descriptions outlive their use": descriptions_outlive_their_use,
    "Cisco shows the number type": cisco_shows_the_number_type,
    "hunt pilots cool": auto_cooling_for_utility_kinds,
    "a timed reservation keeps its person": a_timed_reservation_keeps_its_person,
    "cooling by the number's node, not the consumer's": cooling_ignores_the_consumers_node,
}
