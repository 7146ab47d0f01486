"""Records to and from plain dicts, JSON and CSV, through a private cattrs converter.

The dict form is stable across versions: datetimes are ISO 8601 text, enums
their values, tuples lists; keys a later version adds are ignored by this
one, and keys this version does not find take their defaults.

CSV columns are named as the fields. List fields are joined with `;` and
the uses are a JSON array. Free text that a spreadsheet would run as a
formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) is
exported behind a `'`, which import takes off again; the number column is
never touched, so `+` and leading zeros survive.
"""

from __future__ import annotations

import csv
import functools
import json
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TextIO

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from numinv.core import checks
from numinv.core.integrity import consistent
from numinv.core.records import FREE_TEXT_FIELDS, NumberRecord, ServiceType, Status, Usage, Use
from numinv.errors import InvalidInput

__all__ = [
    "CSV_COLUMNS",
    "from_dict",
    "from_json",
    "read_csv",
    "read_json",
    "to_dict",
    "to_json",
    "write_csv",
    "write_json",
]

CSV_COLUMNS: tuple[str, ...] = tuple(field.name for field in attrs.fields(NumberRecord))
_LISTS = {"usage", "e164"}
# JSON keeps apart what a blank cell cannot: no saved tag (None) and a blank one.
_JSON = {"uses", "cooling_use", "tag_before_cooling"}
_OPTIONAL = {"release_date", "reserved_for", "primary_e164", "service_type"}
# Every column of text a host or an operator chose (numbers, E.164 numbers, dates,
# enums and JSON start with nothing a spreadsheet runs).
_NEUTRALISED = frozenset(
    {
        *FREE_TEXT_FIELDS,
        "hierarchy",
        "reserved_for",
        "vendor",
        "admin_vendor",
        "internal_number_type",
        "admin_number_type",
    }
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = (*_FORMULA_START, "'")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{value!r} is not text", value=value)
    return value


def _whole_number(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{value!r} is not a whole number", value=value)
    return value


def _member(enum: type[StrEnum], value: object, _: object) -> StrEnum:
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    raise InvalidInput(f"{value!r} is not a {enum.__name__}", value=value)


def _sequence(item: type, value: object, _: object) -> tuple[Any, ...]:
    if isinstance(value, str | bytes | dict) or not isinstance(value, list | tuple):
        raise InvalidInput(f"{value!r} is not a list", value=value)
    return tuple(converter.structure(element, item) for element in value)


def _datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    raise InvalidInput(f"{value!r} is not an ISO 8601 date and time with a UTC offset")


# numinv's own converter, never cattrs' global one; storage adapters reuse it
# for the nested values they keep as JSON.
converter = cattrs.Converter()
for _enum in (Status, Usage, ServiceType):
    converter.register_unstructure_hook(_enum, str)
    converter.register_structure_hook(_enum, functools.partial(_member, _enum))
converter.register_unstructure_hook(datetime, lambda value: value.isoformat())
converter.register_structure_hook(datetime, lambda value, _: _datetime(value))
# Strict: cattrs would turn 5 into "5", "+27" into a tuple of characters, and
# 1.5, True or "٣" into a version.
converter.register_structure_hook(str, lambda value, _: _text(value))
converter.register_structure_hook(int, _whole_number)
for _items, _item in ((tuple[str, ...], str), (tuple[Usage, ...], Usage), (tuple[Use, ...], Use)):
    converter.register_structure_hook_func(
        functools.partial(operator.eq, _items), functools.partial(_sequence, _item)
    )
converter.register_structure_hook(
    NumberRecord,
    make_dict_structure_fn(NumberRecord, converter, _cattrs_forbid_extra_keys=False),
)


def to_dict(record: NumberRecord) -> dict[str, Any]:
    """A record as plain data: str, int, None, lists and dicts only."""
    if not isinstance(record, NumberRecord):
        raise InvalidInput(f"a NumberRecord is wanted, not {_shown(record)!r}", value=record)
    data: dict[str, Any] = converter.unstructure(record)
    if record.service_type is not None:
        data["service_type"] = str(record.service_type)  # a ServiceType is a str subclass
    data["e164_display"] = record.e164_display
    return data


def from_dict(data: object) -> NumberRecord:
    """The record a dict from `to_dict` (of this or another version) describes."""
    if not isinstance(data, dict):
        raise InvalidInput(f"a record must be a mapping, not {data!r}", value=data)
    known = {field.name for field in attrs.fields(NumberRecord)}
    fields = {k: v for k, v in data.items() if k in known}
    if "admin_number_type" not in fields and "internal_number_type" in fields:
        # Written before numinv kept the type set apart from the type shown.
        fields["admin_number_type"] = fields["internal_number_type"]
    try:
        record = converter.structure(fields, NumberRecord)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as error:
        raise InvalidInput(f"not a number record: {_first_cause(error)}", value=data) from error
    return consistent(record)  # what the lifecycle could have made: refused as read


def _stream(stream: object, method: str) -> None:
    """Refuse what is not an open text stream (a path or the text itself, given by mistake)."""
    if not callable(getattr(stream, method, None)):
        raise InvalidInput(
            f"an open text file (or stream) to {method} is wanted, not {_shown(stream)!r}",
            value=_shown(stream),
        )


def _first_cause(error: BaseException) -> str:
    if isinstance(error, cattrs.BaseValidationError) and error.exceptions:
        return _first_cause(error.exceptions[0])
    if isinstance(error, KeyError):
        return f"the field {error} is missing"
    return str(error) or type(error).__name__


def to_json(record: NumberRecord) -> str:
    return json.dumps(to_dict(record), ensure_ascii=False, sort_keys=True)


def _loaded(text: str | bytes) -> Any:
    """Parsed JSON; nesting too deep for the parser is refused like any bad JSON, and so is
    an object naming a field twice (which of the two is meant cannot be told)."""
    try:
        return json.loads(text, object_pairs_hook=_object)
    except InvalidInput:
        raise
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"not JSON: {error}", value=_shown(text)) from error
    except RecursionError:
        raise InvalidInput("not a JSON record: nested too deeply", value=_shown(text)) from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):
        twice = sorted(name for name, count in Counter(k for k, _ in pairs).items() if count > 1)
        raise InvalidInput(f"a JSON object names {', '.join(twice)} more than once", value=twice)
    return found


