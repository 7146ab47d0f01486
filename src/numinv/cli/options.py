"""Shared options and parameter types: nodes, numbers, ranges, consumers, shares, dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import click

__all__ = [
    "at_option",
    "consumer_options",
    "range_arguments",
    "to_cursor",
    "to_extras",
    "to_share",
    "to_until",
]

F = TypeVar("F", bound=Callable[..., Any])
_EXTRA_FIELDS = frozenset(f"extra{n}" for n in range(1, 10))


def to_share(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A share from 0 to 1, written `10%` or `0.1`."""
    text = value.strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a share: write 10% or 0.1") from None
    if not 0 <= share <= 1:
        raise click.BadParameter(f"{value!r} is not a share from 0% to 100%")
    return share


def to_until(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO date (midnight UTC) or date and time (UTC when no offset is given)."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date (2025-03-31) or date and time"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def to_cursor(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | tuple[str, str] | None:
    """Where a listing resumes: after a number, or after `NUMBER@NODE` (a record's key)."""
    if value is None:
        return None
    number, at, node = value.partition("@")
    return (number, node) if at else number


def to_extras(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """Extra fields given as `N=VALUE` or `extraN=VALUE`, N from 1 to 9."""
    extras = {}
    for value in values:
        key, equals, text = value.partition("=")
        field = key.strip().lower()
        field = field if field.startswith("extra") else f"extra{field}"
        if not equals or field not in _EXTRA_FIELDS:
            raise click.BadParameter(
                f"{value!r} is not an extra field: write 3=value or extra3=value"
            )
        extras[field] = text
    return extras


def at_option(function: F) -> F:
    """`--at NODE`, required: where a number is looked up (walking up the hierarchy)."""
    return click.option(
        "--at", "at", required=True, metavar="NODE", help="Hierarchy node, e.g. sys.acme.uk.london."
    )(function)


def range_arguments(function: F) -> F:
    """`FIRST [LAST]` or `FIRST --count N`, and `--at NODE`."""
    for decorator in reversed(
        (
            click.argument("first"),
            click.argument("last", required=False),
            click.option("--count", type=click.IntRange(min=1), help="Numbers from FIRST on."),
            click.option("--at", required=True, metavar="NODE", help="The node holding the range."),
        )
    ):
        function = decorator(function)
    return function


def consumer_options(function: F) -> F:
    """`--kind`, `--id`, `--at` and `--vendor`: who uses the number."""
    for decorator in reversed(
        (
            click.option(
                "--kind",
                required=True,
                help="Consumer kind, e.g. device/cucm/Phone, or its last part (Phone, HuntPilot, "
                "CsOnlineUser, audiocodes, ...).",
            ),
            click.option("--id", "consumer_id", required=True, help="The consumer's id."),
            click.option("--at", required=True, metavar="NODE", help="The consumer's node."),
            click.option("--vendor", default="", help="The phone's vendor (VOSS phones only)."),
        )
    ):
        function = decorator(function)
    return function
