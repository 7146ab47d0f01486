"""The SQLite store and the in-memory store answer every read alike, whatever was written.

A Hypothesis state machine applies the same random writes (inserts, loaded
ranges, replacements, deletions, stale compare-and-sets, transactions that
fail part way) to both stores and compares what every read returns.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, note, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from numinv import ConcurrentUpdate, NumberRecord, Status
from numinv.core.numbers import NumberRange, number_range
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Repository, Transaction
from numinv.storage.sqlite import SqliteRepository
from numinv.testing.contract import state
from tests.examples import examples

NODES = ("sys", "sys.a", "sys.a.b", "sys.ab", "sys.c")
E164S = ("+4420", "+4421", "+4422")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
POOLS = (("10", 12), ("100", 30), ("0100", 6), ("+100", 6), ("1000", 6))
NUMBERS = tuple(number for first, count in POOLS for number in number_range(first, count=count))

_dates = st.none() | st.integers(-5, 5).map(lambda days: NOW + timedelta(days=days))
_fields = st.fixed_dictionaries(
    {
        "status": st.sampled_from(Status),
        "e164": st.lists(st.sampled_from(E164S), max_size=2, unique=True).map(tuple),
        "release_date": _dates,
        "tag": st.sampled_from(["", "a", "b"]),
    }
)


@st.composite
def ranges(draw: st.DrawFn) -> NumberRange:
    first, count = draw(st.sampled_from(POOLS))
    start = draw(st.integers(0, count - 1))
    size = draw(st.integers(1, count - start))
    return number_range(number_range(first, count=count).format(int(first) + start), count=size)


class Abort(Exception):
    pass


class SameAnswers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.memory = InMemoryRepository()
        self.sqlite = SqliteRepository(":memory:")
        self.stores: tuple[Repository, Repository] = (self.memory, self.sqlite)

    def teardown(self) -> None:
        self.sqlite.close()

    def both(self, write: Any, *, abort: bool = False) -> None:
        """Run `write(tx)` on each store; both must succeed or both refuse alike."""
        outcomes = []
        for store in self.stores:
            try:
                with store.transaction() as tx:
                    write(tx)
                    if abort:
                        raise Abort
                outcomes.append("stored")
            except (ConcurrentUpdate, Abort) as error:
                outcomes.append(type(error).__name__)
        note(f"outcomes: {outcomes}")
        assert outcomes[0] == outcomes[1]

    def stored(self) -> list[NumberRecord]:
        return [found for node in self.memory.nodes() for found in self.memory.scan(Query(node))]

    @rule(
        number=st.sampled_from(NUMBERS),
        node=st.sampled_from(NODES),
        fields=_fields,
        abort=st.booleans(),
    )
    def insert(self, number: str, node: str, fields: dict[str, Any], abort: bool) -> None:
        record = NumberRecord(number, node, **fields)
        self.both(lambda tx: tx.insert([record]), abort=abort)

    @rule(numbers=ranges(), node=st.sampled_from(NODES), fields=_fields, abort=st.booleans())
    def insert_range(
        self, numbers: NumberRange, node: str, fields: dict[str, Any], abort: bool
    ) -> None:
        template = NumberRecord("0", node, **fields)
        self.both(lambda tx: tx.insert_range(numbers, template), abort=abort)

    @precondition(lambda self: self.memory.nodes())
    @rule(data=st.data(), fields=_fields, stale=st.booleans(), abort=st.booleans())
    def replace(
        self, data: st.DataObject, fields: dict[str, Any], stale: bool, abort: bool
    ) -> None:
        old = data.draw(st.sampled_from(self.stored()))
        seen = attrs.evolve(old, version=old.version - 1) if stale else old
        new = attrs.evolve(old, version=old.version + 1, **fields)
        self.both(lambda tx: tx.replace([(seen, new)]), abort=abort)

    @precondition(lambda self: self.memory.nodes())
    @rule(data=st.data(), stale=st.booleans(), abort=st.booleans())
    def delete(self, data: st.DataObject, stale: bool, abort: bool) -> None:
        chosen = data.draw(st.lists(st.sampled_from(self.stored()), min_size=1, max_size=3))
        chosen = list({found.key: found for found in chosen}.values())
        if stale:
            chosen[-1] = attrs.evolve(chosen[-1], version=chosen[-1].version + 1)
        self.both(lambda tx: tx.delete(chosen), abort=abort)

    @precondition(lambda self: self.memory.nodes())
    @rule(data=st.data(), numbers=ranges(), node=st.sampled_from(NODES))
    def several_then_fail(self, data: st.DataObject, numbers: NumberRange, node: str) -> None:
        victim = data.draw(st.sampled_from(self.stored()))

        def write(tx: Transaction) -> None:
            tx.delete([victim])
            tx.insert([attrs.evolve(victim, status=Status.USED, version=1)])
            tx.insert_range(numbers, NumberRecord("0", node, tag="gone"))

        self.both(write, abort=True)

    @invariant()
    def every_read_agrees(self) -> None:
        memory, sqlite = (state(store, NUMBERS, E164S) for store in self.stores)
        assert memory == sqlite

    @invariant()
    def paged_and_filtered_reads_agree(self) -> None:
        for node in NODES:
            for status in (None, Status.AVAILABLE, Status.USED):
                for prefix, after in ((None, None), ("10", None), ("10", "101"), (None, "1")):
                    query = Query(node, status, prefix, after, limit=3)
                    assert self.memory.scan(query) == self.sqlite.scan(query)
        for first, count in POOLS:
            numbers = number_range(first, count=count)
            for node in (None, *NODES):
                assert self.memory.within(numbers, node) == self.sqlite.within(numbers, node)
        for days in (-3, 0, 3):
            assert self.memory.due(NOW + timedelta(days=days), 4) == self.sqlite.due(
                NOW + timedelta(days=days), 4
            )
        for node in NODES:
            assert self.memory.nodes(node) == self.sqlite.nodes(node)


TestSqliteAndMemoryAnswerAlike = SameAnswers.TestCase
TestSqliteAndMemoryAnswerAlike.settings = settings(
    max_examples=examples(40),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
