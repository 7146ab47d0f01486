"""A model of numinv's rules in plain Python, for `InventoryMachine` to compare the library with.

The model is written from SPEC.md and docs/decisions.md, not from the
library's code: a record is a plain dict of its fields keyed by (number,
node); every operation is a method that works out, with its own code, what
the inventory must answer and which records it must store (with their
journal changes), or which error it must refuse with (`Refused`). It uses
the library's value types only to spell its answers (`NumberRecord`, `Use`,
`Status`, `Settings`) and its errors only to name them; it never calls the
lifecycle, the repository or the inventory.

An operation runs in a `Tx`: a copy of the model's state that the machine
commits when the library succeeded too, so that a refusal leaves the model
as it was. Where SPEC and the decisions are silent and the library decided,
the model follows the library and docs/testing.md says so.

Hosts extend the model by subclassing `InventoryModel` (a host rule that
refuses some assignment, say) and naming the subclass in
`InventoryMachine.model_class`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from numinv.core.kinds import ConsumerKind
from numinv.core.records import (
    Change,
    Consumer,
    NumberRecord,
    Observation,
    Status,
    Usage,
    Use,
)
from numinv.errors import (
    Conflict,
    DuplicateNumber,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NumInvError,
)
from numinv.settings import Settings

__all__ = [
    "BUILTIN_KINDS",
    "SERVICES",
    "AuditOutcome",
    "InventoryModel",
    "Kind",
    "Refused",
    "Tx",
    "lineage",
    "related",
]

AVAILABLE, USED, USED_UTILITY = Status.AVAILABLE, Status.USED, Status.USED_UTILITY
COOLING, RESERVED, INACTIVE = Status.COOLING, Status.RESERVED, Status.INACTIVE
IN_USE = (USED, USED_UTILITY)
HELD_BACK = (COOLING, RESERVED)
WEBEX = "Webex Calling"
FIELDS = tuple(field.name for field in attrs.fields(NumberRecord))
FREE_TEXT = ("tag", "description", "reservation_notes", *(f"extra{n}" for n in range(1, 10)))
SETTABLE = frozenset({*FREE_TEXT, "vendor", "internal_number_type"})
NODE_SETTINGS = (
    "auto_cooling",
    "cooling_days",
    "audiocodes_cooling_days",
    "prevent_duplicates",
    "exhaustion_threshold",
)
MAX_DAYS = 999

Key = tuple[str, str]
Record = dict[str, Any]


class Refused(Exception):
    """The model's expectation that the inventory refuses a call with `error`."""

    def __init__(self, error: type[NumInvError], why: str) -> None:
        super().__init__(f"{error.__name__}: {why}")
        self.error = error
        self.why = why


# -- the tables of SPEC 5, 8 and 22, as the model's own data -----------------------------------


@attrs.frozen
class Kind:
    """A consumer kind: status, usage and vendor of its use, and how its removal cools."""

    name: str
    status: Status
    usage: Usage
    vendor: str = ""
    vendor_from_consumer: bool = False
    cools: str = "never"  # "never", "auto" (with auto cooling) or "always"
    days: str = "cooling_days"
    returns: bool = False
    tag: bool = False

    @classmethod
    def of(cls, kind: ConsumerKind) -> Kind:
        """A host's kind, read as data."""
        return cls(
            kind.name,
            kind.status,
            kind.usage,
            kind.vendor,
            kind.vendor_from_consumer,
            str(kind.cooling),
            kind.cooling_days,
            kind.returns_from_cooling,
            kind.cooling_tag,
        )


def _kinds(*rows: Kind) -> dict[str, Kind]:
    return {row.name: row for row in rows}


BUILTIN_KINDS: Mapping[str, Kind] = _kinds(
    Kind("device/cucm/Phone", USED, Usage.DEVICE, cools="auto"),
    Kind("device/cucm/DeviceProfile", USED, Usage.DEVICE, cools="auto"),
    Kind("device/cucm/RemoteDestinationProfile", USED, Usage.DEVICE, cools="auto"),
    Kind("device/cucm/HuntPilot", USED_UTILITY, Usage.HUNT_PILOT),
    Kind("device/cucm/CallPickupGroup", USED_UTILITY, Usage.PICKUP_GROUP_PILOT),
    Kind("device/cuc/Callhandler", USED_UTILITY, Usage.CALL_HANDLER_PILOT),
    Kind("device/cucm/VoicemailPilot", USED_UTILITY, Usage.VOICEMAIL_PILOT),
    Kind("device/cucm/MeetMe", USED_UTILITY, Usage.MEET_ME),
    Kind("device/cucm/CtiRoutePoint", USED_UTILITY, Usage.CTI_ROUTE_POINT),
    Kind("device/cucm/CallPark", USED_UTILITY, Usage.CALL_PARK),
    Kind("device/cucm/DirectedCallPark", USED_UTILITY, Usage.DIRECTED_CALL_PARK),
    Kind(
        "data/PRS_MultiVendorPhone_DAT", USED_UTILITY, Usage.VOSS_PHONE, vendor_from_consumer=True
    ),
    Kind("device/msteamsonline/CsOnlineUser", USED, Usage.USER, "Microsoft", cools="auto"),
    Kind("device/spark/Number", USED, Usage.USER, WEBEX, cools="auto"),
    Kind(
        "device/audiocodes",
        USED,
        Usage.DEVICE,
        "AudioCodes",
        cools="always",
        days="audiocodes_cooling_days",
        returns=True,
        tag=True,
    ),
)

PHONE, TEAMS = "device/cucm/Phone", "device/msteamsonline/CsOnlineUser"
# Service type -> (the uses it gives its subscriber, Extra2, TelURI in Extra4 without E.164).
SERVICES: Mapping[str, tuple[tuple[str, ...], str, bool]] = {
    "Cisco-MS-Hybrid": ((PHONE, TEAMS), "Cisco-MS-Hybrid", True),
    "Cisco-Only": ((PHONE,), "", False),
    "MS-Only-Entvoice": ((TEAMS,), "MS-Only-Entvoice", True),
    "MS-Only-Hybrid": ((TEAMS,), "MS-Only-Hybrid", True),
    "Cisco-No-Services": ((), "", False),
    "MS-Only-No-Entvoice": ((), "", False),
    "No-Hybrid-Service": ((), "", False),
}

NUMBER_TYPES: Mapping[str, Mapping[str, str]] = {
    "Microsoft": {
        "Direct Routing": "Direct Routing",
        "DirectRouting": "Direct Routing",
        "Calling Plan": "Calling Plan",
        "CallingPlan": "Calling Plan",
        "Operator Connect": "Operator Connect",
        "OperatorConnect": "Operator Connect",
    },
    WEBEX: {"Phone Number": "Phone Number", "Extension": "Extension"},
}

_NUMBER = re.compile(r"\\?(\+?)([0-9]{1,32})")
_E164 = re.compile(r"\+[0-9]{1,15}")


# -- small rules -------------------------------------------------------------------------------


def lineage(node: str) -> list[str]:
    """The node and its ancestors, nearest first."""
    parts = node.split(".")
    return [".".join(parts[:size]) for size in range(len(parts), 0, -1)]


def below(node: str, ancestor: str) -> bool:
    """Whether `node` is `ancestor` or lies under it."""
    return node == ancestor or node.startswith(ancestor + ".")


def related(first: str, second: str) -> bool:
    return below(first, second) or below(second, first)


