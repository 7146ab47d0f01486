"""`numinv history` and `numinv changes`: the journal, for people and for programs (SPEC 15)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from numinv.cli.errors import moment, printable, words
from numinv.cli.options import NODE
from numinv.cli.output import formats, write_document, write_lines
from numinv.cli.root import Session, command, pass_session
from numinv.cli.tree import check_node
from numinv.errors import StorageError

if TYPE_CHECKING:
    from rich.table import Table

    from numinv import Change, NumberRecord

__all__ = ["change_data", "change_line", "changes", "history", "history_table"]

_PAGE = 1000
_LONGEST_PAUSE = 60.0  # seconds a follower waits at most before asking a failing store again


def _state(record: NumberRecord | None) -> str:
    if record is None:
        return "-"
    return str(record.status) + (f" (for {record.reserved_for})" if record.reserved_for else "")


def change_line(change: Change) -> str:
    """One line: seq, time, operation, number at node, status before and after, who."""
    who = f" by {change.actor}" if change.actor else ""
    moved = ""
    if change.before is not None and change.before.hierarchy != change.hierarchy:
        moved = f" from {change.before.hierarchy}"
    return printable(
        f"{change.seq} {moment(change.at)} {change.operation} {change.number} at "
        f"{change.hierarchy}{moved}: {_state(change.before)} -> {_state(change.after)}{who}"
    )


def change_data(change: Change) -> dict[str, Any]:
    """A change as plain data; its records in the export form."""
    from numinv.serialization import to_dict

    return {
        "seq": change.seq,
        "operation": change.operation,
        "number": change.number,
        "hierarchy": change.hierarchy,
        "at": change.at.isoformat(),
        "actor": change.actor,
        "before": None if change.before is None else to_dict(change.before),
        "after": None if change.after is None else to_dict(change.after),
    }


def history_table(changes: Iterable[Change], width: int, *, title: str) -> Table:
    """The changes as a table that fits `width`: seq, time, operation and statuses first."""
    from rich.text import Text

    from numinv.cli.render import Col, fitted

    columns = (
        Col("Seq", justify="right"),
        Col("When"),
        Col("Operation"),
        Col("Node", 2),
        Col("Before", wrap=True),
        Col("After", wrap=True),
        Col("By", 1),
    )
    rows = [
        [
            Text(str(change.seq)),
            Text(moment(change.at)),
            Text(change.operation),
            Text(change.hierarchy),
            Text(_state(change.before)),
            Text(_state(change.after)),
            Text(change.actor or ""),
        ]
        for change in changes
    ]
    return fitted(columns, rows, width, title=title)


@command()
@click.argument("number")
@click.option("--at", type=NODE, metavar="NODE", help="Only the record a consumer there sees.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many, oldest first.")
@formats(json_help="Write the changes as a JSON array.")
@pass_session
def history(
    session: Session, number: str, at: str | None, limit: int | None, fmt: str | None
) -> None:
    """Show every change of NUMBER, oldest first: who had it, and when.

    Without --at, the number at every node; with --at, the record visible
    from that node, followed back through its moves.

    \b
    numinv history 4420790001
    numinv history 4420790001 --at sys.acme.uk.london --jsonl
    """
    inventory = session.inventory(existing=True)
    check_node(inventory, at)
    found = inventory.history(number, at=at, limit=limit)
    if fmt == "json":
        write_document([change_data(change) for change in found], fmt)
        return
    if fmt == "jsonl":
        write_lines(change_data(change) for change in found)
        return
    if not found:
        if limit != 0:  # --limit 0 asks for none: nothing to say
            click.echo(f"no changes of {number} are journaled", err=True)
        return
    from numinv.cli.render import out

    console = out()
    console.print(history_table(found, console.width, title=f"History of {number}"))


class _Seconds(click.FloatRange):
    """A pause: 0.05 s to an hour, not NaN (which every comparison lets through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


_SECONDS = _Seconds(0.05, 3600)


@command()
@click.option(
    "--after",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Start after SEQ.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1_000_000),
    help="At most this many (without --follow).",
)
@click.option("--follow", is_flag=True, help="Keep reading new changes until interrupted.")
@click.option(
    "--every",
    type=_SECONDS,
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="With --follow: how often to look for new changes.",
)
@formats(json_help="Write a JSON array (not with --follow: use --jsonl).")
@pass_session
def changes(
    session: Session,
    after: int,
    limit: int | None,
    follow: bool,
    every: float,
    fmt: str | None,
) -> None:
    """Print the change feed: every committed change after SEQ, in commit order.

    A follower keeps the seq of the last change it handled and asks for the
    changes after it; nothing committed is ever missed. --follow does that
    in a loop (Ctrl-C stops it).

    \b
    numinv changes --after 1200 --jsonl
    numinv changes --follow --jsonl | my-sync-job
    """
    if follow and fmt == "json":
        raise click.UsageError("--follow writes one change a line: use --jsonl")
    if follow and limit is not None:
        raise click.UsageError("--follow reads until interrupted: leave out --limit")
    given = click.get_current_context().get_parameter_source("every")
    if not follow and given is not ParameterSource.DEFAULT:
        raise click.UsageError("--every says how often --follow looks: give --follow too")
    inventory = session.inventory(existing=True)
    found: list[Change] = []
    last = after
    pause = every
    try:
        while True:
            try:
                page = inventory.changes(after=last, limit=_PAGE if limit is None else limit)
            except StorageError as error:
                if not follow:
                    raise
                # A follower outlives a restarted server: it asks again after `last`,
                # so it misses nothing, waiting longer each time up to a minute.
                pause = min(max(pause * 2, 1.0), _LONGEST_PAUSE)
                click.echo(
                    f"numinv: warning: {words(str(error))}; asking again in {pause:g} s",
                    err=True,
                )
                time.sleep(pause)
                continue
            pause = every
            if limit is not None:
                page = page[: limit - len(found)]
            if page:
                last = page[-1].seq
                if fmt == "json":
                    found += page
                else:
                    _emit(page, fmt)
                    if limit is not None:
                        found += page
            if limit is not None and len(found) >= limit:
                break
            if not follow and len(page) < _PAGE:
                break
            if follow and not page:
                time.sleep(every)
    except KeyboardInterrupt:
        return
    if fmt == "json":
        write_document([change_data(change) for change in found], fmt)


def _emit(page: list[Change], fmt: str | None) -> None:
    if fmt == "jsonl":
        write_lines(change_data(change) for change in page)
    else:
        for change in page:
            click.echo(change_line(change))
