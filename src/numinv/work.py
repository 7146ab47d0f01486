"""The unit of work: one repository transaction, its changes, their journal entries and events.

`Inventory` asks a `UnitOfWork`, and nothing else, to write and to commit.
The unit writes each change through the transaction and keeps its journal
entry; on a clean exit it writes the entries in the same transaction (the
store numbers them in commit order; with nobody listening, and a store that
can, they go with the commit), commits, and hands the events to the
dispatcher, which delivers them in sequence order. Nothing is journaled or
announced for work that was rolled back.

A record read for writing is taken as it stands now (`current`): a cooling
or timed reservation whose release date has passed is released first, as a
change of its own (`release_due`), so that reads, which never write, and the
next write agree on what the number is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Final, Self

import attrs

from numinv.core.checks import MAX_HOLDER_ENTRY, MAX_NAME, MAX_VERSION
from numinv.core.journal import Entry, number_of
from numinv.core.lifecycle import Action, Lapse, Rules, is_due, transition
from numinv.core.numbers import NumberRange
from numinv.core.records import Event, NumberRecord
from numinv.errors import InvalidInput, NumInvError, StorageError
from numinv.events import Dispatcher
from numinv.storage.protocol import AtEnd, Repository, Transaction

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """One transaction of one inventory call: what it wrote, journaled and announced."""

    def __init__(
        self,
        repository: Repository,
        dispatcher: Dispatcher,
        operation: str,
        rules: Rules,
        actor: str | None,
        nodes: Iterable[str] | None = (),
    ) -> None:
        self.repository = repository
        self.dispatcher = dispatcher
        self.operation = operation
        self.actor = actor
        self.count = 0
        self._rules = rules
        # The nodes whose settings the rules take (None: every node's), read when the
        # rules are first asked for.
        self._settings_of = None if nodes is None else tuple(nodes)
        self._settings_read = self._settings_of == ()
        self._entries: list[Entry] = []
        self._context = repository.transaction()
        self._tx: Transaction | None = None
        self.joined = False
        self._late: tuple[int, int] | None = None  # (first seq, ticket) from the commit

    @property
    def tx(self) -> Transaction:
        assert self._tx is not None, "the unit of work is not open"
        return self._tx

    @property
    def rules(self) -> Rules:
        """The rules in force, with what administrators set at the unit's nodes.

        The settings are read inside the transaction that acts on them, when
        first needed rather than first thing: a store that sends `BEGIN`
        with the transaction's first statement can then send it with a read
        that needs no settings (PostgreSQL answers the settings from what it
        kept, once it knows they still stand).
        """
        if not self._settings_read:
            found = self.tx.node_settings(self._settings_of)
            if found:
                self._rules = attrs.evolve(self._rules, nodes=found)
            self._settings_read = True
        return self._rules

    def __enter__(self) -> Self:
        self._tx = self._context.__enter__()
        # Joined to a transaction the host opened: the host commits it (`AtEnd`).
        self.joined = getattr(self._tx, "joined", False) is True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        listening = self.dispatcher.listening
        outer = self.tx if self.joined and isinstance(self.tx, AtEnd) else None
        numbered: tuple[int, int] | None = None  # (first seq, dispatcher ticket)
        try:
            if error is None:
                numbered = self._journal_all(listening)
            else:
                numbered = self._journal_refused(error, listening)
        except BaseException as failure:
            self._context.__exit__(type(failure), failure, failure.__traceback__)
            raise
        try:
            self._context.__exit__(kind, error, traceback)
        except BaseException:
            if numbered is not None and numbered is not _LATER:
                self.dispatcher.cancel(numbered[1])
            raise
        finally:
            self._tx = None
        if numbered is None:
            return
        if numbered is _LATER:  # numbered at the host's commit, if it comes
            assert outer is not None
            outer.at_end(self._ended_late)
            return
        first, ticket = numbered
        if outer is not None:  # the host's transaction decides, when it ends
            outer.at_end(functools.partial(self._ended, first, ticket))
        elif error is None:
            self.dispatcher.ready(ticket, self._events(first))
        else:  # refused: rolled back with its own transaction (or a host's we cannot tell)
            self.dispatcher.cancel(ticket)

    def _journal_all(self, listening: bool) -> tuple[int, int] | None:
        """Journal the unit's entries; their first seq and dispatcher ticket when someone
        listens. With nobody listening, a store's optional `JournalAtCommit` takes them
        with the commit, also in a host's transaction that the unit joined: the store
        numbers every call's entries in the order given, and a store that numbers them
        at the commit keeps its sequence free while the host's transaction goes on. In
        a host's transaction the events wait for its end anyway, so with a listener the
        seqs may come at the commit too, where the store offers that
        (`journal_at_commit_numbered`): `_LATER`, and they are registered then."""
        if not self._entries:
            return None
        at_commit = None if listening else getattr(self.tx, "journal_at_commit", None)
        if at_commit is not None:
            at_commit(self._entries)
            return None
        numbered = getattr(self.tx, "journal_at_commit_numbered", None)
        if self.joined and isinstance(self.tx, AtEnd) and numbered is not None:
            numbered(self._entries, self._seqs_given)
            return _LATER
        first = self.tx.journal(self._entries)
        return (first, self.dispatcher.register(first)) if listening else None

    def _seqs_given(self, first: int) -> None:
        """The store gave this unit's entries their seqs, at the host's commit."""
        self._late = (first, self.dispatcher.register(first))

    def _journal_refused(self, error: BaseException, listening: bool) -> tuple[int, int] | None:
        """A call refused after it wrote (the release of a lapsed cooling, part of a range),
        or stopped by a host's hook that failed, still journals what it wrote, in its
        transaction: rolled back with it, as usual, unless the transaction is a host's
        own that the call joined and that the host commits after catching the error. Its
        writes then stay, and so must their entries (no change without its entry) and
        their events. A store that cannot write them now (its transaction failed) is
        rolling back anyway; the refusal is what the caller hears."""
        if not self._entries or not isinstance(error, Exception) or isinstance(error, StorageError):
            return None
        try:
            first = self.tx.journal(self._entries)
        except NumInvError:
            return None
        return (first, self.dispatcher.register(first)) if listening else None

    def _ended_late(self, committed: bool) -> None:
        """The host's transaction ended; its commit numbered this unit's entries, or not."""
        if self._late is not None:
            self._ended(*self._late, committed)

    def _ended(self, first: int, ticket: int, committed: bool) -> None:
        """The host's transaction this call joined has ended: its events go, or not."""
        if committed:
            self.dispatcher.ready(ticket, self._events(first))
        else:
            self.dispatcher.cancel(ticket)

    # -- reading for writing --------------------------------------------------

    def current(self, record: NumberRecord) -> NumberRecord:
        """The record as it stands now, its due release stored first (a change of its own)."""
        if record.release_date is None or not is_due(record, self.rules.now):
            return record
        lapsed = transition(record, Lapse(), self.rules)
        self.replace(record, lapsed, Lapse.operation)
        return lapsed

    # -- writes ------------------------------------------------------------------

    def _journal(self, entry: Entry) -> None:
        self._entries.append(entry)
        self.count += entry.span

    def _entry(
        self, before: NumberRecord | None, after: NumberRecord | None, operation: str | None
    ) -> Entry:
        return Entry(operation or self.operation, before, after, self.rules.now, self.actor)

    def insert(self, records: Iterable[NumberRecord], operation: str | None = None) -> None:
        records = list(records)
        for record in records:
            _keepable(record)
        self.tx.insert(records)
        for record in records:
            self._journal(self._entry(None, record, operation))

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        """Add every number of the range as `template` (one compact journal entry)."""
        _keepable(template)
        self.tx.insert_range(numbers, template)
        first = template if template.number == numbers.first else _numbered(template, numbers)
        self._journal(
            Entry(self.operation, None, first, self.rules.now, self.actor, numbers=numbers)
        )

    def replace(self, old: NumberRecord, new: NumberRecord, operation: str | None = None) -> None:
        _keepable(new)
        self.tx.replace([(old, new)])
        self._journal(self._entry(old, new, operation))

    def replace_all(self, changes: list[tuple[NumberRecord, NumberRecord]]) -> None:
        for _, new in changes:
            _keepable(new)
        self.tx.replace(changes)
        for old, new in changes:
            self._journal(self._entry(old, new, None))

    def delete(self, records: list[NumberRecord]) -> None:
        self.tx.delete(records)
        for record in records:
            self._journal(self._entry(record, None, None))

    def move(self, old: NumberRecord, new: NumberRecord) -> None:
        """Store a record under a new key: one change, from the old key to the new one."""
        _keepable(new)
        self.tx.delete([old])
        self.tx.insert([new])
        self._journal(self._entry(old, new, None))

    def apply(self, record: NumberRecord, action: Action) -> NumberRecord:
        """Run an action on a record read in this unit; store the result if it changed."""
        after = transition(record, action, self.rules)
        if after is not record:
            self.replace(record, after)
        return after

    # -- events ---------------------------------------------------------------

    def _events(self, first: int) -> Iterator[Event]:
        seq = first
        for entry in self._entries:
            if entry.numbers is None:
                yield Event(entry.operation, entry.before, entry.after, entry.at, seq, entry.actor)
            else:
                template = entry.record
                for offset in range(entry.span):
                    record = _numbered(template, entry.numbers, offset)
                    yield Event(entry.operation, None, record, entry.at, seq + offset, entry.actor)
            seq += entry.span


