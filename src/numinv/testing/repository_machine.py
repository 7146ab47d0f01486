"""`RepositoryMachine`: any repository and a model `InMemoryRepository`, driven alike, answer alike.

A Hypothesis state machine applies the same random calls to the repository
under test and to an `InMemoryRepository` (the model): inserts, loaded
ranges, replacements and deletions (fresh or stale versions), node settings,
journal entries written with their changes (single and range entries),
transactions that fail part way, claims and reads inside an open
transaction, prunes of the journal, and, when the adapter can open one,
writes through a second repository object on the same database. After every
step it compares what every read of the protocol answers on both, through
bounded paging. A difference fails with the read that differs.

Run it over your adapter:

    class MyStoreMachine(RepositoryMachine):
        def make_repository(self) -> Repository:
            return MyRepository(...)

        def open_second(self, repository: Repository) -> Repository | None:
            return MyRepository(repository.dsn)      # optional

    TestMyStore = MyStoreMachine.TestCase
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import note, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange, number_range
from numinv.core.records import Change, NumberRecord, Status, Usage, Use
from numinv.errors import ConcurrentUpdate
from numinv.settings import NodeSettings
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Reader, Repository, Transaction
from numinv.testing.contract import every_change, pages, state
from numinv.testing.watchdog import deadline

__all__ = ["RepositoryMachine"]

NODES = ("sys", "sys.a", "sys.a.b", "sys.ab", "sys.c", "sys.B", "sys.b")
E164S = ("+4420", "+4421", "+4422")
NAMES = ("alice", "bob", "SEP1")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
POOLS = (("10", 12), ("100", 30), ("0100", 6), ("+100", 6), ("1000", 6))
NUMBERS = tuple(number for first, count in POOLS for number in number_range(first, count=count))


class Abort(Exception):
    """Raised inside a transaction to roll it back."""


def _uses(owner: str, who: str) -> tuple[Use, ...]:
    return (Use("device/cucm/Phone", who, Usage.DEVICE, hierarchy="sys.a", owner=owner),)


# Mostly False: a rule whose writes mostly commit reaches more states.
_seldom = st.sampled_from([False, False, False, True])
_dates = st.none() | st.integers(-5, 5).map(lambda days: NOW + timedelta(days=days))


@st.composite
def _fields(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(st.sampled_from(Status))
    fields: dict[str, Any] = {
        "status": status,
        "e164": tuple(draw(st.lists(st.sampled_from(E164S), max_size=2, unique=True))),
        "release_date": draw(_dates),
        "tag": draw(st.sampled_from(["", "a", "b"])),
        "reserved_for": draw(st.none() | st.sampled_from(NAMES)),
    }
    if status in (Status.USED, Status.USED_UTILITY):
        fields["uses"] = _uses(draw(st.sampled_from(["", *NAMES])), draw(st.sampled_from(NAMES)))
        fields["usage"] = (Usage.DEVICE,)
    return fields


@st.composite
def _ranges(draw: st.DrawFn) -> NumberRange:
    first, count = draw(st.sampled_from(POOLS))
    start = draw(st.integers(0, count - 1))
    size = draw(st.integers(1, count - start))
    pool = number_range(first, count=count)
    return number_range(pool.format(pool.start + start), count=size)


_settings = st.builds(
    NodeSettings,
    auto_cooling=st.none() | st.booleans(),
    cooling_days=st.none() | st.integers(1, 999),
    audiocodes_cooling_days=st.none() | st.integers(1, 999),
    prevent_duplicates=st.none() | st.booleans(),
    exhaustion_threshold=st.none() | st.sampled_from([0.0, 0.25, 1.0]),
)


class RepositoryMachine(RuleBasedStateMachine):
    """The repository under test and a model `InMemoryRepository`, same calls, same answers."""

    step_timeout: float = 10.0

    def make_repository(self) -> Repository:
        """The store under test, fresh and empty; override this."""
        from numinv.storage.sqlite import SqliteRepository

        return SqliteRepository(":memory:")

    def open_second(self, repository: Repository) -> Repository | None:
        """A second repository object on the same database, or None (the default)."""
        return None

    def make_model(self) -> Repository:
        return InMemoryRepository()

    def __init__(self) -> None:
        super().__init__()
        self.model = self.make_model()
        self.store = self.make_repository()
        self.second = self.open_second(self.store)
        self.now = NOW
        self.deleted: list[NumberRecord] = []  # keys to load again: stale indexes show there
        # Every seq the store under test has shown, and the change it numbered: a seq is
        # never given to another change, and a new one is above all shown before (even
        # once pruned), which comparing by place alone would not see.
        self.numbered: dict[int, Change] = {}

    def teardown(self) -> None:
        for opened in (self.second, self.store):
            close = getattr(opened, "close", None)
            if callable(close):
                close()

    # -- running a write on both --------------------------------------------------

    def both(
        self,
        what: str,
        write: Callable[[Transaction], object],
        *,
        abort: bool = False,
        second: bool = False,
    ) -> None:
        """Run `write(tx)` in a transaction on each store; both must commit or refuse alike."""
        outcomes = []
        targets = [
            (self.model, "model"),
            (self.second if second and self.second is not None else self.store, "store"),
        ]
        for target, name in targets:
            self.target = target
            try:
                with (
                    deadline(self.step_timeout, f"{what} on the {name}"),
                    target.transaction() as tx,
                ):
                    write(tx)
                    if abort:
                        raise Abort
                outcomes.append("committed")
            except (ConcurrentUpdate, Abort) as error:
                outcomes.append(type(error).__name__)
        note(f"{what}{' (second connection)' if second and self.second else ''}: {outcomes}")
        assert outcomes[0] == outcomes[1], (
            f"{what}: the model {outcomes[0]}, the repository under test {outcomes[1]}"
        )
        self.check()

    def stored(self) -> list[NumberRecord]:
        return [found for node in self.model.nodes() for found in self.model.scan(Query(node))]

    def entry(
        self, operation: str, before: NumberRecord | None, after: NumberRecord | None
    ) -> Entry:
        return Entry(operation, before, after, self.now, "machine")

    # -- rules ----------------------------------------------------------------------------

    @initialize(
        records=st.lists(
            st.tuples(st.sampled_from(NUMBERS), st.sampled_from(NODES), _fields()),
            min_size=4,
            max_size=12,
            unique_by=lambda drawn: (drawn[0], drawn[1]),
        ),
        numbers=_ranges(),
        node=st.sampled_from(NODES),
    )
    def load(
        self, records: list[tuple[str, str, dict[str, Any]]], numbers: NumberRange, node: str
    ) -> None:
        """Start from a store holding records of every kind, so that every rule meets some."""
        batch = [NumberRecord(number, where, **fields) for number, where, fields in records]
        batch = [found for found in batch if found.key[1] != node or found.number not in numbers]
        template = NumberRecord(numbers.first, node, reserved_for="alice", e164=("+4422",))

        def write(tx: Transaction) -> None:
            tx.insert(batch)
            tx.insert_range(numbers, template)
            tx.journal([self.entry("import", None, found) for found in batch])
            tx.journal([Entry("add", None, template, self.now, None, numbers)])

        self.both(f"load {len(batch)} records and {numbers} at {node}", write)

    @rule(
        number=st.sampled_from(NUMBERS),
        node=st.sampled_from(NODES),
        fields=_fields(),
        abort=_seldom,
        second=st.booleans(),
        again=st.integers(0, 3),
    )
    def insert(
        self,
        number: str,
        node: str,
        fields: dict[str, Any],
        abort: bool,
        second: bool,
        again: int,
    ) -> None:
        if again and self.deleted:  # a key deleted before: its old index rows must be gone
            number, node = self.deleted[-again % len(self.deleted)].key
            fields = {"status": Status.AVAILABLE}
        record = NumberRecord(number, node, **fields)

        def write(tx: Transaction) -> None:
            tx.insert([record])
            tx.journal([self.entry("import", None, record)])

        self.both(f"insert {number} at {node}", write, abort=abort, second=second)

    @rule(numbers=_ranges(), node=st.sampled_from(NODES), fields=_fields(), abort=_seldom)
    def insert_range(
        self, numbers: NumberRange, node: str, fields: dict[str, Any], abort: bool
    ) -> None:
        template = NumberRecord(numbers.first, node, **fields)

        def write(tx: Transaction) -> None:
            tx.insert_range(numbers, template)
            tx.journal([Entry("add", None, template, self.now, None, numbers)])

        self.both(f"insert_range {numbers} at {node}", write, abort=abort)

    @precondition(lambda self: self.model.nodes())
    @rule(
        data=st.data(),
        fields=_fields(),
        stale=_seldom,
        abort=_seldom,
        second=st.booleans(),
    )
    def replace(
        self, data: st.DataObject, fields: dict[str, Any], stale: bool, abort: bool, second: bool
    ) -> None:
        old = data.draw(st.sampled_from(self.stored()), label="record")
        seen = attrs.evolve(old, version=old.version - 1) if stale else old
        new = attrs.evolve(old, version=old.version + 1, **fields)

        def write(tx: Transaction) -> None:
            tx.replace([(seen, new)])
            tx.journal([self.entry("update", old, new)])

        self.both(f"replace {old.key} (stale={stale})", write, abort=abort, second=second)

    @precondition(lambda self: self.model.nodes())
    @rule(data=st.data(), stale=_seldom, abort=_seldom, second=st.booleans())
    def delete(self, data: st.DataObject, stale: bool, abort: bool, second: bool) -> None:
        chosen = data.draw(st.lists(st.sampled_from(self.stored()), min_size=1, max_size=3))
        chosen = list({found.key: found for found in chosen}.values())
        if stale:
            chosen[-1] = attrs.evolve(chosen[-1], version=chosen[-1].version + 1)

        def write(tx: Transaction) -> None:
            tx.delete(chosen)
            tx.journal([self.entry("delete", found, None) for found in chosen])

        keys = [found.key for found in chosen]
        self.both(f"delete {keys} (stale={stale})", write, abort=abort, second=second)
        self.deleted += [found for found in chosen if self.model.get(*found.key) is None]

    @precondition(lambda self: self.model.nodes())
    @rule(data=st.data(), numbers=_ranges(), node=st.sampled_from(NODES))
    def several_then_fail(self, data: st.DataObject, numbers: NumberRange, node: str) -> None:
        victim = data.draw(st.sampled_from(self.stored()))

        def write(tx: Transaction) -> None:
            tx.delete([victim])
            with self.target.transaction() as nested:  # joins the open transaction
                nested.insert(
                    [attrs.evolve(victim, status=Status.USED, version=victim.version + 1)]
                )
                nested.configure(node, NodeSettings(cooling_days=3))
            tx.insert_range(numbers, NumberRecord(numbers.first, node, tag="gone"))
            tx.journal([self.entry("delete", victim, None)])

        self.both(f"several writes on {victim.key}, some nested, then a failure", write, abort=True)

    @rule(node=st.sampled_from(NODES), settings=st.none() | _settings, abort=_seldom)
    def configure(self, node: str, settings: NodeSettings | None, abort: bool) -> None:
        self.both(
            f"configure {node}: {settings}",
            lambda tx: tx.configure(node, settings),
            abort=abort,
        )

    @rule(
        hours=st.integers(-72, 72),
        prune=_seldom,
        shift=st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1)])
        | st.integers(-3, 3).map(lambda days: timedelta(days=days)),
    )
    def time_passes(self, hours: int, prune: bool, shift: timedelta) -> None:
        """The journal is pruned at (or near) the time of its latest entries; the clock moves."""
        if prune:
            self.prune(self.now + shift)
        self.now += timedelta(hours=hours)
        note(f"clock: {self.now.isoformat()}")

    def prune(self, before: datetime) -> None:
        with deadline(self.step_timeout, "prune"):
            pruned = (self.model.prune(before), self.store.prune(before))
        note(f"prune before {before.isoformat()}: {pruned}")
        assert pruned[0] == pruned[1], (
            f"prune({before}): the model {pruned[0]}, the store {pruned[1]}"
        )
        self.check()

    @rule(
        node=st.sampled_from(NODES),
        status=st.none() | st.sampled_from(Status),
        prefix=st.none() | st.sampled_from(["1", "10", "+1", "01"]),
        after=st.none() | st.sampled_from(NUMBERS),
        limit=st.integers(1, 5),
        due=st.none() | st.integers(-5, 5),
        take=st.booleans(),
    )
    def claim(
        self,
        node: str,
        status: Status | None,
        prefix: str | None,
        after: str | None,
        limit: int,
        due: int | None,
        take: bool,
    ) -> None:
        """Claim a page inside a transaction (and take its first record) on both stores."""
        due_by = None if due is None else NOW + timedelta(days=due)
        query = Query(node, status, prefix, after, limit, due_by)
        claimed: list[list[NumberRecord]] = []

        def write(tx: Transaction) -> None:
            page = tx.claim(query)
            claimed.append(page)
            if take and page:
                first = page[0]
                tx.replace([(first, attrs.evolve(first, tag="taken", version=first.version + 1))])
                tx.journal([self.entry("claim", first, None)])

        self.both(f"claim {query}", write)
        assert claimed[0] == claimed[1], f"claim({query}) answered differently"

    @rule(data=st.data(), fields=_fields(), abort=_seldom)
    def read_inside_a_transaction(
        self, data: st.DataObject, fields: dict[str, Any], abort: bool
    ) -> None:
        """Write, then read on the transaction and through the repository on its thread."""
        number = data.draw(st.sampled_from(NUMBERS))
        node = data.draw(st.sampled_from(NODES))
        seen: list[Any] = []

        def write(tx: Transaction) -> None:
            target = self.model if len(seen) == 0 else self.store
            if tx.get(number, node) is None:
                tx.insert([NumberRecord(number, node, **fields)])
            tx.configure(node, NodeSettings(auto_cooling=True))
            tx.journal([self.entry("touch", None, NumberRecord(number, node))])
            inside = self.answers(tx)
            through = self.answers(target)
            assert through == inside, "a read through the repository on the transaction's thread"
            seen.append(inside)

        self.both(f"read inside a transaction after writing {number} at {node}", write, abort=abort)
        assert seen[0] == seen[1], "reads inside a transaction differ"

    @precondition(lambda self: self.model.nodes())
    @rule(data=st.data())
    def read_from_another_thread_during_a_transaction(self, data: st.DataObject) -> None:
        """Another thread reads while a transaction writes, then rolls back: it saw nothing."""
        victim = data.draw(st.sampled_from(self.stored()), label="record")
        expected = self.answers(self.model)
        seen: list[Any] = []
        failures: list[BaseException] = []

        def read() -> None:  # while the transaction is open, or (a store that locks) after it
            try:
                seen.append(self.answers(self.store))
            except BaseException as error:  # reported below
                failures.append(error)

        reader = threading.Thread(target=read, daemon=True)
        note(f"another thread reads while {victim.key} is deleted, then the deletion rolls back")
        with deadline(self.step_timeout, "a transaction while another thread reads"):
            try:
                with self.store.transaction() as tx:
                    tx.delete([victim])
                    tx.insert([attrs.evolve(victim, number=victim.number, tag="dirty", version=1)])
                    tx.configure(victim.hierarchy, NodeSettings(cooling_days=9))
                    tx.journal([self.entry("dirty", victim, None)])
                    reader.start()
                    reader.join(0.05)
                    raise Abort
            except Abort:
                pass
            reader.join(self.step_timeout)
        assert not reader.is_alive(), "a read in another thread did not return"
        if failures:
            raise failures[0]
        for read_, answer in expected.items():
            assert seen[0][read_] == answer, (
                f"another thread read {read_!r} of a transaction that was rolled back"
            )
        self.check()

    # -- what every read answers ---------------------------------------------------------

    def answers(self, reader: Reader) -> dict[str, Any]:
        """Every read of the protocol, on the universe of numbers, E.164 numbers and names."""
        found = state(reader, NUMBERS, E164S, NAMES)
        found["pages"] = {
            (node, status, prefix): list(pages(reader, Query(node, status, prefix, limit=3)))
            for node in NODES
            for status in (None, Status.AVAILABLE, Status.USED)
            for prefix in (None, "10", "+1")
        }
        found["due pages"] = {
            (node, days): list(
                pages(reader, Query(node, due_by=NOW + timedelta(days=days), limit=2))
            )
            for node in NODES
            for days in (-3, 0, 3)
        }
        found["within"] = {
            (first, node): reader.within(number_range(first, count=count), node)
            for first, count in POOLS
            for node in (None, *NODES)
        }
        found["due by"] = {days: reader.due(NOW + timedelta(days=days), 4) for days in (-3, 0, 3)}
        found["nodes under"] = {node: reader.nodes(node) for node in NODES}
        found["counts under"] = {
            node: {
                name: {status: n for status, n in counts.items() if n}
                for name, counts in reader.counts(node).items()
                if any(counts.values())
            }
            for node in NODES
        }
        found["settings of"] = {node: dict(reader.node_settings([node, "sys"])) for node in NODES}
        # Seqs may skip what a rollback took (decision 90: a database sequence does), so
        # changes are compared by their place in the journal, and the feed is asked
        # after the k-th change of each store's own journal.
        journal = every_change(reader, limit=3)
        cursors = [0, *(change.seq for change in journal)]
        found["changes"] = {
            (k, limit): reader.changes(cursors[k] if k < len(cursors) else cursors[-1] + k, limit)
            for k in (0, 1, 5, 17)
            for limit in (1, 4)
        }
        found["journal in pages"] = journal
        return _by_place(found, {change.seq: place for place, change in enumerate(journal, 1)})

    def check(self) -> None:
        with deadline(self.step_timeout, "reading both stores"):
            expected, found = self.answers(self.model), self.answers(self.store)
            self.check_seqs(every_change(self.store))
        for read, answer in expected.items():
            assert found[read] == answer, f"the repository under test answers {read!r} differently"
        if self.second is not None:
            with deadline(self.step_timeout, "reading through the second repository"):
                again = self.answers(self.second)
            for read, answer in expected.items():
                assert again[read] == answer, (
                    f"the second repository on the database answers {read!r} differently"
                )

    def check_seqs(self, journal: list[Change]) -> None:
        """Seqs only ever rise: none is given again, after a prune or otherwise."""
        highest = max(self.numbered, default=0)
        for change in journal:
            before = self.numbered.get(change.seq)
            if before is None:
                assert change.seq > highest, (
                    f"seq {change.seq} was given to a new change after seq {highest} was shown"
                )
                self.numbered[change.seq] = change
            else:
                assert before == change, f"seq {change.seq} was given to another change"


def _by_place(found: dict[str, Any], place: dict[int, int]) -> dict[str, Any]:
    """The answers with each change's seq replaced by its place in the journal (a seq the
    journal lacks stays, negated, so that it still shows)."""

    def placed(changes: list[Change]) -> list[Change]:
        return [attrs.evolve(c, seq=place.get(c.seq, -c.seq)) for c in changes]

    found["journal"] = placed(found["journal"])
    found["journal in pages"] = placed(found["journal in pages"])
    found["history"] = {number: placed(changes) for number, changes in found["history"].items()}
    found["changes"] = {key: placed(changes) for key, changes in found["changes"].items()}
    return found
