"""Compare-and-set writes inside the open SQLite transaction (`_SqliteTransaction`)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import repeat
from typing import Any

from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord
from numinv.errors import ConcurrentUpdate
from numinv.settings import NodeSettings
from numinv.storage.protocol import Query, same_key
from numinv.storage.rows import TEXT, refuse_unkeepable
from numinv.storage.sqlite.connections import _unkeepable
from numinv.storage.sqlite.reads import _Reads
from numinv.storage.sqlite.statements import (
    _ASSOCIATE,
    _CONFIGURE,
    _DELETE,
    _DISSOCIATE,
    _HOLD,
    _INSERT,
    _NEXT_SEQ,
    _RETIRE,
    _SETTINGS_FIELDS,
    _TAKEN,
    _UNCONFIGURE,
    _UNHOLD,
    _VERSION_OF,
    _WRITE_JOURNAL,
    _entry_rows,
    _update_of,
)


class _SqliteTransaction(_Reads):
    """Compare-and-set writes inside the open SQLite transaction."""

    joined = False  # `AtEnd`: set on one opened inside another

    def at_end(self, callback: Callable[[bool], None]) -> None:
        self._db.ends.append(callback)

    @contextmanager
    def _whole(self, many: bool) -> Iterator[None]:
        """One write call, all or nothing: a refusal part way takes back what it wrote."""
        if not many:  # one statement is all or nothing by itself
            yield
            return
        db = self._db
        counts = Counter(db.counts)
        db.execute("SAVEPOINT numinv_call")
        try:
            yield
        except Exception:
            with suppress(sqlite3.Error):
                db.connection.execute("ROLLBACK TO numinv_call")
                db.connection.execute("RELEASE numinv_call")
            db.counts = counts
            raise
        db.execute("RELEASE numinv_call")

    def insert(self, records: Iterable[NumberRecord]) -> None:
        db = self._db
        written: list[NumberRecord] = []
        batch = list(records)

        for record in batch:
            refuse_unkeepable(record)

        def rows() -> Iterator[list[Any]]:
            for record in batch:
                written.append(record)
                yield TEXT.row(record)

        with db.lock, self._whole(len(batch) > 1):
            try:
                db.connection.executemany(_INSERT, rows())
            except sqlite3.IntegrityError as error:
                # The statement that failed is the last row handed over.
                record = written[-1]
                raise ConcurrentUpdate(
                    f"{record.number} at {record.hierarchy} was added by another writer",
                    number=record.number,
                    hierarchy=record.hierarchy,
                ) from error
            except sqlite3.Error as error:
                raise db.error(error) from error
            except UnicodeEncodeError as error:
                raise _unkeepable(error) from error
            self._indexed(written)

    def _indexed(self, records: list[NumberRecord]) -> None:
        """Count stored records and index their E.164 numbers and holders."""
        db = self._db
        associations: list[tuple[str, str, str]] = []
        holders: list[tuple[str, str, str]] = []
        for record in records:
            db.counts[(record.hierarchy, record.status)] += 1
            associations += [(e164, *record.key) for e164 in record.e164]
            holders += [(name, *record.key) for name in record.holders]
        if associations:
            db.executemany(_ASSOCIATE, associations)
        if holders:
            db.executemany(_HOLD, holders)

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        refuse_unkeepable(template)
        db = self._db
        hierarchy = template.hierarchy
        with db.lock:
            taken = db.rows(_TAKEN, (hierarchy, numbers.first, numbers.last, len(numbers.first)))
            if taken:
                raise ConcurrentUpdate(
                    f"{taken[0][0]} at {hierarchy} was added by another writer",
                    number=taken[0][0],
                    hierarchy=hierarchy,
                )
            # The rows straight from the template: no record per number.
            rest = TEXT.row(template)[1:]
            with db.translated(taken=f"a number of {numbers} at {hierarchy}"):
                db.connection.executemany(_INSERT, zip(numbers, *map(repeat, rest), strict=False))
            db.counts[(hierarchy, template.status)] += len(numbers)
            if template.e164:
                db.executemany(
                    _ASSOCIATE,
                    ((e164, number, hierarchy) for number in numbers for e164 in template.e164),
                )
            names = template.holders
            if names:
                db.executemany(
                    _HOLD, ((name, number, hierarchy) for number in numbers for name in names)
                )

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        db = self._db
        with db.lock:
            batch: list[tuple[NumberRecord, NumberRecord]] = []
            for old, new in changes:
                same_key(old, new)
                refuse_unkeepable(new)
                batch.append((old, new))
            if not batch:
                return
            if len(batch) > 1:
                self._replace_many(batch)
                return
            old, new = batch[0]
            # Only the columns that change: SQLite then leaves alone the indexes of the others.
            columns, values = TEXT.changed(old, new)
            cursor = db.execute(_update_of(columns), (*values, *old.key, old.version))
            if cursor.rowcount != 1:
                raise self._stale(old)
            self._replaced(batch)

    def _replace_many(self, batch: list[tuple[NumberRecord, NumberRecord]]) -> None:
        db = self._db
        with self._whole(True):
            # One statement for each shape of change (the columns it sets), for many rows:
            # a count short of the rows finds the stale one.
            shapes: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
            for old, new in batch:
                columns, values = TEXT.changed(old, new)
                shapes.setdefault(columns, []).append((*values, *old.key, old.version))
            done = 0
            for columns, rows in shapes.items():
                done += db.executemany(_update_of(columns), rows).rowcount
            if done != len(batch):
                raise self._stale(self._first_stale(batch))
            self._replaced(batch)

    def _replaced(self, batch: list[tuple[NumberRecord, NumberRecord]]) -> None:
        """Keep counts and side tables in step with replaced records."""
        counts = self._db.counts
        for old, new in batch:
            if old.status != new.status:
                counts[(old.hierarchy, old.status)] -= 1
                counts[(new.hierarchy, new.status)] += 1
            if old.e164 != new.e164:
                self._reassociate(old, old.e164, new.e164, _ASSOCIATE, _DISSOCIATE)
            if old.uses != new.uses or old.reserved_for != new.reserved_for:
                self._reassociate(old, tuple(old.holders), tuple(new.holders), _HOLD, _UNHOLD)

    def _first_stale(self, batch: list[tuple[NumberRecord, NumberRecord]]) -> NumberRecord:
        """The first record of a batch whose stored version is not the one it replaced."""
        for old, new in batch:
            stored = self._db.rows(_VERSION_OF, (old.hierarchy, old.number))
            if not stored or stored[0][0] not in (old.version, new.version):
                return old
        return batch[0][0]

    def delete(self, records: Iterable[NumberRecord]) -> None:
        db = self._db
        batch = list(records)
        with db.lock, self._whole(len(batch) > 1):
            for record in batch:
                cursor = db.execute(_DELETE, (*record.key, record.version))
                if cursor.rowcount != 1:
                    raise self._stale(record)
                db.counts[(record.hierarchy, record.status)] -= 1
                db.execute(_RETIRE, (record.hierarchy, record.number, record.version))
                if record.e164:
                    self._reassociate(record, record.e164, (), _ASSOCIATE, _DISSOCIATE)
                names = tuple(record.holders)
                if names:
                    self._reassociate(record, names, (), _HOLD, _UNHOLD)

    def _reassociate(
        self,
        record: NumberRecord,
        old: tuple[str, ...],
        new: tuple[str, ...],
        add: str,
        remove: str,
    ) -> None:
        db = self._db
        gone = [(name, *record.key) for name in old if name not in new]
        added = [(name, *record.key) for name in new if name not in old]
        if gone:
            db.executemany(remove, gone)
        if added:
            db.executemany(add, added)

    def _stale(self, record: NumberRecord) -> ConcurrentUpdate:
        stored = self._db.rows(_VERSION_OF, (record.hierarchy, record.number))
        found = f"at version {stored[0][0]}" if stored else "gone"
        return ConcurrentUpdate(
            f"{record.number} at {record.hierarchy} changed under us: expected version "
            f"{record.version}, found {found}",
            number=record.number,
            hierarchy=record.hierarchy,
        )

    def claim(self, query: Query) -> list[NumberRecord]:
        return self.scan(query)  # writers are serialised: what this transaction reads is its own

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        db = self._db
        with db.lock:
            for key in [key for key in db.cache if key.startswith("node_settings")]:
                del db.cache[key]
            if settings is None or settings.empty:
                db.execute(_UNCONFIGURE, (hierarchy,))
            else:
                values = [getattr(settings, name) for name in _SETTINGS_FIELDS]
                db.execute(_CONFIGURE, (hierarchy, *values))
            db.generation += 1  # written: a value read before this is old (`cached`)

    def journal(self, entries: Sequence[Entry]) -> int:
        db = self._db
        total = sum(entry.span for entry in entries)
        with db.lock:
            ((last,),) = db.execute(_NEXT_SEQ, (total,)).fetchall()
            first = int(last) - total + 1
            rows: list[tuple[Any, ...]] = []
            seq = first
            for entry in entries:
                rows += _entry_rows(seq, entry)
                seq += entry.span
            db.executemany(_WRITE_JOURNAL, rows)
            return first

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """Written at once: one writer at a time, so the seqs are in commit order already."""
        self.journal(entries)
