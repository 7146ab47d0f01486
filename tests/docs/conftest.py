"""The documentation as tests: every Python block and every shell transcript of every page.

Pages are README.md and docs/*.md, found anew on every run, so a new page is
tested without being listed. A block that cannot run here says so, visibly,
with an HTML comment on the line before its fence:

    <!-- not-tested: needs a PostgreSQL server -->
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
NOT_TESTED = re.compile(r"<!--\s*not-tested:\s*(?P<reason>.+?)\s*-->")


@attrs.frozen
class Block:
    """One fenced block of a page: its language, its text, where it starts, and any opt-out."""

    page: Path
    line: int  # of the opening fence, from 1
    language: str
    text: str
    not_tested: str | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """README.md and every page in docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(page: Path) -> Iterator[Block]:
    """The fenced blocks of a page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening["indent"])
        before = lines[index - 1] if index else ""
        skipped = NOT_TESTED.search(before)
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not re.match(r"^ *```\s*$", lines[end]):
            body.append(lines[end][indent:])
            end += 1
        yield Block(
            page=page,
            line=index + 1,
            language=opening["lang"],
            text="\n".join(body) + "\n",
            not_tested=skipped["reason"] if skipped else None,
        )
        index = end + 1


@attrs.frozen
class Step:
    """One command of a transcript and the output it must print."""

    line: int
    command: str
    expected: str


def steps(block: Block) -> list[Step]:
    """The `$ command` lines of a console block, each with the lines up to the next one."""
    found: list[Step] = []
    command: str | None = None
    start = 0
    output: list[str] = []
    for offset, line in enumerate(block.text.splitlines(), start=1):
        if line.startswith("$ "):
            if command is not None:
                found.append(Step(start, command, "\n".join(output)))
            command, start, output = line[2:], block.line + offset, []
        elif command is not None:
            output.append(line)
    if command is not None:
        found.append(Step(start, command, "\n".join(output)))
    return found
