"""The read side of the repository protocol over a shared `_Database` (`_Reads`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from numinv.core.hierarchy import is_at_or_below
from numinv.core.journal import block_of, changes_after, history_of
from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord, Status
from numinv.errors import ConcurrentUpdate, NumberBusy
from numinv.settings import NodeSettings
from numinv.storage.postgres.connections import _Database
from numinv.storage.postgres.held import _Open
from numinv.storage.postgres.locks import _LOCK_BUDGET, _Keys, _Refused
from numinv.storage.postgres.statements import (
    _AFTER_DIGITS,
    _CODEC,
    _GATHERED,
    _LARGEST_LIMIT,
    _SETTINGS_FIELDS,
    _entry_of,
)
from numinv.storage.protocol import Query


class _Reads:
    """The read side of the protocol, over a shared `_Database`."""

    _held: _Open | None = None

    def __init__(self, database: _Database) -> None:
        self._db = database

    def _rows(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._db.rows(sql, parameters, self._held)

    def _records(self, sql: str, parameters: Sequence[Any]) -> list[NumberRecord]:
        return self._db.records(sql, parameters, self._held)

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        rows = self._rows(self._db.sql.get, (hierarchy, number))
        return _CODEC.record(rows[0]) if rows else None

    def _claiming(self, keys: _Keys, *, of: str | None = None) -> _Open | None:
        """Inside a transaction, lock what a uniqueness check reads (see `_Keys`; a check
        `of` one number whose row the transaction holds does not wait: `_Open.lock`).

        Returns the transaction when it had to take new locks: a writer it
        waited for may have made nodes its node list lacks (`_still`).
        """
        held = self._held or self._db.open
        if held is None:
            return None
        try:
            with self._db.translated():
                return held if held.lock(keys, of=of) else None
        except _Refused as refused:
            if not refused.escalating:
                raise
            raise ConcurrentUpdate(
                f"this transaction checks more than {_LOCK_BUDGET} numbers, which it does "
                "with every other check kept out, and other writers are checking theirs; "
                "try again",
                wait=self._db.alone_next,
            ) from None

    def _still(self, held: _Open | None) -> None:
        """Refuse a check that went node by node over a node list gone stale.

        The inventory checks a load node by node (`nodes(at)`, then `within`
        at each); a node another writer made meanwhile, and committed while
        this one waited for its locks, would be missed: a lost race.
        """
        if held is None or held.tree is None:
            return
        under, before = held.tree
        # Only a node made meanwhile was missed: one gone holds nothing to check, and
        # the node checked itself was read whatever the list said (a load at a node that
        # a delete emptied and the load filled again failed here, over and over).
        made = set(self.counts(under)).difference(before, [under])
        if made:
            raise ConcurrentUpdate(
                f"the nodes under {under or 'the root'} changed while this transaction read "
                "them; try again"
            )

    def holding(self, number: str) -> list[NumberRecord]:
        """Every record of the number, its check's locks taken first (`_claiming`).

        Refused them (this transaction holds the number's row, and another
        writer checks or changes it: `_Open.lock`), it reads what is committed.
        Another record of the number there makes it a duplicate whatever that
        writer does, and that is the answer. Otherwise the check cannot be made
        now: `NumberBusy` when only the number was refused (`assign_next` looks
        past it), else `ConcurrentUpdate`; either can wait for the writer.
        """
        keys = _Keys.of_number(self._db.schema, number)
        try:
            self._claiming(keys, of=number)
        except _Refused as refused:
            found = self._records(self._db.sql.holding, (number,))
            if len(found) > 1:  # its own record and another: a duplicate all the same
                return found
            wait = functools.partial(self._db.wait_for, keys)
            if refused.alone:
                raise NumberBusy(
                    f"another writer is checking or changing {number}", number=number, wait=wait
                ) from None
            raise ConcurrentUpdate(
                f"another writer is changing the numbers around {number} (a range, an "
                "import); try again",
                number=number,
                wait=wait,
            ) from None
        return self._records(self._db.sql.holding, (number,))

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        held = self._claiming(_Keys.of_range(self._db.schema, numbers))
        span = (numbers.first, numbers.last, len(numbers.first))
        if hierarchy is None:
            found = self._records(self._db.sql.within, span)
        else:
            found = self._records(self._db.sql.within_node, (hierarchy, *span))
        if hierarchy is not None:
            self._still(held)
        return found

    def scan(self, query: Query) -> list[NumberRecord]:
        return self._scan(query, lock=False)

    def _scan(self, query: Query, *, lock: bool) -> list[NumberRecord]:
        if query.status is not None and query.due_by is not None:
            gathered = self._gathered(query, query.status, query.due_by, lock=lock)
            if gathered is not None:
                return gathered
        first, past = query.prefix or "", False
        if query.after is not None and query.after >= first:
            first, past = query.after, True  # the numbers after a cursor in the prefix
        last = (query.prefix or "") + _AFTER_DIGITS
        if query.status is None:
            parameters: list[Any] = [query.hierarchy, first, last]
        else:
            status = str(query.status)
            parameters = [query.hierarchy, status, first, status, last]
        if query.due_by is not None:
            parameters.append(query.due_by)
        parameters.append(min(max(query.limit, 0), _LARGEST_LIMIT))
        sql = self._db.sql.scans[(query.status is not None, past, query.due_by is not None, lock)]
        return self._records(sql, parameters)

    def _gathered(
        self, query: Query, status: Status, due_by: datetime, *, lock: bool
    ) -> list[NumberRecord] | None:
        """A scan for due records by release date, when they are few (None: many)."""
        sql = self._db.sql
        due = [query.hierarchy, str(status), due_by]
        ((count,),) = self._rows(sql.due_count, due)
        if count > _GATHERED:
            return None
        if count == 0:
            return []
        parameters: list[Any] = [*due, str(status), due_by]
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        parameters.append(min(max(query.limit, 0), _LARGEST_LIMIT))
        gather = sql.gathers[(query.prefix is not None, query.after is not None, lock)]
        return self._records(gather, parameters)

    def nodes(self, under: str | None = None) -> list[str]:
        return list(self.counts(under))

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        return self._records(self._db.sql.due, (now, min(max(limit, 0), _LARGEST_LIMIT)))

    def next_release(self) -> datetime | None:
        held = self._held or self._db.open
        if held is not None and held.earliest is not None:
            rows = held.earliest
        else:
            rows = self._rows(self._db.sql.next_release, ())
        return rows[0][0].astimezone(UTC) if rows else None

    def with_e164(self, e164: str) -> list[NumberRecord]:
        self._claiming(_Keys.of_e164(self._db.schema, e164))
        return self._records(self._db.sql.with_e164, (e164,))

    def held_by(self, who: str) -> list[NumberRecord]:
        return self._records(self._db.sql.held_by, (who,))

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        held = self._held or self._db.open
        if held is not None:
            held.count(self._db.sql.add_counts)
        sql = self._db.sql
        if under is None:
            rows = self._rows(sql.all_node_counts, ())
        else:
            rows = self._rows(sql.node_counts, (under, under + "/"))
        found: dict[str, dict[Status, int]] = {}
        for hierarchy, status, total in rows:
            if under is None or is_at_or_below(hierarchy, under):
                statuses = found.get(hierarchy)
                if statuses is None:
                    statuses = found[hierarchy] = dict.fromkeys(Status, 0)
                statuses[Status(status)] = int(total)
        if held is not None:
            held.tree = (under, tuple(found))
        return found

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        if nodes is None:
            rows = self._rows(self._db.sql.all_settings, ())
        else:
            wanted = list(nodes)
            if not wanted:
                return {}
            rows = self._rows(*self._db.sql.some_settings([(node,) for node in wanted]))
        return {
            hierarchy: NodeSettings(**dict(zip(_SETTINGS_FIELDS, settings, strict=True)))
            for hierarchy, *settings in rows
        }

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        rows = self._rows(
            self._db.sql.retired, (hierarchy, numbers.first, numbers.last, len(numbers.first))
        )
        return {number: int(version) for number, version in rows}

    def _kept_journal_first(self) -> None:
        """Inside a transaction, the entries kept for its commit (of calls that joined a
        host's transaction) go before a read of the journal, so that it sees them, as on
        the other stores; the sequence row is then this transaction's until it ends."""
        held = self._held or self._db.open
        if held is not None and held.closing:
            assert held.write_closing is not None  # set with the first entry kept
            held.write_closing()

    def changes(self, after: int, limit: int) -> list[Change]:
        if limit <= 0:
            return []
        self._kept_journal_first()
        sql = self._db.sql
        rows = self._rows(sql.entry_at, (after,)) if after > 0 else []
        rows += self._rows(sql.entries_after, (after, min(limit, _LARGEST_LIMIT)))
        return changes_after(map(_entry_of, rows), after, limit)

    def history(self, number: str) -> list[Change]:
        self._kept_journal_first()
        rows = self._rows(
            self._db.sql.history, (number, block_of(number), number, number, len(number))
        )
        return history_of(map(_entry_of, rows), number)
