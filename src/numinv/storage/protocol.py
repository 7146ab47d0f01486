"""The one door to storage: the `Repository` protocol a host implements for its database.

Reads return finished lists, never open cursors, so an adapter needs no
locking across calls; the inventory pages through long results with the
`after` cursor of `Query`. Every read has an index behind it in the shipped
adapters: nothing here asks for a scan of every record.

Writes happen only inside `transaction()`: everything written in one
transaction becomes visible together or not at all, and the transaction's
reads see its own writes. An adapter's one hard duty is compare-and-set:
`replace` and `delete` must refuse with `ConcurrentUpdate` when the stored
version is not the version of the record the caller read, and `insert`
when the (number, hierarchy) is already taken. See docs/storage.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord, Status

__all__ = ["Query", "Reader", "Repository", "Transaction"]


@attrs.frozen
class Query:
    """Records at exactly one node, in ascending number order.

    `status` and `prefix` narrow the records, `after` is an exclusive
    cursor (the last number of the previous page), `limit` the page size.
    """

    hierarchy: str
    status: Status | None = None
    prefix: str | None = None
    after: str | None = None
    limit: int = 1000


@runtime_checkable
class Reader(Protocol):
    """What the inventory reads. Each method names the index that should answer it."""

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        """The record of `number` loaded at exactly `hierarchy` (key look-up)."""
        ...

    def holding(self, number: str) -> list[NumberRecord]:
        """Every record of `number`, at whatever node (index on number)."""
        ...

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        """Records whose number lies in the range, at one node or anywhere (ordered index)."""
        ...

    def scan(self, query: Query) -> list[NumberRecord]:
        """One page of a node's records in number order (index on node, status, number)."""
        ...

    def nodes(self, under: str | None = None) -> list[str]:
        """The nodes holding numbers at or below `under` (all when None), sorted."""
        ...

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        """Records whose release date is at or before `now`, earliest first (index on date)."""
        ...

    def with_e164(self, e164: str) -> list[NumberRecord]:
        """The records an E.164 number is associated with (index on E.164)."""
        ...

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        """Per node at or below `under`, the number of records in each status (kept counts)."""
        ...


@runtime_checkable
class Transaction(Reader, Protocol):
    """Reads and compare-and-set writes that commit together or not at all."""

    def insert(self, records: Iterable[NumberRecord]) -> None:
        """Add new records; `ConcurrentUpdate` if a (number, hierarchy) is taken."""
        ...

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        """Add a record per number of the range, each equal to `template` but for its number."""
        ...

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        """Store each `(old, new)` pair; `ConcurrentUpdate` unless the stored version is old's."""
        ...

    def delete(self, records: Iterable[NumberRecord]) -> None:
        """Remove records; `ConcurrentUpdate` unless each stored version is the one given."""
        ...


@runtime_checkable
class Repository(Reader, Protocol):
    """A store of number records. Reads see committed state."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a transaction: commit on a clean exit, roll back on an exception."""
        ...