def _shown(text: object) -> object:
    """A long text cut to its start, for an error's `value`."""
    if isinstance(text, str | bytes) and len(text) > 80:
        return text[:80]
    return text


def from_json(text: str | bytes) -> NumberRecord:
    return from_dict(_loaded(text))


def write_json(records: Iterable[NumberRecord], stream: TextIO) -> int:
    """Write records as a JSON array, one record a line; return how many."""
    records = checks.iterable(records, "records")
    _stream(stream, "write")
    count = 0
    stream.write("[")
    for count, record in enumerate(records, start=1):
        stream.write(",\n" if count > 1 else "\n")
        stream.write(to_json(record))
    stream.write("\n]\n")
    return count


def read_json(stream: TextIO) -> Iterator[NumberRecord]:
    _stream(stream, "read")
    try:
        text = stream.read()
    except UnicodeDecodeError as error:
        raise InvalidInput(f"not JSON: {error}") from error
    data = _loaded(text)
    if not isinstance(data, list):
        raise InvalidInput("a JSON export is an array of records")
    return map(from_dict, data)


# -- CSV -----------------------------------------------------------------------


def _neutralised(text: str) -> str:
    """Text a spreadsheet would run as a formula, behind an apostrophe (itself escaped so)."""
    return "'" + text if text.startswith(_ESCAPED) else text


