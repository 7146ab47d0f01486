"""The number lifecycle as a pure state machine (SPEC 6, 7, 8, 13, 18, 20-22).

`transition(record, action, rules)` returns the record as the action leaves
it, or raises a refusal; it reads no clock and touches no storage. Which
action may run from which status is the data table `TRANSITIONS`; it is
checked when this module loads (every status reachable, no (action, status)
twice), and a bad table raises `InvalidTransitionTable`. A handler returns
only the fields it changes; `transition` applies them in one step and bumps
the version, and returns the very same record when nothing changed (no
write, no event, no journal entry).

A number reserved for a person (`reserved_for`) keeps that flag until an
administrator removes it (`Unreserve`): whenever such a number would become
Available it becomes Reserved again instead, and only a consumer acting for
that person may take it (SPEC 18).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import ClassVar, Generic, TypedDict, TypeVar, cast

import attrs

from numinv.core import checks
from numinv.core.hierarchy import is_at_or_below, lineage
from numinv.core.hybrid import BUILTIN_SERVICE_TYPES, ServiceRow, extra4_for
from numinv.core.kinds import BUILTIN_KINDS, ConsumerKind, use_of
from numinv.core.records import FREE_TEXT_FIELDS, Consumer, NumberRecord, Status, Usage, Use
from numinv.core.vendors import (
    WEBEX,
    admin_vendor,
    check_internal_number_type,
    may_be_inactive,
    shown_number_type,
    shown_vendor,
    usage_of,
)
from numinv.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    InvalidTransitionTable,
    NotFound,
)
from numinv.settings import NodeSettings, Settings, in_force

__all__ = [
    "TRANSITIONS",
    "Action",
    "Activate",
    "ApplyService",
    "Assign",
    "AssociateE164",
    "Changes",
    "Cool",
    "Deactivate",
    "Delete",
    "DissociateE164",
    "Lapse",
    "Move",
    "Observe",
    "ObserveUnassigned",
    "Recompute",
    "Release",
    "Reserve",
    "Rules",
    "Transition",
    "Unassign",
    "Unreserve",
    "Update",
    "as_of",
    "check_fields",
    "is_due",
    "loaded",
    "transition",
]

AVAILABLE, USED, USED_UTILITY = Status.AVAILABLE, Status.USED, Status.USED_UTILITY
COOLING, RESERVED, INACTIVE = Status.COOLING, Status.RESERVED, Status.INACTIVE
IN_USE = frozenset({USED, USED_UTILITY})
HELD_BACK = frozenset({COOLING, RESERVED})
MANAGED_BY_SERVICE = ("extra2", "extra4")


class Changes(TypedDict, total=False):
    """The fields of a `NumberRecord` a handler changes."""

    hierarchy: str
    status: Status
    usage: tuple[Usage, ...]
    uses: tuple[Use, ...]
    vendor: str
    internal_number_type: str
    release_date: datetime | None
    reserved_for: str | None
    e164: tuple[str, ...]
    primary_e164: str | None
    tag: str
    description: str
    reservation_notes: str
    extra1: str
    extra2: str
    extra3: str
    extra4: str
    extra5: str
    extra6: str
    extra7: str
    extra8: str
    extra9: str
    admin_vendor: str
    admin_number_type: str
    service_type: str | None
    cooling_use: Use | None
    tag_before_cooling: str | None


@attrs.frozen
class Rules:
    """What a transition may depend on besides the record: the time, the settings, the tables.

    `nodes` holds what administrators set at the nodes this call touches
    (`Inventory.configure`); `settings_at` resolves the settings in force at
    a node from them, nearest node first, then `settings`.
    """

    now: datetime
    settings: Settings = attrs.field(factory=Settings)
    kinds: Mapping[str, ConsumerKind] = BUILTIN_KINDS
    services: Mapping[str, ServiceRow] = BUILTIN_SERVICE_TYPES
    describes: bool = False  # a host's describe hook owns the description
    nodes: Mapping[str, NodeSettings] = attrs.field(factory=dict)

    def settings_at(self, node: str) -> Settings:
        if not self.nodes:
            return self.settings
        nodes = self.nodes
        return in_force(self.settings, (nodes[name] for name in lineage(node) if name in nodes))


# -- actions ---------------------------------------------------------------


class Action:
    """What an operation asks of one record; `operation` names it in events and the journal."""

    operation: ClassVar[str]

    def guard(self, record: NumberRecord) -> None:
        """Refuse before the table is read (a rule that holds in every status)."""


@attrs.frozen
class Assign(Action):
    operation: ClassVar[str] = "assign"
    use: Use
    shared: bool = False
    claim: bool = False
    description: str | None = None  # from the host's describe hook


@attrs.frozen
class Unassign(Action):
    operation: ClassVar[str] = "unassign"
    kind: str
    consumer_id: str
    hierarchy: str  # the consumer's node: the cooling in force there applies


@attrs.frozen
class Reserve(Action):
    operation: ClassVar[str] = "reserve"
    tag: str = ""
    notes: str = ""
    days: int | None = None
    reserved_for: str | None = None

    def guard(self, record: NumberRecord) -> None:
        held = record.reserved_for
        if held is not None and self.reserved_for is not None and held != self.reserved_for:
            raise Conflict(
                f"cannot reserve {record.number} at {record.hierarchy} for "
                f"{self.reserved_for!r}: it is reserved for {held!r} (unreserve it first)",
                number=record.number,
                hierarchy=record.hierarchy,
                operation=self.operation,
                value=self.reserved_for,
            )


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
    service_type: str
    hierarchy: str
    description: str | None = None  # from the host's describe hook, when it hands one out


@attrs.frozen
class Observe(Action):
    """An audit saw this consumer use the number: record the use whatever the status."""

    operation: ClassVar[str] = "audit"
    use: Use
    description: str | None = None  # from the host's describe hook (SPEC 13)


@attrs.frozen
class ObserveUnassigned(Action):
    """An audit saw the number held unassigned by a UC application (SPEC 20)."""

    operation: ClassVar[str] = "audit"
    vendor: str = ""
    internal_number_type: str = ""
    active: bool = True


@attrs.frozen
class Recompute(Action):
    """An audit: make status, usage and vendor agree with the uses."""

    operation: ClassVar[str] = "audit"


@attrs.frozen
class Delete(Action):
    """Removing a number from the inventory: only an Available number may go (SPEC 9)."""

    operation: ClassVar[str] = "delete"


@attrs.frozen
class Activate(Action):
    operation: ClassVar[str] = "activate"


@attrs.frozen
class Deactivate(Action):
    operation: ClassVar[str] = "deactivate"


@attrs.frozen
class Move(Action):
    """The record goes to another node with every field kept (SPEC 21)."""

    operation: ClassVar[str] = "move"
    to: str


# -- new records and the fields an administrator sets -------------------------

SETTABLE_FIELDS = frozenset({*FREE_TEXT_FIELDS, "vendor", "internal_number_type"})


def check_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """Validate the settable fields of an update or a load: known names, text values."""
    unknown = sorted(set(fields) - SETTABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"cannot set {', '.join(map(repr, unknown))}: settable fields are "
            f"{', '.join(sorted(SETTABLE_FIELDS))}",
            value=unknown[0],
        )
    checked = {name: checks.text(value, name) for name, value in fields.items()}
    if "vendor" in checked:
        checked["vendor"] = admin_vendor(checked["vendor"])
    return checked


def loaded(number: str, hierarchy: str, fields: Mapping[str, str]) -> NumberRecord:
    """A new Available record with the administrator's fields (already checked), version 1."""
    values = dict(fields)
    vendor = values.pop("vendor", "")
    number_type = check_internal_number_type(values.pop("internal_number_type", ""), vendor)
    record = NumberRecord(
        number=number,
        hierarchy=hierarchy,
        vendor=vendor,
        admin_vendor=vendor,
        internal_number_type=number_type,
        admin_number_type=number_type,
    )
    # Only free-text fields are left, each a `str` field of the record.
    return _evolved(record, cast(Changes, values)) if values else record


