"""The lifecycle of one number: assign, unassign, reserve, cool, release, E.164, service type.

Each command prints the number as the change left it, on one line (or the
record as JSON with `--json` / `--jsonl`). They need no rich, so they start fast.
"""

from __future__ import annotations

from datetime import datetime

import click

from numinv import Consumer, Inventory, ServiceType
from numinv.cli.options import (
    NODE,
    at_option,
    check_days_or_until,
    consumer_options,
    to_until,
)
from numinv.cli.output import formats, quantity, record_line, write_lines, write_record
from numinv.cli.root import Session, command, pass_session
from numinv.cli.tree import check_node, resolve_kind

__all__ = [
    "activate",
    "assign",
    "assign_next",
    "cool",
    "deactivate",
    "e164",
    "numbers_of",
    "release",
    "reserve",
    "reserve_next",
    "service",
    "sweep",
    "unassign",
    "unreserve",
]


def consumer(
    inventory: Inventory,
    kind: str,
    consumer_id: str,
    at: str,
    vendor: str,
    new_node: bool,
    owner: str = "",
) -> Consumer:
    """The consumer the options name; its node must be known unless `--new-node`."""
    resolved = resolve_kind(inventory.kinds, kind)
    if vendor and not inventory.kinds[resolved].vendor_from_consumer:
        takers = sorted(k for k, v in inventory.kinds.items() if v.vendor_from_consumer)
        raise click.BadParameter(
            f"{resolved} takes its vendor from its kind, not from --vendor "
            f"(only {', '.join(takers) or 'no kind'} do)",
            param_hint="'--vendor'",
        )
    if not new_node:
        check_node(inventory, at, new="Give --new-node for a node that holds no numbers yet.")
    return Consumer(resolved, consumer_id, at, vendor, owner)


def located(session: Session, at: str) -> Inventory:
    """The inventory, once `at` is known to it."""
    inventory = session.inventory()
    check_node(inventory, at)
    return inventory


@command()
@click.argument("number")
@consumer_options
@click.option("--shared", is_flag=True, help="Share a number already in use.")
@click.option("--claim", is_flag=True, help="Claim a reservation (made for this consumer).")
@formats()
@pass_session
def assign(
    session: Session,
    number: str,
    kind: str,
    consumer_id: str,
    at: str,
    vendor: str,
    owner: str,
    new_node: bool,
    shared: bool,
    claim: bool,
    fmt: str | None,
) -> None:
    """Give NUMBER to a consumer.

    A phone line, a hunt pilot, a Teams user, ...

    \b
    numinv assign 4420790001 --kind Phone --id SEP00AABBCCDDEE --at sys.acme.uk.london
    numinv assign 4420790001 --kind HuntPilot --id sales --at sys.acme.uk.london --shared
    """
    inventory = session.inventory()
    who = consumer(inventory, kind, consumer_id, at, vendor, new_node, owner)
    write_record(inventory.assign(number, who, shared=shared, claim=claim), fmt)


@command("assign-next")
@consumer_options
@click.option("--prefix", help="Only numbers starting with these digits.")
@formats()
@pass_session
def assign_next(
    session: Session,
    kind: str,
    consumer_id: str,
    at: str,
    vendor: str,
    owner: str,
    new_node: bool,
    prefix: str | None,
    fmt: str | None,
) -> None:
    """Give a consumer its reserved number, or the first Available one it can see.

    A number reserved for its id or --owner first; else its own node's
    numbers first, then those of each node above it.

    \b
    numinv assign-next --kind CsOnlineUser --id alice@acme.example --at sys.acme.uk.london
    """
    inventory = session.inventory()
    who = consumer(inventory, kind, consumer_id, at, vendor, new_node, owner)
    write_record(inventory.assign_next(who, prefix=prefix), fmt)


@command()
@click.argument("number")
@consumer_options
@formats()
@pass_session
def unassign(
    session: Session,
    number: str,
    kind: str,
    consumer_id: str,
    at: str,
    vendor: str,
    owner: str,
    new_node: bool,
    fmt: str | None,
) -> None:
    """Take NUMBER from a consumer.

    The last use leaves it Available, or Cooling when the kind cools.

    \b
    numinv unassign 4420790001 --kind Phone --id SEP00AABBCCDDEE --at sys.acme.uk.london
    """
    inventory = session.inventory()
    who = consumer(inventory, kind, consumer_id, at, vendor, new_node, owner)
    write_record(inventory.unassign(number, who), fmt)


