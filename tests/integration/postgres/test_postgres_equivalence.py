"""PostgreSQL and the in-memory store answer every protocol read alike, whatever was written.

A Hypothesis state machine applies the same random writes (inserts, loaded
ranges, replacements, deletions, stale compare-and-sets, node settings,
journal entries, prunes, transactions that fail part way) to both stores,
as the unit of work would, and compares what every read of the protocol
returns: records, nodes, counts, due dates, E.164 numbers, holders,
settings, retired versions, the next release, claims, the change feed and
every number's history. Node paths include look-alikes and non-ASCII text,
so byte order is compared too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, note, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from numinv import ConcurrentUpdate, NumberRecord, Status, Usage, Use
from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange, number_range
from numinv.settings import NodeSettings
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Repository, Transaction
from numinv.testing.contract import state
from tests.examples import examples

NODES = ("sys", "sys.a", "sys.a.b", "sys.ab", "sys.a-b", "sys.é", "sys.Z", "sys.ünï.cöde")
E164S = ("+4420", "+4421", "+4422")
PEOPLE = ("alice", "bob", "Émile")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
# The last pool crosses a block of a thousand numbers, so range entries split.
POOLS = (("10", 12), ("100", 30), ("0100", 6), ("+100", 6), ("1000", 6), ("10995", 12))
NUMBERS = tuple(number for first, count in POOLS for number in number_range(first, count=count))

_dates = st.none() | st.integers(-5, 5).map(lambda days: NOW + timedelta(days=days, seconds=7))
_uses = st.lists(
    st.builds(
        Use,
        kind=st.just("device/cucm/Phone"),
        consumer_id=st.sampled_from(("SEP1", "SEP2", *PEOPLE)),
        usage=st.just(Usage.DEVICE),
        owner=st.sampled_from(("", *PEOPLE)),
    ),
    max_size=2,
    unique_by=lambda use: use.consumer_id,
).map(tuple)
_fields = st.fixed_dictionaries(
    {
        "status": st.sampled_from(Status),
        "e164": st.lists(st.sampled_from(E164S), max_size=2, unique=True).map(tuple),
        "release_date": _dates,
        "tag": st.sampled_from(["", "a", "b", "ü\t\\n"]),
        "uses": _uses,
        "reserved_for": st.none() | st.sampled_from(PEOPLE),
    }
)
_node_settings = st.none() | st.builds(
    NodeSettings,
    auto_cooling=st.none() | st.booleans(),
    cooling_days=st.none() | st.integers(1, 90),
    exhaustion_threshold=st.none() | st.sampled_from([0.1, 0.25]),
)


@st.composite
def ranges(draw: st.DrawFn) -> NumberRange:
    first, count = draw(st.sampled_from(POOLS))
    start = draw(st.integers(0, count - 1))
    size = draw(st.integers(1, count - start))
    pool = number_range(first, count=count)
    return number_range(pool.format(pool.start + start), count=size)


class Abort(Exception):
    pass


class SameAnswers(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        from numinv.storage.postgres import PostgresRepository

        self.schema = f"numinv_same_{uuid.uuid4().hex[:12]}"
        self.memory = InMemoryRepository()
        self.postgres = PostgresRepository(self.url, schema=self.schema, pool_size=2)
        self.stores: tuple[Repository, Repository] = (self.memory, self.postgres)
        self.clock = NOW

    def teardown(self) -> None:
        import psycopg

        self.postgres.close()
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def both(self, write: Any, *, abort: bool = False) -> None:
        """Run `write(tx)` on each store, journaled; both must succeed or refuse alike."""
        self.clock += timedelta(minutes=1)
        outcomes = []
        for store in self.stores:
            try:
                with store.transaction() as tx:
                    entries = write(tx)
                    if entries:
                        tx.journal(entries)
                    if abort:
                        raise Abort
                outcomes.append("stored")
            except (ConcurrentUpdate, Abort) as error:
                outcomes.append(type(error).__name__)
        note(f"outcomes: {outcomes}")
        assert outcomes[0] == outcomes[1]

    def entry(self, before: NumberRecord | None, after: NumberRecord | None, **more: Any) -> Entry:
        return Entry("test", before, after, self.clock, more.pop("actor", "tester"), **more)

    def stored(self) -> list[NumberRecord]:
        return [found for node in self.memory.nodes() for found in self.memory.scan(Query(node))]

    # -- writes ----------------------------------------------------------------

    @rule(
        number=st.sampled_from(NUMBERS),
        node=st.sampled_from(NODES),
        fields=_fields,
        abort=st.booleans(),
    )
    def insert(self, number: str, node: str, fields: dict[str, Any], abort: bool) -> None:
        record = NumberRecord(number, node, **fields)

        def write(tx: Transaction) -> list[Entry]:
            tx.insert([record])
            return [self.entry(None, record)]

        self.both(write, abort=abort)

    @rule(numbers=ranges(), node=st.sampled_from(NODES), fields=_fields, abort=st.booleans())
    def insert_range(
        self, numbers: NumberRange, node: str, fields: dict[str, Any], abort: bool
    ) -> None:
        template = NumberRecord(numbers.first, node, **fields)

        def write(tx: Transaction) -> list[Entry]:
            tx.insert_range(numbers, template)
            return [self.entry(None, template, numbers=numbers, actor=None)]

        self.both(write, abort=abort)

    @precondition(lambda self: self.memory.nodes())
    @rule(data=st.data(), fields=_fields, stale=st.booleans(), abort=st.booleans())
    def replace(
        self, data: st.DataObject, fields: dict[str, Any], stale: bool, abort: bool
    ) -> None:
        chosen = data.draw(st.lists(st.sampled_from(self.stored()), min_size=1, max_size=3))
        chosen = list({found.key: found for found in chosen}.values())
        pairs = [
            (
                attrs.evolve(old, version=old.version - 1) if stale and n == 0 else old,
                attrs.evolve(old, version=old.version + 1, **fields),
            )
            for n, old in enumerate(chosen)
        ]

        def write(tx: Transaction) -> list[Entry]:
            tx.replace(pairs)
            return [self.entry(old, new) for old, new in pairs]

        self.both(write, abort=abort)

    @precondition(lambda self: self.memory.nodes())
    @rule(data=st.data(), stale=st.booleans(), abort=st.booleans())
    def delete(self, data: st.DataObject, stale: bool, abort: bool) -> None:
        chosen = data.draw(st.lists(st.sampled_from(self.stored()), min_size=1, max_size=3))
        chosen = list({found.key: found for found in chosen}.values())
        if stale:
            chosen[-1] = attrs.evolve(chosen[-1], version=chosen[-1].version + 1)

        def write(tx: Transaction) -> list[Entry]:
            tx.delete(chosen)
            return [self.entry(record, None) for record in chosen]

        self.both(write, abort=abort)

    @precondition(lambda self: self.memory.nodes())
    @rule(data=st.data(), numbers=ranges(), node=st.sampled_from(NODES))
    def several_then_fail(self, data: st.DataObject, numbers: NumberRange, node: str) -> None:
        victim = data.draw(st.sampled_from(self.stored()))

        def write(tx: Transaction) -> list[Entry]:
            tx.delete([victim])
            tx.insert([attrs.evolve(victim, status=Status.USED, version=1)])
            tx.insert_range(numbers, NumberRecord("0", node, tag="gone"))
            tx.configure(node, NodeSettings(cooling_days=3))
            return [self.entry(victim, None)]

        self.both(write, abort=True)

    @rule(node=st.sampled_from(NODES), chosen=_node_settings, abort=st.booleans())
    def configure(self, node: str, chosen: NodeSettings | None, abort: bool) -> None:
        def write(tx: Transaction) -> list[Entry]:
            tx.configure(node, chosen)
            return []

        self.both(write, abort=abort)

    @rule(minutes=st.integers(0, 30))
    def prune(self, minutes: int) -> None:
        before = self.clock - timedelta(minutes=minutes)
        assert self.memory.prune(before) == self.postgres.prune(before)

    # -- reads -------------------------------------------------------------------

    @invariant()
    def every_read_agrees(self) -> None:
        memory, postgres = (state(store, NUMBERS, E164S) for store in self.stores)
        assert memory == postgres

    @invariant()
    def paged_and_filtered_reads_agree(self) -> None:
        memory, postgres = self.stores
        for node in NODES:
            for status in (None, Status.AVAILABLE, Status.USED):
                for prefix, after in ((None, None), ("10", None), ("10", "101"), (None, "1")):
                    query = Query(node, status, prefix, after, limit=3)
                    assert memory.scan(query) == postgres.scan(query)
            due = Query(node, Status.COOLING, due_by=NOW)
            assert memory.scan(due) == postgres.scan(due)
        for first, count in POOLS:
            numbers = number_range(first, count=count)
            for node in (None, *NODES):
                assert memory.within(numbers, node) == postgres.within(numbers, node)
            for node in NODES:
                assert memory.retired(numbers, node) == postgres.retired(numbers, node)
        for days in (-3, 0, 3):
            assert memory.due(NOW + timedelta(days=days), 4) == postgres.due(
                NOW + timedelta(days=days), 4
            )
        assert memory.next_release() == postgres.next_release()
        for node in (None, *NODES):
            assert memory.nodes(node) == postgres.nodes(node)
            assert _tallies(memory.counts(node)) == _tallies(postgres.counts(node))

    @invariant()
    def holders_and_settings_agree(self) -> None:
        memory, postgres = self.stores
        for who in ("SEP1", "SEP2", *PEOPLE):
            assert memory.held_by(who) == postgres.held_by(who)
        assert memory.node_settings(None) == postgres.node_settings(None)
        assert memory.node_settings(NODES[:4]) == postgres.node_settings(NODES[:4])

    @invariant()
    def claims_agree(self) -> None:
        for node in NODES[:3]:
            query = Query(node, Status.AVAILABLE, limit=2)
            claimed = []
            for store in self.stores:
                with store.transaction() as tx:
                    claimed.append(tx.claim(query))
            assert claimed[0] == claimed[1]

    @invariant()
    def the_journal_agrees(self) -> None:
        memory, postgres = self.stores
        everything = memory.changes(0, 100_000)
        assert everything == postgres.changes(0, 100_000)
        assert [change.seq for change in everything] == sorted({c.seq for c in everything})
        for after in {0, 1, 7, 30, *(change.seq for change in everything[::9])}:
            for limit in (1, 5, 40):
                assert memory.changes(after, limit) == postgres.changes(after, limit)
        for number in NUMBERS[::3]:
            assert memory.history(number) == postgres.history(number)


def _tallies(counts: Any) -> dict[str, dict[Status, int]]:
    return {
        node: {status: total for status, total in statuses.items() if total}
        for node, statuses in counts.items()
        if any(statuses.values())
    }


@pytest.mark.slow
def test_postgres_and_memory_answer_every_read_alike(postgres_url: str) -> None:
    SameAnswers.url = postgres_url
    run_state_machine_as_test(
        SameAnswers,
        settings=settings(
            max_examples=examples(40),
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.fixture(autouse=True)
def _forget_url() -> Any:
    yield
    SameAnswers.url = ""