# -- time ---------------------------------------------------------------------


def is_due(record: NumberRecord, now: datetime) -> bool:
    """Whether the record's release date is reached (a cooling ended, a reservation lapsed)."""
    return (
        record.release_date is not None
        and record.release_date <= now
        and record.status in HELD_BACK
    )


def as_of(record: NumberRecord, rules: Rules) -> NumberRecord:
    """The record as it stands at `rules.now`: released when its release date has passed.

    Reads show this without storing anything (SPEC 22); the next write that
    touches the record stores exactly this record first.
    """
    if record.release_date is None or not is_due(record, rules.now):
        return record
    return transition(record, Lapse(), rules)


# -- derived fields ---------------------------------------------------------


def _in_use(record: NumberRecord, uses: tuple[Use, ...]) -> Changes:
    """Status, usage, vendor and shown number type of a number with these (non-empty) uses."""
    vendor = shown_vendor(uses)
    return {
        "uses": uses,
        "status": uses[-1].status,
        "usage": usage_of(uses),
        "vendor": vendor,
        "internal_number_type": shown_number_type(record.admin_number_type, vendor),
    }


def _free(record: NumberRecord) -> Status:
    """Where a number goes when nothing holds it: Available, or back to its person."""
    return AVAILABLE if record.reserved_for is None else RESERVED


