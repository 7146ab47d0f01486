"""The number lifecycle as a pure state machine (SPEC 6, 7, 8, 13).

`transition(record, action, rules)` returns the record as the action leaves
it, or raises a refusal; it reads no clock and touches no storage. Which
action may run from which status is the data table `TRANSITIONS`; it is
checked when this module loads (every status reachable, no (action, status)
twice). A handler returns only the fields it changes; `transition` applies
them in one `evolve` and bumps the version, and returns the very same
record when nothing changed (no write, no event).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs

from numinv.core.hybrid import SERVICE_KINDS, SERVICE_TYPES, extra4_for
from numinv.core.kinds import BUILTIN_KINDS, ConsumerKind, use_of
from numinv.core.records import (
    FREE_TEXT_FIELDS,
    Consumer,
    NumberRecord,
    ServiceType,
    Status,
    Use,
)
from numinv.core.vendors import CISCO, check_internal_number_type, shown_vendor, usage_of
from numinv.errors import InvalidInput, InvalidTransition, NotFound
from numinv.settings import Settings

__all__ = [
    "TRANSITIONS",
    "Action",
    "ApplyService",
    "Assign",
    "AssociateE164",
    "Cool",
    "DissociateE164",
    "Lapse",
    "Observe",
    "Recompute",
    "Release",
    "Reserve",
    "Rules",
    "Transition",
    "Unassign",
    "Unreserve",
    "Update",
    "check_days",
    "check_fields",
    "is_due",
    "loaded",
    "transition",
]

AVAILABLE, USED, USED_UTILITY = Status.AVAILABLE, Status.USED, Status.USED_UTILITY
COOLING, RESERVED = Status.COOLING, Status.RESERVED
IN_USE = frozenset({USED, USED_UTILITY})
SETTABLE_FIELDS = frozenset({*FREE_TEXT_FIELDS, "vendor", "internal_number_type"})
MANAGED_BY_SERVICE = ("extra2", "extra4")

Changes = dict[str, Any]


@attrs.frozen
class Rules:
    """What a transition may depend on besides the record: the time and the tables."""

    now: datetime
    settings: Settings = attrs.field(factory=Settings)
    kinds: Mapping[str, ConsumerKind] = BUILTIN_KINDS
    describes: bool = False  # a host's describe hook owns the description


# -- actions ---------------------------------------------------------------


class Action:
    operation: ClassVar[str]


@attrs.frozen
class Assign(Action):
    operation: ClassVar[str] = "assign"
    consumer: Consumer
    shared: bool = False
    claim: bool = False
    description: str | None = None  # from the host's describe hook


@attrs.frozen
class Unassign(Action):
    operation: ClassVar[str] = "unassign"
    consumer: Consumer


@attrs.frozen
class Reserve(Action):
    operation: ClassVar[str] = "reserve"
    tag: str = ""
    notes: str = ""
    days: int | None = None
    reserved_for: str | None = None


@attrs.frozen
class Unreserve(Action):
    operation: ClassVar[str] = "unreserve"


@attrs.frozen
class Cool(Action):
    operation: ClassVar[str] = "cool"
    days: int | None = None
    until: datetime | None = None


@attrs.frozen
class Release(Action):
    operation: ClassVar[str] = "release"


@attrs.frozen
class Lapse(Action):
    """The release date is reached: cooling ends, a timed reservation lapses."""

    operation: ClassVar[str] = "release_due"


@attrs.frozen
class Update(Action):
    operation: ClassVar[str] = "update"
    fields: Mapping[str, str]


@attrs.frozen
class AssociateE164(Action):
    operation: ClassVar[str] = "associate_e164"
    e164: str
    primary: bool = False


@attrs.frozen
class DissociateE164(Action):
    operation: ClassVar[str] = "dissociate_e164"
    e164: str


@attrs.frozen
class ApplyService(Action):
    operation: ClassVar[str] = "apply_service"
    subscriber: str
    service_type: ServiceType
    hierarchy: str


@attrs.frozen
class Observe(Action):
    """An audit saw this consumer use the number: record the use whatever the status."""

    operation: ClassVar[str] = "audit"
    consumer: Consumer


@attrs.frozen
class Recompute(Action):
    """An audit: make status, usage and vendor agree with the uses."""

    operation: ClassVar[str] = "audit"


# -- input checks shared by the service ------------------------------------


def check_days(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
        raise InvalidInput(f"{what} must be a whole number of days from 1 to 999, not {value!r}")
    return value


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {value!r}", value=value)
    return value


def check_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """Validate the settable fields of an update or a load: known names, text values."""
    unknown = sorted(set(fields) - SETTABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"cannot set {', '.join(map(repr, unknown))}: settable fields are "
            f"{', '.join(sorted(SETTABLE_FIELDS))}",
            value=unknown[0],
        )
    checked = {name: _check_text(value, name) for name, value in fields.items()}
    if checked.get("vendor") == CISCO:
        checked["vendor"] = ""  # Cisco is the blank vendor
    return checked


def loaded(number: str, hierarchy: str, fields: Mapping[str, str]) -> NumberRecord:
    """A new Available record, with the administrator's fields (already checked)."""
    values: dict[str, Any] = dict(fields)
    vendor = values.pop("vendor", "")
    number_type = check_internal_number_type(values.pop("internal_number_type", ""), vendor)
    return NumberRecord(
        number=number,
        hierarchy=hierarchy,
        vendor=vendor,
        admin_vendor=vendor,
        internal_number_type=number_type,
        **values,
    )


