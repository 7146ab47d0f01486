"""`numinv range ...`: load, change and remove numbers a range at a time (all or nothing).

Each command is one library call, so it stays all or nothing; on a terminal
a counted bar follows the records as the store writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from numinv import Inventory, RangeResult
from numinv.cli.options import (
    NODE,
    check_days_or_until,
    check_last_or_count,
    range_arguments,
    to_extras,
    to_until,
)
from numinv.cli.output import formats, quantity, write_document
from numinv.cli.root import Session, command, pass_session
from numinv.cli.tree import check_new_node, check_node

__all__ = ["range_group"]


_DONE = {
    "add": "added",
    "update": "updated",
    "delete": "deleted",
    "reserve": "reserved",
    "unreserve": "unreserved",
    "cool": "cooling",
    "release": "released",
    "move": "moved",
}
_DOING = {
    "add": "Loading",
    "update": "Updating",
    "delete": "Deleting",
    "reserve": "Reserving",
    "unreserve": "Unreserving",
    "cool": "Cooling",
    "release": "Releasing",
    "move": "Moving",
}


def _numbers(count: int) -> str:
    return quantity(count, "number")


def _span(first: str, last: str | None, count: int | None) -> int | None:
    """How many numbers the range names (for the bar), or None when it cannot tell."""
    if count is not None:
        return count
    if last is None:
        return 1
    digits = [text.removeprefix("\\").removeprefix("+") for text in (first, last)]
    if not all(text.isdigit() for text in digits):
        return None
    return max(int(digits[1]) - int(digits[0]) + 1, 0)


def _run(
    session: Session,
    verb: str,
    work: Callable[[Inventory], int],
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    fmt: str | None,
    *,
    new_node: bool = False,
    to: str | None = None,
) -> None:
    """Run one range operation with a bar, then say what it did (or write it as JSON)."""
    from numinv.cli.render import watching

    inventory = session.inventory()
    with watching(inventory.repository, f"{_DOING[verb]} at {at}", _span(first, last, count)):
        done = work(inventory)
    skipped = list(done.skipped) if isinstance(done, RangeResult) else []
    if fmt is not None:
        result: dict[str, Any] = {"operation": verb, "hierarchy": at, "count": int(done)}
        if verb == "add":
            result["new_node"] = new_node
        if verb == "delete":
            result["skipped"] = skipped
        if to is not None:
            result["to"] = to
        write_document(result, fmt)
        return
    where = f"from {at} to {to}" if to is not None else f"at {at}"
    click.echo(f"{_DONE[verb]} {_numbers(done)} {where}{' (a new node)' if new_node else ''}")
    if skipped:
        shown = ", ".join(skipped[:10]) + (
            f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        )
        agrees = "is" if len(skipped) == 1 else "are"
        click.echo(f"left {_numbers(len(skipped))} that {agrees} not Available: {shown}")


def _existing(session: Session, at: str, last: str | None, count: int | None) -> None:
    check_last_or_count(last, count)
    check_node(session.inventory(), at)


@click.group("range")
def range_group() -> None:
    """Load, change or remove a range of numbers.

    Each command works on FIRST..LAST (or FIRST and --count numbers) at one
    node, and changes all of them or none.
    """


@command("add", group=range_group)
@range_arguments
@click.option("--tag", default="", help="Tag of every number.")
@click.option("--description", default="", help="Description of every number.")
@click.option("--vendor", default="", help="Vendor shown while not in use (e.g. Microsoft).")
@click.option("--type", "number_type", default="", help="Internal number type (Calling Plan, ...).")
@click.option(
    "--extra",
    "extras",
    multiple=True,
    callback=to_extras,
    metavar="N=VALUE",
    help="An extra field, 3=value (repeatable).",
)
@click.option("--skip-existing", is_flag=True, help="Leave numbers already at the node alone.")
@click.option("--new-root", is_flag=True, help="Allow a node outside every existing tree.")
@formats()
@pass_session
def add(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    tag: str,
    description: str,
    vendor: str,
    number_type: str,
    extras: dict[str, str],
    skip_existing: bool,
    new_root: bool,
    fmt: str | None,
) -> None:
    """Load the numbers FIRST..LAST (or FIRST and --count more) at a node, all or none.

    A node that holds no numbers yet is created; one outside every existing
    root (a new tree) needs --new-root, so that a typo does not start one.

    \b
    numinv range add 4420790000 4420799999 --at sys.acme.uk.london
    numinv range add +27110001000 --count 500 --at sys.acme.za --vendor Microsoft \\
        --type "Calling Plan"
    """
    check_last_or_count(last, count)
    new = check_new_node(session.inventory(), at, new_root=new_root)
    _run(
        session,
        "add",
        lambda inventory: inventory.add_range(
            at,
            first,
            last,
            count=count,
            tag=tag,
            description=description,
            vendor=vendor,
            internal_number_type=number_type,
            skip_existing=skip_existing,
            **extras,
        ),
        first,
        last,
        count,
        at,
        fmt,
        new_node=new,
    )


@command("update", group=range_group)
@range_arguments
@click.option("--tag", help="Set the tag.")
@click.option("--description", help="Set the description.")
@click.option("--notes", "reservation_notes", help="Set the reservation notes.")
@click.option("--vendor", help="Set the vendor shown while not in use.")
@click.option("--type", "internal_number_type", help="Set the internal number type.")
@click.option(
    "--extra",
    "extras",
    multiple=True,
    callback=to_extras,
    metavar="N=VALUE",
    help="Set an extra field, 3=value (repeatable).",
)
@formats()
@pass_session
def update(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    tag: str | None,
    description: str | None,
    reservation_notes: str | None,
    vendor: str | None,
    internal_number_type: str | None,
    extras: dict[str, str],
    fmt: str | None,
) -> None:
    """Set free-text fields, vendor or type on every number of the range at a node."""
    given = {
        "tag": tag,
        "description": description,
        "reservation_notes": reservation_notes,
        "vendor": vendor,
        "internal_number_type": internal_number_type,
    }
    fields = {name: value for name, value in given.items() if value is not None} | extras
    if not fields:
        raise click.UsageError(
            "give at least one field to set: --tag, --description, --notes, --vendor, --type "
            "or --extra"
        )
    _existing(session, at, last, count)
    _run(
        session,
        "update",
        lambda inventory: inventory.update_range(at, first, last, count=count, **fields),
        first,
        last,
        count,
        at,
        fmt,
    )


@command("delete", group=range_group)
@range_arguments
@click.option("--skip-unavailable", is_flag=True, help="Delete the Available ones, leave the rest.")
@formats()
@pass_session
def delete(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    skip_unavailable: bool,
    fmt: str | None,
) -> None:
    """Remove the numbers of the range at a node; refused if any is not Available."""
    _existing(session, at, last, count)
    _run(
        session,
        "delete",
        lambda inventory: inventory.delete_range(
            at, first, last, count=count, skip_unavailable=skip_unavailable
        ),
        first,
        last,
        count,
        at,
        fmt,
    )


@command("reserve", group=range_group)
@range_arguments
@click.option("--tag", default="", help="Tag of the reservation.")
@click.option("--notes", default="", help="Reservation notes.")
@click.option("--days", type=click.IntRange(1, 999), help="Lapse after this many days.")
@formats()
@pass_session
def reserve(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    tag: str,
    notes: str,
    days: int | None,
    fmt: str | None,
) -> None:
    """Reserve every number of the range (all Available, or already Reserved)."""
    _existing(session, at, last, count)
    _run(
        session,
        "reserve",
        lambda inventory: inventory.reserve_range(
            at, first, last, count=count, tag=tag, notes=notes, days=days
        ),
        first,
        last,
        count,
        at,
        fmt,
    )


@command("unreserve", group=range_group)
@range_arguments
@formats()
@pass_session
def unreserve(
    session: Session, first: str, last: str | None, count: int | None, at: str, fmt: str | None
) -> None:
    """Make every reserved number of the range Available again."""
    _existing(session, at, last, count)
    _run(
        session,
        "unreserve",
        lambda inventory: inventory.unreserve_range(at, first, last, count=count),
        first,
        last,
        count,
        at,
        fmt,
    )


@command("cool", group=range_group)
@range_arguments
@click.option("--days", type=click.IntRange(1, 999), help="Cool for this many days.")
@click.option("--until", callback=to_until, metavar="DATE", help="Cool until this ISO date (UTC).")
@formats()
@pass_session
def cool(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    days: int | None,
    until: datetime | None,
    fmt: str | None,
) -> None:
    """Cool every number of the range (default: the cooling days setting), or move its date."""
    check_days_or_until(days, until)
    _existing(session, at, last, count)
    _run(
        session,
        "cool",
        lambda inventory: inventory.cool_range(
            at, first, last, count=count, days=days, until=until
        ),
        first,
        last,
        count,
        at,
        fmt,
    )


@command("release", group=range_group)
@range_arguments
@formats()
@pass_session
def release(
    session: Session, first: str, last: str | None, count: int | None, at: str, fmt: str | None
) -> None:
    """End the cooling of every number of the range now."""
    _existing(session, at, last, count)
    _run(
        session,
        "release",
        lambda inventory: inventory.release_range(at, first, last, count=count),
        first,
        last,
        count,
        at,
        fmt,
    )


@command("move", group=range_group)
@range_arguments
@click.option("--to", "to", required=True, type=NODE, metavar="NODE", help="The node to move to.")
@formats()
@pass_session
def move(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    to: str,
    fmt: str | None,
) -> None:
    """Move every number of the range to another node, with all it holds.

    Status, uses, E.164 numbers, every field and the history go along, all
    or nothing. Refused when a number would exist twice in the new node's
    line of descent, or when a consumer using a number could not see it from
    there. NODE may be new, under an existing root.

    \b
    numinv range move 4420790010 --count 5 --at sys.acme.uk --to sys.acme.uk.london
    """
    _existing(session, at, last, count)
    new_node = check_new_node(session.inventory(), to, new_root=False, offers_new_root=False)
    _run(
        session,
        "move",
        lambda inventory: inventory.move_range(at, first, last, count=count, to=to),
        first,
        last,
        count,
        at,
        fmt,
        new_node=new_node,
        to=to,
    )
