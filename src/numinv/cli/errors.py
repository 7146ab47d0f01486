"""Refusals in the command line's own words: one line on stderr, exit status 1.

The library speaks to programmers (`pass shared=True`, `cannot apply_service`,
a raw `datetime`); `words` rewrites its messages for someone at a shell, and
`Failure` shows them as `numinv: error: <message>`. Usage errors (exit 2)
stay click's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import IO, Any

import click

__all__ = ["Failure", "moment", "suggestion", "words"]


# Control characters a terminal would act on (ESC starts colour and title changes, CR
# writes over a line, a line break or a tab starts what looks like another result or
# cell), shown as Python writes them in a string: names and tags may hold anything a
# store keeps. One map for lines and table cells alike.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROLS |= {ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"}


def printable(text: str) -> str:
    """Text with its control characters shown, never obeyed: on one line, in one cell."""
    if text.isprintable():
        return text
    return text.translate(_CONTROLS)


class Failure(click.ClickException):
    """A refusal shown as one line, `numinv: error: <message>`, exit status 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"numinv: error: {printable(self.format_message())}", err=True, file=file)


def moment(value: datetime | None) -> str:
    """The one way the command shows a time: `2027-01-31 17:17 UTC`."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


_TIME = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:\+00:00|Z)(?![\d:])"
)

# The library's names of its operations and arguments, and the command line's.
_OPERATIONS = {
    "apply_service": "apply a service type to",
    "associate_e164": "add an E.164 number to",
    "dissociate_e164": "remove an E.164 number from",
    "release_due": "release",
    "add_range": "range add",
}
_PHRASES = (
    (re.compile(r"\bpass shared=True to share it\b"), "give --shared to share it"),
    (re.compile(r"\bpass claim=True to claim the reservation\b"), "give --claim to claim it"),
    (re.compile(r"\bgive last \((.*?)\) or count \((.*?)\), not both"), "give LAST or --count"),
    (re.compile(r"\bgive days or until, not both\b"), "give --days or --until, not both"),
    (re.compile(r"\breserved_for\b"), "--for"),
    (re.compile(r"\binternal_number_type\b"), "--type"),
    (re.compile(r"\bSettings\.(\w+)"), lambda m: "--" + m.group(1).replace("_", "-")),
    (re.compile(r"\bConsumer\.id\b"), "--id"),
    (re.compile(r"\bConsumer\.hierarchy\b"), "--at"),
    (re.compile(r"\bConsumer\.kind\b"), "--kind"),
    (re.compile(r"\bConsumer\.vendor\b"), "--vendor"),
    (re.compile(r"\bConsumer\.owner\b"), "--owner"),
    (re.compile(r"\bthe actor hook's name\b"), "NUMINV_ACTOR (else the login name)"),
    (re.compile(r"^move_range: "), ""),  # the library's call, which the command names itself
    (re.compile(r"^who must\b"), "PERSON must"),
)


def words(message: str) -> str:
    """A library message in the command line's words, on one line, with times as `moment`."""
    text = " ".join(message.split())
    text = _TIME.sub(lambda m: f"{m.group(1)} {m.group(2)} UTC", text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return re.sub(
        r"\bcannot (\w+)\b",
        lambda m: f"cannot {_OPERATIONS.get(m.group(1), m.group(1))}",
        text,
    )


def suggestion(wanted: str, known: Iterable[str] | Mapping[str, str], *, most: int = 3) -> str:
    """`; did you mean X?` (or `X or Y`) for the known names closest to `wanted`, else ``.

    `known` may map each name compared to the name shown.
    """
    shown = known if isinstance(known, Mapping) else {name: name for name in known}
    close = list(
        dict.fromkeys(
            shown[name] for name in difflib.get_close_matches(wanted, shown, n=most, cutoff=0.6)
        )
    )
    if not close:
        return ""
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"; did you mean {listed}?"
