"""`numinv list`, `show` and `report`: reading the inventory."""

from __future__ import annotations

import json
import sys

import click

from numinv import Status, Usage
from numinv.cli.options import at_option, to_cursor, to_share
from numinv.cli.render import out, record_view, records_table, utilization_table
from numinv.cli.root import Session, pass_session
from numinv.serialization import to_dict, write_csv, write_json

__all__ = ["list_numbers", "report", "show"]

# A table is for reading: past this many rows, --limit or --json/--csv say what is wanted.
TABLE_ROWS = 1000


@click.command("list")
@click.option("--at", metavar="NODE", help="Only this node and the nodes below it.")
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
@click.option("--json", "fmt", flag_value="json", help="Write JSON (one record a line).")
@click.option("--csv", "fmt", flag_value="csv", help="Write CSV with a header.")
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
    """List numbers, sorted by number and node, as a table, JSON or CSV.

    \b
    numinv list --at sys.acme.uk --status Available --limit 20
    numinv list --usage Hunt_Pilot --csv > pilots.csv
    """
    inventory = session.inventory(existing=True)
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
    if fmt == "json":
        write_json(records, sys.stdout)
    elif fmt == "csv":
        write_csv(records, sys.stdout)
    else:
        rows = list(records)
        out().print(records_table(rows[:TABLE_ROWS]))
        if len(rows) > TABLE_ROWS and limit is None:
            click.echo(
                f"(the first {TABLE_ROWS} shown; give --limit, or --json or --csv for all)",
                err=True,
            )


@click.command()
@click.argument("number")
@at_option
@click.option("--json", "as_json", is_flag=True, help="Write the record as JSON.")
@pass_session
def show(session: Session, number: str, at: str, as_json: bool) -> None:
    """Show the number visible from a node: its fields and its uses.

    \b
    numinv show 4420790001 --at sys.acme.uk.london
    """
    record = session.inventory(existing=True).get(number, at)
    if as_json:
        click.echo(json.dumps(to_dict(record), indent=2, ensure_ascii=False, sort_keys=True))
    else:
        out().print(record_view(record))


@click.command()
@click.option("--at", metavar="NODE", help="Only this node and the nodes below it.")
@click.option(
    "--below",
    callback=to_share,
    metavar="SHARE",
    default="10%",
    show_default=True,
    help="Flag nodes with less than this share Available (10% or 0.1).",
)
@click.option("--json", "as_json", is_flag=True, help="Write the report as JSON.")
@pass_session
def report(session: Session, at: str | None, below: float, as_json: bool) -> None:
    """Utilization per node: numbers in each status, share Available, low nodes flagged.

    \b
    numinv report --at sys.acme --below 15%
    """
    usage = session.inventory(existing=True).utilization(at, below=below)
    if as_json:
        nodes = [
            {
                "hierarchy": node.hierarchy,
                "total": node.total,
                "counts": {str(status): count for status, count in node.counts.items()},
                "available_share": node.available_share,
                "low": node.low,
            }
            for node in usage.values()
        ]
        click.echo(json.dumps({"threshold": usage.threshold, "nodes": nodes}, indent=2))
        return
    out().print(utilization_table(usage))
    low = usage.low
    flagged = f": {', '.join(node.hierarchy for node in low)}" if low else ""
    count = "1 node" if len(usage) == 1 else f"{len(usage)} nodes"
    click.echo(f"{count}, {len(low)} with less than {usage.threshold:.0%} Available{flagged}")
