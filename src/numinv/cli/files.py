"""`numinv export`, `import` and `audit`: records and observations in files."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import click

from numinv import Inventory, NumberRecord, NumInvError, Observation
from numinv.cli.render import audit_changes_table, interactive, out, progress, reading, status
from numinv.cli.root import Failure, Session, pass_session
from numinv.serialization import read_csv, read_json, write_csv, write_json

__all__ = ["audit", "export", "import_records"]

INPUT = click.Path(exists=True, dir_okay=False, allow_dash=True)
AUDIT_COLUMNS = ("number", "kind", "id", "hierarchy")


def _format(given: str | None, path: str | None) -> str:
    if given:
        return given
    return "json" if path and path.lower().endswith(".json") else "csv"


def _total(inventory: Inventory, at: str | None, only: bool) -> int:
    usage = inventory.utilization(at)
    if only and at is not None:
        return usage[at].total if at in usage else 0
    return sum(node.total for node in usage.values())


def _write(records: Iterable[NumberRecord], fmt: str, stream: TextIO) -> int:
    return write_json(records, stream) if fmt == "json" else write_csv(records, stream)


@click.command()
@click.option("--at", metavar="NODE", help="Only this node and the nodes below it.")
@click.option("--only", is_flag=True, help="With --at: that node only.")
@click.option("--json", "fmt", flag_value="json", help="JSON (default for a .json file).")
@click.option("--csv", "fmt", flag_value="csv", help="CSV (the default).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write to this file instead of stdout.",
)
@pass_session
def export(
    session: Session, at: str | None, only: bool, fmt: str | None, output: str | None
) -> None:
    """Write every record (or those at and below a node) as CSV or JSON.

    \b
    numinv export -o inventory.json
    numinv export --at sys.acme.uk --csv > uk.csv
    """
    inventory = session.inventory(existing=True)
    fmt = _format(fmt, output)
    records = inventory.search(at=at, below=not only)
    if output is None or output == "-":
        _write(records, fmt, sys.stdout)
        return
    target = Path(output)
    # Written beside the target and renamed at the end: no half-written export.
    partial = target.with_name(target.name + ".partial")
    total = _total(inventory, at, only) if interactive() else None
    try:
        stream = partial.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise Failure(f"cannot write {target}: {error.strerror or error}") from error
    try:
        with progress() as bar, stream:
            count = _write(bar.track(records, total=total, description="Exporting"), fmt, stream)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"exported {count} records to {target}", err=True)


@click.command("import")
@click.argument("path", metavar="FILE", type=INPUT)
@click.option("--json", "fmt", flag_value="json", help="JSON (default for a .json file).")
@click.option("--csv", "fmt", flag_value="csv", help="CSV (the default).")
@pass_session
def import_records(session: Session, path: str, fmt: str | None) -> None:
    """Store the records of an export (CSV or JSON; - for stdin), all or none.

    \b
    numinv --db copy.db import inventory.json
    """
    fmt = _format(fmt, path)
    inventory = session.inventory()
    with reading(path, "Reading") as stream:
        records = list(read_json(stream) if fmt == "json" else read_csv(stream))
    with status(f"Importing {len(records)} records ..."):
        count = inventory.import_records(records)
    click.echo(f"imported {count} records")


class Observations:
    """The observations of an audit CSV; `line` is the line of the last one yielded."""

    def __init__(self, stream: TextIO, name: str, session: Session) -> None:
        self.stream, self.name, self.session = stream, name, session
        self.line = 0
        self.done = False

    def __iter__(self) -> Iterator[Observation]:
        reader = csv.DictReader(self.stream)
        missing = [c for c in AUDIT_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise Failure(
                f"{self.name}: an audit CSV needs the columns number,kind,id,hierarchy[,vendor]; "
                f"missing {','.join(missing)}"
            )
        for row in reader:
            self.line = reader.line_num
            number, kind, consumer_id, node, vendor = (
                (row.get(column) or "").strip() for column in (*AUDIT_COLUMNS, "vendor")
            )
            yield Observation(number, self.session.consumer(kind, consumer_id, node, vendor))
        self.done = True


@click.command()
@click.argument("path", metavar="FILE", type=INPUT)
@click.option("--at", metavar="NODE", help="Audit only this node and the nodes below it.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--add-missing", is_flag=True, help="Add observed numbers the inventory lacks.")
@click.option("--changes", "show_changes", is_flag=True, help="List every change as a table.")
@pass_session
def audit(
    session: Session,
    path: str,
    at: str | None,
    dry_run: bool,
    add_missing: bool,
    show_changes: bool,
) -> None:
    """Reconcile the inventory with what the UC applications use (a CSV; - for stdin).

    FILE has the columns number,kind,id,hierarchy and optionally vendor: one
    row per number a consumer really uses.

    \b
    numinv audit observed.csv --at sys.acme --dry-run
    """
    inventory = session.inventory(existing=dry_run)
    name = "stdin" if path == "-" else path
    with reading(path, "Auditing") as stream:
        observations = Observations(stream, name, session)
        try:
            result = inventory.audit(observations, at=at, fix=not dry_run, add_missing=add_missing)
        except NumInvError as error:
            if observations.line and not observations.done:
                raise Failure(f"{name} line {observations.line}: {error}") from error
            raise
    click.echo(str(result))
    if show_changes and result.changes:
        out().print(audit_changes_table(result))
