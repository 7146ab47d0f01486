"""The lifecycle of one number: assign, unassign, reserve, cool, release, E.164, service type.

Each command prints the number as the change left it, on one line.
"""

from __future__ import annotations

from datetime import datetime

import click

from numinv import NumberRecord, ServiceType
from numinv.cli.options import at_option, consumer_options, to_until
from numinv.cli.render import record_line
from numinv.cli.root import Session, pass_session

__all__ = [
    "assign",
    "assign_next",
    "cool",
    "e164",
    "release",
    "reserve",
    "service",
    "sweep",
    "unassign",
    "unreserve",
]


def _done(record: NumberRecord) -> None:
    click.echo(record_line(record))


@click.command()
@click.argument("number")
@consumer_options
@click.option("--shared", is_flag=True, help="Share a number already in use.")
@click.option("--claim", is_flag=True, help="Claim a reservation (made for this consumer).")
@pass_session
def assign(
    session: Session,
    number: str,
    kind: str,
    consumer_id: str,
    at: str,
    vendor: str,
    shared: bool,
    claim: bool,
) -> None:
    """Give NUMBER to a consumer (phone line, hunt pilot, Teams user, ...).

    \b
    numinv assign 4420790001 --kind Phone --id SEP00AABBCCDDEE --at sys.acme.uk.london
    numinv assign 4420790001 --kind HuntPilot --id sales --at sys.acme.uk.london --shared
    """
    consumer = session.consumer(kind, consumer_id, at, vendor)
    _done(session.inventory().assign(number, consumer, shared=shared, claim=claim))


@click.command("assign-next")
@consumer_options
@click.option("--prefix", help="Only numbers starting with these digits.")
@pass_session
def assign_next(
    session: Session, kind: str, consumer_id: str, at: str, vendor: str, prefix: str | None
) -> None:
    """Give a consumer the first Available number visible from its node (its own node first).

    \b
    numinv assign-next --kind CsOnlineUser --id alice@acme.example --at sys.acme.uk.london
    """
    consumer = session.consumer(kind, consumer_id, at, vendor)
    _done(session.inventory().assign_next(consumer, prefix=prefix))


@click.command()
@click.argument("number")
@consumer_options
@pass_session
def unassign(
    session: Session, number: str, kind: str, consumer_id: str, at: str, vendor: str
) -> None:
    """Take NUMBER from a consumer; the last use leaves it Available or Cooling.

    \b
    numinv unassign 4420790001 --kind Phone --id SEP00AABBCCDDEE --at sys.acme.uk.london
    """
    consumer = session.consumer(kind, consumer_id, at, vendor)
    _done(session.inventory().unassign(number, consumer))


@click.command()
@click.argument("number")
@at_option
@click.option("--tag", default="", help="Tag of the reservation.")
@click.option("--notes", default="", help="Reservation notes.")
@click.option("--days", type=click.IntRange(1, 999), help="Lapse after this many days.")
@click.option("--for", "reserved_for", metavar="ID", help="Only this consumer id may claim it.")
@pass_session
def reserve(
    session: Session,
    number: str,
    at: str,
    tag: str,
    notes: str,
    days: int | None,
    reserved_for: str | None,
) -> None:
    """Hold NUMBER back (or change its reservation), optionally for some days or one consumer.

    \b
    numinv reserve 4420790002 --at sys.acme.uk.london --days 14 --for bob --notes "starts 1 May"
    """
    record = session.inventory().reserve(
        number, at, tag=tag, notes=notes, days=days, reserved_for=reserved_for
    )
    _done(record)


@click.command()
@click.argument("number")
@at_option
@pass_session
def unreserve(session: Session, number: str, at: str) -> None:
    """Make a reserved NUMBER Available again."""
    _done(session.inventory().unreserve(number, at))


@click.command()
@click.argument("number")
@at_option
@click.option("--days", type=click.IntRange(1, 999), help="Cool for this many days.")
@click.option("--until", callback=to_until, metavar="DATE", help="Cool until this ISO date (UTC).")
@pass_session
def cool(session: Session, number: str, at: str, days: int | None, until: datetime | None) -> None:
    """Cool an Available NUMBER (default: the cooling days setting), or move its release date.

    \b
    numinv cool 4420790003 --at sys.acme.uk.london --until 2026-01-31
    """
    _done(session.inventory().cool(number, at, days=days, until=until))


@click.command()
@click.argument("number")
@at_option
@pass_session
def release(session: Session, number: str, at: str) -> None:
    """End the cooling of NUMBER now, whatever its release date."""
    _done(session.inventory().release(number, at))


@click.command()
@pass_session
def sweep(session: Session) -> None:
    """Release every cooling and timed reservation whose date has come.

    Not needed for correctness (the inventory releases what is due before it
    answers), but it makes the release, and its events, happen now.
    """
    released = session.inventory().release_due()
    for record in released:
        _done(record)
    click.echo(f"released {len(released)} number{'' if len(released) == 1 else 's'}")


@click.group()
def e164() -> None:
    """Associate E.164 numbers with a directory number, or remove them."""


@e164.command("add")
@click.argument("number")
@click.argument("e164_number", metavar="E164")
@at_option
@click.option("--primary", is_flag=True, help="Make it the primary E.164 number.")
@pass_session
def e164_add(session: Session, number: str, e164_number: str, at: str, primary: bool) -> None:
    """Point E164 at NUMBER.

    \b
    numinv e164 add 4420790001 +442079000001 --at sys.acme.uk.london --primary
    """
    record = session.inventory().associate_e164(number, at, e164_number, primary=primary)
    click.echo(f"{record_line(record)}; E.164 {record.e164_display}")


@e164.command("remove")
@click.argument("number")
@click.argument("e164_number", metavar="E164")
@at_option
@pass_session
def e164_remove(session: Session, number: str, e164_number: str, at: str) -> None:
    """Remove the association of E164 with NUMBER."""
    record = session.inventory().dissociate_e164(number, at, e164_number)
    click.echo(f"{record_line(record)}; E.164 {record.e164_display or 'none'}")


@click.command()
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
@pass_session
def service(session: Session, number: str, at: str, subscriber: str, service_type: str) -> None:
    """Apply a subscriber's service type (Cisco-MS-Hybrid, MS-Only-Entvoice, ...) to NUMBER.

    \b
    numinv service 4420790004 --at sys.acme.uk.london --subscriber carol --type Cisco-MS-Hybrid
    """
    record = session.inventory().apply_service(number, at, subscriber, service_type)
    extras = f", extra2 {record.extra2!r}, extra4 {record.extra4!r}"
    click.echo(record_line(record) + extras)