@command()
@click.argument("number")
@at_option
@click.option("--tag", default="", help="Tag of the reservation.")
@click.option("--notes", default="", help="Reservation notes.")
@click.option("--days", type=click.IntRange(1, 999), help="Lapse after this many days.")
@click.option(
    "--for",
    "reserved_for",
    metavar="PERSON",
    help="Hold it for a person: only a consumer whose id or owner is PERSON may take it.",
)
@formats()
@pass_session
def reserve(
    session: Session,
    number: str,
    at: str,
    tag: str,
    notes: str,
    days: int | None,
    reserved_for: str | None,
    fmt: str | None,
) -> None:
    """Hold NUMBER back, for some days or someone.

    On a reserved number, changes its reservation.

    \b
    numinv reserve 4420790002 --at sys.acme.uk.london --days 14 --for bob --notes "starts 1 May"
    """
    record = located(session, at).reserve(
        number, at, tag=tag, notes=notes, days=days, reserved_for=reserved_for
    )
    write_record(record, fmt)


@command()
@click.argument("number")
@at_option
@formats()
@pass_session
def unreserve(session: Session, number: str, at: str, fmt: str | None) -> None:
    """Remove the reservation of NUMBER and who it is held for.

    A reserved number becomes Available; a used or cooling one keeps its
    status and is no longer held for anybody.
    """
    write_record(located(session, at).unreserve(number, at), fmt)


@command("reserve-next")
@click.option("--at", required=True, type=NODE, metavar="NODE", help="Where to reserve from.")
@click.option("--prefix", help="Only numbers starting with these digits.")
@click.option("--tag", default="", help="Tag of the reservation.")
@click.option("--notes", default="", help="Reservation notes.")
@click.option("--days", type=click.IntRange(1, 999), help="Lapse after this many days.")
@click.option(
    "--for",
    "reserved_for",
    metavar="PERSON",
    help="Hold it for a person: only a consumer whose id or owner is PERSON may take it.",
)
@formats()
@pass_session
def reserve_next(
    session: Session,
    at: str,
    prefix: str | None,
    tag: str,
    notes: str,
    days: int | None,
    reserved_for: str | None,
    fmt: str | None,
) -> None:
    """Reserve the first Available number seen from a node, in one step.

    What `list --at NODE --status Available` would show first; two
    workflows reserving at once never get the same number.

    
    numinv reserve-next --at sys.acme.uk.london --for alice --tag "new starter" --days 14
    """
    record = located(session, at).reserve_next(
        at, prefix=prefix, tag=tag, notes=notes, days=days, reserved_for=reserved_for
    )
    write_record(record, fmt)


@command("numbers-of")
@click.argument("who", metavar="PERSON")
@click.option("--at", type=NODE, metavar="NODE", help="Only numbers in this node's line.")
@formats(json_help="Write the records as a JSON array.")
@pass_session
def numbers_of(session: Session, who: str, at: str | None, fmt: str | None) -> None:
    """List the numbers PERSON (a consumer id or owner) uses or has reserved.

    What to look at when somebody leaves: their devices' numbers and what is
    held for them.

    
    numinv numbers-of alice
    """
    inventory = session.inventory(existing=True)
    check_node(inventory, at)
    found = inventory.numbers_of(who, at=at)
    if fmt is not None:
        from numinv.cli.output import write_records

        write_records(found, fmt)
        return
    for record in found:
        click.echo(record_line(record))
    if not found:
        click.echo(f"{who} uses and holds no numbers", err=True)


@command()
@click.argument("number")
@at_option
@formats()
@pass_session
def activate(session: Session, number: str, at: str, fmt: str | None) -> None:
    """Make an Inactive (Webex Calling) NUMBER Available."""
    write_record(located(session, at).activate(number, at), fmt)


