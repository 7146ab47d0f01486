"""How the inventory reads through a repository: pages, walk-up visibility, filters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from numinv.core.hierarchy import lineage, related
from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord
from numinv.core.vendors import CISCO
from numinv.storage.protocol import Query, Reader

__all__ = ["has_vendor", "in_line_of_descent", "pages", "scan_cursor", "visible", "visible_from"]

_FIRST_PAGE, _LAST_PAGE = 4, 1024
# Past this many nodes below, one read of the range over all nodes costs less than a read per node.
_NODE_READS = 64


def pages(reader: Reader, query: Query, wanted: int | None = None) -> Iterator[NumberRecord]:
    """A node's records from `query` on, fetched in pages that grow from `wanted` (if known)."""
    size = min(wanted or _FIRST_PAGE, _LAST_PAGE) or 1
    while True:
        page = reader.scan(Query(query.hierarchy, query.status, query.prefix, query.after, size))
        yield from page
        if len(page) < size:
            return
        query = Query(query.hierarchy, query.status, query.prefix, page[-1].number)
        size = min(size * 4, _LAST_PAGE)


def visible(records: Iterable[NumberRecord], at: str) -> NumberRecord | None:
    """The record a consumer at `at` sees: the one at `at` or at its nearest ancestor."""
    line = lineage(at)
    held = {record.hierarchy: record for record in records if record.hierarchy in line}
    return next((held[node] for node in line if node in held), None)


def visible_from(reader: Reader, number: str, at: str) -> NumberRecord | None:
    """The record of `number` seen from `at`: one key look-up when `at` holds it."""
    own = reader.get(number, at)
    return own if own is not None else visible(reader.holding(number), at)


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


def scan_cursor(number: str) -> str | None:
    """The scan cursor just below `number`, so that its own records are still read.

    No number lies strictly between `number[:-1]` and `number` in text order
    (numbers continue only with digits, which sort above every shorter text).
    """
    return number[:-1] or None


def has_vendor(shown: str, wanted: str) -> bool:
    """Whether a vendor shown names `wanted`; blank and `Cisco` both mean Cisco."""
    names = shown.split(", ") if shown else [CISCO]
    return (wanted or CISCO) in names
