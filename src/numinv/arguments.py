"""Checks of the arguments hosts pass to `Inventory`, each refusal naming the value.

The core checks numbers, paths and fields; these are the remaining checks
of the API edge: types, enum values, limits, cursors, dates.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from numinv.core.hierarchy import parse_path
from numinv.core.numbers import parse_number
from numinv.core.records import Consumer, ServiceType, Status, Usage
from numinv.errors import InvalidInput

__all__ = ["aware", "consumer", "cursor", "iterable", "limit", "listing", "member", "text"]

E = TypeVar("E", Status, Usage, ServiceType)

# Sorts above every hierarchy path, so a cursor (number, _PAST_EVERY_NODE)
# stands after every record of that number.
_PAST_EVERY_NODE = "\x7f"


def listing(items: list[str]) -> str:
    """The first ten items, then how many more: for messages about many numbers."""
    shown = ", ".join(items[:10])
    return f"{shown} and {len(items) - 10} more" if len(items) > 10 else shown


def text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {value!r}", value=value)
    return value


def consumer(value: object) -> Consumer:
    if not isinstance(value, Consumer):
        raise InvalidInput(f"expected a Consumer, not {value!r}", value=value)
    return value


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


def aware(value: object, what: str) -> datetime | None:
    """None, or a timezone-aware datetime as UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{what} must be a timezone-aware datetime, not {value!r}", value=value)
    return value.astimezone(UTC)


def cursor(after: object) -> tuple[str, str] | None:
    """A search cursor: after a (number, hierarchy) key, or after every record of a number."""
    if after is None:
        return None
    if isinstance(after, tuple) and len(after) == 2:
        return (parse_number(after[0]), parse_path(after[1]))
    return (parse_number(after), _PAST_EVERY_NODE)
