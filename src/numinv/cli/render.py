"""Tables and progress for people (rich, imported only by commands that draw them).

Tables fit the terminal: the key columns (a number, its node, its status or
flag) are never shortened; lesser columns wrap, and when even that does not
fit, the least important are left out and the caption says which. Progress
goes to stderr and only when both stdout and stderr are terminals, so piped
or redirected output stays clean. Text from the inventory is always passed
to rich as `Text`, never as markup.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TextIO

import attrs
import click
from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from numinv import Status, cucm_form
from numinv.cli.errors import moment, printable

if TYPE_CHECKING:
    from numinv import AuditReport, NumberRecord, Utilization

__all__ = [
    "Col",
    "audit_changes_table",
    "fitted",
    "interactive",
    "out",
    "progress",
    "reading",
    "record_view",
    "records_table",
    "status",
    "utilization_table",
    "watching",
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


class _Results(Console):
    """A console that never crops a line: a table whose key columns alone are wider than
    the terminal is drawn as wide as they need (`fitted`), and the terminal wraps it."""

    def print(self, *objects: Any, **options: Any) -> None:
        options.setdefault("crop", False)
        super().print(*objects, **options)

    def on_broken_pipe(self) -> None:
        """The reader went away: the command decides what that means (rich would exit 1)."""
        self.quiet = True
        raise BrokenPipeError


def out() -> Console:
    """The console for results on stdout; piped tables keep their natural width."""
    return _Results(highlight=False, width=_width())


def _width() -> int:
    """`COLUMNS` when it names a width; else the terminal's; else, piped, a wide one.
    `COLUMNS=0` (what some CI runners set) names none: taken at its word, every table
    came out empty."""
    given = os.environ.get("COLUMNS", "")
    if given.isascii() and given.isdigit() and int(given) > 0:
        return int(given)
    if not sys.stdout.isatty():
        return _PIPED_WIDTH
    return shutil.get_terminal_size().columns  # asks the terminal when COLUMNS names none


# -- tables that fit ----------------------------------------------------------------


@attrs.frozen
class Col:
    """A column: `rank` 0 is a key (never dropped nor shortened); higher ranks go first."""

    header: str
    rank: int = 0
    justify: str = "left"
    wrap: bool = False


def _longest_word(cell: Text) -> int:
    return max((len(word) for word in cell.plain.split()), default=0)


def _first_word(col: Col) -> int:
    return len(col.header.split()[0]) if col.header else 0


def _visible(cell: Text) -> Text:
    """The cell with its control characters made visible, its style kept."""
    plain = cell.plain
    if plain.isprintable():
        return cell
    return Text(printable(plain), style=cell.style)


def fitted(
    columns: Sequence[Col],
    rows: Sequence[Sequence[Text]],
    width: int,
    *,
    title: str | None = None,
    styles: Sequence[str | None] | None = None,
) -> Table:
    """`rows` in `width` columns: lesser columns wrap, then drop out (the caption says so)."""
    natural = [
        max([len(col.header), *(row[i].cell_len for row in rows)]) for i, col in enumerate(columns)
    ]
    least = [
        min(natural[i], max(10, *(_longest_word(row[i]) for row in rows), _first_word(col)))
        if col.wrap
        else natural[i]
        for i, col in enumerate(columns)
    ]
    # Without edges, each column costs its width, one space each side and a rule.
    kept: set[int] = set()
    used = -3
    for i in sorted(range(len(columns)), key=lambda i: (columns[i].rank, i)):
        if columns[i].rank == 0 or used + least[i] + 3 <= width:
            kept.add(i)
            used += least[i] + 3
    shown = sorted(kept)
    dropped = [columns[i].header for i in range(len(columns)) if i not in kept]
    caption = f"not shown at {width} columns: {', '.join(dropped)}" if dropped else None
    table = Table(
        *(
            Column(
                columns[i].header,
                justify=columns[i].justify,  # type: ignore[arg-type]
                no_wrap=not columns[i].wrap,
                overflow="fold",
                min_width=least[i],
            )
            for i in shown
        ),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title=title,
        caption=caption,
        caption_justify="left",
    )
    if used > width:  # the key columns alone: as wide as they need, never cut
        table.width = used
    for index, row in enumerate(rows):
        style = styles[index] if styles is not None else None
        table.add_row(*(_visible(row[i]) for i in shown), style=style)
    return table


def _status(value: Status) -> Text:
    return Text(value, style=STATUS_STYLE.get(value, ""))


def records_table(records: Iterable[NumberRecord], width: int) -> Table:
    """`list`: number, node and status always; the other columns as room allows."""
    columns = (
        Col("Number"),
        Col("Node"),
        Col("Status"),
        Col("Usage", 1, wrap=True),
        Col("Release date", 2, wrap=True),
        Col("Vendor", 3, wrap=True),
        Col("Reserved for", 4, wrap=True),
        Col("E.164", 5),
        Col("Tag", 6, wrap=True),
    )
    rows = [
        (
            Text(record.number),
            Text(record.hierarchy),
            _status(record.status),
            Text(", ".join(record.usage)),
            Text(moment(record.release_date)),
            Text(record.vendor),
            Text(record.reserved_for or ""),
            Text(record.e164_display),
            Text(record.tag),
        )
        for record in records
    ]
    return fitted(columns, rows, width)


def _fields(record: NumberRecord) -> Iterator[tuple[str, str | Text]]:
    yield "Number", record.number
    if record.number.startswith("+"):
        yield "CUCM form", cucm_form(record.number)
    yield "Node", record.hierarchy
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


# The fields of `show` that are keys: never shortened, as the key columns of a table.
_KEY_FIELDS = frozenset({"Number", "CUCM form", "Node", "Status"})


def _field_grid(record: NumberRecord, width: int) -> Table:
    """`show`'s fields: names and key values whole (as wide as they need when the terminal
    is narrower, which then wraps the lines), the other values folded to fit."""
    rows = [
        (name, _visible(value if isinstance(value, Text) else Text(value)))
        for name, value in _fields(record)
    ]
    names = max(len(name) for name, _ in rows)
    keys = max(value.cell_len for name, value in rows if name in _KEY_FIELDS)
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold", no_wrap=True, min_width=names)
    fields.add_column(overflow="fold", min_width=keys)
    if names + 2 + keys > width:
        fields.width = names + 2 + keys
    for name, value in rows:
        fields.add_row(name, value)
    return fields


def record_view(record: NumberRecord, width: int) -> RenderableType:
    """A record as `show` prints it: its fields, then its uses in the order they were added."""
    fields = _field_grid(record, width)
    if not record.uses:
        return Group(fields, Text("No uses."))
    columns = (
        Col("#", justify="right"),
        Col("Kind"),
        Col("Consumer"),
        Col("Usage", 1),
        Col("Node", 2),
        Col("Vendor", 3, wrap=True),
    )
    rows = [
        (
            Text(str(index)),
            Text(use.kind),
            Text(use.consumer_id),
            Text(use.usage),
            Text(use.hierarchy),
            Text(use.vendor),
        )
        for index, use in enumerate(record.uses, start=1)
    ]
    return Group(fields, fitted(columns, rows, width, title="Uses"))


def utilization_table(usage: Utilization, width: int) -> Table:
    """`report`: per node its share Available and flag always; the counts as room allows
    (Inactive where the estate has any: decision 62)."""
    nodes = list(usage.values())
    statuses = [Status.AVAILABLE, Status.USED, Status.COOLING, Status.RESERVED]
    statuses += [Status.USED_UTILITY, *inactive_if_any(node.counts for node in nodes)]
    # The report reads left to right: node, counts, then the share and the flag.
    columns = [
        Col("Node"),
        Col("Total", 1, justify="right"),
        *(Col(str(status), rank, justify="right") for rank, status in enumerate(statuses, 2)),
        Col("Available %", justify="right"),
        Col("Flag"),
    ]
    rows = [
        [
            Text(node.hierarchy),
            Text(str(node.total)),
            *(Text(str(node.counts.get(status, 0))) for status in statuses),
            Text(f"{node.available_share:.1%}"),
            Text("LOW", style="bold red") if node.low else Text(""),
        ]
        for node in nodes
    ]
    return fitted(columns, rows, width, styles=["red" if node.low else None for node in nodes])


def inactive_if_any(counts: Iterable[Mapping[Status, int]]) -> list[Status]:
    """`[Status.INACTIVE]` when some node has Inactive numbers, else nothing: a column of
    them where an estate has any, so that its statuses add up to what it holds."""
    return [Status.INACTIVE] if any(found.get(Status.INACTIVE, 0) for found in counts) else []


def audit_changes_table(report: AuditReport, width: int) -> Table:
    """Every change of an audit: the number, its node, the status before and after, and why."""
    columns = (Col("Number"), Col("Node"), Col("Before", 1), Col("After"), Col("Why", 2, wrap=True))
    rows = [
        (
            Text(change.number),
            Text(change.hierarchy),
            _status(change.before.status) if change.before is not None else Text("(new)"),
            _status(change.after.status),
            Text(change.reason),
        )
        for change in report.changes
    ]
    return fitted(columns, rows, width)


# -- progress -----------------------------------------------------------------------


def progress() -> Progress:
    """A transient, counted progress bar on stderr, disabled unless `interactive()`."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not interactive(),
    )


