"""How the command shows things: record lines and tables, reports, progress on a terminal.

Progress goes to stderr and only when both stdout and stderr are terminals,
so piped or redirected output stays clean. Text from the inventory is
always passed to rich as `Text`, never as markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.progress import Progress, SpinnerColumn
from rich.table import Column, Table
from rich.text import Text

from numinv import AuditReport, NumberRecord, Status, Utilization, cucm_form

__all__ = [
    "audit_changes_table",
    "count_column",
    "interactive",
    "moment",
    "node_column",
    "out",
    "progress",
    "reading",
    "record_line",
    "record_view",
    "records_table",
    "status",
    "utilization_table",
]

_PIPED_WIDTH = 200  # rich would squeeze a table into 80 columns when it cannot ask a terminal
STATUS_STYLE = {
    Status.AVAILABLE: "green",
    Status.USED: "cyan",
    Status.USED_UTILITY: "blue",
    Status.COOLING: "yellow",
    Status.RESERVED: "magenta",
}


def interactive() -> bool:
    """Whether a person watches: stdout and stderr are both terminals."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def out() -> Console:
    """The console for results on stdout; piped tables keep their natural width."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, width=_PIPED_WIDTH if piped else None)


def progress() -> Progress:
    """A transient progress bar on stderr, disabled unless `interactive()`."""
    return Progress(
        SpinnerColumn(),
        *Progress.get_default_columns(),
        console=Console(stderr=True),
        transient=True,
        disable=not interactive(),
    )


def node_column(nodes: Iterable[str]) -> Column:
    """The column of node paths: never shortened, other columns give way."""
    return Column("Node", no_wrap=True, min_width=max(map(len, nodes), default=4))


def count_column(header: str, width: int) -> Column:
    """Right-aligned counts, never cut: on a narrow terminal the header folds instead."""
    return Column(header, justify="right", overflow="fold", min_width=width)


def status(message: str) -> AbstractContextManager[Any]:
    """A spinner on stderr while work without steps to count runs (quiet when piped)."""
    return Console(stderr=True).status(message) if interactive() else nullcontext()


@contextmanager
def reading(path: str, description: str) -> Iterator[TextIO]:
    """Open a UTF-8 text file (a BOM is skipped), `-` for stdin, with a bar of bytes read.

    The spinner keeps turning once the file is read while the work on it goes on.
    """
    if path == "-":
        yield sys.stdin
        return
    with (
        progress() as bar,
        bar.open(path, "r", encoding="utf-8-sig", newline="", description=description) as stream,
    ):
        yield stream


def moment(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def record_line(record: NumberRecord) -> str:
    """One line: number, node, status, usage, vendor and what holds it back."""
    text = f"{record.number} at {record.hierarchy}: {record.status}"
    if record.usage:
        text += f" ({', '.join(record.usage)})"
    if record.vendor:
        text += f", vendor {record.vendor}"
    if record.release_date is not None:
        text += f", until {moment(record.release_date)}"
    if record.reserved_for:
        text += f", reserved for {record.reserved_for}"
    return text


def _status(value: Status) -> Text:
    return Text(value, style=STATUS_STYLE.get(value, ""))


def records_table(records: Iterable[NumberRecord]) -> Table:
    table = Table(
        "Number", "Hierarchy", "Status", "Usage", "Vendor", "E.164", "Tag", "Release date"
    )
    for record in records:
        table.add_row(
            Text(record.number),
            Text(record.hierarchy),
            _status(record.status),
            Text(", ".join(record.usage)),
            Text(record.vendor),
            Text(record.e164_display),
            Text(record.tag),
            Text(moment(record.release_date)),
        )
    return table


def _fields(record: NumberRecord) -> Iterator[tuple[str, str | Text]]:
    yield "Number", record.number
    if record.number.startswith("+"):
        yield "CUCM form", cucm_form(record.number)
    yield "Hierarchy", record.hierarchy
    yield "Status", _status(record.status)
    yield "Usage", ", ".join(record.usage)
    yield "Vendor", record.vendor
    yield "Internal number type", record.internal_number_type
    yield "E.164", record.e164_display
    if len(record.e164) > 1:
        yield "E.164 numbers", ", ".join(record.e164)
    yield "Release date", moment(record.release_date)
    yield "Reserved for", record.reserved_for or ""
    yield "Service type", str(record.service_type or "")
    for name in ("tag", "description", "reservation_notes", *(f"extra{n}" for n in range(1, 10))):
        value = getattr(record, name)
        if value or name in ("tag", "description"):
            yield name.replace("_", " ").capitalize(), value
    yield "Version", str(record.version)


def record_view(record: NumberRecord) -> RenderableType:
    """A record as `show` prints it: its fields, then its uses in the order they were added."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    for name, value in _fields(record):
        fields.add_row(name, value if isinstance(value, Text) else Text(value))
    if not record.uses:
        return Group(fields, Text("No uses."))
    uses = Table("#", "Kind", "Consumer", "Usage", "Vendor", "Hierarchy", title="Uses")
    for index, use in enumerate(record.uses, start=1):
        uses.add_row(
            str(index),
            Text(use.kind),
            Text(use.consumer_id),
            Text(use.usage),
            Text(use.vendor),
            Text(use.hierarchy),
        )
    return Group(fields, uses)


def utilization_table(usage: Utilization) -> Table:
    """Per node, the count in each status and the share Available; low nodes flagged."""
    width = len(str(max((node.total for node in usage.values()), default=0)))
    table = Table(
        node_column(usage),
        *(count_column(header, width) for header in ("Total", *(str(s) for s in Status))),
        count_column("Available %", len("100.0%")),
        Column("Flag", no_wrap=True),
    )
    for node in usage.values():
        table.add_row(
            Text(node.hierarchy),
            str(node.total),
            *(str(node.counts.get(s, 0)) for s in Status),
            f"{node.available_share:.1%}",
            Text("LOW", style="bold red") if node.low else "",
            style="red" if node.low else None,
        )
    return table


def audit_changes_table(report: AuditReport) -> Table:
    """Every change of an audit: the number, its node, the status before and after, and why."""
    table = Table("Number", "Node", "Before", "After", "Why")
    for change in report.changes:
        table.add_row(
            Text(change.number),
            Text(change.hierarchy),
            _status(change.before.status) if change.before is not None else Text("(new)"),
            _status(change.after.status),
            Text(change.reason),
        )
    return table
