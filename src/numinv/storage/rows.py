"""Records as database rows and back, derived from the fields of `NumberRecord`.

The column layout is the record's fields, in their order; each field's type
picks its converter (`CONVERTERS`), so a new record field is written once
here (nowhere, when its type is already known) plus a migration in each
store. Text and integers are stored as they are; enums as their values;
tuples and uses as JSON, written and read by hand because cattrs costs more
than the rest of a row (a test holds the JSON equal to what numinv's
converter writes); datetimes as UTC ISO 8601 text with microseconds, a fixed
width so that text order is time order, unless a store keeps them natively.

The journal keeps a record as the JSON array of its row (`to_json`), and the
record before a change as the fields that differ from the record after it
(`diff_json`), which a change usually leaves few of. Its rows are the same in
every SQL store but for how a time is kept (`journal_rows`, `journal_entry`).
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, get_type_hints

import attrs

from numinv.core.checks import keepable
from numinv.core.journal import Entry, block_of, blocks
from numinv.core.numbers import number_range
from numinv.core.records import NumberRecord, Status, Usage, Use
from numinv.errors import InvalidInput, StorageError

__all__ = [
    "COLUMNS",
    "TEXT",
    "Codec",
    "Converter",
    "journal_entry",
    "journal_rows",
    "refuse_unkeepable",
    "time_text",
    "uses_data",
]

Converter = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (to the store, from it)

COLUMNS: Final = tuple(field.name for field in attrs.fields(NumberRecord))
_NO_LIST = "[]"
_STATUSES: Final = {status.value: status for status in Status}
_USAGES: Final = {usage.value: usage for usage in Usage}


def time_text(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds: fixed width, so text order is time order."""
    if value.tzinfo is None:
        raise InvalidInput(
            f"{value!r} has no time zone; numinv stores aware datetimes", value=value
        )
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=4096)
def _list_text(values: tuple[str, ...]) -> str:
    return json.dumps(values) if values else _NO_LIST


@functools.lru_cache(maxsize=4096)
def _usage_of(text: str) -> tuple[Usage, ...]:
    return tuple(_USAGES[value] for value in json.loads(text)) if text != _NO_LIST else ()


