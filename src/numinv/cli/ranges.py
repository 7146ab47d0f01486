"""`numinv range ...`: load, change and remove numbers a range at a time (all or nothing)."""

from __future__ import annotations

from datetime import datetime

import click

from numinv import RangeResult
from numinv.cli.options import range_arguments, to_extras, to_until
from numinv.cli.render import status
from numinv.cli.root import Session, pass_session

__all__ = ["range_group"]


def _numbers(count: int) -> str:
    return f"{count} number{'' if count == 1 else 's'}"


def _where(first: str, last: str | None, count: int | None) -> str:
    if count is not None:
        return f"{first} (+{count})"
    return f"{first}..{last}" if last else first


@click.group("range")
def range_group() -> None:
    """Load, update, reserve, cool, release or delete a range of numbers at one node."""


@range_group.command("add")
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
    help="An extra field, 3=value.",
)
@click.option("--skip-existing", is_flag=True, help="Leave numbers already at the node alone.")
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
) -> None:
    """Load the numbers FIRST..LAST (or FIRST and --count more) at a node, all or none.

    \b
    numinv range add 4420790000 4420799999 --at sys.acme.uk.london
    numinv range add +27110001000 --count 500 --at sys.acme.za --vendor Microsoft \\
        --type "Calling Plan"
    """
    inventory = session.inventory()
    # One add_range call keeps the load all-or-nothing; a spinner, not a bar, shows it runs.
    with status(f"Loading {_where(first, last, count)} at {at} ..."):
        added = inventory.add_range(
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
        )
    click.echo(f"added {_numbers(added)} at {at}")


@range_group.command("update")
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
    help="Set an extra field, 3=value.",
)
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
    changed = session.inventory().update_range(at, first, last, count=count, **fields)
    click.echo(f"updated {_numbers(changed)} at {at}")


@range_group.command("delete")
@range_arguments
@click.option("--skip-unavailable", is_flag=True, help="Delete the Available ones, leave the rest.")
@pass_session
def delete(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    skip_unavailable: bool,
) -> None:
    """Remove the numbers of the range at a node; refused if any is not Available."""
    deleted = session.inventory().delete_range(
        at, first, last, count=count, skip_unavailable=skip_unavailable
    )
    click.echo(f"deleted {_numbers(deleted)} at {at}")
    skipped = deleted.skipped if isinstance(deleted, RangeResult) else ()
    if skipped:
        shown = ", ".join(skipped[:10]) + (
            f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        )
        click.echo(f"left {_numbers(len(skipped))} that are not Available: {shown}")


@range_group.command("reserve")
@range_arguments
@click.option("--tag", default="", help="Tag of the reservation.")
@click.option("--notes", default="", help="Reservation notes.")
@click.option("--days", type=click.IntRange(1, 999), help="Lapse after this many days.")
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
) -> None:
    """Reserve every number of the range (all Available, or already Reserved)."""
    changed = session.inventory().reserve_range(
        at, first, last, count=count, tag=tag, notes=notes, days=days
    )
    click.echo(f"reserved {_numbers(changed)} at {at}")


@range_group.command("unreserve")
@range_arguments
@pass_session
def unreserve(session: Session, first: str, last: str | None, count: int | None, at: str) -> None:
    """Make every reserved number of the range Available again."""
    changed = session.inventory().unreserve_range(at, first, last, count=count)
    click.echo(f"unreserved {_numbers(changed)} at {at}")


@range_group.command("cool")
@range_arguments
@click.option("--days", type=click.IntRange(1, 999), help="Cool for this many days.")
@click.option("--until", callback=to_until, metavar="DATE", help="Cool until this ISO date (UTC).")
@pass_session
def cool(
    session: Session,
    first: str,
    last: str | None,
    count: int | None,
    at: str,
    days: int | None,
    until: datetime | None,
) -> None:
    """Cool every number of the range (default: the cooling days setting), or move its date."""
    changed = session.inventory().cool_range(at, first, last, count=count, days=days, until=until)
    click.echo(f"cooling {_numbers(changed)} at {at}")


@range_group.command("release")
@range_arguments
@pass_session
def release(session: Session, first: str, last: str | None, count: int | None, at: str) -> None:
    """End the cooling of every number of the range now."""
    changed = session.inventory().release_range(at, first, last, count=count)
    click.echo(f"released {_numbers(changed)} at {at}")
