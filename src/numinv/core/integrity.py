"""Checks for records that come from outside: imports, files, dicts, a host's own store.

Records the lifecycle makes are right by construction; a record read from a
file may hold anything. `well_formed` checks each field's type and form;
`consistent` checks that the managed fields agree with each other, as the
lifecycle would have left them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from numinv.core import checks
from numinv.core.hierarchy import is_at_or_below, parse_path
from numinv.core.numbers import parse_e164, parse_number
from numinv.core.records import NumberRecord, Status, Usage, Use
from numinv.core.vendors import (
    CISCO,
    INTERNAL_NUMBER_TYPES,
    admin_vendor,
    check_internal_number_type,
    may_be_inactive,
    shown_number_type,
    shown_vendor,
    usage_of,
    vendor_named,
)
from numinv.errors import InvalidInput, NumInvError

__all__ = ["consistent", "well_formed"]

_TEXT_FIELDS = tuple(
    field.name for field in attrs.fields(NumberRecord) if field.type in (str, "str")
)
_IN_USE = (Status.USED, Status.USED_UTILITY)
_LAST_RELEASE = checks.LATEST + timedelta(days=checks.MAX_DAYS)


def _shown(value: object) -> str:
    """A value as a message shows it: `repr`, with a status or usage by its name and a
    time as ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Status | Usage):
        return repr(value.value)
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_shown, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str) and len(value) > 80:  # a message names it, not repeats it
        return f"{value[:40]!r}... ({len(value)} characters)"
    return repr(value)


def _refuse(record: NumberRecord, field: str, wanted: str, value: object) -> InvalidInput:
    return InvalidInput(
        f"{record.number!r} at {record.hierarchy!r}: {field} must be {wanted}, not {_shown(value)}",
        number=record.number if isinstance(record.number, str) else None,
        value=value,
    )


def _text(record: NumberRecord, field: str, value: object, *, holder: bool = False) -> None:
    """Text every store can keep (no NUL, no lone surrogate); `holder`: a name that
    says who holds the number, which every store indexes (`checks.MAX_NAME`)."""
    if not isinstance(value, str):
        raise _refuse(record, field, "text", value)
    try:
        (checks.name if holder else checks.text)(value, field)
    except InvalidInput as error:
        longest = checks.MAX_NAME if holder else checks.MAX_TEXT
        if len(value) > longest:
            wanted = f"at most {longest} characters long"
        elif value != value.strip():  # only a name is refused for it
            wanted = "a name that does not start or end with white space"
        else:
            wanted = "text with no NUL and no lone surrogate (no store can keep them)"
        raise _refuse(record, field, wanted, value) from error


def _use(record: NumberRecord, field: str, use: object) -> None:
    if not isinstance(use, Use):
        raise _refuse(record, field, "a Use", use)
    for name in ("kind", "consumer_id"):
        value = getattr(use, name)
        if not isinstance(value, str) or not value.strip():
            raise _refuse(record, f"{field}.{name}", "non-blank text", value)
        _text(record, f"{field}.{name}", value, holder=name == "consumer_id")
    if not isinstance(use.owner, str):
        raise _refuse(record, f"{field}.owner", "text", use.owner)
    _text(record, f"{field}.owner", use.owner, holder=True)
    if not isinstance(use.usage, Usage):
        raise _refuse(record, f"{field}.usage", "a Usage", use.usage)
    if use.status not in _IN_USE:
        raise _refuse(record, f"{field}.status", "Used or Used-Utility", use.status)
    if not isinstance(use.vendor, str):
        raise _refuse(record, f"{field}.vendor", "text", use.vendor)
    if not isinstance(use.hierarchy, str) or (use.hierarchy and _bad_path(use.hierarchy)):
        raise _refuse(record, f"{field}.hierarchy", "a hierarchy path", use.hierarchy)


def _bad_path(value: str) -> bool:
    try:
        parse_path(value)
    except NumInvError:
        return True
    return False


