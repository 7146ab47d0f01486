"""How the inventory reads through a repository: pages, walk-up visibility, records as of now.

Reads never write (SPEC 22): a record whose release date has passed is shown
as released (`as_of`) without storing anything. Listing a status therefore
also reads the held-back records that are due and would now show that
status, but only while some release date has passed at all: the store's
earliest release date (`next_release`) says so in one look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from heapq import merge
from itertools import chain

from numinv.core.hierarchy import lineage, related
from numinv.core.lifecycle import HELD_BACK, Rules, as_of
from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord, Status
from numinv.core.vendors import CISCO
from numinv.storage.protocol import Query, Reader

__all__ = [
    "Cursor",
    "has_vendor",
    "in_line_of_descent",
    "listed",
    "pages",
    "past",
    "visible",
    "visible_from",
]

_FIRST_PAGE, _LAST_PAGE = 4, 1024
# Past this many nodes below, one read of the range over all nodes costs less than a read per node.
_NODE_READS = 64
# Where a listing resumes: after this (number, hierarchy) key, or after every record of a number.
Cursor = tuple[str, str | None]


def pages(reader: Reader, query: Query, wanted: int | None = None) -> Iterator[NumberRecord]:
    """A node's records from `query` on, fetched in pages that grow from `wanted` (if known)."""
    size = min(wanted or _FIRST_PAGE, _LAST_PAGE) or 1
    while True:
        page = reader.scan(attrs_replace(query, size))
        yield from page
        if len(page) < size:
            return
        query = Query(
            query.hierarchy, query.status, query.prefix, page[-1].number, size, query.due_by
        )
        size = min(size * 4, _LAST_PAGE)


def attrs_replace(query: Query, limit: int) -> Query:
    return Query(query.hierarchy, query.status, query.prefix, query.after, limit, query.due_by)


def visible(records: Iterable[NumberRecord], at: str) -> NumberRecord | None:
    """The record a consumer at `at` sees: the one at `at` or at its nearest ancestor."""
    line = lineage(at)
    held = {record.hierarchy: record for record in records if record.hierarchy in line}
    return next((held[node] for node in line if node in held), None)


def visible_from(reader: Reader, number: str, at: str) -> NumberRecord | None:
    """The stored record of `number` seen from `at`, walking up by key look-ups.

    Each look-up may see a newer state than the one before: a record moved
    from an ancestor down to a node already looked at, committed between two
    look-ups, is in none of them though it was visible all along. So a walk
    that finds nothing is confirmed by one read of every record of the number
    (then taken by its key, as the walk would have: a transaction locks it).
    """
    for node in lineage(at):
        record = reader.get(number, node)
        if record is not None:
            return record
    seen = visible(reader.holding(number), at)
    return None if seen is None else reader.get(number, seen.hierarchy)


def in_line_of_descent(reader: Reader, numbers: NumberRange, at: str) -> list[NumberRecord]:
    """The records of `numbers` at `at`, its ancestors and its descendants, by key.

    Sibling sites that share a dial plan hold the same numbers; reading only
    the line of descent keeps a load's check from growing with their count.
    """
    below = reader.nodes(at)
    if len(below) > _NODE_READS:
        found = [r for r in reader.within(numbers) if related(r.hierarchy, at)]
    else:
        nodes = dict.fromkeys((*lineage(at), *below))
        found = [record for node in nodes for record in reader.within(numbers, node)]
    return sorted(found, key=lambda record: record.key)


def may_be_due(reader: Reader, rules: Rules) -> bool:
    """Whether any record's release date has passed (one look-up of the earliest)."""
    earliest = reader.next_release()
    return earliest is not None and earliest <= rules.now


def listed(
    reader: Reader,
    node: str,
    rules: Rules,
    *,
    status: Status | None = None,
    prefix: str | None = None,
    after: str | None = None,
    wanted: int | None = None,
    due: bool | None = None,
) -> Iterator[NumberRecord]:
    """A node's records as of now, in number order, optionally only those showing `status`.

    `due` says whether some release date may have passed (asked of the store
    when None); only then are held-back records read for another status.
    """
    if due is None:
        due = may_be_due(reader, rules)
    if status is None:
        records = pages(reader, Query(node, None, prefix, after), wanted)
        return (as_of(record, rules) for record in records) if due else records
    own = pages(reader, Query(node, status, prefix, after), wanted)
    if not due or status not in (Status.AVAILABLE, Status.RESERVED):
        return own if not due else _shown(own, status, rules)
    lapsed = [
        Query(node, source, prefix, after, due_by=rules.now)
        for source in HELD_BACK
        if source is not status
    ]
    return _with_released(reader, own, lapsed, wanted, status, rules)


def _with_released(
    reader: Reader,
    own: Iterator[NumberRecord],
    lapsed: list[Query],
    wanted: int | None,
    status: Status,
    rules: Rules,
) -> Iterator[NumberRecord]:
    """Records showing `status`, those whose release date has passed among them.

    The held-back records' first pages are read before the status's own: a
    release committed between them is then read in both (and shown once),
    never in neither.
    """
    released = [_started(pages(reader, query, wanted)) for query in lapsed]
    yield from _shown(_once(merge(own, *released, key=_number)), status, rules)


def _shown(records: Iterable[NumberRecord], status: Status, rules: Rules) -> Iterator[NumberRecord]:
    return (shown for record in records if (shown := as_of(record, rules)).status is status)


def _started(records: Iterator[NumberRecord]) -> Iterator[NumberRecord]:
    """The records, their first page read now."""
    first = next(records, None)
    return iter(()) if first is None else chain((first,), records)


def _once(records: Iterable[NumberRecord]) -> Iterator[NumberRecord]:
    """A node's records in number order, a number read twice given once (the first)."""
    last = None
    for record in records:
        if record.number != last:
            last = record.number
            yield record


def _number(record: NumberRecord) -> str:
    return record.number


def past(record: NumberRecord, cursor: Cursor) -> bool:
    """Whether a record lies after a listing's cursor."""
    number, node = cursor
    if record.number != number:
        return record.number > number
    return node is not None and record.hierarchy > node


def has_vendor(shown: str, wanted: str) -> bool:
    """Whether a vendor shown names `wanted` (as `vendor_named` spells it); blank and
    `Cisco` both mean Cisco."""
    names = shown.split(", ") if shown else [CISCO]
    return (wanted or CISCO) in names