def is_due(record: NumberRecord, now: datetime) -> bool:
    return (
        record.status in (COOLING, RESERVED)
        and record.release_date is not None
        and record.release_date <= now
    )


# -- derived fields ---------------------------------------------------------


def _in_use(uses: tuple[Use, ...]) -> Changes:
    """Status, usage and vendor of a number with these (non-empty) uses."""
    return {
        "uses": uses,
        "status": uses[-1].status,
        "usage": usage_of(uses),
        "vendor": shown_vendor(uses),
    }


def _not_in_use(record: NumberRecord, status: Status) -> Changes:
    return {"uses": (), "status": status, "usage": (), "vendor": record.admin_vendor}


def _refuse(record: NumberRecord, action: Action, why: str) -> InvalidTransition:
    return InvalidTransition(
        f"cannot {action.operation} {record.number} at {record.hierarchy} "
        f"(status {record.status}): {why}",
        number=record.number,
        hierarchy=record.hierarchy,
        status=record.status,
        operation=action.operation,
    )


def _find_use(record: NumberRecord, consumer: Consumer) -> Use | None:
    key = (consumer.kind, consumer.id)
    return next((use for use in record.uses if use.key == key), None)


def _cooling_tag(release: datetime, now: datetime) -> str:
    days = max(0, math.ceil((release - now) / timedelta(days=1)))
    unit = "day" if days == 1 else "days"
    return f"Cooling: released in {days} {unit}, on {release.date().isoformat()}"


def _first_use(record: NumberRecord, action: Assign | Observe, rules: Rules) -> Changes:
    use = use_of(action.consumer, rules.kinds)
    changes = _in_use((use,))
    changes.update(release_date=None, reserved_for=None)
    if isinstance(action, Assign) and action.description is not None:
        changes["description"] = action.description
    return changes


def _end_cooling(record: NumberRecord) -> Changes:
    changes: Changes = {"release_date": None, "cooling_use": None, "tag_before_cooling": None}
    if record.tag_before_cooling is not None:
        changes["tag"] = record.tag_before_cooling
    return changes