def _tuple_of(record: NumberRecord, field: str, check: type) -> tuple[object, ...]:
    value = getattr(record, field)
    if not isinstance(value, tuple) or not all(isinstance(item, check) for item in value):
        raise _refuse(record, field, f"a tuple of {check.__name__}", value)
    return value


def well_formed(record: object) -> NumberRecord:
    """Return the record if every field has its type and form, else raise `InvalidInput`."""
    if not isinstance(record, NumberRecord):
        raise InvalidInput(f"expected a NumberRecord, not {record!r}", value=record)
    if not isinstance(record.number, str) or parse_number(record.number) != record.number:
        raise _refuse(
            record, "number", "a number in canonical form ('+', not '\\+')", record.number
        )
    parse_path(record.hierarchy)
    for name in _TEXT_FIELDS:
        _text(record, name, getattr(record, name))
    if not isinstance(record.status, Status):
        raise _refuse(record, "status", "a Status", record.status)
    _tuple_of(record, "usage", Usage)
    for use in _tuple_of(record, "uses", Use):
        _use(record, "uses", use)
    if record.cooling_use is not None:
        _use(record, "cooling_use", record.cooling_use)
    release = record.release_date
    if release is not None:
        if not isinstance(release, datetime) or release.utcoffset() is None:
            raise _refuse(record, "release_date", "None or an aware datetime", release)
        try:
            release.astimezone(UTC)  # every store keeps it in UTC
        except OverflowError:
            wanted = "a time from 0001-01-01 UTC on"
            raise _refuse(record, "release_date", wanted, release) from None
        # The latest a cooling or reservation of the longest length from the latest clock
        # ends: what the lifecycle can store, so what a file of its records may hold.
        if release > _LAST_RELEASE:
            wanted = f"no later than {_LAST_RELEASE:%Y-%m-%d %H:%M} UTC"
            raise _refuse(record, "release_date", wanted, release)
    for name in ("reserved_for", "tag_before_cooling"):
        value = getattr(record, name)
        if value is not None:
            _text(record, name, value, holder=name == "reserved_for")
    for e164 in _tuple_of(record, "e164", str):
        if parse_e164(e164) != e164:
            raise _refuse(record, "e164", "E.164 numbers", record.e164)
    if len(set(record.e164)) != len(record.e164):
        raise _refuse(record, "e164", "distinct E.164 numbers", record.e164)
    if record.primary_e164 is not None and record.primary_e164 not in record.e164:
        raise _refuse(record, "primary_e164", "None or one of e164", record.primary_e164)
    if record.service_type is not None and (
        not isinstance(record.service_type, str) or not record.service_type.strip()
    ):
        raise _refuse(record, "service_type", "None or a service type's name", record.service_type)
    if (
        isinstance(record.version, bool)
        or not isinstance(record.version, int)
        or not 1 <= record.version <= checks.MAX_VERSION
    ):
        raise _refuse(
            record, "version", f"a whole number from 1 to {checks.MAX_VERSION}", record.version
        )
    return record


