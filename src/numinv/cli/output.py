"""What a command writes on stdout: a line or table for people, JSON or JSON Lines for programs.

`--json` writes one JSON document (an object, or an array of records in the
export format); `--jsonl` writes one JSON object a line, so a listing of a
million records streams. Records are always `numinv.serialization.to_dict`.
This module needs no rich: a command that prints one line stays cheap.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

import click

from numinv.cli.errors import moment, printable

if TYPE_CHECKING:
    from numinv import NumberRecord

__all__ = [
    "formats",
    "percent",
    "quantity",
    "record_line",
    "write_document",
    "write_lines",
    "write_record",
    "write_records",
]

F = TypeVar("F", bound=Callable[..., Any])
_HELP = {
    "json": "Write JSON.",
    "jsonl": "Write JSON Lines: one JSON object a line.",
    "csv": "Write CSV with a header.",
}


def formats(
    *names: str, json_help: str = "", helps: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """`--json`, `--jsonl` (and `--csv` when named) as one parameter `fmt` (None: for people).

    Two of them on one command line are a usage error, not the last one
    winning: `--json --csv` asks for two things at once.
    """
    flags = ("json", "jsonl", *names)
    texts = {**_HELP, **({"json": json_help} if json_help else {}), **(helps or {})}

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def chosen(*args: Any, **kwargs: Any) -> Any:
            given = [name for name in flags if kwargs.pop(f"fmt_{name}")]
            if len(given) > 1:
                raise click.UsageError(
                    f"{' and '.join('--' + name for name in given)} ask for two formats: give one"
                )
            return function(*args, fmt=given[0] if given else None, **kwargs)

        command: Any = chosen
        for name in reversed(flags):
            command = click.option(f"--{name}", f"fmt_{name}", is_flag=True, help=texts[name])(
                command
            )
        return cast(F, command)

    return decorate


def percent(share: float) -> str:
    """A share as a percentage, as precise as it was given: `10%`, `12.5%`, `0.5%`."""
    return f"{share * 100:.10g}%"


def quantity(count: int, noun: str) -> str:
    """A count and its noun, singular for one: `1 record`, `2 records`, `1 day`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    return printable(text)


def _dumps(value: Any, *, pretty: bool) -> str:
    if pretty:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def write_document(value: Any, fmt: str) -> None:
    """A whole result: indented JSON for `--json`, one line for `--jsonl`."""
    click.echo(_dumps(value, pretty=fmt == "json"))


def write_lines(values: Iterable[Any]) -> None:
    """JSON Lines: one compact object a line."""
    for value in values:
        click.echo(_dumps(value, pretty=False))


def write_record(record: NumberRecord, fmt: str | None, text: str | None = None) -> None:
    """One changed or shown record: its line (or `text`), or the record as JSON."""
    if fmt is None:
        click.echo(record_line(record) if text is None else printable(text))
        return
    from numinv.serialization import to_dict

    write_document(to_dict(record), fmt)


def _jsonl(records: Iterable[NumberRecord], stream: TextIO) -> int:
    from numinv.serialization import to_dict

    count = 0
    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
    for record in records:
        stream.write(dumps(to_dict(record)))
        stream.write("\n")
        count += 1
    return count


def write_records(records: Iterable[NumberRecord], fmt: str, stream: TextIO | None = None) -> int:
    """Records in the export formats (`json` array, `jsonl`, `csv`); returns how many."""
    from numinv.serialization import write_csv, write_json

    target = sys.stdout if stream is None else stream
    if fmt == "jsonl":
        return _jsonl(records, target)
    if fmt == "csv":
        return write_csv(records, target)
    return write_json(records, target)


def counted(items: Iterable[Any], tick: Callable[[int], None], every: int = 1000) -> Iterator[Any]:
    """`items`, calling `tick(n)` after every `every` of them and at the end."""
    done = 0
    for item in items:
        yield item
        done += 1
        if done % every == 0:
            tick(every)
    if done % every:
        tick(done % every)
