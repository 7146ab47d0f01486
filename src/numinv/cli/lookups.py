"""`numinv list`, `show` and `report`: reading the inventory."""

from __future__ import annotations

from typing import Any

import click

from numinv import Status, Usage
from numinv.cli.options import NODE, at_option, to_cursor, to_share
from numinv.cli.output import formats, percent, write_document, write_lines, write_records
from numinv.cli.root import Session, command, pass_session
from numinv.cli.tree import check_node

__all__ = ["list_numbers", "report", "show"]

# A table is for reading: past this many rows, --limit or --json/--jsonl/--csv say what is wanted.
TABLE_ROWS = 1000


@command("list")
@click.option("--at", type=NODE, metavar="NODE", help="Only this node and the nodes below it.")
@click.option("--only", is_flag=True, help="With --at: that node only, not the nodes below.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in Status], case_sensitive=False),
    metavar="STATUS",
    help=f"One of {', '.join(Status)} (any case).",
)
@click.option(
    "--usage",
    type=click.Choice([u.value for u in Usage], case_sensitive=False),
    metavar="USAGE",
    help=f"Numbers with this usage: {', '.join(Usage)} (any case).",
)
@click.option("--vendor", help="Numbers showing this vendor (Cisco for the blank vendor).")
@click.option("--prefix", help="Numbers starting with these digits.")
@click.option("--tag", help="Numbers with exactly this tag.")
@click.option(
    "--limit", type=click.IntRange(min=0), help=f"At most this many (table: {TABLE_ROWS})."
)
@click.option(
    "--after",
    callback=to_cursor,
    metavar="NUMBER[@NODE]",
    help="Resume after NUMBER, or after NUMBER@NODE.",
)
@formats("csv", json_help="Write a JSON array (one record a line).")
@pass_session
def list_numbers(
    session: Session,
    at: str | None,
    only: bool,
    status: str | None,
    usage: str | None,
    vendor: str | None,
    prefix: str | None,
    tag: str | None,
    limit: int | None,
    after: str | tuple[str, str] | None,
    fmt: str | None,
) -> None:
    """List numbers as a table, JSON or CSV.

    Sorted by number and node. A table shows the number, its node and its
    status always, and the other columns as the terminal's width allows.

    \b
    numinv list --at sys.acme.uk --status Available --limit 20
    numinv list --usage Hunt_Pilot --csv > pilots.csv
    """
    if only and at is None:
        raise click.UsageError("--only says which node: give it with --at")
    inventory = session.inventory(existing=True)
    check_node(inventory, at)
    wanted = limit if fmt or limit is not None else TABLE_ROWS + 1
    records = inventory.search(
        at=at,
        below=not only,
        status=status,
        usage=usage,
        vendor=vendor,
        prefix=prefix,
        tag=tag,
        limit=wanted,
        after=after,
    )
    if fmt is not None:
        write_records(records, fmt)
        return
    from numinv.cli.render import out, records_table

    rows = list(records)
    console = out()
    shown = rows if limit is not None else rows[:TABLE_ROWS]  # --limit says how many
    console.print(records_table(shown, console.width))
    if len(rows) > len(shown):
        click.echo(
            f"(the first {TABLE_ROWS} shown; give --limit, or --json, --jsonl or --csv for all)",
            err=True,
        )
    elif not rows:
        click.echo("no numbers match", err=True)


@command()
@click.argument("number")
@at_option
@formats(json_help="Write the record as JSON.")
@pass_session
def show(session: Session, number: str, at: str, fmt: str | None) -> None:
    """Show one number's fields and its uses.

    The number is the one visible from the node (walking up), as `assign`
    would find it.

    \b
    numinv show 4420790001 --at sys.acme.uk.london
    """
    inventory = session.inventory(existing=True)
    check_node(inventory, at)
    record = inventory.get(number, at)
    if fmt is not None:
        from numinv.serialization import to_dict

        write_document(to_dict(record), fmt)
        return
    from numinv.cli.render import out, record_view

    console = out()
    console.print(record_view(record, console.width))


@command()
@click.option("--at", type=NODE, metavar="NODE", help="Only this node and the nodes below it.")
@click.option(
    "--below",
    callback=to_share,
    metavar="SHARE",
    help="Flag nodes with less than this share Available (10% or 0.1); default: the "
    "threshold in force at each node (configure --threshold, else 10%).",
)
@formats(json_help="Write the report as JSON.")
@pass_session
def report(session: Session, at: str | None, below: float | None, fmt: str | None) -> None:
    """Utilization per node; low nodes flagged.

    Per node at or below --at: its numbers in each status and the share
    Available; nodes under their threshold are flagged LOW and named last.

    \b
    numinv report --at sys.acme --below 15%
    """
    inventory = session.inventory(existing=True)
    check_node(inventory, at)
    usage = inventory.utilization(at) if below is None else inventory.utilization(at, below=below)
    nodes: list[dict[str, Any]] = [
        {
            "hierarchy": node.hierarchy,
            "total": node.total,
            # Every status, Inactive too, so that a program finds each key on every node.
            "counts": {str(status): node.counts.get(status, 0) for status in Status},
            "available_share": node.available_share,
            "low": node.low,
            "threshold": node.threshold,
        }
        for node in usage.values()
    ]
    if fmt == "json":
        write_document({"threshold": usage.threshold, "nodes": nodes}, fmt)
        return
    if fmt == "jsonl":
        write_lines({"threshold": usage.threshold, **node} for node in nodes)
        return
    from numinv.cli.render import out, utilization_table

    console = out()
    console.print(utilization_table(usage, console.width))
    low = usage.low
    flagged = f": {', '.join(node.hierarchy for node in low)}" if low else ""
    count = "1 node" if len(usage) == 1 else f"{len(usage)} nodes"
    thresholds = {node.threshold for node in usage.values()} or {usage.threshold}
    under = (
        f"with less than {percent(thresholds.pop())} Available"
        if len(thresholds) == 1
        else "with less Available than its threshold"
    )
    click.echo(f"{count}, {len(low)} {under}{flagged}")