def status(message: str) -> AbstractContextManager[Any]:
    """A spinner on stderr while work without steps to count runs (quiet when piped)."""
    return Console(stderr=True).status(message) if interactive() else nullcontext()


@contextmanager
def reading(path: str, description: str) -> Iterator[TextIO]:
    """Open a UTF-8 text file (a BOM is skipped), `-` for stdin, with a bar of bytes read."""
    if path == "-":
        if sys.stdin is None:  # the shell closed it (<&-)
            raise click.UsageError("- reads standard input, but it is closed")
        yield sys.stdin
        return
    with (
        progress() as bar,
        bar.open(path, "r", encoding="utf-8-sig", newline="", description=description) as stream,
    ):
        yield stream


class _Counted:
    """A range of numbers whose iteration advances a bar; everything else is the range's."""

    def __init__(self, numbers: Any, advance: Any) -> None:
        self._numbers, self._advance = numbers, advance

    def __iter__(self) -> Iterator[Any]:
        return _ticking(self._numbers, self._advance)

    def __len__(self) -> int:
        return len(self._numbers)

    def __contains__(self, item: object) -> bool:
        return item in self._numbers

    def __str__(self) -> str:
        return str(self._numbers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._numbers, name)


def _ticking(items: Iterable[Any], advance: Any, every: int = 2000) -> Iterator[Any]:
    done = 0
    for item in items:
        yield item
        done += 1
        if done == every:
            advance(done)
            done = 0
    advance(done)