def _without(record: NumberRecord, use: Use, rules: Rules) -> Changes:
    """Remove one use by the unassign rule: cooling when the last use's kind cools."""
    remaining = tuple(other for other in record.uses if other.key != use.key)
    if remaining:
        return _in_use(remaining)
    kind = rules.kinds.get(use.kind)
    if kind is None or not kind.cools(rules.settings):
        return _not_in_use(record, AVAILABLE)
    release = rules.now + timedelta(days=kind.cooling_period(rules.settings))
    changes = _not_in_use(record, COOLING)
    changes.update(
        release_date=release,
        cooling_use=use if kind.returns_from_cooling else None,
        tag_before_cooling=None,
    )
    if kind.cooling_tag:
        changes.update(tag=_cooling_tag(release, rules.now), tag_before_cooling=record.tag)
    return changes


# -- handlers: one per row of the table --------------------------------------

Handler = Callable[[NumberRecord, Any, Rules], Changes]


def _assign(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    return _first_use(record, action, rules)


def _share(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    if _find_use(record, action.consumer):
        return {}  # the same consumer again: idempotent
    if not action.shared:
        raise _refuse(record, action, "it is in use; pass shared=True to share it")
    changes = _in_use((*record.uses, use_of(action.consumer, rules.kinds)))
    if action.description is not None:
        changes["description"] = action.description
    return changes


def _claim(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    if not action.claim:
        raise _refuse(record, action, "it is reserved; pass claim=True to claim the reservation")
    if record.reserved_for is not None and record.reserved_for != action.consumer.id:
        raise _refuse(
            record,
            action,
            f"it is reserved for {record.reserved_for!r}, not {action.consumer.id!r}",
        )
    return _first_use(record, action, rules)


def _return_from_cooling(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    back = record.cooling_use
    kind = rules.kinds.get(action.consumer.kind)
    if (
        back is None
        or back.key != (action.consumer.kind, action.consumer.id)
        or kind is None
        or not kind.returns_from_cooling
    ):
        raise _refuse(record, action, f"it is cooling until {record.release_date}")
    return {**_first_use(record, action, rules), **_end_cooling(record)}


def _unassign(record: NumberRecord, action: Unassign, rules: Rules) -> Changes:
    use = _find_use(record, action.consumer)
    if use is None:
        raise _refuse(
            record, action, f"{action.consumer.kind} {action.consumer.id!r} does not use it"
        )
    return _without(record, use, rules)


def _reserve(record: NumberRecord, action: Reserve, rules: Rules) -> Changes:
    changes: Changes = {"status": RESERVED}
    if action.tag:
        changes["tag"] = action.tag
    if action.notes:
        changes["reservation_notes"] = action.notes
    if action.days is not None:
        changes["release_date"] = rules.now + timedelta(days=action.days)
    if action.reserved_for is not None:
        changes["reserved_for"] = action.reserved_for
    return changes


def _unreserve(record: NumberRecord, action: Action, rules: Rules) -> Changes:
    return {
        "status": AVAILABLE,
        "reservation_notes": "",
        "release_date": None,
        "reserved_for": None,
    }


def _cool(record: NumberRecord, action: Cool, rules: Rules) -> Changes:
    if action.until is not None:
        release = action.until
    else:
        release = rules.now + timedelta(days=action.days or rules.settings.cooling_days)
    if release <= rules.now:
        raise _refuse(record, action, f"the release date {release} is not in the future")
    changes: Changes = {"status": COOLING, "release_date": release}
    if record.tag_before_cooling is not None:
        changes["tag"] = _cooling_tag(release, rules.now)
    return changes


def _release(record: NumberRecord, action: Action, rules: Rules) -> Changes:
    return {"status": AVAILABLE, **_end_cooling(record)}


def _lapse_cooling(record: NumberRecord, action: Lapse, rules: Rules) -> Changes:
    return _release(record, action, rules) if is_due(record, rules.now) else {}


def _lapse_reservation(record: NumberRecord, action: Lapse, rules: Rules) -> Changes:
    return _unreserve(record, action, rules) if is_due(record, rules.now) else {}


def _update(record: NumberRecord, action: Update, rules: Rules) -> Changes:
    changes: Changes = dict(action.fields)
    if record.service_type is not None:
        managed = [name for name in MANAGED_BY_SERVICE if name in changes]
        if managed:
            raise _refuse(
                record,
                action,
                f"{', '.join(managed)} are managed while service type "
                f"{record.service_type} is applied",
            )
    if "vendor" in changes:
        changes["admin_vendor"] = changes["vendor"]
        if record.in_use:
            del changes["vendor"]
    number_type = changes.get("internal_number_type", record.internal_number_type)
    changes["internal_number_type"] = check_internal_number_type(
        number_type,
        changes.get("admin_vendor", record.admin_vendor),
        changes.get("vendor", record.vendor),
    )
    return changes


def _associate(record: NumberRecord, action: AssociateE164, rules: Rules) -> Changes:
    e164 = record.e164 if action.e164 in record.e164 else (*record.e164, action.e164)
    primary = action.e164 if action.primary else record.primary_e164
    changes: Changes = {"e164": e164, "primary_e164": primary}
    return _with_extra4(record, changes, rules)


def _dissociate(record: NumberRecord, action: DissociateE164, rules: Rules) -> Changes:
    if action.e164 not in record.e164:
        raise NotFound(
            f"{action.e164} is not associated with {record.number} at {record.hierarchy}",
            number=record.number,
            hierarchy=record.hierarchy,
            value=action.e164,
        )
    e164 = tuple(value for value in record.e164 if value != action.e164)
    primary = None if record.primary_e164 == action.e164 else record.primary_e164
    return _with_extra4(record, {"e164": e164, "primary_e164": primary}, rules)


def _with_extra4(record: NumberRecord, changes: Changes, rules: Rules) -> Changes:
    if record.service_type is not None:
        changes["extra4"] = extra4_for(
            attrs.evolve(record, e164=changes["e164"]), record.service_type, rules.settings
        )
    return changes


def _apply_service(record: NumberRecord, action: ApplyService, rules: Rules) -> Changes:
    row = SERVICE_TYPES[action.service_type]
    mine = [
        u for u in record.uses if u.consumer_id == action.subscriber and u.kind in SERVICE_KINDS
    ]
    others = [u for u in record.uses if u not in mine]
    if not row.holds_number:
        changes: Changes = {"service_type": None, "extra2": "", "extra4": ""}
        if record.service_type is None and not mine:
            return {}
        current = record
        for use in mine:
            changes.update(_without(current, use, rules))
            current = attrs.evolve(current, **changes)
        return changes
    if record.status in (RESERVED, COOLING):
        raise _refuse(record, action, "it is held back; release or unreserve it first")
    if others:
        holders = ", ".join(f"{u.kind} {u.consumer_id!r}" for u in others)
        raise _refuse(record, action, f"it is used by {holders}")
    kept = {use.kind: use for use in mine}
    uses = tuple(
        kept.get(kind) or use_of(Consumer(kind, action.subscriber, action.hierarchy), rules.kinds)
        for kind in row.kinds
    )
    changes = _in_use(uses)
    changes.update(
        service_type=action.service_type,
        extra2=row.extra2,
        extra4=extra4_for(record, action.service_type, rules.settings),
    )
    return changes


def _observe(record: NumberRecord, action: Observe, rules: Rules) -> Changes:
    if _find_use(record, action.consumer):
        return {}
    if not record.in_use:
        changes = _first_use(record, action, rules)
        changes.update(_end_cooling(record))
        changes.update(release_date=None, reserved_for=None)
        return changes
    return _in_use((*record.uses, use_of(action.consumer, rules.kinds)))


def _recompute(record: NumberRecord, action: Recompute, rules: Rules) -> Changes:
    if record.uses:
        return _in_use(record.uses)
    if record.status in IN_USE:
        return _not_in_use(record, AVAILABLE)
    return {"usage": (), "vendor": record.admin_vendor}


# -- the table ---------------------------------------------------------------


@attrs.frozen
class Transition:
    """One row: `action` from status `source` may leave the record in `targets`."""

    action: type[Action]
    source: Status
    targets: frozenset[Status]
    handler: Handler


def _rows(
    action: type[Action],
    sources: Status | Iterable[Status],
    targets: Iterable[Status],
    handler: Any,
) -> list[Transition]:
    many = {sources} if isinstance(sources, Status) else set(sources)
    return [Transition(action, source, frozenset(targets), handler) for source in sorted(many)]


_ANY = frozenset(Status)
_ASSIGNED = {USED, USED_UTILITY}
_AFTER_UNASSIGN = {USED, USED_UTILITY, AVAILABLE, COOLING}

_TABLE: list[Transition] = [
    *_rows(Assign, AVAILABLE, _ASSIGNED, _assign),
    *_rows(Assign, IN_USE, _ASSIGNED, _share),
    *_rows(Assign, RESERVED, _ASSIGNED, _claim),
    *_rows(Assign, COOLING, _ASSIGNED, _return_from_cooling),
    *_rows(Unassign, IN_USE, _AFTER_UNASSIGN, _unassign),
    *_rows(Reserve, frozenset({AVAILABLE, RESERVED}), {RESERVED}, _reserve),
    *_rows(Unreserve, RESERVED, {AVAILABLE}, _unreserve),
    *_rows(Cool, frozenset({AVAILABLE, COOLING}), {COOLING}, _cool),
    *_rows(Release, COOLING, {AVAILABLE}, _release),
    *_rows(Lapse, COOLING, {COOLING, AVAILABLE}, _lapse_cooling),
    *_rows(Lapse, RESERVED, {RESERVED, AVAILABLE}, _lapse_reservation),
    *[row for status in Status for row in _rows(Update, status, {status}, _update)],
    *[row for status in Status for row in _rows(AssociateE164, status, {status}, _associate)],
    *[row for status in Status for row in _rows(DissociateE164, status, {status}, _dissociate)],
    *_rows(ApplyService, frozenset({AVAILABLE, *IN_USE}), _AFTER_UNASSIGN, _apply_service),
    *_rows(ApplyService, frozenset({RESERVED, COOLING}), {RESERVED, COOLING}, _apply_service),
    *_rows(Observe, _ANY, _ASSIGNED, _observe),
    *_rows(Recompute, _ANY, _ANY, _recompute),
]


def _checked(rows: list[Transition]) -> Mapping[tuple[type[Action], Status], Transition]:
    table: dict[tuple[type[Action], Status], Transition] = {}
    for row in rows:
        key = (row.action, row.source)
        if key in table:
            raise AssertionError(f"two transitions for {row.action.__name__} from {row.source}")
        table[key] = row
    reached = {target for row in rows for target in row.targets}
    unreachable = set(Status) - reached
    if unreachable:
        raise AssertionError(f"no transition reaches {sorted(unreachable)}")
    return table


TRANSITIONS: Mapping[tuple[type[Action], Status], Transition] = _checked(_TABLE)


def transition(record: NumberRecord, action: Action, rules: Rules) -> NumberRecord:
    """The record after `action`, or the same record object when nothing changes.

    Raises:
        InvalidTransition: the action is not allowed from the record's status.
    """
    row = TRANSITIONS.get((type(action), record.status))
    if row is None:
        raise _refuse(record, action, f"not allowed while {record.status}")
    changes = row.handler(record, action, rules)
    changes = {name: value for name, value in changes.items() if getattr(record, name) != value}
    if not changes:
        return record
    if rules.describes and changes.get("status") is AVAILABLE and record.status is not AVAILABLE:
        changes["description"] = ""
    return attrs.evolve(record, version=record.version + 1, **changes)
