"""Shared options and parameter types: nodes, numbers, ranges, consumers, shares, dates."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem

__all__ = [
    "NODE",
    "at_option",
    "check_days_or_until",
    "check_last_or_count",
    "consumer_options",
    "range_arguments",
    "to_cursor",
    "to_extras",
    "to_share",
    "to_until",
]

F = TypeVar("F", bound=Callable[..., Any])
if TYPE_CHECKING:
    ParamType = click.ParamType[Any]  # generic only in newer click
else:
    ParamType = click.ParamType
_EXTRA_FIELDS = frozenset(f"extra{n}" for n in range(1, 10))


class Node(ParamType):
    """A hierarchy node; completes from the nodes of the database (when it exists)."""

    name = "node"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        target = ctx.find_root().params.get("db") or os.environ.get("NUMINV_DB", "numinv.db")
        if not isinstance(target, str) or "://" in target or not os.path.isfile(target):
            return []
        try:
            from numinv import Inventory
            from numinv.cli.tree import known_nodes
            from numinv.storage.sqlite import SqliteRepository

            with SqliteRepository(target) as repository:
                nodes = known_nodes(Inventory(repository))
        except Exception:  # completion must never break the shell
            return []
        return [CompletionItem(node) for node in sorted(nodes) if node.startswith(incomplete)]


NODE = Node()


class Kind(ParamType):
    """A consumer kind: checked when the command runs (the table is the inventory's)."""

    name = "kind"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from numinv import Inventory
        from numinv.cli.tree import short_kinds

        short = sorted(name.rsplit("/", 1)[-1] for name in short_kinds(Inventory().kinds).values())
        return [
            CompletionItem(kind) for kind in short if kind.lower().startswith(incomplete.lower())
        ]


def to_share(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A share from 0 to 1, written `10%` or `0.1` (None when not given)."""
    if value is None:
        return None
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
            moment = datetime.combine(date.fromisoformat(text), time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date (2025-03-31) or date and time"
        ) from None
    from numinv.core.checks import LATEST

    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        late = moment > LATEST
    except OverflowError:  # an offset that leaves the calendar
        late = True
    if late:  # a date numinv cannot count from is the option's fault: a usage error
        raise click.BadParameter(f"{value!r} is later than {LATEST:%Y-%m-%d %H:%M} UTC")
    return moment


def to_cursor(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | tuple[str, str] | None:
    """Where a listing resumes: after a number, or after `NUMBER@NODE` (a record's key).

    A bad number or node is refused as the inventory refuses one (exit 1), naming
    the option: the library's message alone would not say where it came from.
    """
    if value is None:
        return None
    from numinv import InvalidInput
    from numinv.cli.errors import Failure, words
    from numinv.core.hierarchy import parse_path
    from numinv.core.numbers import parse_number

    number, at, node = value.partition("@")
    try:
        parse_number(number)
        if at:
            parse_path(node)
    except InvalidInput as error:
        raise Failure(f"--after {value!r}: {words(str(error))}") from error
    return (number, node) if at else number


def to_extras(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """Extra fields given as `N=VALUE` or `extraN=VALUE`, N from 1 to 9, each at most once
    (a field named twice says two things at once: the last one used to win, silently)."""
    extras: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        field = key.strip().lower()
        field = field if field.startswith("extra") else f"extra{field}"
        if not equals or field not in _EXTRA_FIELDS:
            raise click.BadParameter(
                f"{value!r} is not an extra field: write 3=value or extra3=value"
            )
        if field in extras:
            raise click.BadParameter(
                f"{field} is given twice ({extras[field]!r} and {text!r}): give it once"
            )
        extras[field] = text
    return extras


def check_days_or_until(days: int | None, until: datetime | None) -> None:
    """`--days` and `--until` say the same thing twice: a usage error."""
    if days is not None and until is not None:
        raise click.UsageError("give --days or --until, not both")


def check_last_or_count(last: str | None, count: int | None) -> None:
    """`LAST` and `--count` say the same thing twice: a usage error."""
    if last is not None and count is not None:
        raise click.UsageError("give LAST or --count, not both")


def at_option(function: F) -> F:
    """`--at NODE`, required: where a number is looked up (walking up the hierarchy)."""
    return click.option(
        "--at",
        "at",
        required=True,
        type=NODE,
        metavar="NODE",
        help="Where to look the number up from (walking up), e.g. sys.acme.uk.london.",
    )(function)


def range_arguments(function: F) -> F:
    """`FIRST [LAST]` or `FIRST --count N`, and `--at NODE`."""
    for decorator in reversed(
        (
            click.argument("first"),
            click.argument("last", required=False),
            click.option("--count", type=click.IntRange(min=1), help="Numbers from FIRST on."),
            click.option(
                "--at", required=True, type=NODE, metavar="NODE", help="The node holding the range."
            ),
        )
    ):
        function = decorator(function)
    return function


def consumer_options(function: F) -> F:
    """`--kind`, `--id`, `--at`, `--vendor`, `--owner` (who uses the number) and `--new-node`."""
    for decorator in reversed(
        (
            click.option(
                "--kind",
                required=True,
                type=Kind(),
                help="Consumer kind: Phone, HuntPilot, CsOnlineUser, audiocodes, ... "
                "or a full name such as device/cucm/Phone.",
            ),
            click.option("--id", "consumer_id", required=True, help="The consumer's id."),
            click.option(
                "--at", required=True, type=NODE, metavar="NODE", help="The consumer's node."
            ),
            click.option("--vendor", default="", help="The phone's vendor (VOSS phones only)."),
            click.option(
                "--owner",
                default="",
                metavar="PERSON",
                help="The user the device belongs to (may take what is reserved for them).",
            ),
            click.option(
                "--new-node",
                is_flag=True,
                help="The consumer's node holds no numbers yet (it uses those above it).",
            ),
        )
    ):
        function = decorator(function)
    return function