def consistent(record: NumberRecord) -> NumberRecord:
    """Return a well-formed record if its managed fields agree, else raise `InvalidInput`."""
    well_formed(record)
    if (record.status in _IN_USE) != bool(record.uses):
        raise _refuse(record, "uses", "present exactly when the status is in use", record.uses)
    if record.uses and record.status is not record.uses[-1].status:
        raise _refuse(record, "status", "the status of the newest use", record.status)
    keys = [use.key for use in record.uses]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise InvalidInput(
            f"{record.number!r} at {record.hierarchy!r}: uses must be one use per consumer, "
            f"not two of {twice[0]} {twice[1]!r}",
            number=record.number,
            value=twice[1],
        )
    if record.usage != usage_of(record.uses):
        wanted = f"{_shown(usage_of(record.uses))} (from its uses)"
        raise _refuse(record, "usage", wanted, record.usage)
    for field, use in _every_use(record):
        if use.hierarchy and not is_at_or_below(use.hierarchy, record.hierarchy):
            wanted = f"at or below {record.hierarchy!r} (where the number is seen)"
            raise _refuse(record, f"{field}.hierarchy", wanted, use.hierarchy)
    if record.status is Status.COOLING and record.release_date is None:
        raise _refuse(record, "release_date", "set while Cooling", None)
    release = record.release_date
    if release is not None and release.tzinfo is not UTC:  # kept in UTC, as every store reads
        record = attrs.evolve(record, release_date=release.astimezone(UTC))  # it back
    if record.status not in (Status.COOLING, Status.RESERVED) and record.release_date is not None:
        raise _refuse(
            record, "release_date", "None unless Cooling or Reserved", record.release_date
        )
    if record.status is Status.INACTIVE:  # Webex Calling's (SPEC 20), shown and set
        for field in ("vendor", "admin_vendor"):
            if not may_be_inactive(admin_vendor(getattr(record, field))):
                wanted = "Webex Calling (or blank) while Inactive"
                raise _refuse(record, field, wanted, getattr(record, field))
    record = _vendors_agree(record)
    if record.status is Status.AVAILABLE and record.reserved_for is not None:
        raise _refuse(record, "status", "Reserved while reserved for somebody", record.status)
    # The type set is kept apart from the one shown (decision 66): a type of some vendor,
    # shown while the vendor shown is one it belongs to. Set beside a vendor it fits, it
    # may outlive that vendor (a user of another vendor's takes the number, then leaves).
    # A type in an API's spelling ("CallingPlan") is kept in the one numinv shows.
    admin = check_internal_number_type(record.admin_number_type, *INTERNAL_NUMBER_TYPES)
    internal = check_internal_number_type(record.internal_number_type, *INTERNAL_NUMBER_TYPES)
    if (admin, internal) != (record.admin_number_type, record.internal_number_type):
        record = attrs.evolve(record, admin_number_type=admin, internal_number_type=internal)
    shown = shown_number_type(record.admin_number_type, record.vendor)
    if record.internal_number_type != shown:
        raise _refuse(
            record,
            "internal_number_type",
            f"{shown!r} (the type set, beside the vendor shown)",
            record.internal_number_type,
        )
    return record


def _every_use(record: NumberRecord) -> list[tuple[str, Use]]:
    cooling = [("cooling_use", record.cooling_use)] if record.cooling_use is not None else []
    return [*(("uses", use) for use in record.uses), *cooling]


def _vendors_agree(record: NumberRecord) -> NumberRecord:
    """The record with the vendor shown that its uses give, or while none the vendor set
    (SPEC 8), known vendors spelt as numinv spells them (decision 132); a vendor shown
    that disagrees is refused. A file that names only the vendor shown of a number not in
    use (a spreadsheet's one vendor column) sets that vendor."""
    uses = tuple(_spelt(use) for use in record.uses)
    cooling_use = record.cooling_use and _spelt(record.cooling_use)
    set_vendor = admin_vendor(record.admin_vendor)
    if uses:
        wanted, source = shown_vendor(uses), "from its uses"
    else:
        set_vendor = set_vendor or admin_vendor(record.vendor)
        wanted, source = set_vendor, "the vendor set"
    if record.vendor != wanted and _names(record.vendor) != _names(wanted):
        named = repr(wanted) if wanted else "blank (Cisco)"
        raise _refuse(record, "vendor", f"{named} ({source})", record.vendor)
    spelt: dict[str, Any] = {
        "uses": uses,
        "cooling_use": cooling_use,
        "admin_vendor": set_vendor,
        "vendor": wanted,
    }
    changed = {name: value for name, value in spelt.items() if getattr(record, name) != value}
    return attrs.evolve(record, **changed) if changed else record


def _spelt(use: Use) -> Use:
    vendor = admin_vendor(use.vendor)
    return use if vendor == use.vendor else attrs.evolve(use, vendor=vendor)


def _names(vendor: str) -> tuple[str, ...]:
    """The vendors a vendor shown names ("Cisco, Microsoft" for a number of both), known
    ones as numinv spells them: what two spellings of one vendor shown have in common."""
    names = tuple(dict.fromkeys(vendor_named(name.strip()) for name in vendor.split(",")))
    names = tuple(name for name in names if name)
    return () if names == (CISCO,) else names