def canonical_number(value: object) -> str:
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value)
        if match:
            return match.group(1) + match.group(2)
    raise Refused(InvalidInput, f"{value!r} is not a number")


def check_path(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 512
        or len(value.split(".")) > 32
        or any(not part or part != part.strip() for part in value.split("."))
        or any(not c.isprintable() for c in value)
    ):
        raise Refused(InvalidInput, f"{value!r} is not a hierarchy path")
    return value


def check_text(value: object, what: str) -> str:
    if not isinstance(value, str) or "\x00" in value or len(value) > 65_536:
        raise Refused(InvalidInput, f"{what} {value!r} is not text a store keeps")
    return value


def check_days(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise Refused(InvalidInput, f"{value!r} days")
    return value


KNOWN_VENDORS = {name.casefold(): name for name in ("Cisco", "Microsoft", WEBEX, "AudioCodes")}


def vendor_stored(vendor: str) -> str:
    """Cisco is the blank vendor (decision 33); a known vendor in any case is that vendor."""
    named = KNOWN_VENDORS.get(vendor.strip().casefold(), vendor)
    return "" if named == "Cisco" else named


def shown_vendor(uses: Sequence[Use]) -> str:
    vendors = list(dict.fromkeys(use.vendor or "Cisco" for use in uses))
    return "" if vendors in ([], ["Cisco"]) else ", ".join(vendors)


def usage_of(uses: Sequence[Use]) -> tuple[Usage, ...]:
    return tuple(dict.fromkeys(use.usage for use in uses))


def type_shown(number_type: str, vendor: str) -> str:
    """The internal number type shown beside a vendor: the one set, while it belongs (SPEC 22)."""
    if number_type and any(
        number_type in NUMBER_TYPES.get(name, {}) for name in vendor.split(", ")
    ):
        return number_type
    return ""


def check_type(value: str, *vendors: str) -> str:
    """The stored spelling of a number type valid for one of the vendors named, else refuse."""
    if not value:
        return ""
    for text in vendors:
        for name in text.split(", "):
            spelling = NUMBER_TYPES.get(name, {}).get(value)
            if spelling:
                return spelling
    raise Refused(InvalidInput, f"number type {value!r} for {vendors}")


def cooling_tag(release: datetime, now: datetime) -> str:
    """Decision 9: `Cooling: released in N days, on YYYY-MM-DD` (N rounded up; `1 day`)."""
    days = max(0, math.ceil((release - now) / timedelta(days=1)))
    return f"Cooling: released in {days} {'day' if days == 1 else 'days'}, on {release.date()}"


def blank(number: str, node: str) -> Record:
    """A record as loaded with nothing set: Available, version 1."""
    record: Record = {field.name: field.default for field in attrs.fields(NumberRecord)}
    record.update(number=number, hierarchy=node)
    return record


_FROZEN: dict[int, tuple[Record, NumberRecord]] = {}


def as_record(record: Record) -> NumberRecord:
    """The record as a `NumberRecord` (a record dict is never changed once made: cached)."""
    held = _FROZEN.get(id(record))
    if held is not None and held[0] is record:
        return held[1]
    if len(_FROZEN) > 50_000:
        _FROZEN.clear()
    frozen = NumberRecord(**record)
    _FROZEN[id(record)] = (record, frozen)  # the dict is held, so its id stays its own
    return frozen


def of_record(record: NumberRecord) -> Record:
    return {name: getattr(record, name) for name in FIELDS}


def names_of(record: Record) -> set[str]:
    """Who holds a record: its users' ids and owners, and whom it is reserved for."""
    names = {use.consumer_id for use in record["uses"]}
    names.update(use.owner for use in record["uses"] if use.owner)
    if record["reserved_for"] is not None:
        names.add(record["reserved_for"])
    return names


def number_order(record: Record) -> str:
    return str(record["number"])


def key_order(record: Record) -> Key:
    return (record["number"], record["hierarchy"])


# -- the outcome of an audit -------------------------------------------------------------------


@attrs.frozen
class AuditOutcome:
    """What an audit must report: its steps, conflicts and unknown observations."""

    changes: tuple[tuple[str, str, str], ...]  # (number, node, reason), sorted
    conflicts: tuple[tuple[str, str], ...]  # (number, node), sorted
    unknown: tuple[Observation, ...]


@attrs.define
class _Fix:
    original: Record
    observations: list[Observation]
    fixed: Record
    steps: list[tuple[str, str, str]]
    conflicts: list[tuple[str, str]]


# -- a transaction of the model ----------------------------------------------------------------


class Tx:
    """One call's work on a copy of the model's records: its changes and what it read."""

    def __init__(self, model: InventoryModel, operation: str) -> None:
        self.model = model
        self.operation = operation
        self.now = model.now
        self.records: dict[Key, Record] = dict(model.records)
        self.retired: dict[Key, int] = dict(model.retired)
        self.nodes: dict[str, dict[str, Any]] = {k: dict(v) for k, v in model.nodes.items()}
        self.changes: list[tuple[str, Record | None, Record | None]] = []

    # -- the store -----------------------------------------------------------------------------

    def store(self, old: Record | None, new: Record | None, operation: str | None = None) -> None:
        if old is not None:
            del self.records[key_order(old)]
            if new is None or key_order(new) != key_order(old):
                key = key_order(old)
                self.retired[key] = max(self.retired.get(key, 0), old["version"])
        if new is not None:
            self.records[key_order(new)] = new
        self.changes.append((operation or self.operation, old, new))

    def holding(self, number: str) -> list[Record]:
        return sorted(
            (r for (n, _), r in self.records.items() if n == number), key=lambda r: r["hierarchy"]
        )

    def at_node(self, node: str) -> list[Record]:
        return sorted((r for (_, h), r in self.records.items() if h == node), key=number_order)

    def locate(self, number: str, at: str) -> Record:
        for node in lineage(at):
            found = self.records.get((number, node))
            if found is not None:
                return found
        raise Refused(NotFound, f"{number} is not visible from {at}")

    def current(self, record: Record) -> Record:
        """The record as it stands now, its due release stored first (a change of its own)."""
        if not self.model.is_due(record):
            return record
        lapsed = self.model.lapsed(record)
        self.store(record, lapsed, "release_due")
        return lapsed


# -- the model ---------------------------------------------------------------------------------


class InventoryModel:
    """numinv's rules over plain dicts: what every operation must answer, store and refuse."""

    def __init__(
        self,
        settings: Settings,
        *,
        kinds: Iterable[ConsumerKind] = (),
        describe: Callable[[Consumer, NumberRecord], str] | None = None,
        now: datetime,
        tolerate: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.kinds = {**BUILTIN_KINDS, **{kind.name: Kind.of(kind) for kind in kinds}}
        self.describe = describe
        self.now = now
        self.actor: str | None = None
        self.tolerate = tolerate
        self.records: dict[Key, Record] = {}
        self.retired: dict[Key, int] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.journal: list[Change] = []
        self.pruned_at: int = 0  # the last seq when the journal was last pruned

    # -- transactions --------------------------------------------------------------------------

    def begin(self, operation: str) -> Tx:
        return Tx(self, operation)

    def commit(self, tx: Tx) -> None:
        self.records, self.retired, self.nodes = tx.records, tx.retired, tx.nodes

    def expected_changes(
        self, tx: Tx
    ) -> list[tuple[str, NumberRecord | None, NumberRecord | None]]:
        return [
            (
                operation,
                None if old is None else as_record(old),
                None if new is None else as_record(new),
            )
            for operation, old, new in tx.changes
        ]

    # -- settings ------------------------------------------------------------------------------

    def settings_at(
        self, node: str, nodes: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Settings:
        """What is in force at a node: nearest node that sets a value, then `Settings`."""
        table = self.nodes if nodes is None else nodes
        values: dict[str, Any] = {}
        for name in lineage(node):
            for field, value in table.get(name, {}).items():
                if value is not None and field not in values:
                    values[field] = value
        return attrs.evolve(self.settings, **values) if values else self.settings

    def prevents(self, node: str, tx: Tx | None = None) -> bool:
        return self.settings_at(node, None if tx is None else tx.nodes).prevent_duplicates

    def clash(self, node: str, other: str, tx: Tx | None = None) -> bool:
        """Two records of one number (or E.164 number) at these nodes may not both exist."""
        return related(node, other) or self.prevents(node, tx) or self.prevents(other, tx)

    def duplicated(self, record: Record, tx: Tx) -> bool:
        """SPEC 22: prevent-duplicates in force at its node and the number exists elsewhere."""
        return self.prevents(record["hierarchy"], tx) and any(
            other["hierarchy"] != record["hierarchy"] for other in tx.holding(record["number"])
        )

    # -- record changes ------------------------------------------------------------------------

    def changed(self, record: Record, updates: Mapping[str, Any]) -> Record:
        """The record with `updates`, version one up; the very same dict when nothing changes."""
        differ = {k: v for k, v in updates.items() if record[k] != v}
        if not differ:
            return record
        new = {**record, **differ}
        if self.describe is not None and "status" in differ:
            before, after = record["status"], differ["status"]
            freed = (after is AVAILABLE and before is not AVAILABLE) or (
                after is RESERVED and before in (*IN_USE, COOLING)
            )
            if freed:  # the description hook owns the description (decision 18)
                new["description"] = ""
        new["version"] = record["version"] + 1
        return new

    def refuse(self, record: Record, operation: str, why: str) -> Refused:
        return Refused(
            InvalidTransition,
            f"cannot {operation} {record['number']} at {record['hierarchy']} "
            f"({record['status']}): {why}",
        )

    def is_due(self, record: Record) -> bool:
        return (
            record["release_date"] is not None
            and record["release_date"] <= self.now
            and record["status"] in HELD_BACK
        )

    def free_status(self, record: Record) -> Status:
        """Where a number goes when nothing holds it: Available, or back to its person."""
        return AVAILABLE if record["reserved_for"] is None else RESERVED

    def end_cooling(self, record: Record) -> dict[str, Any]:
        updates: dict[str, Any] = {
            "release_date": None,
            "cooling_use": None,
            "tag_before_cooling": None,
        }
        if record["tag_before_cooling"] is not None:
            updates["tag"] = record["tag_before_cooling"]
        return updates

    def lapsed(self, record: Record) -> Record:
        """A cooling ends, or a timed reservation lapses with its flag (decision 57)."""
        if record["status"] is COOLING:
            return self.changed(
                record, {"status": self.free_status(record), **self.end_cooling(record)}
            )
        return self.changed(
            record,
            {
                "status": AVAILABLE,
                "reservation_notes": "",
                "release_date": None,
                "reserved_for": None,
            },
        )

    def shown(self, record: Record) -> Record:
        """What a read shows: released when its release date has passed (SPEC 22)."""
        return self.lapsed(record) if self.is_due(record) else record

    def in_use(self, record: Record, uses: tuple[Use, ...]) -> dict[str, Any]:
        vendor = shown_vendor(uses)
        return {
            "uses": uses,
            "status": uses[-1].status,
            "usage": usage_of(uses),
            "vendor": vendor,
            "internal_number_type": type_shown(record["admin_number_type"], vendor),
        }

    def not_in_use(self, record: Record, status: Status) -> dict[str, Any]:
        return {
            "uses": (),
            "status": status,
            "usage": (),
            "vendor": record["admin_vendor"],
            "internal_number_type": type_shown(record["admin_number_type"], record["admin_vendor"]),
        }

    def use_of(self, consumer: Consumer) -> Use:
        kind = self.kinds.get(consumer.kind)
        if kind is None:
            raise Refused(InvalidInput, f"unknown consumer kind {consumer.kind!r}")
        vendor = vendor_stored(consumer.vendor if kind.vendor_from_consumer else kind.vendor)
        return Use(
            kind.name,
            consumer.id,
            kind.usage,
            vendor,
            kind.status,
            consumer.hierarchy,
            consumer.owner,
        )

    def first_use(self, record: Record, use: Use, description: str | None) -> dict[str, Any]:
        updates = self.in_use(record, (use,))
        updates["release_date"] = None
        if description is not None:
            updates["description"] = description
        return updates

    def without(
        self, record: Record, use: Use, node: str, nodes: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Remove one use (SPEC 6): the last one frees the number or starts its cooling.

        The cooling in force at `node`, the consumer's, applies (SPEC 19).
        """
        remaining = tuple(
            u for u in record["uses"] if (u.kind, u.consumer_id) != (use.kind, use.consumer_id)
        )
        if remaining:
            return self.in_use(record, remaining)
        kind = self.kinds.get(use.kind)
        settings = self.settings_at(node, nodes)
        cools = kind is not None and (
            kind.cools == "always" or (kind.cools == "auto" and settings.auto_cooling)
        )
        if kind is None or not cools:
            return self.not_in_use(record, self.free_status(record))
        release = self.now + timedelta(days=getattr(settings, kind.days))
        updates = self.not_in_use(record, COOLING)
        updates.update(
            release_date=release,
            cooling_use=use if kind.returns else None,
            tag_before_cooling=None,
        )
        if kind.tag:
            updates["tag"] = cooling_tag(release, self.now)
            updates["tag_before_cooling"] = record["tag"]
        return updates

    def description(self, consumer: Consumer, record: Record) -> str | None:
        if self.describe is None:
            return None
        return self.describe(consumer, as_record(record))

    # -- single-record transitions -------------------------------------------------------------

    def for_whom(self, record: Record, use: Use, operation: str) -> None:
        held = record["reserved_for"]
        if held is not None and held not in (use.consumer_id, use.owner):
            raise self.refuse(record, operation, f"reserved for {held!r}")

    def assigned(
        self, record: Record, use: Use, *, shared: bool, claim: bool, description: str | None
    ) -> Record:
        status = record["status"]
        if status is AVAILABLE:
            self.for_whom(record, use, "assign")
            return self.changed(record, self.first_use(record, use, description))
        if status in IN_USE:
            if any((u.kind, u.consumer_id) == (use.kind, use.consumer_id) for u in record["uses"]):
                return record  # the same consumer again: no change (SPEC 6)
            if not shared:
                raise self.refuse(record, "assign", "in use")
            self.for_whom(record, use, "assign")
            updates = self.in_use(record, (*record["uses"], use))
            if description is not None:
                updates["description"] = description
            return self.changed(record, updates)
        if status is RESERVED:
            if not claim:
                raise self.refuse(record, "assign", "reserved")
            self.for_whom(record, use, "assign")
            return self.changed(record, self.first_use(record, use, description))
        if status is COOLING:
            back = record["cooling_use"]
            kind = self.kinds.get(use.kind)
            if (
                back is None
                or (back.kind, back.consumer_id) != (use.kind, use.consumer_id)
                or kind is None
                or not kind.returns
            ):
                raise self.refuse(record, "assign", "cooling")
            return self.changed(
                record, {**self.first_use(record, use, description), **self.end_cooling(record)}
            )
        raise self.refuse(record, "assign", "inactive")

    def reserved(
        self,
        record: Record,
        *,
        tag: str,
        notes: str,
        days: int | None,
        reserved_for: str | None,
    ) -> Record:
        held = record["reserved_for"]
        if held is not None and reserved_for is not None and held != reserved_for:
            raise Refused(Conflict, f"reserved for {held!r}, not {reserved_for!r}")
        if record["status"] not in (AVAILABLE, RESERVED):
            raise self.refuse(record, "reserve", "not Available")
        updates: dict[str, Any] = {"status": RESERVED}
        if tag:
            updates["tag"] = tag
        if notes:
            updates["reservation_notes"] = notes
        if days is not None:
            updates["release_date"] = self.now + timedelta(days=days)
        if reserved_for is not None:
            updates["reserved_for"] = reserved_for
        return self.changed(record, updates)

    def unreserved(self, record: Record) -> Record:
        if record["status"] is RESERVED:
            return self.changed(
                record,
                {
                    "status": AVAILABLE,
                    "reservation_notes": "",
                    "release_date": None,
                    "reserved_for": None,
                },
            )
        if record["status"] is AVAILABLE or record["reserved_for"] is None:
            raise self.refuse(record, "unreserve", "not reserved")
        return self.changed(record, {"reserved_for": None})

    def manual_cooling_days(self, record: Record, tx: Tx) -> int:
        """SPEC 6 and 19: the default duration is the cooling days in force at the number's node."""
        return self.settings_at(record["hierarchy"], tx.nodes).cooling_days

    def cooled(self, record: Record, days: int | None, until: datetime | None, tx: Tx) -> Record:
        if record["status"] not in (AVAILABLE, COOLING):
            raise self.refuse(record, "cool", "not Available or Cooling")
        if until is not None:
            release = until.astimezone(UTC)
        else:
            release = self.now + timedelta(days=days or self.manual_cooling_days(record, tx))
        if release <= self.now:
            raise self.refuse(record, "cool", "release date not in the future")
        updates: dict[str, Any] = {"status": COOLING, "release_date": release}
        if record["tag_before_cooling"] is not None:
            updates["tag"] = cooling_tag(release, self.now)
        return self.changed(record, updates)

    def released(self, record: Record) -> Record:
        if record["status"] is not COOLING:
            raise self.refuse(record, "release", "not Cooling")
        return self.changed(
            record, {"status": self.free_status(record), **self.end_cooling(record)}
        )

    def updated(self, record: Record, fields: Mapping[str, str]) -> Record:
        if record["service_type"] is not None and ({"extra2", "extra4"} & set(fields)):
            raise self.refuse(record, "update", "extra2 and extra4 are managed")
        vendor = fields.get("vendor", record["admin_vendor"])
        if record["status"] is INACTIVE and "vendor" in fields and vendor != WEBEX:
            raise self.refuse(record, "update", "an Inactive number is Webex Calling's")
        shown = record["vendor"] if record["uses"] else vendor
        number_type = record["admin_number_type"]  # may have outlived its vendor: hidden
        if {"vendor", "internal_number_type"} & set(fields):
            number_type = check_type(fields.get("internal_number_type", number_type), vendor, shown)
        updates: dict[str, Any] = {
            name: value for name, value in fields.items() if name in FREE_TEXT
        }
        updates.update(
            admin_vendor=vendor,
            admin_number_type=number_type,
            vendor=shown,
            internal_number_type=type_shown(number_type, shown),
        )
        return self.changed(record, updates)

    def extra4(self, record: Record, e164: tuple[str, ...]) -> str:
        service = record["service_type"]
        row = SERVICES.get(service) if service is not None else None
        if row is None or not row[2] or e164:
            return ""
        number: str = record["number"]
        return self.settings.teluri_prefix + number.removeprefix("+")

    def with_e164(self, record: Record, e164: tuple[str, ...], primary: str | None) -> Record:
        updates: dict[str, Any] = {"e164": e164, "primary_e164": primary}
        if record["service_type"] is not None:
            updates["extra4"] = self.extra4(record, e164)
        return self.changed(record, updates)

    def activated(self, record: Record) -> Record:
        if record["status"] is not INACTIVE:
            raise self.refuse(record, "activate", "not Inactive")
        return self.changed(record, {"status": self.free_status(record)})

    def deactivation(self, record: Record, number_type: str) -> dict[str, Any]:
        """SPEC 20: Inactive, vendor Webex Calling, keeping only a Webex number type."""
        webex = type_shown(number_type, WEBEX)
        return {
            "status": INACTIVE,
            "usage": (),
            "vendor": WEBEX,
            "admin_vendor": WEBEX,
            "admin_number_type": webex,
            "internal_number_type": webex,
        }

    def deactivated(self, record: Record) -> Record:
        if record["status"] is not AVAILABLE:
            raise self.refuse(record, "deactivate", "not Available")
        if record["admin_vendor"] not in ("", WEBEX):
            raise self.refuse(record, "deactivate", "another vendor's number")
        return self.changed(record, self.deactivation(record, record["admin_number_type"]))

    def serviced(
        self, record: Record, subscriber: str, service_type: str, at: str, tx: Tx
    ) -> Record:
        if record["status"] is INACTIVE:
            raise self.refuse(record, "apply_service", "inactive")
        kinds, extra2, _ = SERVICES[service_type]
        service_kinds = {kind for row in SERVICES.values() for kind in row[0]}
        mine = [
            u for u in record["uses"] if u.consumer_id == subscriber and u.kind in service_kinds
        ]
        others = [u for u in record["uses"] if u not in mine]
        if not kinds:
            if not mine and (record["service_type"] is None or others):
                return record  # nothing of the subscriber's here; others keep theirs
            nodes: Mapping[str, Mapping[str, Any]] = tx.nodes
            current = record
            updates: dict[str, Any] = {"service_type": None, "extra2": "", "extra4": ""}
            for use in mine:
                updates.update(
                    self.without({**current, **updates}, use, use.hierarchy or at, nodes)
                )
                current = {**current, **updates}
            return self.changed(record, updates)
        if record["status"] in HELD_BACK and not (
            record["status"] is RESERVED and record["reserved_for"] == subscriber
        ):
            raise self.refuse(record, "apply_service", "held back")
        if others:
            raise self.refuse(record, "apply_service", "used by somebody else")
        if record["reserved_for"] not in (None, subscriber):
            raise self.refuse(record, "apply_service", "reserved for somebody else")
        kept = {use.kind: use for use in mine}
        uses = tuple(
            kept.get(kind) or self.use_of(Consumer(kind, subscriber, at)) for kind in kinds
        )
        updates = self.in_use(record, uses)
        updates.update(
            release_date=None,
            service_type=service_type,
            extra2=extra2,
            extra4=self.extra4({**record, "service_type": service_type}, record["e164"]),
        )
        if not record["uses"]:  # handed out now: the host's hook describes it (SPEC 13)
            description = self.description(Consumer(kinds[0], subscriber, at), record)
            if description is not None:
                updates["description"] = description
        return self.changed(record, updates)

    def moved(self, record: Record, to: str) -> Record:
        cooling = [record["cooling_use"]] if record["cooling_use"] is not None else []
        stranded = [u for u in [*record["uses"], *cooling] if not below(u.hierarchy, to)]
        if stranded:
            raise self.refuse(record, "move", "a user could not see it")
        return self.changed(record, {"hierarchy": to})

    # -- reads ---------------------------------------------------------------------------------

    def get(self, number: str, at: str) -> NumberRecord:
        tx = self.begin("get")
        return as_record(self.shown(tx.locate(canonical_number(number), check_path(at))))

    def find(self, number: str, at: str) -> NumberRecord | None:
        try:
            return self.get(number, at)
        except Refused as refused:
            if refused.error is NotFound:
                return None
            raise

    def search(
        self,
        *,
        at: str | None = None,
        below_: bool = True,
        status: Status | None = None,
        usage: Usage | None = None,
        vendor: str | None = None,
        prefix: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        after: str | tuple[str, str] | None = None,
    ) -> list[NumberRecord]:
        found = []
        for record in sorted(self.records.values(), key=key_order):
            node = record["hierarchy"]
            if at is not None and not (below(node, at) if below_ else node == at):
                continue
            shown = self.shown(record)
            if status is not None and shown["status"] is not status:
                continue
            if usage is not None and usage not in shown["usage"]:
                continue
            if vendor is not None:
                names = shown["vendor"].split(", ") if shown["vendor"] else ["Cisco"]
                if (vendor or "Cisco") not in names:
                    continue
            if prefix is not None and not shown["number"].startswith(prefix):
                continue
            if tag is not None and shown["tag"] != tag:
                continue
            if after is not None:
                number, cursor_node = after if isinstance(after, tuple) else (after, None)
                if shown["number"] < number or (
                    shown["number"] == number
                    and (cursor_node is None or shown["hierarchy"] <= cursor_node)
                ):
                    continue
            found.append(as_record(shown))
        return found if limit is None else found[:limit]

    def available(
        self, at: str, *, prefix: str | None = None, limit: int | None = None
    ) -> list[NumberRecord]:
        """SPEC 3: Available numbers seen from `at`, its own node's first (duplicates skipped)."""
        nodes_of: dict[str, set[str]] = {}
        for number, node in self.records:
            nodes_of.setdefault(number, set()).add(node)
        found = []
        for node in lineage(at):
            prevents = self.settings_at(node).prevent_duplicates
            for record in sorted(
                (r for (_, h), r in self.records.items() if h == node), key=number_order
            ):
                shown = self.shown(record)
                if shown["status"] is not AVAILABLE:
                    continue
                if prefix is not None and not shown["number"].startswith(prefix):
                    continue
                if prevents and len(nodes_of[shown["number"]]) > 1:
                    continue  # SPEC 22: it also exists elsewhere
                found.append(as_record(shown))
        return found if limit is None else found[:limit]

    def numbers_of(self, who: str, *, at: str | None = None) -> list[NumberRecord]:
        shown = (self.shown(record) for record in sorted(self.records.values(), key=key_order))
        return [
            as_record(record)
            for record in shown
            if who in names_of(record) and (at is None or related(record["hierarchy"], at))
        ]

    def utilization(
        self, at: str | None = None, *, below_: float | None = None
    ) -> dict[str, tuple[dict[Status, int], bool, float]]:
        """Per node: counts (the five statuses, Inactive where any), low, threshold."""
        counts: dict[str, dict[Status, int]] = {}
        for record in self.records.values():
            node = record["hierarchy"]
            if at is not None and not below(node, at):
                continue
            tally = counts.setdefault(node, {s: 0 for s in Status if s is not INACTIVE})
            status = self.shown(record)["status"]
            tally[status] = tally.get(status, 0) + 1
        found = {}
        for node in sorted(counts):
            tally = counts[node]
            total = sum(tally.values())
            threshold = (
                self.settings_at(node).exhaustion_threshold if below_ is None else float(below_)
            )
            share = tally[AVAILABLE] / total if total else 0.0
            found[node] = (tally, share < threshold, threshold)
        return found

    def history(
        self, number: str, *, at: str | None = None, limit: int | None = None
    ) -> list[Change]:
        changes = [change for change in self.journal if change.number == number]
        if at is not None:
            changes = self.seen_from(changes, at)
        return changes if limit is None else changes[:limit]

    @staticmethod
    def seen_from(changes: list[Change], at: str) -> list[Change]:
        """The changes of the record visible from `at`, followed back through its moves."""
        line = set(lineage(at))

        def seen(change: Change) -> str | None:
            """The node of `line` where the change shows: where it is, or what it left."""
            if change.hierarchy in line:
                return change.hierarchy
            if change.before is not None and change.before.hierarchy in line:
                return change.before.hierarchy
            return None

        newest = next((c for c in reversed(changes) if seen(c) is not None), None)
        if newest is None:
            return []
        kept = []
        nodes = {seen(newest)}
        for change in reversed(changes[: changes.index(newest) + 1]):
            if change.hierarchy in nodes or (
                change.before is not None and change.before.hierarchy in nodes
            ):
                kept.append(change)
                if change.before is not None:
                    nodes.add(change.before.hierarchy)
        return kept[::-1]

    def changes(self, *, after: int = 0, limit: int = 1000) -> list[Change]:
        return [change for change in self.journal if change.seq > after][:limit]

    # -- writes: single numbers ----------------------------------------------------------------

    def one(self, tx: Tx, number: str, at: str) -> Record:
        return tx.current(tx.locate(canonical_number(number), check_path(at)))

    def put(self, tx: Tx, old: Record, new: Record) -> NumberRecord:
        if new is not old:
            tx.store(old, new)
        return as_record(new)

    def assign(
        self, tx: Tx, number: str, consumer: Consumer, *, shared: bool = False, claim: bool = False
    ) -> NumberRecord:
        use = self.use_of(consumer)
        record = self.one(tx, number, consumer.hierarchy)
        if self.duplicated(record, tx):
            raise Refused(DuplicateNumber, f"{number} exists elsewhere (prevent-duplicates)")
        new = self.assigned(
            record,
            use,
            shared=shared,
            claim=claim,
            description=self.description(consumer, record),
        )
        return self.put(tx, record, new)

    def first_free(self, tx: Tx, at: str, prefix: str | None) -> Record:
        """The first Available number seen from `at`: its own node first, then each ancestor's."""
        for node in lineage(at):
            for record in tx.at_node(node):
                if prefix is not None and not record["number"].startswith(prefix):
                    continue
                if record["status"] is not AVAILABLE and not self.is_due(record):
                    continue
                record = tx.current(tx.records[key_order(record)])
                if record["status"] is AVAILABLE and not self.duplicated(record, tx):
                    return record
        raise Refused(NotFound, f"no Available number is visible from {at}")

    def assign_next(self, tx: Tx, consumer: Consumer, *, prefix: str | None = None) -> NumberRecord:
        use = self.use_of(consumer)
        names = (consumer.id, consumer.owner) if consumer.owner else (consumer.id,)
        line = lineage(consumer.hierarchy)
        mine = sorted(
            (
                record
                for record in tx.records.values()
                if record["hierarchy"] in line
                and record["reserved_for"] in names
                and (prefix is None or record["number"].startswith(prefix))
            ),
            key=lambda r: (line.index(r["hierarchy"]), r["number"]),
        )
        for record in mine:
            if self.duplicated(record, tx):
                continue  # SPEC 22: never handed out
            record = tx.current(record)
            if record["status"] is RESERVED:
                new = self.assigned(
                    record,
                    use,
                    shared=False,
                    claim=True,
                    description=self.description(consumer, record),
                )
                return self.put(tx, record, new)
        record = self.first_free(tx, consumer.hierarchy, prefix)
        new = self.assigned(
            record, use, shared=False, claim=False, description=self.description(consumer, record)
        )
        return self.put(tx, record, new)

    def reserve_next(
        self,
        tx: Tx,
        at: str,
        *,
        prefix: str | None = None,
        tag: str = "",
        notes: str = "",
        days: int | None = None,
        reserved_for: str | None = None,
    ) -> NumberRecord:
        days = check_days(days)
        record = self.first_free(tx, check_path(at), prefix)
        new = self.reserved(record, tag=tag, notes=notes, days=days, reserved_for=reserved_for)
        return self.put(tx, record, new)

    def unassign(self, tx: Tx, number: str, consumer: Consumer) -> NumberRecord:
        self.use_of(consumer)
        record = self.one(tx, number, consumer.hierarchy)
        if record["status"] not in IN_USE:
            raise self.refuse(record, "unassign", "not in use")
        use = next(
            (u for u in record["uses"] if (u.kind, u.consumer_id) == (consumer.kind, consumer.id)),
            None,
        )
        if use is None:
            raise self.refuse(record, "unassign", f"{consumer.id} does not use it")
        new = self.changed(record, self.without(record, use, consumer.hierarchy, tx.nodes))
        return self.put(tx, record, new)

    def reserve(
        self,
        tx: Tx,
        number: str,
        at: str,
        *,
        tag: str = "",
        notes: str = "",
        days: int | None = None,
        reserved_for: str | None = None,
    ) -> NumberRecord:
        days = check_days(days)
        if reserved_for is not None and not reserved_for.strip():
            raise Refused(InvalidInput, "reserved_for must name somebody")
        record = self.one(tx, number, at)
        new = self.reserved(record, tag=tag, notes=notes, days=days, reserved_for=reserved_for)
        return self.put(tx, record, new)

    def unreserve(self, tx: Tx, number: str, at: str) -> NumberRecord:
        record = self.one(tx, number, at)
        return self.put(tx, record, self.unreserved(record))

    def cool(
        self,
        tx: Tx,
        number: str,
        at: str,
        *,
        days: int | None = None,
        until: datetime | None = None,
    ) -> NumberRecord:
        if days is not None and until is not None:
            raise Refused(InvalidInput, "days or until, not both")
        days = check_days(days)
        record = self.one(tx, number, at)
        return self.put(tx, record, self.cooled(record, days, until, tx))

    def release(self, tx: Tx, number: str, at: str) -> NumberRecord:
        record = self.one(tx, number, at)
        return self.put(tx, record, self.released(record))

    def activate(self, tx: Tx, number: str, at: str) -> NumberRecord:
        record = self.one(tx, number, at)
        return self.put(tx, record, self.activated(record))

    def deactivate(self, tx: Tx, number: str, at: str) -> NumberRecord:
        record = self.one(tx, number, at)
        return self.put(tx, record, self.deactivated(record))

    def release_due(self, tx: Tx) -> list[NumberRecord]:
        due = sorted(
            (r for r in tx.records.values() if self.is_due(r)),
            key=lambda r: (r["release_date"], r["number"], r["hierarchy"]),
        )
        released = []
        for record in due:
            new = self.lapsed(record)
            tx.store(record, new, "release_due")
            released.append(as_record(new))
        return released

    def checked_fields(self, fields: Mapping[str, object]) -> dict[str, str]:
        unknown = set(fields) - SETTABLE
        if unknown or not fields:
            raise Refused(InvalidInput, f"cannot set {sorted(unknown)}")
        checked = {name: check_text(value, name) for name, value in fields.items()}
        if "vendor" in checked:
            checked["vendor"] = vendor_stored(checked["vendor"])
        return checked

    def update(self, tx: Tx, number: str, at: str, **fields: str) -> NumberRecord:
        checked = self.checked_fields(fields)
        record = self.one(tx, number, at)
        return self.put(tx, record, self.updated(record, checked))

    def associate_e164(
        self, tx: Tx, number: str, at: str, e164: str, *, primary: bool = False
    ) -> NumberRecord:
        e164 = e164[1:] if e164.startswith("\\+") else e164
        if not _E164.fullmatch(e164):
            raise Refused(InvalidInput, f"{e164!r} is not E.164")
        record = self.one(tx, number, at)
        for other in tx.records.values():
            if (
                e164 in other["e164"]
                and key_order(other) != key_order(record)
                and self.clash(record["hierarchy"], other["hierarchy"], tx)
            ):
                raise Refused(Conflict, f"{e164} points to {other['number']} already")
        values = record["e164"] if e164 in record["e164"] else (*record["e164"], e164)
        new = self.with_e164(record, values, e164 if primary else record["primary_e164"])
        return self.put(tx, record, new)

    def dissociate_e164(self, tx: Tx, number: str, at: str, e164: str) -> NumberRecord:
        if not _E164.fullmatch(e164):
            raise Refused(InvalidInput, f"{e164!r} is not E.164")
        record = self.one(tx, number, at)
        if e164 not in record["e164"]:
            raise Refused(NotFound, f"{e164} is not associated with {number}")
        values = tuple(v for v in record["e164"] if v != e164)
        primary = None if record["primary_e164"] == e164 else record["primary_e164"]
        return self.put(tx, record, self.with_e164(record, values, primary))

    def apply_service(
        self, tx: Tx, number: str, at: str, subscriber: str, service_type: str
    ) -> NumberRecord:
        if not subscriber.strip():
            raise Refused(InvalidInput, "subscriber")
        if service_type not in SERVICES:
            raise Refused(InvalidInput, f"service type {service_type!r}")
        record = self.one(tx, number, at)
        if SERVICES[service_type][0] and not record["uses"] and self.duplicated(record, tx):
            raise Refused(DuplicateNumber, f"{number} exists elsewhere (prevent-duplicates)")
        return self.put(tx, record, self.serviced(record, subscriber, str(service_type), at, tx))

    # -- writes: ranges ------------------------------------------------------------------------

    def numbers(self, first: str, count: int) -> list[str]:
        start = canonical_number(first)
        plus = "+" if start.startswith("+") else ""
        digits = start[len(plus) :]
        stop = int(digits) + count - 1
        if count < 1 or len(str(stop)) > len(digits):
            raise Refused(InvalidInput, f"{count} numbers from {first}")
        if count > self.settings.max_range_size:
            raise Refused(InvalidInput, f"{count} numbers is over the maximum range size")
        numbers = [f"{plus}{value:0{len(digits)}d}" for value in range(int(digits), stop + 1)]
        if len(digits) > 1 and digits[0] == "0" and numbers[-1][len(plus)] != "0":
            raise Refused(InvalidInput, f"{first} and {count}: widths differ")
        return numbers

    def at_node(self, tx: Tx, at: str, numbers: list[str]) -> list[Record]:
        """The records of the numbers at exactly `at` (decision 3), each as it stands now."""
        missing = [n for n in numbers if (n, at) not in tx.records]
        if missing:
            raise Refused(NotFound, f"{missing[0]} is not at {at}")
        return [tx.current(tx.records[(n, at)]) for n in numbers]

    def each(
        self, tx: Tx, at: str, first: str, count: int, change: Callable[[Record], Record]
    ) -> int:
        at = check_path(at)
        records = self.at_node(tx, at, self.numbers(first, count))
        pairs = [(record, change(record)) for record in records]
        changed = [(old, new) for old, new in pairs if new is not old]
        for old, new in changed:
            tx.store(old, new)
        return len(changed)

    def add_range(
        self,
        tx: Tx,
        at: str,
        first: str,
        *,
        count: int,
        skip_existing: bool = False,
        vendor: str = "",
        internal_number_type: str = "",
        **fields: str,
    ) -> int:
        at = check_path(at)
        unknown = set(fields) - set(FREE_TEXT) - {"tag", "description"}
        if unknown or "reservation_notes" in fields:
            raise Refused(InvalidInput, f"add_range has no field {sorted(unknown)}")
        vendor = vendor_stored(check_text(vendor, "vendor"))
        number_type = check_type(internal_number_type, vendor)
        numbers = self.numbers(first, count)
        here = {n for n in numbers if skip_existing and (n, at) in tx.records}
        clash = [
            other
            for n in numbers
            for other in tx.holding(n)
            if n not in here and self.clash(at, other["hierarchy"], tx)
        ]
        if clash:
            raise Refused(DuplicateNumber, f"{len(clash)} numbers exist in the line of descent")
        added = 0
        for number in numbers:
            if number in here:
                continue
            record = blank(number, at)
            record.update(
                vendor=vendor,
                admin_vendor=vendor,
                internal_number_type=number_type,
                admin_number_type=number_type,
                **{name: check_text(value, name) for name, value in fields.items()},
            )
            record["version"] = tx.retired.get((number, at), 0) + 1
            tx.store(None, record)
            added += 1
        return added

    def update_range(self, tx: Tx, at: str, first: str, *, count: int, **fields: str) -> int:
        checked = self.checked_fields(fields)
        return self.each(tx, at, first, count, lambda r: self.updated(r, checked))

    def reserve_range(
        self,
        tx: Tx,
        at: str,
        first: str,
        *,
        count: int,
        tag: str = "",
        notes: str = "",
        days: int | None = None,
        reserved_for: str | None = None,
    ) -> int:
        days = check_days(days)
        return self.each(
            tx,
            at,
            first,
            count,
            lambda r: self.reserved(r, tag=tag, notes=notes, days=days, reserved_for=reserved_for),
        )

    def unreserve_range(self, tx: Tx, at: str, first: str, *, count: int) -> int:
        return self.each(tx, at, first, count, self.unreserved)

    def cool_range(
        self,
        tx: Tx,
        at: str,
        first: str,
        *,
        count: int,
        days: int | None = None,
        until: datetime | None = None,
    ) -> int:
        if days is not None and until is not None:
            raise Refused(InvalidInput, "days or until, not both")
        days = check_days(days)
        return self.each(tx, at, first, count, lambda r: self.cooled(r, days, until, tx))

    def release_range(self, tx: Tx, at: str, first: str, *, count: int) -> int:
        return self.each(tx, at, first, count, self.released)

    def delete_range(
        self, tx: Tx, at: str, first: str, *, count: int, skip_unavailable: bool = False
    ) -> tuple[int, tuple[str, ...]]:
        at = check_path(at)
        records = self.at_node(tx, at, self.numbers(first, count))
        busy = [r for r in records if r["status"] is not AVAILABLE]
        if busy and not skip_unavailable:
            raise Refused(InvalidTransition, f"{len(busy)} numbers are not Available")
        gone = [r for r in records if r["status"] is AVAILABLE]
        for record in gone:
            tx.store(record, None)
        return len(gone), tuple(r["number"] for r in busy)

    def move_range(self, tx: Tx, at: str, first: str, *, count: int, to: str) -> int:
        at, to = check_path(at), check_path(to)
        if at == to:
            raise Refused(InvalidInput, "moving to the same node")
        numbers = self.numbers(first, count)
        records = self.at_node(tx, at, numbers)
        moved = [self.moved(record, to) for record in records]
        clash = [
            other
            for n in numbers
            for other in tx.holding(n)
            if other["hierarchy"] != at and self.clash(to, other["hierarchy"], tx)
        ]
        if clash:
            raise Refused(DuplicateNumber, f"{len(clash)} numbers exist where they would go")
        moving = {key_order(r) for r in records}
        for record in moved:
            for e164 in record["e164"]:
                for other in tx.records.values():
                    if (
                        e164 in other["e164"]
                        and key_order(other) not in moving
                        and self.clash(to, other["hierarchy"], tx)
                    ):
                        raise Refused(Conflict, f"{e164} would point to two numbers")
        for old, new in zip(records, moved, strict=True):
            version = max(new["version"], tx.retired.get(key_order(new), 0) + 1)
            tx.store(old, {**new, "version": version})
        return len(moved)

    def import_records(self, tx: Tx, records: Iterable[NumberRecord]) -> int:
        batch = [of_record(record) for record in records]
        for record in batch:
            cooling = [record["cooling_use"]] if record["cooling_use"] else []
            for use in [*record["uses"], *cooling]:
                if use.kind not in self.kinds:
                    raise Refused(InvalidInput, f"unknown consumer kind {use.kind!r}")
        placed: dict[str, list[str]] = {}
        clash = []
        for record in batch:
            number, node = record["number"], record["hierarchy"]
            holders = placed.setdefault(number, [r["hierarchy"] for r in tx.holding(number)])
            if any(self.clash(node, other, tx) for other in holders):
                clash.append(key_order(record))
            holders.append(node)
        if clash:
            raise Refused(DuplicateNumber, f"{len(clash)} imported numbers clash")
        pointed: dict[str, list[str]] = {}
        for record in batch:
            for e164 in record["e164"]:
                holders = pointed.setdefault(
                    e164, [r["hierarchy"] for r in tx.records.values() if e164 in r["e164"]]
                )
                if any(self.clash(record["hierarchy"], other, tx) for other in holders):
                    raise Refused(Conflict, f"{e164} would point to two numbers")
                holders.append(record["hierarchy"])
        for record in batch:
            version = max(record["version"], tx.retired.get(key_order(record), 0) + 1)
            tx.store(None, {**record, "version": version})
        return len(batch)

    def configure(self, tx: Tx, at: str, **values: Any) -> None:
        at = check_path(at)
        settings = {name: value for name, value in values.items() if value is not None}
        if settings:
            tx.nodes[at] = settings
        else:
            tx.nodes.pop(at, None)

    # -- audit ---------------------------------------------------------------------------------

    def audit(
        self,
        tx: Tx,
        observed: Sequence[Observation],
        *,
        at: str | None = None,
        fix: bool = True,
        add_missing: bool = False,
    ) -> AuditOutcome:
        """SPEC 10 and 20, decisions 19-21, 40, 63, 64: reconcile; report each step."""
        scope = None if at is None else check_path(at)
        kept: dict[str, list[Observation]] = {}
        anywhere: dict[str, list[Observation]] = {}
        for observation in observed:
            number = canonical_number(observation.number)
            if observation.consumer is not None:
                self.use_of(observation.consumer)
                home: str | None = observation.consumer.hierarchy
            else:
                check_type(observation.internal_number_type, vendor_stored(observation.vendor))
                home = observation.hierarchy
            if home is not None and scope is not None and not below(home, scope):
                continue
            observation = attrs.evolve(observation, number=number)
            (anywhere if home is None else kept).setdefault(number, []).append(observation)
        fixes: list[_Fix] = []
        walked: set[str] = set()
        for record in sorted(self.records.values(), key=lambda r: (r["hierarchy"], r["number"])):
            if scope is not None and not below(record["hierarchy"], scope):
                continue
            number = record["number"]
            walked.add(number)
            mine = [
                o for o in kept.get(number, []) if below(self.home(o) or "", record["hierarchy"])
            ]
            kept[number] = [o for o in kept.get(number, []) if o not in mine]
            planned = self.fix(record, [*mine, *anywhere.get(number, [])])
            if planned.fixed != record or planned.conflicts:
                fixes.append(planned)
        unknown: list[Observation] = []
        for number, rest in kept.items():
            for observation in rest:
                holders = [r["hierarchy"] for r in self.records.values() if r["number"] == number]
                home = self.home(observation) or ""
                if scope is None or not any(node in holders for node in lineage(home)):
                    unknown.append(observation)
        for number, held in anywhere.items():
            if number in walked:
                continue
            holders = [r["hierarchy"] for r in self.records.values() if r["number"] == number]
            if scope is not None and any(node in holders for node in lineage(scope)):
                continue
            unknown += held
        added: dict[Key, _Fix] = {}
        conflicts: list[tuple[str, str]] = []
        if add_missing:
            placeless = []
            for observation in unknown:
                home = self.home(observation)
                if home is None:
                    target = scope
                elif observation.consumer is None:  # decision 63: where it is held
                    target = home
                else:
                    target = scope if scope is not None and below(home, scope) else home
                if target is None:
                    placeless.append(observation)
                    continue
                key = (observation.number, target)
                if key in added:
                    added[key].observations.append(observation)
                else:
                    added[key] = _Fix(blank(*key), [observation], {}, [], [])
            for key, plan in list(added.items()):
                planned = self.fix(plan.original, plan.observations)
                planned.steps.insert(0, (key[0], key[1], "number added"))
                added[key] = planned
            unknown = placeless
        if fix:
            for planned in fixes:
                self.write_fix(tx, planned)
            inserted: list[Record] = []
            for (number, node), planned in list(added.items()):
                others = [r["hierarchy"] for r in tx.holding(number)] + [
                    r["hierarchy"] for r in inserted if r["number"] == number
                ]
                if any(self.clash(node, other, tx) for other in others):
                    del added[(number, node)]
                    conflicts += [(number, node)] * len(planned.observations)
                    continue
                version = max(planned.fixed["version"], tx.retired.get((number, node), 0) + 1)
                inserted.append({**planned.fixed, "version": version})
            for record in inserted:
                tx.store(None, record)
        everything = [*fixes, *added.values()]
        return AuditOutcome(
            tuple(sorted(step for planned in everything for step in planned.steps)),
            tuple(sorted([*(c for planned in everything for c in planned.conflicts), *conflicts])),
            tuple(unknown),
        )

    @staticmethod
    def home(observation: Observation) -> str | None:
        if observation.consumer is not None:
            return observation.consumer.hierarchy
        return observation.hierarchy

    def write_fix(self, tx: Tx, planned: _Fix) -> None:
        stored = tx.records[key_order(planned.original)]
        current = tx.current(stored)
        content = {k: v for k, v in planned.fixed.items() if k != "version"}
        if content == {k: v for k, v in current.items() if k != "version"}:
            return  # only its release was due: stored, nothing else to write
        tx.store(current, {**planned.fixed, "version": current["version"] + 1})

    def fix(self, original: Record, observations: list[Observation]) -> _Fix:
        """The chain of rules that makes a record agree with what was observed (SPEC 10)."""
        users: dict[tuple[str, str], Use] = {}
        consumers: dict[tuple[str, str], Consumer] = {}
        for o in observations:
            if o.consumer is not None:
                users[(o.consumer.kind, o.consumer.id)] = self.use_of(o.consumer)
                consumers[(o.consumer.kind, o.consumer.id)] = o.consumer
        unassigned = [o for o in observations if o.consumer is None]
        steps: list[tuple[str, str, str]] = []
        conflicts: list[tuple[str, str]] = []
        record = self.shown(original)

        def step(new: Record, reason: str) -> Record:
            if new is not record:
                steps.append((new["number"], new["hierarchy"], reason))
            return new

        record = step(self.recomputed(record), "status recomputed")
        recomputed = record
        for key, use in users.items():
            if all((u.kind, u.consumer_id) != key for u in record["uses"]):
                if self.conflicting(record, use):
                    conflicts.append((record["number"], record["hierarchy"]))
                described = None if record["uses"] else self.description(consumers[key], record)
                record = step(self.observed_use(record, use, described), "use recorded")
        for held in original["uses"]:
            if (held.kind, held.consumer_id) not in users:
                node = held.hierarchy or record["hierarchy"]
                record = step(
                    self.changed(record, self.without(record, held, node, self.nodes)),
                    "use removed",
                )
        if record is not recomputed:
            record = step(self.recomputed(record), "status recomputed")
        if unassigned and not users:
            record = step(self.held_unassigned(record, unassigned[-1]), "held unassigned")
        return _Fix(original, observations, record, steps, conflicts)

    def recomputed(self, record: Record) -> Record:
        if record["uses"]:
            return self.changed(record, self.in_use(record, record["uses"]))
        if record["status"] in IN_USE:
            return self.changed(record, self.not_in_use(record, self.free_status(record)))
        return self.changed(
            record,
            {
                "usage": (),
                "vendor": record["admin_vendor"],
                "internal_number_type": type_shown(
                    record["admin_number_type"], record["admin_vendor"]
                ),
            },
        )

    def observed_use(self, record: Record, use: Use, description: str | None) -> Record:
        if any((u.kind, u.consumer_id) == (use.kind, use.consumer_id) for u in record["uses"]):
            return record
        if not record["uses"]:
            return self.changed(
                record, {**self.first_use(record, use, description), **self.end_cooling(record)}
            )
        return self.changed(record, self.in_use(record, (*record["uses"], use)))

    def conflicting(self, record: Record, use: Use) -> bool:
        """Decisions 20 and 115: a use observed on a number held back (Inactive too), or
        reserved for somebody else."""
        back = record["cooling_use"]
        returning = back is not None and (back.kind, back.consumer_id) == (
            use.kind,
            use.consumer_id,
        )
        if record["status"] in (RESERVED, INACTIVE):
            return True
        if record["status"] is COOLING and not returning:
            return True
        held = record["reserved_for"]
        return held is not None and held not in (use.consumer_id, use.owner)

    def held_unassigned(self, record: Record, observation: Observation) -> Record:
        """Decision 63: the number's vendor and type become the observed ones; inactive or not."""
        if record["uses"]:
            return record
        updates: dict[str, Any] = {}
        vendor = vendor_stored(observation.vendor)
        if vendor:
            updates["admin_vendor"] = vendor
            if observation.internal_number_type:
                # SPEC 8: stored in the first spelling
                updates["admin_number_type"] = check_type(observation.internal_number_type, vendor)
        admin_vendor: str = {**record, **updates}["admin_vendor"]
        number_type: str = {**record, **updates}["admin_number_type"]
        updates["vendor"] = admin_vendor
        updates["internal_number_type"] = type_shown(number_type, admin_vendor)
        if not observation.active and record["status"] is AVAILABLE and admin_vendor in ("", WEBEX):
            updates.update(self.deactivation(record, number_type))
        elif observation.active and record["status"] is INACTIVE:
            updates["status"] = self.free_status(record)
        return self.changed(record, updates)