@functools.lru_cache(maxsize=4096)
def _strings_of(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text != _NO_LIST else ()


def _use_data(use: Use) -> dict[str, str]:
    """A use as the JSON object numinv's converter makes of it, keys sorted."""
    return {
        "consumer_id": use.consumer_id,
        "hierarchy": use.hierarchy,
        "kind": use.kind,
        "owner": use.owner,
        "status": use.status.value,
        "usage": use.usage.value,
        "vendor": use.vendor,
    }


def _use_from(data: dict[str, str]) -> Use:
    return Use(
        kind=data["kind"],
        consumer_id=data["consumer_id"],
        usage=_USAGES[data["usage"]],
        vendor=data["vendor"],
        status=_STATUSES[data["status"]],
        hierarchy=data["hierarchy"],
        owner=data.get("owner", ""),
    )


def uses_data(uses: tuple[Use, ...]) -> list[dict[str, str]]:
    return [_use_data(use) for use in uses]


@functools.lru_cache(maxsize=4096)
def _uses_text(uses: tuple[Use, ...]) -> str:
    return json.dumps(uses_data(uses)) if uses else _NO_LIST


@functools.lru_cache(maxsize=4096)
def _uses_of(text: str) -> tuple[Use, ...]:
    return tuple(map(_use_from, json.loads(text))) if text != _NO_LIST else ()


def _use_text(use: Use) -> str:
    return json.dumps(_use_data(use))


def _use_of(text: str) -> Use:
    return _use_from(json.loads(text))


def _same(value: Any) -> Any:
    return value


DATETIME_AS_TEXT: Final[Converter] = (time_text, datetime.fromisoformat)
DATETIME_AS_IS: Final[Converter] = (_same, lambda value: value.astimezone(UTC))

# By field type: how a value goes into the store and comes back. Types not
# named (str, int, and their optional forms) are stored as they are.
CONVERTERS: Final[Mapping[object, Converter]] = {
    Status: (str, _STATUSES.__getitem__),
    tuple[Usage, ...]: (_list_text, _usage_of),
    tuple[str, ...]: (_list_text, _strings_of),
    tuple[Use, ...]: (_uses_text, _uses_of),
    Use | None: (_use_text, _use_of),
    datetime | None: DATETIME_AS_TEXT,
}
_AS_IS = frozenset({str, int, str | None, int | None})


class Codec:
    """The row layout of a store: `COLUMNS` in order, each value converted by its field's type."""

    def __init__(self, overrides: Mapping[object, Converter] | None = None) -> None:
        hints = get_type_hints(NumberRecord)
        table = {**CONVERTERS, **(overrides or {})}
        to_store: list[tuple[int, Callable[[Any], Any]]] = []
        from_store: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(COLUMNS):
            kind = hints[name]
            if kind in _AS_IS:
                continue
            if kind not in table:
                raise TypeError(f"no converter for NumberRecord.{name}: {kind}")
            encode, decode = table[kind]
            if encode is not _same:
                to_store.append((index, encode))
            if decode is not _same:
                from_store.append((index, decode))
        self._to_store = tuple(to_store)
        self._from_store = tuple(from_store)
        self._encoders = dict(to_store)

    def changed(self, old: NumberRecord, new: NumberRecord) -> tuple[tuple[int, ...], list[Any]]:
        """The columns (after the key) in which `new` differs from `old`, and its values there."""
        before, after = _VALUES(old), _VALUES(new)
        encoders = self._encoders
        columns: list[int] = []
        values: list[Any] = []
        for index in range(2, len(after)):
            value = after[index]
            if value != before[index]:
                columns.append(index)
                encode = encoders.get(index)
                values.append(value if encode is None or value is None else encode(value))
        return tuple(columns), values

    def row(self, record: NumberRecord) -> list[Any]:
        """The record as the values of `COLUMNS`."""
        values = list(_VALUES(record))
        for index, encode in self._to_store:
            value = values[index]
            if value is not None:
                values[index] = encode(value)
        return values

    def record(self, row: tuple[Any, ...] | list[Any]) -> NumberRecord:
        """The record a row of `COLUMNS` holds; a row no record can be (edited by hand:
        a status `Bogus`, uses that are not JSON) is a `StorageError` naming it."""
        values = list(row)
        try:
            for index, decode in self._from_store:
                value = values[index]
                if value is not None:
                    values[index] = decode(value)
            return NumberRecord(*values)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
            key = f"{row[0]!r} at {row[1]!r}" if len(row) > 1 else repr(row)
            raise StorageError(
                f"the stored row of {key} is not a record numinv wrote: "
                f"{type(error).__name__}: {error}",
                value=key,
            ) from error

    def to_json(self, record: NumberRecord) -> str:
        return json.dumps(self.row(record), ensure_ascii=False, separators=(",", ":"))

    def from_json(self, text: str) -> NumberRecord:
        return self.record(json.loads(text))

    def diff_json(self, before: NumberRecord, after: NumberRecord) -> str:
        """`before` as the fields in which it differs from `after` (a JSON object)."""
        old, new = self.row(before), self.row(after)
        changed = {COLUMNS[i]: value for i, value in enumerate(old) if value != new[i]}
        return json.dumps(changed, ensure_ascii=False, separators=(",", ":"))

    def texts(
        self, before: NumberRecord | None, after: NumberRecord | None
    ) -> tuple[str | None, str | None]:
        """A change as the journal keeps it, each record encoded once: `before` as
        the fields that differ from `after` (or whole when there is no `after`)."""
        new = None if after is None else self.row(after)
        after_text = None if new is None else json.dumps(new, ensure_ascii=False, separators=_TIGHT)
        if before is None:
            return None, after_text
        old = self.row(before)
        if new is None:
            return json.dumps(old, ensure_ascii=False, separators=_TIGHT), after_text
        changed = {COLUMNS[i]: value for i, value in enumerate(old) if value != new[i]}
        return json.dumps(changed, ensure_ascii=False, separators=_TIGHT), after_text

    def from_diff(self, text: str, after: NumberRecord) -> NumberRecord:
        changed = json.loads(text)
        row = self.row(after)
        for index, name in enumerate(COLUMNS):
            if name in changed:
                row[index] = changed[name]
        return self.record(row)


_VALUES: Final = operator.attrgetter(*COLUMNS)
_TIGHT: Final = (",", ":")
TEXT: Final = Codec()


# -- the journal's rows -----------------------------------------------------------------


def journal_rows(first: int, entry: Entry, times: Converter) -> Iterator[tuple[Any, ...]]:
    """The journal rows of an entry whose first change is numbered `first`, its time
    written by `times` (`DATETIME_AS_TEXT` or `DATETIME_AS_IS`).

    `first` is the entry's sequence number, or its 1-based place in a batch that the
    store numbers as it writes; a range entry is one row per block (`blocks`), each
    numbered by its first change and holding its first number's records whole.
    """
    at = times[0](entry.at)
    record = entry.record
    if entry.numbers is None:
        before_text, after_text = TEXT.texts(entry.before, entry.after)
        yield (
            first,
            1,
            entry.operation,
            record.number,
            None,
            None,
            record.hierarchy,
            at,
            entry.actor,
            before_text,
            after_text,
        )
        return
    for piece in blocks(entry.numbers):
        number = piece.first
        before = None if entry.before is None else attrs.evolve(entry.before, number=number)
        after = None if entry.after is None else attrs.evolve(entry.after, number=number)
        yield (
            first + piece.start - entry.numbers.start,
            len(piece),
            entry.operation,
            number,
            piece.last,
            block_of(number),
            record.hierarchy,
            at,
            entry.actor,
            None if before is None else TEXT.to_json(before),
            None if after is None else TEXT.to_json(after),
        )


def journal_entry(row: Sequence[Any], times: Converter) -> tuple[int, Entry]:
    """The sequence number and entry a journal row holds (`journal_rows`), its time
    read by `times`; a range entry stands for the row's numbers alone."""
    seq, _, operation, number, last, _, _, at, actor, before_text, after_text = row
    after = None if after_text is None else TEXT.from_json(after_text)
    if before_text is None:
        before = None
    elif before_text.startswith("{"):
        assert after is not None
        before = TEXT.from_diff(before_text, after)
    else:
        before = TEXT.from_json(before_text)
    numbers = None if last is None else number_range(number, last)
    return int(seq), Entry(operation, before, after, times[1](at), actor, numbers)


# -- text no store keeps ----------------------------------------------------------------

_RECORD_TEXT: Final = tuple(
    name for name, kind in get_type_hints(NumberRecord).items() if kind in (str, str | None)
)
_TEXTS: Final = operator.attrgetter(*_RECORD_TEXT)
_USE_TEXT: Final = ("kind", "consumer_id", "vendor", "hierarchy", "owner")


@functools.lru_cache(maxsize=4096)
def _refuse_uses(uses: tuple[Use, ...]) -> None:
    for use in uses:
        for name in _USE_TEXT:
            keepable(getattr(use, name), f"a use's {name}")


def refuse_unkeepable(record: NumberRecord) -> None:
    """`InvalidInput` naming the field, for a record holding text no store keeps.

    Every store refuses such a write alike (SPEC 17), though the inventory
    refuses the text at its edge: this guards a host writing to a store itself.
    """
    texts = [value for value in _TEXTS(record) if value is not None]
    joined = "".join((*texts, *record.e164))
    try:
        keepable(joined, "")
    except InvalidInput:  # rare: find the field to name
        for name in _RECORD_TEXT:
            value = getattr(record, name)
            if value is not None:
                keepable(value, f"{record.number} at {record.hierarchy}: {name}")
        for e164 in record.e164:
            keepable(e164, f"{record.number} at {record.hierarchy}: e164")
    if record.uses:
        _refuse_uses(record.uses)
    if record.cooling_use is not None:
        _refuse_uses((record.cooling_use,))
