"""One open transaction's state (`_Open`).

Its connection's wire, the writes kept for its next round trip, its count
changes and the advisory locks it holds.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import psycopg
from psycopg import errors as pg

from numinv.core.journal import Entry
from numinv.core.records import NumberRecord
from numinv.storage.postgres.locks import _Keys, _lock_sql, _Refused, _wanted
from numinv.storage.postgres.statements import _Batch
from numinv.storage.postgres.wire import Answer, Wire

# How long a transaction past the budget waits for the other checks to end (`_Open.lock`),
# as a share of the server's deadlock_timeout (100 ms of the default 1 s): a writer that
# starts waiting for one of its numbers meanwhile looks for a deadlock only after that.
_ALONE_WAIT: Final = 0.1
_BEGIN: Final = "BEGIN ISOLATION LEVEL READ COMMITTED"
_SET_LOCK_TIMEOUT: Final = "SELECT set_config('lock_timeout', %s, true)"  # to the end
# The schema's key alone if it is free, and whether another transaction waits for this one.
_ALONE_AT_ONCE: Final = (
    "SELECT pg_try_advisory_xact_lock(%s::bigint), EXISTS (SELECT FROM pg_locks"
    " WHERE NOT granted AND pg_backend_pid() = ANY (pg_blocking_pids(pid)))"
)
_SET_ALONE_WAIT: Final = (
    "SELECT set_config('lock_timeout', greatest(1, round(setting::float8 * %s))::text || 'ms',"
    " true) FROM pg_settings WHERE name = 'deadlock_timeout'"
)


class _Kept:
    """What is kept for one pool connection: the wire its statements go on, with what it
    has prepared (a transaction's, and a read outside transactions)."""

    __slots__ = ("connection", "wire")

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection
        self.wire = Wire(connection)


class _Cursors:
    """What is kept (`_Kept`) for each connection of a pool, made at its first use.
    A connection the pool closed is forgotten when a new one comes."""

    __slots__ = ("kept", "lock")

    def __init__(self) -> None:
        self.kept: dict[psycopg.Connection[Any], _Kept] = {}
        self.lock = threading.Lock()

    def of(self, connection: psycopg.Connection[Any]) -> _Kept:
        found = self.kept.get(connection)
        if found is not None:
            return found
        with self.lock:
            self._forget_closed()
            found = self.kept[connection] = _Kept(connection)
        return found

    def forget_closed(self) -> None:
        """Let go of what was kept for connections the pool closed."""
        with self.lock:
            self._forget_closed()

    def _forget_closed(self) -> None:
        for gone in [known for known in self.kept if known.closed]:
            del self.kept[gone]

    def clear(self) -> None:
        with self.lock:
            self.kept.clear()


class _Open:
    """The transaction open on one thread: its connection and the writes it has not sent.

    Round trips are the cost of a short transaction, so nothing that needs no
    answer waits for one: `BEGIN` goes with the first statement (and with it
    the read of the earliest release date and of the settings' version, which
    says whether settings read before still stand), and index writes and changes to
    rows the transaction holds locked (`pending`, `mine`) go with the next
    statement, in one pipeline. Count changes wait for the end (`counts`):
    they are sent once, sorted, in the journal statement or just before the
    commit, so writers lock those shared rows late and in one order.
    """

    __slots__ = (
        "ahead",
        "begun",
        "closing",
        "connection",
        "counts",
        "earliest",
        "ends",
        "escalated",
        "held_numbers",
        "kept",
        "lock_timeout",
        "locked",
        "mine",
        "numbering",
        "pending",
        "settings_version",
        "tree",
        "write_closing",
    )

    def __init__(
        self, kept: _Kept, ahead: str, ends: list[Callable[[bool], None]], lock_timeout: str
    ) -> None:
        self.connection = kept.connection
        self.lock_timeout = lock_timeout  # the connection's, as `set_config` takes it
        self.kept = kept  # the connection's wire; an answer is read at once
        self.ends = ends  # what waits for the end of the transaction (`AtEnd.at_end`)
        self.begun = False
        # The earliest release date, asked with `BEGIN` (`ahead`) since nearly every
        # change wants it; forgotten at this transaction's first write.
        self.ahead = ahead
        self.earliest: list[tuple[Any, ...]] | None = None
        # The version of the node settings as this transaction began (None: not read,
        # or this transaction changed them): settings kept at that version still stand.
        self.settings_version: int | None = None
        self.pending: list[tuple[str, Sequence[Any]]] = []
        # Journal entries to write with the commit, in its round trip (`journal_at_commit`).
        self.closing: list[Entry] = []
        # What writes them ahead of the commit, for a read of the journal that must see
        # them (`_Reads.changes`, `history`): the transaction's writer, set with the first.
        self.write_closing: Callable[[], None] | None = None
        # Who learns the seqs of entries kept for the commit, by where they start among
        # them (`journal_at_commit_numbered`).
        self.numbering: list[tuple[int, Callable[[int], None]]] = []
        # (hierarchy, status) -> change of its count.
        self.counts: Counter[tuple[str, str]] = Counter()
        # (exclusive, key) of the advisory locks taken (they last until the end).
        self.locked: set[tuple[bool, int]] = set()
        self.escalated = False  # holds the schema's key alone (see `lock`)
        # The last node list read (`nodes(under)`: under, the nodes), until a write.
        self.tree: tuple[str | None, tuple[str, ...]] | None = None
        # Rows this transaction holds locked (read by `get` or `claim`, or replaced one
        # by one), by key, at the version it last read or wrote: no other writer can
        # change them until the end, so a compare-and-set on one cannot fail and needs
        # no answer. Forgotten when a savepoint is rolled back (some locks may go).
        self.mine: dict[tuple[str, str], int] = {}
        # The numbers of rows it read locked (`get`, `claim`, `within` at a node): a check
        # of one of them must not wait for its advisory locks (`lock`).
        self.held_numbers: set[str] = set()

    def hold(self, records: Iterable[NumberRecord]) -> None:
        """Note rows read locked, at the version read."""
        for record in records:
            self.mine[record.key] = record.version
            self.held_numbers.add(record.number)

    def later(self, sql: str, parameters: Sequence[Any]) -> None:
        """A write whose answer nobody needs: sent with the next statement."""
        self.pending.append((sql, parameters))

    def execute(self, sql: str | None, parameters: Sequence[Any] = ()) -> Answer:
        """Run a statement (None: only what is waiting) after `BEGIN` and the pending writes,
        in one round trip; its answer."""
        statements: list[tuple[str, Sequence[Any]]] = []
        ahead = False
        if not self.begun:
            statements.append((_BEGIN, ()))
            self.begun = True
            if not self.pending:  # read before any write of this transaction
                statements.append((self.ahead, ()))
                ahead = True
        statements += self.pending
        self.pending.clear()
        if sql is not None:
            statements.append((sql, parameters))
        if not statements:
            return Answer([], -1)
        answers = self.kept.wire.run(statements)
        if ahead:
            ((release, version),) = answers[1].rows
            self.earliest = [] if release is None else [(release,)]
            self.settings_version = version
        return answers[-1] if sql is not None else Answer([], -1)

    def lock(self, keys: _Keys, *, of: str | None = None) -> bool:
        """Queue the advisory locks not held yet (the next statement runs once they are
        granted), in the order of `_Keys`; whether there were any.

        Every check also shares the schema's own key, first. A transaction that
        would hold more than `_LOCK_BUDGET` locks (an import, an audit adding
        many numbers) takes that key alone instead, and keeps every other check
        out, as a store with one writer would; the server's lock table stays
        small. Holding its numbers' locks while it waited for the other checks
        to end, it deadlocked with one of them waiting for those numbers; so it
        waits only while nobody waits for it, and only a moment (`alone_soon`).
        Refused, it is `_Refused(escalating=True)`, and the transaction runs
        again holding that key from its start (`_Database.alone_next`), when it
        holds nothing another may wait for.

        Advisory locks come before row locks: a range operation takes its
        numbers' locks, then their rows. A check of a number (`of`) whose row
        this transaction already holds (a claim picks the row, then checks it)
        must not wait: the writer it would wait for may be waiting for that row.
        It asks for them without waiting, now, and a refusal is `_Refused`
        (`_Reads.holding` says what it means to the caller).
        """
        if self.escalated:
            return False
        wanted = _wanted(keys, self.locked)
        if not wanted:
            return False
        pattern = tuple(exclusive for _, exclusive, _ in wanted)
        values = [key for _, _, key in wanted]
        if values == [keys.everything] and pattern == (True,):  # past the budget
            if not self.alone_soon(keys.everything):
                raise _Refused(alone=False, escalating=True)
            return True
        if of is None or of not in self.held_numbers:
            self.later(_lock_sql(pattern), values)
            granted: Sequence[bool] = [True] * len(wanted)
        else:
            (granted,) = self.execute(_lock_sql(pattern, wait=False), values).rows
        refused = []  # the levels of the locks not granted
        for ((_, level), exclusive, key), got in zip(wanted, granted, strict=True):
            if got:
                self.locked.add((exclusive, key))
                self.escalated |= exclusive and key == keys.everything
            else:
                refused.append(level)
        if refused:
            raise _Refused(alone=min(refused) >= 2)
        return True

    def alone_soon(self, everything: int) -> bool:
        """Take the schema's key alone if the other checks end soon; whether it did.

        Free, it is taken at once. Otherwise, if another transaction already
        waits for this one (for one of its numbers), waiting could close a
        cycle the server would find, so it is refused. Else it waits a
        moment (`_ALONE_WAIT`): one that starts waiting for this transaction
        meanwhile looks for a deadlock only later, when this one has given up.
        A wait that runs out is rolled back to before it, so the transaction
        stays usable (a host may catch the refusal).
        """
        ((taken, awaited),) = self.execute(_ALONE_AT_ONCE, [everything]).rows
        if not taken:
            if awaited:
                return False
            self.later("SAVEPOINT numinv_alone", ())
            self.later(_SET_ALONE_WAIT, (_ALONE_WAIT,))
            try:
                self.execute(_lock_sql((True,)), [everything])
            except pg.LockNotAvailable:
                self.execute("ROLLBACK TO SAVEPOINT numinv_alone")
                return False
            self.later(_SET_LOCK_TIMEOUT, (self.lock_timeout,))
            self.later("RELEASE SAVEPOINT numinv_alone", ())
        self.locked.add((True, everything))
        self.escalated = True
        return True

    def alone(self, everything: int) -> None:
        """Take the schema's key alone first, before anything else (`_Database.alone_next`)."""
        self.later(_lock_sql((True,)), [everything])
        self.locked.add((True, everything))
        self.escalated = True

    def count(self, add_counts: _Batch) -> None:
        """Queue the count changes, in key order, as a pending write."""
        if changed := self.counted(add_counts):
            self.later(*changed)

    def counted(self, add_counts: _Batch) -> tuple[str, list[Any]] | None:
        """The statement of the count changes, in key order (None: none), now taken."""
        changed = sorted((*key, total) for key, total in self.counts.items() if total)
        self.counts.clear()
        return add_counts(changed) if changed else None