class _Watched:
    """A transaction whose writes advance a bar as the store consumes them."""

    def __init__(self, tx: Any, advance: Any) -> None:
        self._tx, self._advance = tx, advance

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def insert(self, records: Iterable[Any]) -> None:
        self._tx.insert(_ticking(records, self._advance))

    def insert_range(self, numbers: Any, template: Any) -> None:
        self._tx.insert_range(_Counted(numbers, self._advance), template)

    def replace(self, changes: Iterable[Any]) -> None:
        self._tx.replace(_ticking(changes, self._advance))

    def delete(self, records: Iterable[Any]) -> None:
        self._tx.delete(_ticking(records, self._advance))


@contextmanager
def watching(repository: Any, description: str, total: int | None) -> Iterator[None]:
    """A counted bar of the records a range operation or an import writes (on a terminal).

    The library writes a range in one transaction (all or nothing) and has no
    progress hook, so the bar counts what the transaction hands the store.
    """
    if not interactive():
        yield
        return
    with progress() as bar:
        task = bar.add_task(description, total=total)

        def advance(count: int) -> None:
            bar.advance(task, count)

        original = repository.transaction

        @contextmanager
        def transaction() -> Iterator[Any]:
            with original() as tx:
                yield _Watched(tx, advance)
                bar.update(task, description=f"{description} (committing)")

        try:
            repository.transaction = transaction
        except AttributeError:  # a store that cannot be watched: the bar only shows time
            yield
            return
        try:
            yield
        finally:
            del repository.transaction