@command()
@click.argument("number")
@at_option
@formats()
@pass_session
def deactivate(session: Session, number: str, at: str, fmt: str | None) -> None:
    """Make an Available NUMBER Inactive: a Webex Calling number not yet active."""
    write_record(located(session, at).deactivate(number, at), fmt)


@command()
@click.argument("number")
@at_option
@click.option("--days", type=click.IntRange(1, 999), help="Cool for this many days.")
@click.option("--until", callback=to_until, metavar="DATE", help="Cool until this ISO date (UTC).")
@formats()
@pass_session
def cool(
    session: Session,
    number: str,
    at: str,
    days: int | None,
    until: datetime | None,
    fmt: str | None,
) -> None:
    """Cool NUMBER, or move its release date.

    For --days days (default: the cooling days setting) or --until a date.

    \b
    numinv cool 4420790003 --at sys.acme.uk.london --until 2026-01-31
    """
    check_days_or_until(days, until)
    write_record(located(session, at).cool(number, at, days=days, until=until), fmt)


@command()
@click.argument("number")
@at_option
@formats()
@pass_session
def release(session: Session, number: str, at: str, fmt: str | None) -> None:
    """End the cooling of NUMBER now.

    Whatever its release date.
    """
    write_record(located(session, at).release(number, at), fmt)


@command()
@formats(json_help="Write the released records as a JSON array.")
@pass_session
def sweep(session: Session, fmt: str | None) -> None:
    """Release every cooling and reservation now due.

    Not needed for correctness (the inventory releases what is due before it
    answers), but it makes the release, and its events, happen now.
    """
    from numinv.serialization import to_dict

    released = session.inventory(existing=True).release_due()  # a new database has nothing due
    if fmt == "json":
        from numinv.cli.output import write_document

        write_document([to_dict(record) for record in released], fmt)
    elif fmt == "jsonl":
        write_lines(to_dict(record) for record in released)
    else:
        for record in released:
            click.echo(record_line(record))
        click.echo(f"released {quantity(len(released), 'number')}")


@click.group(cls=click.Group)
def e164() -> None:
    """Add or remove E.164 numbers of a number."""


@command("add", group=e164)
@click.argument("number")
@click.argument("e164_number", metavar="E164")
@at_option
@click.option("--primary", is_flag=True, help="Make it the primary E.164 number.")
@formats()
@pass_session
def e164_add(
    session: Session, number: str, e164_number: str, at: str, primary: bool, fmt: str | None
) -> None:
    """Point E164 at NUMBER.

    \b
    numinv e164 add 4420790001 +442079000001 --at sys.acme.uk.london --primary
    """
    record = located(session, at).associate_e164(number, at, e164_number, primary=primary)
    write_record(record, fmt, f"{record_line(record)}; E.164 {record.e164_display}")


@command("remove", group=e164)
@click.argument("number")
@click.argument("e164_number", metavar="E164")
@at_option
@formats()
@pass_session
def e164_remove(session: Session, number: str, e164_number: str, at: str, fmt: str | None) -> None:
    """Remove the association of E164 with NUMBER."""
    record = located(session, at).dissociate_e164(number, at, e164_number)
    write_record(record, fmt, f"{record_line(record)}; E.164 {record.e164_display or 'none'}")


@command()
@click.argument("number")
@at_option
@click.option("--subscriber", required=True, help="The subscriber's id.")
@click.option(
    "--type",
    "service_type",
    required=True,
    type=click.Choice([t.value for t in ServiceType], case_sensitive=False),
    metavar="TYPE",
    help=f"The subscriber's service type: {', '.join(ServiceType)} (any case).",
)
@formats()
@pass_session
def service(
    session: Session, number: str, at: str, subscriber: str, service_type: str, fmt: str | None
) -> None:
    """Apply a subscriber's service type.

    Cisco-MS-Hybrid, MS-Only-Entvoice, ...: see docs/multi-vendor.md.

    \b
    numinv service 4420790004 --at sys.acme.uk.london --subscriber carol --type Cisco-MS-Hybrid
    """
    record = located(session, at).apply_service(number, at, subscriber, service_type)
    extras = f", extra2 {record.extra2!r}, extra4 {record.extra4!r}"
    write_record(record, fmt, record_line(record) + extras)