def _restored(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _csv_row(record: NumberRecord) -> dict[str, str]:
    data = to_dict(record)
    row: dict[str, str] = {}
    for column in CSV_COLUMNS:
        value = data[column]
        if column in _LISTS:
            row[column] = ";".join(value)
        elif column in _JSON:
            row[column] = "" if value in (None, []) else json.dumps(value, sort_keys=True)
        elif value is None:
            row[column] = ""
        elif column in _NEUTRALISED:
            row[column] = _neutralised(str(value))
        else:
            row[column] = str(value)
    return row


def write_csv(records: Iterable[NumberRecord], stream: TextIO) -> int:
    """Write records as CSV with a header of field names; return how many."""
    records = checks.iterable(records, "records")
    _stream(stream, "write")
    # The csv module's default line ending quotes any field holding CR or LF.
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(_csv_row(record))
        count += 1
    return count


def refuse_repeated_columns(header: Sequence[str]) -> None:
    """A column named twice in a CSV header: which of the two is meant cannot be told."""
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidInput(
            f"the CSV header names {', '.join(repeated)} more than once", value=repeated
        )


def refuse_ragged_row(row: Mapping[str | None, object], width: int, where: str) -> None:
    """A row with more or fewer fields than its header: a file cut short or shifted, whose
    values would otherwise land in the wrong columns or default silently."""
    extra = row.get(None)
    found = width - sum(value is None for key, value in row.items() if key is not None)
    if isinstance(extra, list):
        found += len(extra)
    if found != width:
        raise InvalidInput(f"{where}: {found} fields where the header has {width}", value=found)


def _from_row(row: dict[str, str | None], line: int) -> NumberRecord:
    data: dict[str, Any] = {}
    for column, raw in row.items():
        if column is None or column not in CSV_COLUMNS or raw is None:
            continue
        if column in _LISTS:
            data[column] = [item for item in raw.split(";") if item]
        elif column in _JSON:
            data[column] = ([] if column == "uses" else None) if not raw else _json(raw, line)
        elif column in _OPTIONAL and raw == "":
            data[column] = None
        elif column == "version":
            data[column] = _whole(raw)
        elif column in _NEUTRALISED:
            data[column] = _restored(raw)
        else:
            data[column] = raw
    try:
        return from_dict(data)
    except InvalidInput as error:
        raise InvalidInput(f"CSV line {line}: {error}", value=row) from error


def _whole(raw: str) -> int | str:
    """A cell's whole number; anything else (`²`, `٣`, 5,000 digits) stays text, refused later."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 20:
        return int(raw)
    return raw


def _json(raw: str, line: int) -> Any:
    try:
        return _loaded(raw)
    except InvalidInput as error:
        raise InvalidInput(
            f"CSV line {line}: {raw[:80]!r} is not JSON", value=_shown(raw)
        ) from error


def read_csv(stream: TextIO) -> Iterator[NumberRecord]:
    """The records of a CSV written by `write_csv` (columns may be left out or reordered):
    from an open text file, or any iterable of its lines, as the csv module reads."""
    if isinstance(stream, str | bytes) or not hasattr(stream, "__iter__"):
        raise InvalidInput(  # the text itself, or no stream at all
            f"an open text file (or its lines) to read is wanted, not {_shown(stream)!r}",
            value=_shown(stream),
        )
    reader = csv.DictReader(stream)
    try:
        if reader.fieldnames is None or not {"number", "hierarchy"} <= set(reader.fieldnames):
            raise InvalidInput("a CSV of records needs at least the columns number and hierarchy")
        header = list(reader.fieldnames)
        refuse_repeated_columns(header)
        for row in reader:
            refuse_ragged_row(row, len(header), f"CSV line {reader.line_num}")
            yield _from_row(row, reader.line_num)
    except (csv.Error, UnicodeDecodeError) as error:
        # The reader has not yet counted the line it failed on.
        raise InvalidInput(f"CSV line {reader.line_num + 1}: {csv_problem(error)}") from error


def csv_problem(error: BaseException) -> str:
    """What the csv module's complaint means, in a user's words (not its hints to Python)."""
    text = str(error)
    if "new-line character seen in unquoted field" in text:
        return "a line break (a carriage return) inside a field that is not quoted"
    if "field larger than field limit" in text:
        return f"a field longer than {csv.field_size_limit():,} characters"
    return text
