"""`numinv configure`: the settings of one hierarchy node (SPEC 19), shown or set."""

from __future__ import annotations

from typing import Any

import click

from numinv.cli.options import NODE, to_share
from numinv.cli.output import formats, percent, quantity, write_document
from numinv.cli.root import Session, command, pass_session
from numinv.cli.tree import check_node

__all__ = ["configure"]

_INHERIT = "inherit"


def _switch(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    """`on`, `off` or `inherit` (None: not given)."""
    if value is None:
        return None
    return {"on": True, "off": False, _INHERIT: _INHERIT}[value.lower()]


def _days(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    """Whole days from 1 to 999, or `inherit`."""
    if value is None or value.lower() == _INHERIT:
        return None if value is None else _INHERIT
    if not value.isdigit() or not 1 <= int(value) <= 999:
        raise click.BadParameter(f"{value!r} is not a number of days from 1 to 999 or inherit")
    return int(value)


def _threshold(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    if value is None or value.lower() == _INHERIT:
        return None if value is None else _INHERIT
    return to_share(ctx, param, value)


_CHOICE = click.Choice(["on", "off", _INHERIT], case_sensitive=False)


@command()
@click.argument("node", type=NODE)
@click.option("--cooling", type=_CHOICE, callback=_switch, help="Automatic cooling here.")
@click.option("--days", callback=_days, metavar="DAYS|inherit", help="Cooling days here.")
@click.option(
    "--audiocodes-days",
    callback=_days,
    metavar="DAYS|inherit",
    help="Cooling days of AudioCodes numbers here.",
)
@click.option(
    "--duplicates",
    type=click.Choice(["prevent", "allow", _INHERIT], case_sensitive=False),
    help="Whether a number here must be unique in the whole tree.",
)
@click.option(
    "--threshold",
    callback=_threshold,
    metavar="SHARE|inherit",
    help="A node is low under this share Available (10% or 0.1).",
)
@formats(json_help="Write the settings in force as JSON.")
@pass_session
def configure(
    session: Session,
    node: str,
    cooling: object,
    days: object,
    audiocodes_days: object,
    duplicates: str | None,
    threshold: object,
    fmt: str | None,
) -> None:
    """Show or set the settings in force at a node (cooling, duplicates, threshold).

    A node's settings apply at it and below it; `inherit` takes a setting
    back to its nearest ancestor's (then the inventory's). Stored in the
    database, so every program using it sees them. Without options: show
    what is in force at NODE.

    \b
    numinv configure sys.acme.uk --cooling on --days 60
    numinv configure sys.acme.uk.leeds --cooling off --threshold 5%
    numinv configure sys.acme.uk.leeds --cooling inherit
    """
    inventory = session.inventory()
    check_node(inventory, node)
    given = {
        "auto_cooling": cooling,
        "cooling_days": days,
        "audiocodes_cooling_days": audiocodes_days,
        "prevent_duplicates": None
        if duplicates is None
        else {"prevent": True, "allow": False}.get(duplicates.lower(), _INHERIT),
        "exhaustion_threshold": threshold,
    }
    if any(value is not None for value in given.values()):
        current = inventory.repository.node_settings([node]).get(node)
        values: dict[str, Any] = {}
        for name, value in given.items():
            if value is None:
                values[name] = None if current is None else getattr(current, name)
            else:
                values[name] = None if value == _INHERIT else value
        inventory.configure(node, **values)
    settings = inventory.settings_at(node)
    shown = {
        "hierarchy": node,
        "auto_cooling": settings.auto_cooling,
        "cooling_days": settings.cooling_days,
        "audiocodes_cooling_days": settings.audiocodes_cooling_days,
        "prevent_duplicates": settings.prevent_duplicates,
        "exhaustion_threshold": settings.exhaustion_threshold,
    }
    if fmt is not None:
        write_document(shown, fmt)
        return
    duplicates = "prevented" if settings.prevent_duplicates else "allowed"
    click.echo(
        f"{node}: auto cooling {'on' if settings.auto_cooling else 'off'}, "
        f"cooling {quantity(settings.cooling_days, 'day')}, "
        f"AudioCodes {quantity(settings.audiocodes_cooling_days, 'day')}, "
        f"duplicates {duplicates}, low under {percent(settings.exhaustion_threshold)} Available"
    )
