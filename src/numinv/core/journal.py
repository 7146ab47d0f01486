"""Journal entries and how they expand into changes (SPEC 15), as pure values.

The unit of work hands the store one `Entry` per stored change, written in
the same transaction. A loaded range is one compact entry: `numbers` is the
range and `after` the record of its first number (every number's record is
that one with its own number), and it stands for one change per number, with
consecutive sequence numbers. A store keeps compact entries split at blocks
of a thousand numbers (`blocks`), so that the entries a number's history
needs are found by one key, its block (`block_of`), however many loads the
journal holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import attrs

from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord

__all__ = [
    "BLOCK",
    "Entry",
    "block_of",
    "blocks",
    "changes_after",
    "expand",
    "history_of",
    "number_of",
]

BLOCK = 1000  # numbers per block: the last three digits


@attrs.frozen
class Entry:
    """One journal entry as the unit of work writes it; `numbers` makes it a range entry."""

    operation: str
    before: NumberRecord | None
    after: NumberRecord | None
    at: datetime
    actor: str | None = None
    numbers: NumberRange | None = None

    @property
    def span(self) -> int:
        """How many changes (and sequence numbers) the entry stands for."""
        return 1 if self.numbers is None else len(self.numbers)

    @property
    def record(self) -> NumberRecord:
        result = self.after or self.before
        assert result is not None
        return result


def block_of(number: str) -> str:
    """The block a number belongs to: its text without the last three digits."""
    return number[:-3] if len(number.lstrip("+")) > 3 else ("+" if number[0] == "+" else "")


def blocks(numbers: NumberRange) -> Iterator[NumberRange]:
    """The range cut where the block changes: each piece lies in one block."""
    start = numbers.start
    while start <= numbers.stop:
        stop = min(numbers.stop, (start // BLOCK + 1) * BLOCK - 1)
        yield NumberRange(numbers.plus, numbers.width, start, stop)
        start = stop + 1


def number_of(numbers: NumberRange, offset: int) -> str:
    return numbers.format(numbers.start + offset)


def _at(record: NumberRecord | None, number: str) -> NumberRecord | None:
    if record is None or record.number == number:
        return record
    return attrs.evolve(record, number=number)


def expand(seq: int, entry: Entry, *, first: int = 0, last: int | None = None) -> Iterator[Change]:
    """The changes an entry stands for, from its `first` to its `last` offset, seq `seq` on."""
    record = entry.record
    if entry.numbers is None:
        yield Change(
            seq,
            entry.operation,
            record.number,
            record.hierarchy,
            entry.before,
            entry.after,
            entry.at,
            entry.actor,
        )
        return
    stop = entry.span - 1 if last is None else min(last, entry.span - 1)
    for offset in range(first, stop + 1):
        number = number_of(entry.numbers, offset)
        yield Change(
            seq + offset,
            entry.operation,
            number,
            record.hierarchy,
            _at(entry.before, number),
            _at(entry.after, number),
            entry.at,
            entry.actor,
        )


def changes_after(entries: Iterable[tuple[int, Entry]], after: int, limit: int) -> list[Change]:
    """The first `limit` changes after seq `after`, from `(seq, entry)` pairs in seq order.

    The pairs may begin with the entry holding `after` (of it, the changes after
    `after` count) and are read no further than the changes need: a store passes
    them as it decodes its rows.
    """
    found: list[Change] = []
    if limit <= 0:
        return found
    for seq, entry in entries:
        if seq + entry.span - 1 <= after:
            continue
        first = max(after + 1 - seq, 0)
        found += expand(seq, entry, first=first, last=first + limit - len(found) - 1)
        if len(found) >= limit:
            break
    return found


def history_of(entries: Iterable[tuple[int, Entry]], number: str) -> list[Change]:
    """A number's changes, from the `(seq, entry)` pairs holding it, in their order:
    a single entry's change, or the number's own change of a range entry."""
    found: list[Change] = []
    for seq, entry in entries:
        if entry.numbers is None:
            found += expand(seq, entry)
        else:
            offset = int(number[len(entry.numbers.plus) :]) - entry.numbers.start
            found += expand(seq, entry, first=offset, last=offset)
    return found
