"""Compare-and-set writes inside the open PostgreSQL transaction (`_PostgresTransaction`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from numinv.core.checks import keepable
from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange
from numinv.core.records import NumberRecord
from numinv.errors import ConcurrentUpdate, StorageError
from numinv.settings import NodeSettings
from numinv.storage.postgres.connections import _Database
from numinv.storage.postgres.held import _Open
from numinv.storage.postgres.locks import _Keys
from numinv.storage.postgres.reads import _Reads
from numinv.storage.postgres.statements import (
    _CHUNK,
    _CODEC,
    _COPY_AT,
    _SETTINGS_FIELDS,
    _SETTINGS_KEPT,
    _columns,
    _copy_line,
    _entry_rows,
)
from numinv.storage.postgres.wire import Answer
from numinv.storage.protocol import Query, same_key
from numinv.storage.rows import (
    COLUMNS,
    refuse_unkeepable,
)


class _PostgresTransaction(_Reads):
    """Compare-and-set writes inside the open PostgreSQL transaction."""

    joined = False  # `AtEnd`: set on one opened inside another

    def at_end(self, callback: Callable[[bool], None]) -> None:
        self._open.ends.append(callback)

    def __init__(self, database: _Database, held: _Open) -> None:
        super().__init__(database)
        self._held = held

    @property
    def _open(self) -> _Open:
        assert self._held is not None
        return self._held

    def within(self, numbers: NumberRange, hierarchy: str | None = None) -> list[NumberRecord]:
        """At one node, the records with their rows locked until the end, in number order,
        as `get` locks one: a range operation reads them to change them. Read unlocked, a
        range lost its compare-and-set to any single-number writer of one of its numbers
        (`update_range` of twenty numbers beside `update`s of them failed 99 times in 100).
        Across every node (a uniqueness check) nothing is locked."""
        if hierarchy is None:
            return super().within(numbers)
        held = self._claiming(_Keys.of_range(self._db.schema, numbers))
        span = (numbers.first, numbers.last, len(numbers.first))
        found = self._records(self._db.sql.within_node_locked, (hierarchy, *span))
        self._still(held)
        self._open.hold(found)
        return found

    def get(self, number: str, hierarchy: str) -> NumberRecord | None:
        """The record, its row locked until the end: the transaction reads it to change it.

        Without the lock two writers of one number both read the same version
        and one loses its compare-and-set; with it the second waits for the
        first to commit and reads what it wrote, as on a store with one writer.
        """
        rows = self._rows(self._db.sql.get_locked, (hierarchy, number))
        if not rows:
            return None
        record = _CODEC.record(rows[0])
        self._open.hold((record,))
        return record

    def _execute(self, sql: str, parameters: Sequence[Any] = (), **taken: str) -> Answer:
        with self._db.translated(**taken):
            return self._open.execute(sql, parameters)

    def _copy(self, sql: str, lines: Iterable[str], *, taken: str | None = None) -> None:
        """Send lines of COPY text, in chunks."""
        with self._db.translated():
            self._open.execute(None)  # BEGIN and what is waiting go first
        with (
            self._db.translated(taken=taken),
            self._open.connection.cursor() as cursor,
            cursor.copy(sql) as copy,
        ):
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 4096:
                    copy.write("".join(chunk))
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk))

    # -- each write call all or nothing ---------------------------------------------

    @contextmanager
    def _whole(self, many: bool) -> Iterator[None]:
        """One write call of many rows, all or nothing: a refusal part way (a lost
        compare-and-set) takes back what the call wrote, under a savepoint."""
        if not many:  # one statement is all or nothing by itself
            yield
            return
        held = self._open
        counts = Counter(held.counts)
        self._execute("SAVEPOINT numinv_call")  # sends what waits first
        try:
            yield
        except ConcurrentUpdate:
            held.pending.clear()
            held.counts = counts
            held.mine.clear()  # what the call locked and wrote goes with the savepoint
            held.held_numbers.clear()
            self._execute("ROLLBACK TO SAVEPOINT numinv_call")
            raise
        held.later("RELEASE SAVEPOINT numinv_call", ())

    def insert(self, records: Iterable[NumberRecord]) -> None:
        batch = list(records)
        with self._whole(len(batch) > 1):
            self._insert(batch)
        self._open.earliest = None

    def replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        batch = list(changes)
        with self._whole(len(batch) > 1):
            self._replace(batch)
        self._open.earliest = None

    def delete(self, records: Iterable[NumberRecord]) -> None:
        batch = list(records)
        with self._whole(len(batch) > 1):
            self._delete(batch)
        self._open.earliest = None

    # -- insert ------------------------------------------------------------------

    def _insert(self, records: Iterable[NumberRecord]) -> None:
        self._open.tree = None  # a write may change the node list
        written: list[NumberRecord] = []
        for record in records:
            refuse_unkeepable(record)
            written.append(record)
        if not written:
            return
        sql = self._db.sql
        if len(written) == 1:
            (record,) = written
            cursor = self._execute(sql.insert_one, _CODEC.row(record))
            if cursor.rowcount != 1:
                raise _added(record)
        elif len(written) < _COPY_AT:
            rows = [_CODEC.row(record) for record in written]
            cursor = self._execute(sql.insert_many, _columns(rows, len(COLUMNS)))
            stored = Counter(cursor.rows)
            for record in written:
                if stored[record.key] <= 0:
                    raise _added(record)
                stored[record.key] -= 1
        else:
            self._copy_records(written)
        self._indexed(written)

    def _copy_records(self, records: list[NumberRecord]) -> None:
        """Load many records by COPY, after refusing keys that are taken."""
        seen: set[tuple[str, str]] = set()
        for record in records:
            if record.key in seen:
                raise _added(record)
            seen.add(record.key)
        taken = self._rows(
            self._db.sql.taken_keys,
            ([record.number for record in records], [record.hierarchy for record in records]),
        )
        if taken:
            number, hierarchy = taken[0]
            raise _added(NumberRecord(number, hierarchy))
        self._copy(
            self._db.sql.copy_records,
            (_copy_line(_CODEC.row(record)) for record in records),
            taken="a record of this batch",
        )

    def _indexed(self, records: list[NumberRecord]) -> None:
        """Count stored records and index their E.164 numbers and holders."""
        counts = self._open.counts
        associations: list[tuple[str, str, str]] = []
        holders: list[tuple[str, str, str]] = []
        for record in records:
            counts[(record.hierarchy, str(record.status))] += 1
            associations += [(e164, *record.key) for e164 in record.e164]
            holders += [(name, *record.key) for name in record.holders]
        if associations:
            self._open.later(*self._db.sql.associate(associations))
        if holders:
            self._open.later(*self._db.sql.hold(holders))

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        self._open.tree = None  # a write may change the node list
        refuse_unkeepable(template)
        sql = self._db.sql
        hierarchy = template.hierarchy
        span = (numbers.first, numbers.last, len(numbers.first))
        taken = self._rows(sql.taken, (hierarchy, *span))
        if taken:
            raise _added(NumberRecord(taken[0][0], hierarchy))
        # The rows straight from the template: its columns after the number, once.
        tail = "\t" + _copy_line(_CODEC.row(template)[1:])
        self._copy(
            sql.copy_records,
            (number + tail for number in numbers),
            taken=f"a number of {numbers} at {hierarchy}",
        )
        self._open.counts[(hierarchy, str(template.status))] += len(numbers)
        if template.e164:
            rows = [(e164, number, hierarchy) for number in numbers for e164 in template.e164]
            self._open.later(*sql.associate(rows))
        names = sorted(template.holders)
        if names:
            rows = [(name, number, hierarchy) for number in numbers for name in names]
            self._open.later(*sql.hold(rows))
        self._open.earliest = None

    # -- replace and delete ----------------------------------------------------------

    def _replace(self, changes: Iterable[tuple[NumberRecord, NumberRecord]]) -> None:
        pairs = list(changes)
        for old, new in pairs:
            same_key(old, new)
            refuse_unkeepable(new)
        if not pairs:
            return
        if len(pairs) == 1 or len({old.key for old, _ in pairs}) < len(pairs):
            # One at a time, in order: a record may be replaced twice in one batch.
            mine = self._open.mine
            for old, new in pairs:
                values = (*_CODEC.row(new)[2:], old.hierarchy, old.number, old.version)
                indexes = self._reindexed([(old, new)])
                if mine.get(old.key) == old.version:  # locked at that version: it matches
                    self._open.later(*self._db.sql.held_with(values, indexes))
                else:
                    cursor = self._execute(self._db.sql.update_one, values)
                    if cursor.rowcount != 1:
                        raise self._stale(old)
                    for statement in indexes:
                        self._open.later(*statement)
                mine[old.key] = new.version
            return
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start : start + _CHUNK]
            rows = [[*_CODEC.row(new), old.version] for old, new in chunk]
            cursor = self._execute(self._db.sql.update_many, _columns(rows, len(COLUMNS) + 1))
            stored = set(cursor.rows)
            for old, _ in chunk:
                if old.key not in stored:
                    raise self._stale(old)
            for statement in self._reindexed(chunk):
                self._open.later(*statement)

    def _reindexed(
        self, pairs: list[tuple[NumberRecord, NumberRecord]]
    ) -> list[tuple[str, list[Any]]]:
        """Follow replaced records in the counts; the statements that follow them in the
        E.164 and the holders indexes."""
        counts = self._open.counts
        gone_e164: list[tuple[str, str, str]] = []
        new_e164: list[tuple[str, str, str]] = []
        gone_names: list[tuple[str, str, str]] = []
        new_names: list[tuple[str, str, str]] = []
        for old, new in pairs:
            if old.status != new.status:
                counts[(old.hierarchy, str(old.status))] -= 1
                counts[(new.hierarchy, str(new.status))] += 1
            if old.e164 != new.e164:
                gone_e164 += [(e, *old.key) for e in old.e164 if e not in new.e164]
                new_e164 += [(e, *old.key) for e in new.e164 if e not in old.e164]
            if old.uses != new.uses or old.reserved_for != new.reserved_for:
                before, after = old.holders, new.holders
                gone_names += [(name, *old.key) for name in before - after]
                new_names += [(name, *old.key) for name in after - before]
        sql = self._db.sql
        return [
            statement(rows)
            for statement, rows in (
                (sql.dissociate, gone_e164),
                (sql.associate, new_e164),
                (sql.unhold, gone_names),
                (sql.hold, new_names),
            )
            if rows
        ]

    def _delete(self, records: Iterable[NumberRecord]) -> None:
        self._open.tree = None  # a write may change the node list
        doomed = list(records)
        if not doomed:
            return
        sql = self._db.sql
        if len(doomed) == 1:
            (record,) = doomed
            cursor = self._execute(
                sql.delete_one, (record.hierarchy, record.number, record.version)
            )
            if cursor.rowcount != 1:
                raise self._stale(record)
        else:
            for start in range(0, len(doomed), _CHUNK):
                chunk = doomed[start : start + _CHUNK]
                cursor = self._execute(
                    sql.delete_many,
                    (
                        [record.number for record in chunk],
                        [record.hierarchy for record in chunk],
                        [record.version for record in chunk],
                    ),
                )
                stored = Counter(cursor.rows)
                for record in chunk:
                    if stored[record.key] <= 0:
                        raise self._stale(record)
                    stored[record.key] -= 1
        counts = self._open.counts
        associations: list[tuple[str, str, str]] = []
        holders: list[tuple[str, str, str]] = []
        for record in doomed:
            self._open.mine.pop(record.key, None)
            counts[(record.hierarchy, str(record.status))] -= 1
            associations += [(e164, *record.key) for e164 in record.e164]
            holders += [(name, *record.key) for name in record.holders]
        self._open.later(
            *sql.retire([(record.hierarchy, record.number, record.version) for record in doomed])
        )
        if associations:
            self._open.later(*sql.dissociate(associations))
        if holders:
            self._open.later(*sql.unhold(holders))

    def _stale(self, record: NumberRecord) -> ConcurrentUpdate:
        stored = self._rows(self._db.sql.version_of, (record.hierarchy, record.number))
        found = f"at version {stored[0][0]}" if stored else "gone"
        return ConcurrentUpdate(
            f"{record.number} at {record.hierarchy} changed under us: expected version "
            f"{record.version}, found {found}",
            number=record.number,
            hierarchy=record.hierarchy,
        )

    # -- claim, settings, journal ----------------------------------------------------------

    def claim(self, query: Query) -> list[NumberRecord]:
        claimed = self._scan(query, lock=True)
        self._open.hold(claimed)
        return claimed

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        """Read once per settings version and process: nearly every call asks, and settings
        seldom change. The version, read with `BEGIN`, is raised by every change of the
        settings in the same commit (a trigger), so settings kept at the version this
        transaction began with are those it would read, or newer."""
        held = self._open
        if not held.begun and not held.pending:  # the first statement: `BEGIN` reads it
            with self._db.translated():
                held.execute(None)
        version = held.settings_version
        if version is None or nodes is None:
            return super().node_settings(nodes)
        wanted = tuple(nodes)
        kept, found = self._db.settings
        if kept == version and (settings := found.get(wanted)) is not None:
            return dict(settings)
        settings = super().node_settings(wanted)
        if kept != version:
            found = {}
            self._db.settings = (version, found)
        if len(found) < _SETTINGS_KEPT:
            found[wanted] = settings
        return dict(settings)

    def configure(self, hierarchy: str, settings: NodeSettings | None) -> None:
        self._open.settings_version = None  # its own reads see what it sets
        keepable(hierarchy, "the node")
        if settings is None or settings.empty:
            self._open.later(self._db.sql.unconfigure, (hierarchy,))
            return
        values = [getattr(settings, name) for name in _SETTINGS_FIELDS]
        self._open.later(self._db.sql.configure, (hierarchy, *values))

    def journal(self, entries: Sequence[Entry]) -> int:
        _refuse_entries(entries)
        first = self._write_kept(entries, answer=True)
        assert first is not None
        return first

    def journal_at_commit(self, entries: Sequence[Entry]) -> None:
        """Kept until the commit and sent with it: the seq row is locked only while the
        server commits, not while an answer travels back and the commit travels out, nor
        while a host's transaction that the calls joined goes on."""
        _refuse_entries(entries)  # refused now, while the caller can still hear of it
        self._open.closing += entries
        self._open.write_closing = self._closed

    def journal_at_commit_numbered(
        self, entries: Sequence[Entry], numbered: Callable[[int], None]
    ) -> None:
        """`journal_at_commit`, and `numbered(first seq)` once the entries have their seqs:
        at the commit, before it is sent, while the sequence row is this transaction's
        (a call that joined a host's transaction, whose events need the seqs)."""
        _refuse_entries(entries)
        held = self._open
        held.numbering.append((sum(entry.span for entry in held.closing), numbered))
        held.closing += entries
        held.write_closing = self._closed

    def _closed(self) -> None:
        """At the commit: queue the journal kept for it, to go with the `COMMIT` (or send
        it first, when somebody waits to learn its seqs)."""
        self._write_kept((), answer=False)

    def _write_kept(self, entries: Sequence[Entry], *, answer: bool) -> int | None:
        """Write the entries kept for the commit, then `entries`: every entry is numbered
        in the order it was given (earlier calls of a host's transaction first). The
        first seq of `entries`, when asked (`answer`) or when somebody waits for seqs."""
        held = self._open
        kept, numbering = held.closing, held.numbering
        if not kept:
            return self._journal(entries, answer=answer) if entries or answer else None
        held.closing, held.numbering = [], []
        first = self._journal([*kept, *entries], answer=answer or bool(numbering))
        if first is None:
            return None
        for offset, numbered in numbering:
            numbered(first + offset)
        return first + sum(entry.span for entry in kept)

    def _journal(self, entries: Sequence[Entry], *, answer: bool) -> int | None:
        """Write the entries; their first seq, or None when it is not asked (`answer`)
        and the statement waits to go with the next (the `COMMIT`)."""
        db, held = self._db, self._open
        total = sum(entry.span for entry in entries)
        # Counts first, then the sequence row: every writer locks them in that order.
        lines: list[tuple[Any, ...]] = []
        offset = 1
        for entry in entries:
            lines += _entry_rows(offset, entry)
            offset += entry.span
        if 0 < len(lines) < _COPY_AT:
            sql, parameters = db.sql.write_journal(lines, total, total)
            if counted := held.counted(db.sql.add_counts):
                sql, parameters = db.sql.after_counts(counted, sql, parameters)
            if not answer:
                held.later(sql, parameters)
                return None
            ((last,),) = self._execute(sql, parameters).rows
            return int(last) - total + 1
        held.count(db.sql.add_counts)
        if total == 0:
            rows = self._rows(db.sql.last_seq, ())
            if not rows:
                raise StorageError(
                    f"{db.where}: the journal's sequence row ({db.quoted}.journal_seq, id 1) "
                    "is missing",
                    value=db.schema,
                )
            return int(rows[0][0]) + 1
        ((last,),) = self._execute(db.sql.take_seqs, (total,)).rows
        base = int(last) - total
        self._copy(db.sql.copy_journal, (_copy_line((base + line[0], *line[1:])) for line in lines))
        return base + 1


def _refuse_entries(entries: Sequence[Entry]) -> None:
    for entry in entries:
        keepable(entry.operation, "the operation")
        if entry.actor is not None:
            keepable(entry.actor, "the actor")


def _added(record: NumberRecord) -> ConcurrentUpdate:
    return ConcurrentUpdate(
        f"{record.number} at {record.hierarchy} was added by another writer",
        number=record.number,
        hierarchy=record.hierarchy,
    )