def _numbered(template: NumberRecord, numbers: NumberRange, offset: int = 0) -> NumberRecord:
    return attrs.evolve(template, number=number_of(numbers, offset))


Opener = Callable[[str], UnitOfWork]


def _keepable(record: NumberRecord) -> None:
    """Refuse a record no store could keep: past the last version a store keeps (a record
    imported at it), or naming a holder too long for an index entry with its node."""
    if record.version > MAX_VERSION:
        raise InvalidInput(
            f"{record.number!r} at {record.hierarchy!r} would pass version {MAX_VERSION}, the "
            "last a store keeps: it cannot change again",
            number=record.number,
            value=record.version,
        )
    place = len(record.hierarchy) + len(record.number)
    if 4 * (place + MAX_NAME) <= MAX_HOLDER_ENTRY:  # UTF-8 takes at most 4 bytes a character
        return
    place = len(record.hierarchy.encode()) + len(record.number.encode())
    for name in record.holders:
        if (size := place + len(name.encode())) > MAX_HOLDER_ENTRY:
            raise InvalidInput(
                f"the holder {name[:40]!r}{'...' if len(name) > 40 else ''} of {record.number} "
                f"at {record.hierarchy[:40]!r}{'...' if len(record.hierarchy) > 40 else ''} "
                f"makes an index entry of {size} bytes in UTF-8 with the number and its node; "
                f"every store keeps at most {MAX_HOLDER_ENTRY}",
                number=record.number,
                hierarchy=record.hierarchy,
                value=name,
            )


# `_journal_all`: the seqs come at the host's commit (`UnitOfWork._seqs_given`).
_LATER: Final = (-1, -1)
