"""The read side of the repository protocol over a shared `_Database` (`_Reads`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from numinv.core.hierarchy import is_at_or_below
from numinv.core.journal import block_of, changes_after, history_of
from numinv.core.numbers import NumberRange
from numinv.core.records import Change, NumberRecord, Status
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query
from numinv.storage.rows import TEXT, time_text
from numinv.storage.sqlite.connections import _Database
from numinv.storage.sqlite.statements import (
    _AFTER_DIGITS,
    _ALL_NODE_COUNTS,
    _ALL_SETTINGS,
    _DUE,
    _DUE_COUNT,
    _ENTRIES_AFTER,
    _ENTRY_AT,
    _GATHERED,
    _GATHERS,
    _GET,
    _HELD_BY,
    _HISTORY,
    _HOLDING,
    _NEXT_RELEASE,
    _NODE_COUNTS,
    _RETIRED,
    _SCANS,
    _SETTINGS_FIELDS,
    _WITH_E164,
    _WITHIN,
    _WITHIN_NODE,
    _entry_of,
)


class _Reads:
    """The read side of the protocol, over a shared `_Database`."""

    def __init__(self, database: _Database) -> None:
        self._db = database

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        rows = self._db.rows(_GET, (hierarchy, number))
        return TEXT.record(rows[0]) if rows else None

    def holding(self, number: str) -> list[NumberRecord]:
        return self._db.records(_HOLDING, (number,))

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        span = (numbers.first, numbers.last, len(numbers.first))
        if hierarchy is None:
            return self._db.records(_WITHIN, span)
        return self._db.records(_WITHIN_NODE, (hierarchy, *span))

    def scan(self, query: Query) -> list[NumberRecord]:
        if query.status is not None and query.due_by is not None:
            gathered = self._gathered(query, query.status, query.due_by)
            if gathered is not None:
                return gathered
        parameters: list[Any] = [query.hierarchy]
        if query.status is not None:
            parameters.append(str(query.status))
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        if query.due_by is not None:
            parameters.append(time_text(query.due_by))
        parameters.append(query.limit)
        sql = _SCANS[
            (
                query.status is not None,
                query.prefix is not None,
                query.after is not None,
                query.due_by is not None,
            )
        ]
        return self._db.records(sql, parameters)

    def _gathered(
        self, query: Query, status: Status, due_by: datetime
    ) -> list[NumberRecord] | None:
        """A scan for due records by release date, when they are few (None: many)."""
        due = [query.hierarchy, str(status), time_text(due_by)]
        ((count,),) = self._db.rows(_DUE_COUNT, due)
        if count > _GATHERED:
            return None
        if count == 0:
            return []
        parameters: list[Any] = due
        if query.prefix is not None:
            parameters += [query.prefix, query.prefix + _AFTER_DIGITS]
        if query.after is not None:
            parameters.append(query.after)
        parameters.append(query.limit)
        sql = _GATHERS[(query.prefix is not None, query.after is not None)]
        return self._db.records(sql, parameters)

    def nodes(self, under: str | None = None) -> list[str]:
        return list(self.counts(under))

    def due(self, now: datetime, limit: int) -> list[NumberRecord]:
        return self._db.records(_DUE, (time_text(now), limit))

    def next_release(self) -> datetime | None:
        db = self._db
        if db.owner == threading.get_ident():  # inside a transaction: its own writes count
            rows = db.rows(_NEXT_RELEASE, ())
            return datetime.fromisoformat(rows[0][0]) if rows else None
        return db.cached("next_release", self._next_release)

    def _next_release(self) -> datetime | None:
        rows = self._db.rows(_NEXT_RELEASE, ())
        return datetime.fromisoformat(rows[0][0]) if rows else None

    def with_e164(self, e164: str) -> list[NumberRecord]:
        return self._db.records(_WITH_E164, (e164,))

    def held_by(self, who: str) -> list[NumberRecord]:
        return self._db.records(_HELD_BY, (who,))

    def counts(self, under: str | None = None) -> Mapping[str, Mapping[Status, int]]:
        db = self._db
        if db.owner == threading.get_ident():
            with db.lock:
                db.write_counts()
        if under is None:
            rows = db.rows(_ALL_NODE_COUNTS, ())
        else:
            rows = db.rows(_NODE_COUNTS, (under, under + "/"))
        found: dict[str, dict[Status, int]] = {}
        for hierarchy, status, total in rows:
            if under is None or is_at_or_below(hierarchy, under):
                statuses = found.get(hierarchy)
                if statuses is None:
                    statuses = found[hierarchy] = dict.fromkeys(Status, 0)
                statuses[Status(status)] = total
        return found

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        # A small table that rarely changes: read whole, and again only after a commit.
        every = self._db.cached("node_settings", self._all_settings, ours=False)
        if nodes is None:
            return dict(every)
        if not every:
            return {}
        return {node: found for node in nodes if (found := every.get(node)) is not None}

    def _all_settings(self) -> dict[str, NodeSettings]:
        rows = self._db.rows(_ALL_SETTINGS, ())
        found: dict[str, NodeSettings] = {}
        for hierarchy, *settings in rows:
            values: dict[str, Any] = dict(zip(_SETTINGS_FIELDS, settings, strict=True))
            for name in ("auto_cooling", "prevent_duplicates"):
                if values[name] is not None:
                    values[name] = bool(values[name])
            found[hierarchy] = NodeSettings(**values)
        return found

    def retired(self, numbers: NumberRange, hierarchy: str) -> Mapping[str, int]:
        rows = self._db.rows(_RETIRED, (hierarchy, numbers.first, numbers.last, len(numbers.first)))
        return dict(rows)

    def changes(self, after: int, limit: int) -> list[Change]:
        if limit <= 0:
            return []
        rows = self._db.rows(_ENTRY_AT, (after,)) if after > 0 else []
        rows += self._db.rows(_ENTRIES_AFTER, (after, limit))
        return changes_after(map(_entry_of, rows), after, limit)

    def history(self, number: str) -> list[Change]:
        rows = self._db.rows(_HISTORY, (number, block_of(number), number, number, len(number)))
        return history_of(map(_entry_of, rows), number)
