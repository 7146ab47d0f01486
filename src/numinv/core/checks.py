"""Argument checks and limits, each refusal an `InvalidInput` naming the value.

One place for what a whole number, a duration, a text or a flag must be, so
that the service, the settings and the records refuse alike.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from numinv.errors import InvalidInput

__all__ = [
    "LATEST",
    "MAX_DAYS",
    "MAX_HOLDER_ENTRY",
    "MAX_NAME",
    "MAX_TEXT",
    "MAX_VERSION",
    "aware",
    "counted",
    "days",
    "flag",
    "iterable",
    "keepable",
    "limit",
    "listing",
    "member",
    "name",
    "share",
    "text",
    "whole",
]

# Durations (cooling, reservations) are 1 to 999 days (SPEC 6, decision 6).
MAX_DAYS = 999
# Versions and counts fit a signed 64-bit database column.
MAX_VERSION = 2**63 - 1
# Free text longer than this is refused: a field, not a document.
MAX_TEXT = 65_536
# Who holds a number (a consumer's id, its owner, the person a number is reserved
# for) is an index key in every store: at most this many characters, as a
# hierarchy path (decision 108).
MAX_NAME = 512
# A holder's index entry (its name, the number and the number's node) is at most this
# many bytes in UTF-8 on every store: a PostgreSQL index entry holds 2,704 with its
# headers (decision 142). Only long non-ASCII names at long non-ASCII nodes reach it.
MAX_HOLDER_ENTRY = 2_600
# The latest instant a release date may have: a clock near the end of the
# calendar plus the longest duration would otherwise overflow.
LATEST = datetime(9999, 12, 31, tzinfo=UTC) - timedelta(days=MAX_DAYS + 1)

E = TypeVar("E", bound=StrEnum)


def counted(count: int, noun: str, verb: str = "") -> str:
    """`1 number`, `2 numbers`; with a verb in its plural form (`are`), the one that agrees:
    `1 number is`, `2 numbers are`."""
    if count == 1:
        return f"1 {noun}" + (f" {'is' if verb == 'are' else verb}" if verb else "")
    return f"{count} {noun}s" + (f" {verb}" if verb else "")


def listing(items: list[str]) -> str:
    """The first ten items, then how many more: for messages about many numbers."""
    shown = ", ".join(items[:10])
    return f"{shown} and {len(items) - 10} more" if len(items) > 10 else shown


def text(value: object, what: str) -> str:
    """Text that every store can keep: no NUL, no lone surrogate, not huge."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {value!r}", value=value)
    value = plain(value)
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            f"{what} is {len(value)} characters long ({_opening(value)}); at most "
            f"{MAX_TEXT} are kept",
            value=value[:40] + "...",
        )
    return keepable(value, what)


def plain(value: str) -> str:
    """The text of a `str` subclass (a `StrEnum`, a host's own type) as a plain `str`: what
    every store gives back, so a record holds the same type whichever store kept it."""
    return value if type(value) is str else str.__str__(value)


def _opening(value: str) -> str:
    """How a message names a value too long to show whole: its first characters."""
    return f"{value[:40]!r}..."


def keepable(value: str, what: str) -> str:
    """Text with no NUL and no lone surrogate, which no store keeps (PostgreSQL cannot)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} must not hold a NUL character: {value!r}", value=value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(
                f"{what} holds a lone surrogate, which no store can keep: {value!r}", value=value
            ) from None
    return value


def name(value: object, what: str) -> str:
    """Text that names who holds a number: what `text` allows, at most `MAX_NAME` long,
    and not starting or ending with white space (`alice ` could never match `alice`)."""
    checked = text(value, what)
    if len(checked) > MAX_NAME:
        raise InvalidInput(
            f"{what} is {len(checked)} characters long ({_opening(checked)}); a name is at "
            f"most {MAX_NAME}",
            value=checked[:40] + "...",
        )
    if checked != checked.strip():
        raise InvalidInput(
            f"{what} must not start or end with white space, not {checked!r}", value=checked
        )
    return checked


def whole(value: object, what: str, smallest: int, largest: int) -> int:
    """A whole number (not a bool) from `smallest` to `largest`."""
    if isinstance(value, bool) or not isinstance(value, int) or not smallest <= value <= largest:
        raise InvalidInput(
            f"{what} must be a whole number from {smallest} to {largest}, not {value!r}",
            value=value,
        )
    return value


def days(value: object, what: str) -> int | None:
    """None, or a duration of 1 to `MAX_DAYS` whole days."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidInput(
            f"{what} must be a whole number of days from 1 to {MAX_DAYS}, not {value!r}",
            value=value,
        )
    return value


def flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{what} must be True or False, not {value!r}", value=value)
    return value


def share(value: object, what: str) -> float:
    """A share from 0 to 1 (a float or an int)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidInput(f"{what} must be a share from 0 to 1, not {value!r}", value=value)
    return float(value)


def aware(value: object, what: str) -> datetime | None:
    """None, or a timezone-aware datetime as UTC, within the range numinv can count from."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{what} must be a timezone-aware datetime, not {value!r}", value=value)
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{what} is out of range: {value!r}", value=value) from None
    if moment > LATEST:
        raise InvalidInput(
            f"{what} must be no later than {LATEST:%Y-%m-%d %H:%M} UTC, not "
            f"{moment:%Y-%m-%d %H:%M} UTC",
            value=value,
        )
    return moment


def member(kind: type[E], value: object) -> E:
    """The enum member named by its value (`"Available"`, `Status.AVAILABLE`)."""
    if isinstance(value, str) and value in kind._value2member_map_:
        return kind(value)
    allowed = ", ".join(item.value for item in kind)
    raise InvalidInput(f"{value!r} is not a {kind.__name__}; one of: {allowed}", value=value)


def limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"limit must be a whole number >= 0, not {value!r}", value=value)
    return min(value, sys.maxsize)


def iterable(value: object, what: str) -> Iterable[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput(f"{what} must be an iterable, not {value!r}", value=value)
    return value
