"""`numinv export`, `import` and `audit`: records and observations in files."""

from __future__ import annotations

import csv
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from numinv.cli.errors import Failure, words
from numinv.cli.options import NODE
from numinv.cli.output import formats, quantity, write_document, write_lines, write_records
from numinv.cli.root import Session, command, pass_session
from numinv.cli.tree import check_node, known_nodes, resolve_kind

if TYPE_CHECKING:
    from numinv import AuditReport, Inventory, NumberRecord, Observation

__all__ = ["atomic_output", "audit", "export", "import_records", "refuse_the_database"]

INPUT = click.Path(exists=True, dir_okay=False, allow_dash=True)
AUDIT_COLUMNS = ("number", "kind", "id", "hierarchy")
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def refuse_the_database(path: str | os.PathLike[str], session: Session) -> None:
    """Refuse to write a file over the database the command works on (or an empty name),
    before any work is done."""
    if not str(path):
        raise click.BadParameter("an empty file name", param_hint="the output file")
    if session.is_url:
        return
    target, database = Path(path), Path(session.db)
    same = target.resolve() == database.resolve()
    if not same and target.exists() and database.exists():
        same = target.samefile(database)
    if same:
        raise Failure(f"{path} is the database itself: write to another file")


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """A text file written beside `path` and renamed over it only when all went well.

    (click's `atomic=True` renames the partial file into place even when the
    writing fails, so it does not fit here.) What is not a regular file
    (`/dev/null`, a pipe, a terminal) is written in place, never replaced; a
    symbolic link keeps pointing where it did, at the new file; the file gets
    the permissions the one it replaces had, else those a new file gets.
    """
    given = Path(path)
    if given.exists() and not given.is_file():
        try:
            with open(given, "w", encoding="utf-8", newline="") as stream:
                yield stream
        except OSError as error:
            raise Failure(f"cannot write {given}: {error.strerror or error}") from error
        return
    target = given.resolve() if given.is_symlink() else given
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as error:
        raise Failure(f"cannot write {given}: {error.strerror or error}") from error
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _mode_for(target: Path) -> int:
    """The permissions of the file `target` names, or those a new file gets (the umask's)."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _format_of(path: str | None) -> str:
    return _SUFFIXES.get(Path(path).suffix.lower(), "csv") if path else "csv"


def _total(inventory: Inventory, at: str | None, only: bool) -> int:
    usage = inventory.utilization(at)
    if only and at is not None:
        return usage[at].total if at in usage else 0
    return sum(node.total for node in usage.values())


@command()
@click.option("--at", type=NODE, metavar="NODE", help="Only this node and the nodes below it.")
@click.option("--only", is_flag=True, help="With --at: that node only.")
@formats("csv", json_help="Write a JSON array, one record a line (default for a .json file).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write to this file (whole, or not at all) instead of stdout.",
)
@pass_session
def export(
    session: Session, at: str | None, only: bool, fmt: str | None, output: str | None
) -> None:
    """Write records as CSV, JSON or JSON Lines.

    Every record, or those at and below a node. Without a format option the
    file name says it (.json, .jsonl, else CSV).

    \b
    numinv export -o inventory.json
    numinv export --at sys.acme.uk --jsonl > uk.jsonl
    """
    if only and at is None:
        raise click.UsageError("--only says which node: give it with --at")
    if output is not None and output != "-":
        refuse_the_database(output, session)
    inventory = session.inventory(existing=True)
    check_node(inventory, at)
    fmt = fmt or _format_of(output)
    records = inventory.search(at=at, below=not only)
    if output is None or output == "-":
        write_records(records, fmt)
        return
    from numinv.cli.render import interactive, progress

    total = _total(inventory, at, only) if interactive() else None
    with atomic_output(output) as stream, progress() as bar:
        count = write_records(bar.track(records, total=total, description="Exporting"), fmt, stream)
    click.echo(f"exported {quantity(count, 'record')} to {output}", err=True)


class _Rejoined:
    """A stream whose first characters were read ahead (to tell its format) and put back."""

    def __init__(self, head: str, rest: TextIO) -> None:
        self._head, self._rest = head, rest

    def __iter__(self) -> Iterator[str]:
        return iter(self.readline, "")

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            text, self._head = self._head + self._rest.read(), ""
            return text
        text, self._head = self._head[:size], self._head[size:]
        return text + (self._rest.read(size - len(text)) if len(text) < size else "")

    def readline(self, size: int | None = -1) -> str:
        if not self._head:
            return self._rest.readline()
        line, newline, rest = self._head.partition("\n")
        if newline:
            self._head = rest
            return line + newline
        text, self._head = self._head + self._rest.readline(), ""
        return text


def _sniffed(stream: TextIO) -> tuple[str, TextIO]:
    """The format the content says (`[`: JSON, `{`: JSON Lines, else CSV) and the stream."""
    head = stream.read(4096)
    first = head.lstrip()[:1]
    fmt = {"[": "json", "{": "jsonl"}.get(first, "csv")
    return fmt, cast(TextIO, _Rejoined(head, stream))


def _jsonl_records(stream: TextIO) -> Iterator[NumberRecord]:
    from numinv import InvalidInput
    from numinv.serialization import from_json

    for line_number, line in enumerate(stream, start=1):
        if line.strip():
            try:
                yield from_json(line)
            except InvalidInput as error:
                raise Failure(f"line {line_number}: {words(str(error))}") from error


def _read(stream: TextIO, fmt: str) -> list[NumberRecord]:
    from numinv.serialization import read_csv, read_json

    if fmt == "jsonl":
        return list(_jsonl_records(stream))
    return list(read_json(stream) if fmt == "json" else read_csv(stream))


@command("import")
@click.argument("path", metavar="FILE", type=INPUT)
@formats(
    "csv",
    helps={
        "json": "The file is a JSON array.",
        "jsonl": "The file is JSON Lines.",
        "csv": "The file is CSV.",
    },
)
@click.option(
    "--new-root",
    is_flag=True,
    help="Allow records under a root the database does not have yet (a new tree).",
)
@pass_session
def import_records(session: Session, path: str, fmt: str | None, new_root: bool) -> None:
    """Store the records of an export.

    CSV, JSON or JSON Lines: as a format option says, else as the file name
    ends (.csv, .json, .jsonl), else as the content starts; - for stdin.
    All the records or none; a database the import created is removed again
    when the import fails. Records under a root the database does not have
    need --new-root, as 'range add' does (an empty database takes any).

    \b
    numinv --db copy.db import inventory.json
    """
    from numinv.cli.render import reading, watching

    with reading(path, "Reading") as stream:
        sniffed, rejoined = _sniffed(stream)
        suffix = None if path == "-" else _SUFFIXES.get(Path(path).suffix.lower())
        records = _read(rejoined, fmt or suffix or sniffed)
    inventory = session.inventory()
    if not new_root:
        _refuse_new_roots(inventory, records)
    with watching(inventory.repository, "Importing", len(records)):
        count = inventory.import_records(records)
    click.echo(f"imported {quantity(count, 'record')}")


def _refuse_new_roots(inventory: Inventory, records: list[NumberRecord]) -> None:
    """Records under a root the database lacks start a new tree: a typo (`acme.uk` for
    `sys.acme.uk`) would otherwise make one silently."""
    roots = {node for node in known_nodes(inventory) if "." not in node}
    if not roots:
        return
    new = sorted({record.hierarchy.split(".", 1)[0] for record in records} - roots)
    if new:
        raise Failure(
            f"the file holds records under {', '.join(new)}, outside every existing root "
            f"({', '.join(sorted(roots))}). Give --new-root to start a new tree."
        )


class Observations:
    """The observations of an audit CSV; `line` is the line of the last one yielded."""

    def __init__(
        self, stream: TextIO, name: str, inventory: Inventory, *, roots: set[str] | None = None
    ) -> None:
        self.stream, self.name, self.inventory = stream, name, inventory
        self.roots = roots  # when given, a row under another root is refused
        self.line = 0
        self.done = False

    def __iter__(self) -> Iterator[Observation]:
        from numinv import Consumer, InvalidInput, Observation
        from numinv.serialization import refuse_ragged_row, refuse_repeated_columns

        reader = csv.DictReader(self.stream)
        missing = [c for c in AUDIT_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise Failure(
                f"{self.name}: an audit CSV needs the columns number,kind,id,hierarchy[,vendor]; "
                f"missing {','.join(missing)}"
            )
        header = list(reader.fieldnames or ())
        try:
            refuse_repeated_columns(header)
        except InvalidInput as error:
            raise Failure(f"{self.name}: {error}") from error
        for row in _rows(reader, self.name):
            self.line = reader.line_num
            try:
                refuse_ragged_row(row, len(header), f"{self.name} line {self.line}")
            except InvalidInput as error:
                raise Failure(str(error)) from error
            number, kind, consumer_id, node, vendor = (
                (row.get(column) or "").strip() for column in (*AUDIT_COLUMNS, "vendor")
            )
            try:
                resolved = resolve_kind(self.inventory.kinds, kind)
            except click.BadParameter as error:
                raise Failure(f"{self.name} line {self.line}: {error.message}") from error
            if self.roots is not None and node.split(".", 1)[0] not in self.roots:
                raise Failure(
                    f"{self.name} line {self.line}: {node} is outside every existing root "
                    f"({', '.join(sorted(self.roots))}). Give --new-root to start a new tree."
                )
            yield Observation(number, Consumer(resolved, consumer_id, node, vendor))
        self.done = True


def _rows(reader: csv.DictReader[str], name: str) -> Iterator[dict[str | Any, str | Any]]:
    """The rows of an audit CSV; what the csv module cannot read is refused with its line."""
    from numinv.serialization import csv_problem

    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:  # the reader has not yet counted the line it failed on
            raise Failure(f"{name} line {reader.line_num + 1}: {csv_problem(error)}") from error
        yield row


def _audit_document(report: AuditReport) -> dict[str, Any]:
    return {
        "scope": report.scope,
        "fixed": report.fixed,
        "examined": report.examined,
        "changed": report.changed,
        "counts": dict(report.counts),
        "changes": list(_changes(report)),
        "conflicts": list(_conflicts(report)),
        "unknown": list(_unknown(report)),
    }


def _changes(report: AuditReport) -> Iterable[dict[str, Any]]:
    from numinv.serialization import to_dict

    for change in report.changes:
        yield {
            "number": change.number,
            "hierarchy": change.hierarchy,
            "reason": str(change.reason),
            "before": None if change.before is None else to_dict(change.before),
            "after": to_dict(change.after),
        }


def _consumer(consumer: Any) -> dict[str, str]:
    return {
        "kind": consumer.kind,
        "id": consumer.id,
        "hierarchy": consumer.hierarchy,
        "vendor": consumer.vendor,
    }


def _conflicts(report: AuditReport) -> Iterable[dict[str, Any]]:
    for conflict in report.conflicts:
        yield {
            "number": conflict.number,
            "hierarchy": conflict.hierarchy,
            "status": None if conflict.status is None else str(conflict.status),
            "consumer": _consumer(conflict.consumer),
            "reason": conflict.reason,
        }


def _unknown(report: AuditReport) -> Iterable[dict[str, Any]]:
    for observation in report.unknown:
        yield {"number": observation.number, "consumer": _consumer(observation.consumer)}


@command()
@click.argument("path", metavar="FILE", type=INPUT)
@click.option("--at", type=NODE, metavar="NODE", help="Audit only this node and those below it.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--add-missing", is_flag=True, help="Add observed numbers the inventory lacks.")
@click.option(
    "--new-root",
    is_flag=True,
    help="With --add-missing: numbers may be added under a root the inventory lacks.",
)
@click.option("--changes", "show_changes", is_flag=True, help="List every change as a table.")
@formats(json_help="Write the whole report as JSON.")
@pass_session
def audit(
    session: Session,
    path: str,
    at: str | None,
    dry_run: bool,
    add_missing: bool,
    new_root: bool,
    show_changes: bool,
    fmt: str | None,
) -> None:
    """Reconcile with what the UC applications use.

    FILE (- for stdin) is a CSV with the columns number,kind,id,hierarchy and
    optionally vendor: one row per number a consumer really uses. With
    --jsonl, each change, conflict and unknown observation is one line, with
    "type" saying which.

    \b
    numinv audit observed.csv --at sys.acme --dry-run
    """
    from numinv import NumInvError

    # Only --add-missing can start an inventory; otherwise a new database is a mistyped one.
    inventory = session.inventory(existing=dry_run or not add_missing)
    check_node(inventory, at)
    name = "stdin" if path == "-" else path
    from numinv.cli.render import reading

    roots = {node for node in known_nodes(inventory) if "." not in node}
    with reading(path, "Auditing") as stream:
        # Added under a root the database lacks, a typo would start a tree of its own.
        guarded = roots if add_missing and not new_root and roots else None
        observations = Observations(stream, name, inventory, roots=guarded)
        try:
            result = inventory.audit(observations, at=at, fix=not dry_run, add_missing=add_missing)
        except NumInvError as error:
            if observations.line and not observations.done:
                raise Failure(f"{name} line {observations.line}: {words(str(error))}") from error
            raise
    if fmt == "json":
        write_document(_audit_document(result), fmt)
        return
    if fmt == "jsonl":
        write_lines(
            [
                *({"type": "change", **item} for item in _changes(result)),
                *({"type": "conflict", **item} for item in _conflicts(result)),
                *({"type": "unknown", **item} for item in _unknown(result)),
            ]
        )
        return
    click.echo(str(result))
    if show_changes and result.changes:
        from numinv.cli.render import audit_changes_table, out

        console = out()
        console.print(audit_changes_table(result, console.width))