def _not_in_use(record: NumberRecord, status: Status) -> Changes:
    return {
        "uses": (),
        "status": status,
        "usage": (),
        "vendor": record.admin_vendor,
        "internal_number_type": shown_number_type(record.admin_number_type, record.admin_vendor),
    }


def _refuse(
    record: NumberRecord, action: Action, why: str, reason: str = "not allowed"
) -> InvalidTransition:
    return InvalidTransition(
        f"cannot {action.operation} {record.number} at {record.hierarchy} "
        f"(status {record.status}): {why}",
        number=record.number,
        hierarchy=record.hierarchy,
        status=record.status,
        operation=action.operation,
        reason=reason,
    )


def _find_use(record: NumberRecord, key: tuple[str, str]) -> Use | None:
    return next((use for use in record.uses if use.key == key), None)


def _for_whom(record: NumberRecord, use: Use, action: Action) -> None:
    """Refuse a consumer that does not act for the person the number is reserved for."""
    held = record.reserved_for
    if held is not None and held not in (use.consumer_id, use.owner):
        raise _refuse(
            record,
            action,
            f"it is reserved for {held!r}, not for {use.kind} {use.consumer_id!r}"
            + (f" (owner {use.owner!r})" if use.owner else ""),
            "reserved for",
        )


def _cooling_tag(release: datetime, now: datetime) -> str:
    days = max(0, math.ceil((release - now) / timedelta(days=1)))
    unit = "day" if days == 1 else "days"
    return f"Cooling: released in {days} {unit}, on {release.date().isoformat()}"


def _first_use(record: NumberRecord, use: Use, description: str | None) -> Changes:
    changes = _in_use(record, (use,))
    changes["release_date"] = None
    if description is not None:
        changes["description"] = description
    return changes


def _end_cooling(record: NumberRecord) -> Changes:
    changes: Changes = {"release_date": None, "cooling_use": None, "tag_before_cooling": None}
    if record.tag_before_cooling is not None:
        changes["tag"] = record.tag_before_cooling
    return changes


def _without(record: NumberRecord, use: Use, node: str, rules: Rules) -> Changes:
    """Remove one use by the unassign rule: cooling when the last use's kind cools at `node`."""
    remaining = tuple(other for other in record.uses if other.key != use.key)
    if remaining:
        return _in_use(record, remaining)
    kind = rules.kinds.get(use.kind)
    settings = rules.settings_at(node)
    if kind is None or not kind.cools(settings):
        return _not_in_use(record, _free(record))
    release = rules.now + timedelta(days=kind.cooling_period(settings))
    changes = _not_in_use(record, COOLING)
    changes["release_date"] = release
    changes["cooling_use"] = use if kind.returns_from_cooling else None
    changes["tag_before_cooling"] = None
    if kind.cooling_tag:
        changes["tag"] = _cooling_tag(release, rules.now)
        changes["tag_before_cooling"] = record.tag
    return changes


