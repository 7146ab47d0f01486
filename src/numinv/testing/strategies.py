"""Hypothesis strategies for numinv's values: numbers, paths, consumers, ranges, records, settings.

Public and documented (docs/testing.md): a host's own properties and state
machines draw from them, and `InventoryMachine` does too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from numinv.core.hybrid import BUILTIN_SERVICE_TYPES
from numinv.core.kinds import BUILTIN_KINDS
from numinv.core.records import (
    FREE_TEXT_FIELDS,
    Consumer,
    NumberRecord,
    ServiceType,
    Status,
    Usage,
    Use,
)
from numinv.core.vendors import shown_number_type, shown_vendor
from numinv.settings import Settings

__all__ = [
    "bad_numbers",
    "bad_paths",
    "consumers",
    "days",
    "e164_numbers",
    "hierarchy_paths",
    "inventory_settings",
    "kinds",
    "names",
    "node_settings",
    "number_ranges",
    "number_records",
    "numbers",
    "segments",
    "service_types",
    "texts",
]

DIGITS = "0123456789"
_NUMBER = re.compile(r"(\\?\+)?[0-9]{1,32}")


def numbers(*, min_digits: int = 1, max_digits: int = 32) -> st.SearchStrategy[str]:
    """Canonical directory numbers: digits, optionally after `+`."""
    return st.builds(
        lambda plus, digits: plus + digits,
        st.sampled_from(["", "+"]),
        st.text(DIGITS, min_size=min_digits, max_size=max_digits),
    )


def e164_numbers() -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=1, max_size=15).map(lambda digits: "+" + digits)


def bad_numbers() -> st.SearchStrategy[object]:
    """Values that are not directory numbers, of any type."""
    malformed = st.text().filter(lambda text: not _NUMBER.fullmatch(text))
    return st.one_of(
        malformed,
        st.text(DIGITS, min_size=33, max_size=40),
        st.none(),
        st.integers(),
        st.floats(allow_nan=False),
        st.lists(st.text(DIGITS, min_size=1), max_size=2),
    )


def segments() -> st.SearchStrategy[str]:
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)


def hierarchy_paths(*, max_depth: int = 5) -> st.SearchStrategy[str]:
    return st.lists(segments(), min_size=1, max_size=max_depth).map(".".join)


def bad_paths() -> st.SearchStrategy[object]:
    """Values that are not hierarchy paths: empty segments, padding, control characters."""
    return st.one_of(
        st.just(""),
        hierarchy_paths().map(lambda path: path + "."),
        hierarchy_paths().map(lambda path: "." + path),
        hierarchy_paths().map(
            lambda path: path.replace(".", "..", 1) if "." in path else path + ".."
        ),
        hierarchy_paths().map(lambda path: " " + path),
        hierarchy_paths().map(lambda path: path + "\t"),
        hierarchy_paths().map(lambda path: path + "\x00x"),
        st.none(),
        st.integers(),
    )


def kinds() -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(BUILTIN_KINDS))


def consumers(
    *,
    hierarchy: st.SearchStrategy[str] | None = None,
    kind: st.SearchStrategy[str] | None = None,
    owner: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Consumer]:
    """Consumers of the built-in kinds (or `kind`), at `hierarchy`, with an `owner` or none."""
    return st.builds(
        Consumer,
        kind=kinds() if kind is None else kind,
        id=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12),
        hierarchy=hierarchy_paths() if hierarchy is None else hierarchy,
        vendor=st.sampled_from(["", "Cisco", "Yealink", "Poly"]),
        owner=st.sampled_from(["", "alice", "bob"]) if owner is None else owner,
    )


@st.composite
def number_ranges(draw: st.DrawFn, *, max_size: int = 200) -> tuple[str, str, int]:
    """A valid range as (first, last, size): one width, one `+` prefix, no lost leading zero."""
    plus = draw(st.sampled_from(["", "+"]))
    width = draw(st.integers(min_value=1, max_value=12))
    start = draw(st.integers(min_value=0, max_value=10**width - 1))
    room = 10**width - 1 - start
    if start < 10 ** (width - 1) and width > 1:  # a leading zero: stay below the next power
        room = 10 ** (width - 1) - 1 - start
    size = draw(st.integers(min_value=1, max_value=min(max_size, room + 1)))
    first = f"{plus}{start:0{width}d}"
    last = f"{plus}{start + size - 1:0{width}d}"
    return first, last, size


def texts(*, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    """Free text of any kind a store can keep: any character but NUL and lone surrogates."""
    return st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )


def names() -> st.SearchStrategy[str]:
    """Names of who holds a number (a consumer id, an owner, `reserved_for`): any text a
    store can keep, not blank, not starting or ending with white space."""
    return texts(min_size=1, max_size=8).filter(lambda name: name.strip() == name != "")


_TEXT = texts()
_DATES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _uses(under: str) -> st.SearchStrategy[Use]:
    """Uses by consumers that see a number at `under`: at it or below it."""
    below = hierarchy_paths(max_depth=2).map(lambda path: f"{under}.{path}")
    return st.builds(
        Use,
        kind=kinds(),
        consumer_id=names(),
        usage=st.sampled_from(Usage),
        # A vendor numinv does not know (a VOSS phone's maker), a comma in its name too.
        vendor=st.sampled_from(["", "Microsoft", "AudioCodes", "Webex Calling", "Acme, Inc."]),
        status=st.sampled_from([Status.USED, Status.USED_UTILITY]),
        hierarchy=st.just(under) | below,
        owner=st.sampled_from(["", "alice", "bob"]),
    )


_VENDOR_TYPES = {
    "": [""],
    "Microsoft": ["", "Direct Routing", "Calling Plan", "Operator Connect"],
    "Webex Calling": ["", "Phone Number", "Extension"],
    "AudioCodes": [""],
    "Acme, Inc.": [""],
}


@st.composite
def number_records(draw: st.DrawFn) -> NumberRecord:
    """Any record a store might hold: free text of any kind, managed fields that agree."""
    status = draw(st.sampled_from(Status))
    hierarchy = draw(hierarchy_paths())
    uses: tuple[Use, ...] = ()
    if status in (Status.USED, Status.USED_UTILITY):
        drawn = st.lists(_uses(hierarchy), min_size=1, max_size=3, unique_by=lambda u: u.key)
        uses = tuple(draw(drawn))
        status = uses[-1].status
    release_date = None
    if status is Status.COOLING:
        release_date = draw(_DATES)
    elif status is Status.RESERVED:
        release_date = draw(st.none() | _DATES)
    e164 = tuple(draw(st.lists(e164_numbers(), max_size=3, unique=True)))
    # Inactive is Webex Calling's (SPEC 20): a number of no vendor or of Webex Calling.
    vendors = ["", "Webex Calling"] if status is Status.INACTIVE else sorted(_VENDOR_TYPES)
    admin_vendor = draw(st.sampled_from(vendors))
    number_type = draw(st.sampled_from(_VENDOR_TYPES[admin_vendor]))
    vendor = shown_vendor(uses) if uses else admin_vendor
    free = {name: draw(_TEXT) for name in FREE_TEXT_FIELDS}
    reserved_for = draw(st.none() | names())
    if status is Status.AVAILABLE and reserved_for is not None:
        status = Status.RESERVED
    return NumberRecord(
        number=draw(numbers(max_digits=15)),
        hierarchy=hierarchy,
        status=status,
        usage=tuple(dict.fromkeys(use.usage for use in uses)),
        uses=uses,
        vendor=vendor,
        internal_number_type=shown_number_type(number_type, vendor),
        admin_number_type=number_type,
        release_date=release_date,
        reserved_for=reserved_for,
        e164=e164,
        primary_e164=draw(st.none() | st.sampled_from(e164)) if e164 else None,
        admin_vendor=admin_vendor,
        service_type=draw(st.none() | st.sampled_from(sorted(map(str, BUILTIN_SERVICE_TYPES)))),
        cooling_use=draw(st.none() | _uses(hierarchy)),
        tag_before_cooling=draw(st.none() | _TEXT),
        version=draw(st.integers(min_value=1, max_value=10**6)),
        **free,
    )


def days(*, max_days: int = 999) -> st.SearchStrategy[int]:
    """Durations in days, as reserve and cool accept them (1 to 999; fewer with `max_days`)."""
    return st.integers(min_value=1, max_value=max_days)


def inventory_settings(
    *,
    auto_cooling: st.SearchStrategy[bool] | None = None,
    prevent_duplicates: st.SearchStrategy[bool] | None = None,
) -> st.SearchStrategy[Settings]:
    """`Settings` as an inventory might be given them: short coolings, both uniqueness rules,
    a range limit that a load may hit, one retry or a few."""
    return st.builds(
        Settings,
        auto_cooling=st.booleans() if auto_cooling is None else auto_cooling,
        cooling_days=st.integers(min_value=1, max_value=10),
        audiocodes_cooling_days=st.integers(min_value=1, max_value=5),
        teluri_prefix=st.sampled_from(["+88800", "+1999"]),
        max_range_size=st.sampled_from([1_000_000, 1_000_000, 1_000_000, 5]),
        prevent_duplicates=(
            st.sampled_from([False, False, False, True])
            if prevent_duplicates is None
            else prevent_duplicates
        ),
        exhaustion_threshold=st.sampled_from([0.1, 0.5, 1.0]),
        retries=st.integers(min_value=1, max_value=3),
    )


def node_settings() -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of `Inventory.configure`: what a node sets (None inherits)."""
    return st.fixed_dictionaries(
        {},
        optional={
            "auto_cooling": st.none() | st.booleans(),
            "cooling_days": st.none() | st.integers(min_value=1, max_value=10),
            "audiocodes_cooling_days": st.none() | st.integers(min_value=1, max_value=5),
            "prevent_duplicates": st.none() | st.booleans(),
            "exhaustion_threshold": st.none() | st.sampled_from([0.0, 0.3, 1.0]),
        },
    )


def service_types() -> st.SearchStrategy[ServiceType]:
    return st.sampled_from(ServiceType)
