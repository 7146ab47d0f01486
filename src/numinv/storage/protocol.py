"""The one door to storage: the `Repository` protocol a host implements for its database.

Reads return finished lists, never open cursors, so an adapter needs no
locking across calls; the inventory pages through long results with the
`after` cursor of `Query`. Every read has an index behind it in the shipped
adapters: nothing here asks for a scan of every record.

Writes happen only inside `transaction()`: everything written in one
transaction becomes visible together or not at all, the transaction's reads
see its own writes, and a read through the repository on the thread that
holds an open transaction reads inside that transaction. An adapter's hard
duties are compare-and-set (`replace` and `delete` refuse with
`ConcurrentUpdate` when the stored version is not the version of the record
the caller read, `insert` when the key is taken) and the journal (`journal`
writes entries in the transaction, numbered in commit order). See
docs/storage.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import InvalidInput
from numinv.settings import NodeSettings

__all__ = [
    "AtEnd",
    "Entry",
    "JournalAtCommit",
    "Query",
    "Reader",
    "Repository",
    "Transaction",
    "same_key",
]


def same_key(old: NumberRecord, new: NumberRecord) -> None:
    """Refuse a `replace` pair whose new record is of another number or node."""
    if new.key != old.key:
        raise InvalidInput(
            f"cannot replace {old.number} at {old.hierarchy} by a record of "
            f"{new.number} at {new.hierarchy}",
            number=old.number,
            hierarchy=old.hierarchy,
        )


@attrs.frozen
class Query:
    """Records at exactly one node, in ascending number order.

    `status` and `prefix` narrow the records, `after` is an exclusive
    cursor (the last number of the previous page), `limit` the page size.
    `due_by` keeps only records whose release date is at or before it.
    """

    hierarchy: str
    status: Status | None = None
    prefix: str | None = None
    after: str | None = None
    limit: int = 1000
    due_by: datetime | None = None


@runtime_checkable
class Reader(Protocol):
    """What the inventory reads. Each method names the index that should answer it."""

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        """The record of `number` loaded at exactly `hierarchy` (key look-up)."""
        ...

    def holding(self, number: str) -> list[NumberRecord]:
        """Every record of `number`, at whatever node, sorted by node (index on number)."""
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

    def next_release(self) -> datetime | None:
        """The earliest release date of any record, or None (the first entry of that index)."""
        ...

    def with_e164(self, e164: str) -> list[NumberRecord]:
        """The records an E.164 number is associated with (index on E.164)."""
        ...

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        """Per node at or below `under`, the number of records in each status (kept counts)."""
        ...

    def held_by(self, who: str) -> list[NumberRecord]:
        """Records a consumer id or owner `who` uses, or that are reserved for `who`.

        Answered by an index from each use's consumer id and owner, and from
        `reserved_for`, to the record; sorted by (number, hierarchy).
        """
        ...

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        """What administrators set at those of `nodes` that set anything (key look-ups);
        every node that sets anything when `nodes` is None."""
        ...

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        """For numbers of the range deleted at `hierarchy`, the last version each had."""
        ...

    def changes(self, after: int, limit: int) -> list[Change]:
        """Journal changes with `seq > after`, in seq order, at most `limit` (range entries
        expanded, one change per number)."""
        ...

    def history(self, number: str) -> list[Change]:
        """Every journal change of `number` at any node, in seq order (index on number, and on
        the block of range entries)."""
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
        """Remove records; `ConcurrentUpdate` unless each stored version is the one given.

        The store keeps each deleted record's version (`retired`), so that a
        number loaded again at the same node continues above it.
        """
        ...

    def claim(self, query: Query) -> list[NumberRecord]:
        """Like `scan`, but the records returned are this transaction's to change.

        A store with row locks locks them and skips rows another transaction
        holds, so that concurrent claims return different records; a store
        that serialises its writers may answer as `scan` does.
        """
        ...

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        """Store what an administrator set at a node (None or empty: the node sets nothing)."""
        ...

    def journal(self, entries: Sequence[Entry]) -> int:
        """Write the journal entries of this transaction; return the seq of the first change.

        The entries' changes take consecutive sequence numbers, allocated so
        that seq order is commit order: a reader who has read every change up
        to `s` and then asks for those after `s` never misses one.
        """
        ...


@runtime_checkable
class JournalAtCommit(Protocol):
    """What a `Transaction` may add: a journal written with the commit, no seq returned.

    Optional. The inventory uses it instead of `journal` when nobody listens
    for events, and so has no use for the seq. A store whose seq counter is a
    row locked until commit can then send the journal with the commit itself,
    in one round trip, and hold that lock no longer than the commit takes.
    """

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """Write the journal entries of this transaction as `journal` does, no later than
        its commit: now, or with the commit itself. Nothing of them is kept if it rolls
        back. Called once per inventory call; in a transaction a host opened and several
        calls joined, more than once, with writes and `journal` calls after it: entries
        take their seqs in the order they were given, whichever method took them."""
        ...


@runtime_checkable
class AtEnd(Protocol):
    """What a `Transaction` may add: whether it joined an open one, and a hook for the end.

    Optional. A `transaction()` opened inside another on the same thread joins
    it and neither commits nor rolls back by itself; the inventory then keeps a
    call's events until the outer transaction ends, and drops them if it rolls
    back (a host that groups inventory calls in a transaction of its own).
    """

    joined: bool
    """True when this `transaction()` joined one already open on the thread."""

    def at_end(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(committed)` once the outermost transaction has ended: True
        after it committed, False after it rolled back; after the store has let go of
        what it held for it (locks, the connection), in the order they were given."""
        ...


def ended(callbacks: Sequence[Callable[[bool], None]], committed: bool) -> None:
    """Run the `AtEnd.at_end` callbacks of a transaction that has ended, in order, each
    of them even when one before it raised (a listener's `KeyboardInterrupt`): the
    first error is raised once all have run."""
    failure: BaseException | None = None
    for callback in callbacks:
        try:
            callback(committed)
        except BaseException as error:  # raised below, once all have run
            failure = failure or error
    if failure is not None:
        raise failure


@runtime_checkable
class Repository(Reader, Protocol):
    """A store of number records. Reads see committed state."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a transaction: commit on a clean exit, roll back on an exception."""
        ...

    def prune(self, before: datetime) -> int:
        """Delete the journal's oldest changes, in seq order, while they are older than
        `before` (never records); return how many.

        What is left is a run of seqs with no hole: a change older than
        `before` that follows a newer one (a clock behind another instance's)
        stays until that one goes, so a follower that finds the oldest seq
        next to its cursor has missed nothing.
        """
        ...