# -- handlers: one per row of the table --------------------------------------

A = TypeVar("A", bound=Action)
Handler = Callable[[NumberRecord, A, Rules], Changes]


def _assign(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    _for_whom(record, action.use, action)
    return _first_use(record, action.use, action.description)


def _share(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    if _find_use(record, action.use.key):
        return {}  # the same consumer again: idempotent
    if not action.shared:
        raise _refuse(record, action, "it is in use; pass shared=True to share it", "in use")
    _for_whom(record, action.use, action)
    changes = _in_use(record, (*record.uses, action.use))
    if action.description is not None:
        changes["description"] = action.description
    return changes


def _claim(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    if not action.claim:
        raise _refuse(
            record, action, "it is reserved; pass claim=True to claim the reservation", "reserved"
        )
    _for_whom(record, action.use, action)
    return _first_use(record, action.use, action.description)


def _return_from_cooling(record: NumberRecord, action: Assign, rules: Rules) -> Changes:
    back = record.cooling_use
    kind = rules.kinds.get(action.use.kind)
    if back is None or back.key != action.use.key or kind is None or not kind.returns_from_cooling:
        raise _refuse(record, action, f"it is cooling until {record.release_date}", "cooling")
    return {**_first_use(record, action.use, action.description), **_end_cooling(record)}


def _unassign(record: NumberRecord, action: Unassign, rules: Rules) -> Changes:
    use = _find_use(record, (action.kind, action.consumer_id))
    if use is None:
        raise _refuse(
            record, action, f"{action.kind} {action.consumer_id!r} does not use it", "not its user"
        )
    return _without(record, use, action.hierarchy, rules)


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


def _drop_flag(record: NumberRecord, action: Unreserve, rules: Rules) -> Changes:
    if record.reserved_for is None:
        raise _refuse(record, action, "it is not reserved", "not reserved")
    return {"reserved_for": None}


def _cool(record: NumberRecord, action: Cool, rules: Rules) -> Changes:
    if action.until is not None:
        release = action.until
    else:
        days = action.days or rules.settings_at(record.hierarchy).cooling_days
        release = rules.now + timedelta(days=days)
    if release <= rules.now:
        raise _refuse(
            record, action, f"the release date {release} is not in the future", "past date"
        )
    changes: Changes = {"status": COOLING, "release_date": release}
    if record.tag_before_cooling is not None:
        changes["tag"] = _cooling_tag(release, rules.now)
    return changes


def _release(record: NumberRecord, action: Action, rules: Rules) -> Changes:
    changes: Changes = {"status": _free(record), **_end_cooling(record)}
    return changes


def _lapse_cooling(record: NumberRecord, action: Lapse, rules: Rules) -> Changes:
    return _release(record, action, rules) if is_due(record, rules.now) else {}


def _lapse_reservation(record: NumberRecord, action: Lapse, rules: Rules) -> Changes:
    # The administrator gave the reservation its end when making it: it ends whole,
    # its *Reserved for* flag with it (decision 57).
    return _unreserve(record, action, rules) if is_due(record, rules.now) else {}


def _update(record: NumberRecord, action: Update, rules: Rules) -> Changes:
    fields = dict(action.fields)
    if record.service_type is not None:
        managed = [name for name in MANAGED_BY_SERVICE if name in fields]
        if managed:
            raise _refuse(
                record,
                action,
                f"{', '.join(managed)} are managed while service type "
                f"{record.service_type} is applied",
                "managed fields",
            )
    changes = cast(Changes, {k: v for k, v in fields.items() if k not in _ADMIN_FIELDS})
    vendor = fields.get("vendor", record.admin_vendor)
    if record.status is INACTIVE and "vendor" in fields and vendor != WEBEX:
        raise _refuse(
            record,
            action,
            f"an Inactive number is Webex Calling's, not {vendor or 'Cisco'}'s (activate it first)",
            "vendor",
        )
    shown = record.vendor if record.in_use else vendor
    number_type = record.admin_number_type  # kept apart, shown while it agrees (decision 66)
    if _ADMIN_FIELDS.intersection(fields):  # checked when set, or when its vendor is
        number_type = check_internal_number_type(
            fields.get("internal_number_type", number_type), vendor, shown
        )
    changes["admin_vendor"] = vendor
    changes["admin_number_type"] = number_type
    changes["vendor"] = shown
    changes["internal_number_type"] = shown_number_type(number_type, shown)
    return changes


_ADMIN_FIELDS = frozenset({"vendor", "internal_number_type"})


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
        row = rules.services.get(record.service_type)
        changes["extra4"] = extra4_for(
            record, row, changes.get("e164", record.e164), rules.settings.teluri_prefix
        )
    return changes


def _apply_service(record: NumberRecord, action: ApplyService, rules: Rules) -> Changes:
    row = rules.services[action.service_type]
    service_kinds = {kind for other in rules.services.values() for kind in other.kinds}
    mine = [
        u for u in record.uses if u.consumer_id == action.subscriber and u.kind in service_kinds
    ]
    others = [u for u in record.uses if u not in mine]
    if not row.holds_number:
        changes: Changes = {"service_type": None, "extra2": "", "extra4": ""}
        # The subscriber holds nothing here: a number nobody keeps for a service type
        # sheds its managed fields; one that others use keeps theirs.
        if not mine and (record.service_type is None or others):
            return {}
        current = record
        for use in mine:
            changes.update(_without(current, use, use.hierarchy or action.hierarchy, rules))
            current = _evolved(current, changes)
        return changes
    if record.status in HELD_BACK and not (
        record.status is RESERVED and record.reserved_for == action.subscriber
    ):
        raise _refuse(record, action, "it is held back; release or unreserve it first", "held back")
    if others:
        holders = ", ".join(f"{u.kind} {u.consumer_id!r}" for u in others)
        raise _refuse(record, action, f"it is used by {holders}", "in use")
    if record.reserved_for not in (None, action.subscriber):
        raise _refuse(record, action, f"it is reserved for {record.reserved_for!r}", "reserved for")
    kept = {use.kind: use for use in mine}
    uses = tuple(
        kept.get(kind) or use_of(Consumer(kind, action.subscriber, action.hierarchy), rules.kinds)
        for kind in row.kinds
    )
    changes = _in_use(record, uses)
    changes["release_date"] = None
    if not record.in_use and action.description is not None:  # handed out now (SPEC 13)
        changes["description"] = action.description
    changes["service_type"] = action.service_type
    changes["extra2"] = row.extra2
    changes["extra4"] = extra4_for(record, row, record.e164, rules.settings.teluri_prefix)
    return changes


def _observe(record: NumberRecord, action: Observe, rules: Rules) -> Changes:
    if _find_use(record, action.use.key):
        return {}
    if not record.in_use:
        changes = _first_use(record, action.use, action.description)
        changes.update(_end_cooling(record))
        return changes
    return _in_use(record, (*record.uses, action.use))


def _observe_unassigned(record: NumberRecord, action: ObserveUnassigned, rules: Rules) -> Changes:
    """A UC application holds the number and nobody uses it (the audit removed stale uses)."""
    if record.in_use:
        return {}
    changes: Changes = {}
    if action.vendor:
        changes["admin_vendor"] = action.vendor
        if action.internal_number_type:
            changes["admin_number_type"] = action.internal_number_type
    vendor = changes.get("admin_vendor", record.admin_vendor)
    number_type = changes.get("admin_number_type", record.admin_number_type)
    changes["vendor"] = vendor
    changes["internal_number_type"] = shown_number_type(number_type, vendor)
    if not action.active and record.status is AVAILABLE and may_be_inactive(vendor):
        changes.update(_inactive(_evolved(record, changes)))
    elif action.active and record.status is INACTIVE:
        changes["status"] = _free(record)
    return changes


def _recompute(record: NumberRecord, action: Recompute, rules: Rules) -> Changes:
    if record.uses:
        return _in_use(record, record.uses)
    if record.status in IN_USE:
        return _not_in_use(record, _free(record))
    return {
        "usage": (),
        "vendor": record.admin_vendor,
        "internal_number_type": shown_number_type(record.admin_number_type, record.admin_vendor),
    }


def _delete(record: NumberRecord, action: Delete, rules: Rules) -> Changes:
    return {}


def _activate(record: NumberRecord, action: Activate, rules: Rules) -> Changes:
    return {"status": _free(record)}


def _deactivate(record: NumberRecord, action: Deactivate, rules: Rules) -> Changes:
    if not may_be_inactive(record.admin_vendor):
        raise _refuse(
            record,
            action,
            f"its vendor is {record.admin_vendor}, and only a Webex Calling number is "
            "Inactive (set its vendor to Webex Calling first)",
            "vendor",
        )
    return _inactive(record)


def _inactive(record: NumberRecord) -> Changes:
    # A Webex Calling number keeps a number type only if it is one of Webex's.
    number_type = shown_number_type(record.admin_number_type, WEBEX)
    return {
        "status": INACTIVE,
        "usage": (),
        "vendor": WEBEX,
        "admin_vendor": WEBEX,
        "admin_number_type": number_type,
        "internal_number_type": number_type,
    }


def _move(record: NumberRecord, action: Move, rules: Rules) -> Changes:
    # A device the number cools from gets it back when it returns: it must still see it.
    holders = [*record.uses, *([record.cooling_use] if record.cooling_use else [])]
    stranded = [use for use in holders if not is_at_or_below(use.hierarchy, action.to)]
    if stranded:
        users = ", ".join(f"{u.kind} {u.consumer_id!r} at {u.hierarchy}" for u in stranded)
        why = f"{users} could not see it from {action.to}"
        if record.cooling_use in stranded:
            why += " (it cools from that device, which gets it back: release it first)"
        raise _refuse(record, action, why, "stranded")
    return {"hierarchy": action.to}


# -- the table ---------------------------------------------------------------


@attrs.frozen
class Transition(Generic[A]):
    """One row: `action` from status `source` may leave the record in `targets`.

    No target means the record leaves the inventory (a deletion).
    """

    action: type[A]
    source: Status
    targets: frozenset[Status]
    handler: Handler[A]


def _rows(
    action: type[A],
    sources: Status | Iterable[Status],
    targets: Iterable[Status],
    handler: Handler[A],
) -> list[Transition[Action]]:
    many = {sources} if isinstance(sources, Status) else set(sources)
    rows = [Transition(action, source, frozenset(targets), handler) for source in sorted(many)]
    # The table is keyed by the action's type, so a row's handler always gets its own action.
    return cast(list[Transition[Action]], rows)


def _each_status(action: type[A], handler: Handler[A]) -> list[Transition[Action]]:
    return [row for status in Status for row in _rows(action, status, {status}, handler)]


_ANY = frozenset(Status)
_ASSIGNED = {USED, USED_UTILITY}
_AFTER_UNASSIGN = {USED, USED_UTILITY, AVAILABLE, COOLING, RESERVED}
_FREED = {AVAILABLE, RESERVED}

_TABLE: list[Transition[Action]] = [
    *_rows(Assign, AVAILABLE, _ASSIGNED, _assign),
    *_rows(Assign, IN_USE, _ASSIGNED, _share),
    *_rows(Assign, RESERVED, _ASSIGNED, _claim),
    *_rows(Assign, COOLING, _ASSIGNED, _return_from_cooling),
    *_rows(Unassign, IN_USE, _AFTER_UNASSIGN, _unassign),
    *_rows(Reserve, frozenset({AVAILABLE, RESERVED}), {RESERVED}, _reserve),
    *_rows(Unreserve, RESERVED, {AVAILABLE}, _unreserve),
    *_rows(Unreserve, frozenset({*IN_USE, COOLING, INACTIVE}), _ANY - {RESERVED}, _drop_flag),
    *_rows(Cool, frozenset({AVAILABLE, COOLING}), {COOLING}, _cool),
    *_rows(Release, COOLING, _FREED, _release),
    *_rows(Lapse, COOLING, {COOLING, *_FREED}, _lapse_cooling),
    *_rows(Lapse, RESERVED, {RESERVED, AVAILABLE}, _lapse_reservation),
    *_each_status(Update, _update),
    *_each_status(AssociateE164, _associate),
    *_each_status(DissociateE164, _dissociate),
    *_rows(ApplyService, frozenset({AVAILABLE, *IN_USE}), _AFTER_UNASSIGN, _apply_service),
    *_rows(ApplyService, HELD_BACK, {*HELD_BACK, *_ASSIGNED}, _apply_service),
    *_rows(Observe, _ANY, _ASSIGNED, _observe),
    *_rows(ObserveUnassigned, _ANY, _ANY, _observe_unassigned),
    *_rows(Recompute, _ANY, _ANY, _recompute),
    *_rows(Delete, AVAILABLE, (), _delete),
    *_rows(Activate, INACTIVE, _FREED, _activate),
    *_rows(Deactivate, AVAILABLE, {INACTIVE}, _deactivate),
    *_each_status(Move, _move),
]


def _checked(
    rows: list[Transition[Action]],
) -> Mapping[tuple[type[Action], Status], Transition[Action]]:
    table: dict[tuple[type[Action], Status], Transition[Action]] = {}
    for row in rows:
        key = (row.action, row.source)
        if key in table:
            raise InvalidTransitionTable(
                f"two transitions for {row.action.__name__} from {row.source}"
            )
        table[key] = row
    reached = {target for row in rows for target in row.targets}
    unreachable = set(Status) - reached
    if unreachable:
        raise InvalidTransitionTable(f"no transition reaches {sorted(unreachable)}")
    return table


TRANSITIONS: Mapping[tuple[type[Action], Status], Transition[Action]] = _checked(_TABLE)

# Positions of the fields, for building a changed record without `attrs.evolve`
# (which would check and copy every field by name).
_FIELDS = tuple(field.name for field in attrs.fields(NumberRecord))
_POSITION = {name: index for index, name in enumerate(_FIELDS)}
_VERSION = _POSITION["version"]
_VALUES = operator.attrgetter(*_FIELDS)


def _evolved(record: NumberRecord, changes: Changes, version: int | None = None) -> NumberRecord:
    values = list(_VALUES(record))
    for name, value in changes.items():
        values[_POSITION[name]] = value
    if version is not None:
        values[_VERSION] = version
    return NumberRecord(*values)


def _freed(before: Status, after: Status | None) -> bool:
    """Whether a change frees the number: Available again, or back to its person."""
    if after is AVAILABLE:
        return before is not AVAILABLE
    return after is RESERVED and before in _HELD_BY_USE


_HELD_BY_USE = frozenset({*IN_USE, COOLING})


def transition(record: NumberRecord, action: Action, rules: Rules) -> NumberRecord:
    """The record after `action`, or the same record object when nothing changes.

    Raises:
        InvalidTransition: the action is not allowed from the record's status.
        Conflict: the action would take what is reserved for somebody else.
    """
    action.guard(record)
    row = TRANSITIONS.get((type(action), record.status))
    if row is None:
        raise _refuse(record, action, f"not allowed while {record.status}")
    changes = row.handler(record, action, rules)
    changed = cast(
        Changes, {name: value for name, value in changes.items() if getattr(record, name) != value}
    )
    if not changed:
        return record
    if rules.describes and _freed(record.status, changed.get("status")):
        changed["description"] = ""
    return _evolved(record, changed, record.version + 1)
