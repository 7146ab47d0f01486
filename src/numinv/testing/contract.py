"""`RepositoryContract`: every storage rule of docs/storage.md as pytest tests an adapter runs.

Subclass it (under a name starting with `Test`) and provide a `repository`
fixture returning a fresh, empty repository for each test:

    class TestMyRepository(RepositoryContract):
        @pytest.fixture
        def repository(self) -> Iterator[Repository]:
            repository = MyRepository(...)
            yield repository
            repository.close()

        def open_second(self, repository: Repository) -> Repository | None:
            return MyRepository(repository.dsn)   # optional: a second connection

Each test checks one rule directly against the repository, without an
`Inventory` in between: the reads (ordering, paging, filters, counts, due
dates, E.164 associations, holders, node settings, retired versions), the
journal (written with its change, none after a rollback, ordered, range
entries expanded, pruned, also beside writers; also through
`journal_at_commit`, where the store has that optional method), transactions
(commit, rollback, nesting, a nested block that fails, what waits for the
end where the store has the optional `AtEnd`, reads of a
transaction's own writes on the transaction and through the repository on
its thread, committed state for other threads), single-call atomicity,
compare-and-set on `version` (also between two repository objects on one
database, when `open_second` gives one), `insert_range` against inserting
each record, and compare-and-set under threads.

Reads that page (`scan`, `changes`) are followed with a bound: a cursor that
does not advance fails the test at once, naming the call, instead of looping.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from numinv.core.journal import Entry
from numinv.core.numbers import NumberRange, number_range
from numinv.core.records import Change, NumberRecord, ServiceType, Status, Usage, Use
from numinv.errors import ConcurrentUpdate, InvalidInput
from numinv.settings import NodeSettings
from numinv.storage.protocol import (
    AtEnd,
    JournalAtCommit,
    Query,
    Reader,
    Repository,
    Transaction,
)
from numinv.testing import strategies

__all__ = ["RepositoryContract", "every_change", "every_record", "pages", "state"]

NODE = "sys.acme.uk"
SITE = "sys.acme.uk.london"
SIBLING = "sys.acme.fr"
# Shares a text prefix with NODE but is not below it.
LOOKALIKE = "sys.acme.ukraine"
NODES = (NODE, SITE, SIBLING, LOOKALIKE)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAR = datetime(9999, 1, 1, tzinfo=UTC)
THREADS = 8
ROUNDS = 25
# No test stores more than this; a read that pages past it is going round in circles.
MOST = 100_000
JOIN = 30.0  # seconds a test waits for one of its threads


class Abort(Exception):
    """Raised inside a transaction to make it roll back."""


def record(number: str, hierarchy: str = NODE, **fields: Any) -> NumberRecord:
    return NumberRecord(number=number, hierarchy=hierarchy, **fields)


def used(number: str, hierarchy: str = NODE, **fields: Any) -> NumberRecord:
    """A record in use by one phone."""
    use = Use("device/cucm/Phone", f"SEP{number}", Usage.DEVICE, hierarchy=hierarchy)
    return record(
        number, hierarchy, status=Status.USED, usage=(Usage.DEVICE,), uses=(use,), **fields
    )


def owned(
    number: str, who: str, owner: str = "", hierarchy: str = NODE, **fields: Any
) -> NumberRecord:
    """A record in use by `who`'s phone (whose owner is `owner`)."""
    use = Use("device/cucm/Phone", who, Usage.DEVICE, hierarchy=hierarchy, owner=owner)
    return record(
        number, hierarchy, status=Status.USED, usage=(Usage.DEVICE,), uses=(use,), **fields
    )


def cooling(
    number: str, release_date: datetime, hierarchy: str = NODE, **fields: Any
) -> NumberRecord:
    return record(number, hierarchy, status=Status.COOLING, release_date=release_date, **fields)


def everything_set(number: str, hierarchy: str = NODE) -> NumberRecord:
    """A record with every field away from its default."""
    audiocodes = Use(
        "device/audiocodes", "gw1", Usage.DEVICE, "AudioCodes", Status.USED, hierarchy, "ann"
    )
    return NumberRecord(
        number=number,
        hierarchy=hierarchy,
        status=Status.COOLING,
        usage=(),
        uses=(),
        vendor="AudioCodes",
        internal_number_type="",
        release_date=NOW + timedelta(days=2, microseconds=7),
        reserved_for="user-7",
        e164=("+442071234567", "+442071234568"),
        primary_e164="+442071234568",
        tag="Released in 2 days",
        description="lobby phone",
        reservation_notes="for the new wing",
        extra1="a",
        extra2="Cisco-MS-Hybrid",
        extra3="c",
        extra4="+88800" + number.lstrip("+"),
        extra5="e",
        extra6="f",
        extra7="g",
        extra8="h",
        extra9="i, with 'quotes', \"double\" and ünïcödé",
        admin_vendor="AudioCodes",
        service_type=ServiceType.CISCO_MS_HYBRID,
        cooling_use=audiocodes,
        tag_before_cooling="was: lobby",
        version=7,
        admin_number_type="Direct Routing",
    )


def entry(
    after: NumberRecord | None,
    before: NumberRecord | None = None,
    *,
    operation: str = "assign",
    at: datetime = NOW,
    actor: str | None = "ops",
) -> Entry:
    """A journal entry of one record's change."""
    return Entry(operation, before, after, at, actor)


def range_entry(
    first: str, count: int, template: NumberRecord, *, at: datetime = NOW, actor: str | None = None
) -> Entry:
    """A journal entry of a loaded range: one change per number, each `template` renumbered."""
    numbers = number_range(first, count=count)
    return Entry("add", None, attrs.evolve(template, number=first), at, actor, numbers)


def store(repository: Repository, *records: NumberRecord) -> None:
    with repository.transaction() as tx:
        tx.insert(records)


def write(repository: Repository, *steps: Callable[[Transaction], object]) -> None:
    """Run the steps in one transaction."""
    with repository.transaction() as tx:
        for step in steps:
            step(tx)


def write_then_fail(repository: Repository, *steps: Callable[[Transaction], object]) -> None:
    """Run the steps in one transaction, then raise `Abort` inside it."""
    with repository.transaction() as tx:
        for step in steps:
            step(tx)
        raise Abort


def key(found: NumberRecord) -> tuple[str, str]:
    return found.key


def numbers_of(records: Iterable[NumberRecord]) -> list[str]:
    return [found.number for found in records]


def at_commit(tx: Transaction) -> Callable[[Sequence[Entry]], None]:
    """The transaction's `journal_at_commit`; a store without it (it is optional) skips."""
    if not isinstance(tx, JournalAtCommit):
        pytest.skip("the store has no journal_at_commit, which is optional (JournalAtCommit)")
    return tx.journal_at_commit


def at_end_of(tx: Transaction) -> Callable[[Callable[[bool], None]], None]:
    """The transaction's `at_end`; a store without it (it is optional) skips."""
    if not isinstance(tx, AtEnd):
        pytest.skip("the store has no at_end, which is optional (AtEnd)")
    return tx.at_end


def race(
    beside: Callable[[], None],
    writer: Callable[[str], None],
    names: Sequence[str],
    done: threading.Event,
    failures: list[BaseException],
) -> None:
    """Run `beside` on a thread of its own while `writer(name)` runs on a thread per name;
    once the writers have finished, set `done`, wait for `beside`, and fail with what any
    of them raised (each thread appends its error to `failures`)."""
    alongside = threading.Thread(target=beside, daemon=True)
    writers = [threading.Thread(target=writer, args=(name,), daemon=True) for name in names]
    alongside.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(JOIN)
    done.set()
    alongside.join(JOIN)
    raise_failures(failures)


def raise_failures(failures: Sequence[BaseException]) -> None:
    """Fail with what the test's threads raised, each with its own traceback (a bare
    `assert failures == []` shows only their repr)."""
    if not failures:
        return
    message = f"{len(failures)} of the test's threads failed"
    errors = [failure for failure in failures if isinstance(failure, Exception)]
    if len(errors) == len(failures):
        raise ExceptionGroup(message, errors)
    # A KeyboardInterrupt or SystemExit of a thread must fail the test, not end the run.
    raise AssertionError(f"{message}: {list(failures)!r}") from failures[0]


def seqs_of(changes: Iterable[Change]) -> list[int]:
    return [change.seq for change in changes]


def pages(reader: Reader, query: Query) -> Iterator[NumberRecord]:
    """A node's records from `query` on, page by page, failing fast if the cursor stalls."""
    after = query.after
    total = 0
    while True:
        page = reader.scan(attrs.evolve(query, after=after))
        if not page:
            return
        numbers = numbers_of(page)
        assert after is None or numbers[0] > after, (
            f"scan({attrs.evolve(query, after=after)}) returned {numbers[0]!r}, which is not "
            f"after the cursor {after!r}: paging would never end"
        )
        assert numbers == sorted(set(numbers)), (
            f"scan({attrs.evolve(query, after=after)}) is not in ascending number order: {numbers}"
        )
        assert len(page) <= query.limit, f"scan(limit={query.limit}) returned {len(page)} records"
        total += len(page)
        assert total <= MOST, f"scan of {query.hierarchy} went past {MOST} records: a loop"
        yield from page
        if len(page) < query.limit:
            return
        after = numbers[-1]


def every_record(reader: Reader) -> list[NumberRecord]:
    """Every record, node by node through `nodes` and paged `scan`s."""
    found: list[NumberRecord] = []
    for node in reader.nodes():
        found += pages(reader, Query(node, limit=50))
    return sorted(found, key=key)


class ChangeFeed(Protocol):
    """Anything that pages through the journal: a repository, a transaction, an inventory's feed."""

    def changes(self, after: int, limit: int) -> list[Change]: ...


def every_change(reader: ChangeFeed, after: int = 0, limit: int = 50) -> list[Change]:
    """The journal from `after` on, paged, failing fast if the cursor stalls."""
    found: list[Change] = []
    while True:
        page = reader.changes(after, limit)
        if not page:
            return found
        seqs = seqs_of(page)
        assert seqs[0] > after, (
            f"changes(after={after}) returned seq {seqs[0]}: paging would never end"
        )
        assert seqs == sorted(set(seqs)), f"changes(after={after}) not in seq order: {seqs}"
        assert len(page) <= limit, f"changes(limit={limit}) returned {len(page)} changes"
        found += page
        assert len(found) <= MOST, f"the journal went past {MOST} changes: a loop"
        after = seqs[-1]


def tallies(counts: Mapping[str, Mapping[Status, int]]) -> dict[str, dict[Status, int]]:
    """Counts without the zero entries (an adapter may or may not list them)."""
    return {
        node: {Status(status): total for status, total in statuses.items() if total}
        for node, statuses in counts.items()
        if any(statuses.values())
    }


def state(
    reader: Reader,
    numbers: Iterable[str] = (),
    e164s: Iterable[str] = (),
    names: Iterable[str] = (),
) -> dict[str, Any]:
    """What every read says, also for numbers, E.164 numbers and holders that may be gone."""
    records = every_record(reader)
    numbers = {*numbers, *(found.number for found in records)}
    e164s = {*e164s, *(e164 for found in records for e164 in found.e164)}
    names = {*names, *(name for found in records for name in _names(found))}
    nodes = {*NODES, *(found.hierarchy for found in records)}
    return {
        "records": records,
        "nodes": reader.nodes(),
        "counts": tallies(reader.counts()),
        "due": reader.due(FAR, 1_000_000),
        "next release": reader.next_release(),
        "holding": {number: sorted(reader.holding(number), key=key) for number in numbers},
        "e164": {e164: sorted(reader.with_e164(e164), key=key) for e164 in e164s},
        "held by": {name: reader.held_by(name) for name in names},
        "settings": dict(reader.node_settings(None)),
        "retired": {
            (number, node): version
            for span in _spans(numbers)
            for node in sorted(nodes)
            for number, version in sorted(reader.retired(span, node).items())
            if number in numbers
        },
        "journal": every_change(reader),
        "history": {number: reader.history(number) for number in numbers},
    }


def state_of_nothing(
    numbers: Iterable[str] = (), e164s: Iterable[str] = (), names: Iterable[str] = ()
) -> dict[str, Any]:
    """What `state` reads from an empty repository."""
    return {
        "records": [],
        "nodes": [],
        "counts": {},
        "due": [],
        "next release": None,
        "holding": {number: [] for number in numbers},
        "e164": {e164: [] for e164 in e164s},
        "held by": {name: [] for name in names},
        "settings": {},
        "retired": {},
        "journal": [],
        "history": {number: [] for number in numbers},
    }


def _spans(numbers: Iterable[str]) -> list[NumberRange]:
    """The smallest range of each width and `+` prefix that holds the numbers given."""
    groups: dict[tuple[str, int], list[int]] = {}
    for number in numbers:
        plus = "+" if number.startswith("+") else ""
        digits = number[len(plus) :]
        groups.setdefault((plus, len(digits)), []).append(int(digits))
    return [
        NumberRange(plus, width, min(values), max(values))
        for (plus, width), values in sorted(groups.items())
    ]


def _meddle(value: object) -> None:
    """Change what a read returned, as a careless caller might (frozen values stay)."""
    if isinstance(value, MutableMapping):
        for inner in list(value.values()):
            _meddle(inner)
        value.clear()
    elif isinstance(value, list):
        value.clear()


def _names(found: NumberRecord) -> set[str]:
    names = {use.consumer_id for use in found.uses} | {u.owner for u in found.uses if u.owner}
    return names | ({found.reserved_for} if found.reserved_for is not None else set())


class RepositoryContract:
    """The storage rules every `Repository` keeps; subclass with a `repository` fixture.

    Override `open_second` to return a second repository object on the same
    database (another connection) when your adapter can: the tests of
    compare-and-set between two repository objects then run too.
    """

    @pytest.fixture
    def repository(self) -> Repository:
        raise NotImplementedError(
            f"{type(self).__name__} must provide a `repository` fixture: a fresh, empty repository"
        )

    def open_second(self, repository: Repository) -> Repository | None:
        """A second repository object on the database of `repository`, or None if impossible."""
        return None

    @pytest.fixture
    def second_repository(self, repository: Repository) -> Iterator[Repository]:
        other = self.open_second(repository)
        if other is None:
            pytest.skip(
                f"{type(self).__name__}.open_second gives no second repository on one database"
            )
        try:
            yield other
        finally:
            close = getattr(other, "close", None)
            if callable(close):
                close()

    # -- the protocol ----------------------------------------------------------

    def test_repository_implements_the_protocol(self, repository: Repository) -> None:
        assert isinstance(repository, Repository)

    def test_transaction_implements_the_protocol(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            assert isinstance(tx, Transaction)

    def test_an_empty_repository_reads_as_empty(self, repository: Repository) -> None:
        assert repository.get("1000", NODE) is None
        assert repository.holding("1000") == []
        assert repository.within(number_range("1000", "1999")) == []
        assert repository.scan(Query(NODE)) == []
        assert repository.nodes() == []
        assert tallies(repository.counts()) == {}
        assert repository.due(FAR, 10) == []
        assert repository.with_e164("+442071234567") == []

    # -- get and holding ---------------------------------------------------------

    def test_get_returns_the_stored_record_with_every_field(self, repository: Repository) -> None:
        stored = everything_set("+441000")
        store(repository, stored)
        assert repository.get("+441000", NODE) == stored

    @settings(
        max_examples=40,
        deadline=None,
        # Each subclass runs this one test over its own repository.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(stored=strategies.number_records())
    def test_any_record_reads_back_equal(
        self, repository: Repository, stored: NumberRecord
    ) -> None:
        store(repository, stored)
        try:
            assert repository.get(stored.number, stored.hierarchy) == stored
            assert repository.holding(stored.number) == [stored]
        finally:
            with repository.transaction() as tx:
                tx.delete([stored])

    def test_get_finds_a_record_only_at_its_own_node(self, repository: Repository) -> None:
        store(repository, record("1000", NODE))
        assert repository.get("1000", SITE) is None
        assert repository.get("1000", "sys.acme") is None

    def test_get_tells_a_plus_number_from_the_plain_one(self, repository: Repository) -> None:
        store(repository, record("+1000"))
        assert repository.get("1000", NODE) is None

    def test_get_keeps_leading_zeros(self, repository: Repository) -> None:
        store(repository, record("0100"))
        assert repository.get("100", NODE) is None
        assert repository.get("0100", NODE) == record("0100")

    def test_holding_returns_the_number_at_every_node(self, repository: Repository) -> None:
        store(repository, record("1000", NODE), record("1000", SIBLING), record("1001", NODE))
        assert sorted(repository.holding("1000"), key=key) == [
            record("1000", SIBLING),
            record("1000", NODE),
        ]

    def test_holding_an_unknown_number_is_empty(self, repository: Repository) -> None:
        store(repository, record("1000"))
        assert repository.holding("1001") == []

    def test_holding_tells_a_plus_number_from_the_plain_one(self, repository: Repository) -> None:
        """`1000` and `+1000` are different numbers: an adapter that looks a number up by its
        digits (an index on the number without its `+`) answers one for the other."""
        store(repository, record("+1000"), record("1000", SITE), record("01000"))
        assert repository.holding("1000") == [record("1000", SITE)]
        assert repository.holding("+1000") == [record("+1000")]
        assert repository.holding("+01000") == []
        with repository.transaction() as tx:
            assert tx.holding("+1000") == [record("+1000")]

    @pytest.mark.parametrize("how", ["insert", "replace", "insert_range"])
    def test_a_record_reads_back_as_written_by_every_write(
        self, repository: Repository, how: str
    ) -> None:
        """Fixed examples of what `test_any_record_reads_back_equal` draws only now and then:
        an empty `tag_before_cooling` stays `""` (an adapter storing "" as NULL, as Oracle
        does, reads back `None`), and `uses` and `e164` keep the order they were written in
        (a child table read back `ORDER BY` its key sorts them)."""
        uses = (
            Use("device/cucm/Phone", "SEPb", Usage.DEVICE, hierarchy=NODE, owner="zoe"),
            Use("device/cucm/HuntPilot", "hp9", Usage.DEVICE, hierarchy=NODE),
            Use("device/cucm/Phone", "SEPa", Usage.DEVICE, hierarchy=NODE, owner="amy"),
        )
        written = record(
            "1000",
            status=Status.USED,
            usage=(Usage.DEVICE,),
            uses=uses,
            e164=("+442071234569", "+442071234561", "+442071234565"),
            primary_e164="+442071234561",
            tag_before_cooling="",
        )
        if how == "insert":
            store(repository, written)
        elif how == "replace":
            store(repository, record("1000"))
            written = attrs.evolve(written, version=2)
            write(repository, lambda tx: tx.replace([(record("1000"), written)]))
        else:
            template = attrs.evolve(written, number="0")
            write(repository, lambda tx: tx.insert_range(number_range("1000", count=1), template))
        found = repository.get("1000", NODE)
        assert found is not None
        assert found.tag_before_cooling == ""
        assert found.uses == uses
        assert found.e164 == ("+442071234569", "+442071234561", "+442071234565")
        assert found == written
        assert repository.holding("1000") == [written]
        assert repository.with_e164("+442071234561") == [written]
        assert repository.held_by("zoe") == [written]

    # -- within --------------------------------------------------------------------

    def test_within_returns_the_range_in_number_order(self, repository: Repository) -> None:
        store(repository, *(record(str(number)) for number in (1005, 1001, 1003, 999, 1010)))
        found = repository.within(number_range("1000", "1005"), NODE)
        assert numbers_of(found) == ["1001", "1003", "1005"]

    def test_within_includes_both_ends(self, repository: Repository) -> None:
        store(repository, record("1000"), record("1005"))
        assert numbers_of(repository.within(number_range("1000", "1005"))) == ["1000", "1005"]

    def test_within_a_node_leaves_out_other_nodes(self, repository: Repository) -> None:
        store(repository, record("1000", NODE), record("1001", SITE), record("1002", SIBLING))
        assert repository.within(number_range("1000", "1009"), NODE) == [record("1000", NODE)]

    def test_within_every_node_orders_by_number_then_node(self, repository: Repository) -> None:
        stored = [record("1001", SIBLING), record("1000", SITE), record("1000", NODE)]
        store(repository, *stored)
        found = repository.within(number_range("1000", "1009"))
        assert [found.key for found in found] == [
            ("1000", NODE),
            ("1000", SITE),
            ("1001", SIBLING),
        ]

    @pytest.mark.parametrize("hierarchy", [None, NODE])
    def test_within_ignores_numbers_of_other_widths(
        self, repository: Repository, hierarchy: str | None
    ) -> None:
        widths = ["10", "099", "100", "1000", "10000", "101", "0100", "+100", "+1000"]
        store(repository, *(record(number) for number in widths))
        found = repository.within(number_range("100", "101"), hierarchy)
        assert numbers_of(found) == ["100", "101"]

    @pytest.mark.parametrize("hierarchy", [None, NODE])
    def test_within_a_wide_range_ignores_numbers_of_other_widths(
        self, repository: Repository, hierarchy: str | None
    ) -> None:
        widths = ["10", "099", "100", "1000", "5000", "550", "999", "9990", "+500", "0500"]
        store(repository, *(record(number) for number in widths))
        store(repository, record("550", SIBLING), record("5500", SIBLING))
        found = repository.within(number_range("100", "999"), hierarchy)
        expected = [("100", NODE), ("550", SIBLING), ("550", NODE), ("999", NODE)]
        assert [found.key for found in found] == [
            key for key in expected if hierarchy is None or key[1] == hierarchy
        ]

    @pytest.mark.parametrize("hierarchy", [None, NODE])
    def test_within_a_plus_range_ignores_plain_numbers(
        self, repository: Repository, hierarchy: str | None
    ) -> None:
        store(repository, *(record(number) for number in ["+100", "100", "+1000", "+099", "+101"]))
        found = repository.within(number_range("+100", "+101"), hierarchy)
        assert numbers_of(found) == ["+100", "+101"]

    def test_within_keeps_leading_zeros(self, repository: Repository) -> None:
        store(repository, *(record(number) for number in ["0098", "0099", "0100", "0101", "98"]))
        found = repository.within(number_range("0098", "0100"))
        assert numbers_of(found) == ["0098", "0099", "0100"]

    # -- scan ----------------------------------------------------------------------

    def test_scan_returns_one_nodes_records_in_number_order(self, repository: Repository) -> None:
        store(
            repository,
            record("1002"),
            used("1000"),
            record("1001", SITE),
            record("0999"),
            record("1001", SIBLING),
        )
        assert numbers_of(repository.scan(Query(NODE))) == ["0999", "1000", "1002"]

    def test_scan_stops_at_the_limit(self, repository: Repository) -> None:
        store(repository, *(record(str(number)) for number in range(1000, 1010)))
        assert numbers_of(repository.scan(Query(NODE, limit=3))) == ["1000", "1001", "1002"]

    def test_scan_resumes_after_the_cursor_number(self, repository: Repository) -> None:
        store(repository, *(record(str(number)) for number in range(1000, 1005)))
        assert numbers_of(repository.scan(Query(NODE, after="1001"))) == ["1002", "1003", "1004"]

    def test_scan_accepts_a_cursor_that_is_not_stored(self, repository: Repository) -> None:
        store(repository, record("1000"), record("1002"))
        assert numbers_of(repository.scan(Query(NODE, after="1001"))) == ["1002"]

    def test_scan_pages_add_up_to_the_whole_node(self, repository: Repository) -> None:
        stored = [
            (used if number % 3 == 0 else record)(str(number)) for number in range(2000, 2025)
        ]
        store(repository, *stored)
        pages: list[list[NumberRecord]] = []
        after: str | None = None
        for _ in range(5):
            page = repository.scan(Query(NODE, after=after, limit=7))
            if not page:
                break
            assert after is None or page[0].number > after, f"scan(after={after!r}) stalls"
            pages.append(page)
            after = page[-1].number
        assert [len(page) for page in pages] == [7, 7, 7, 4]
        assert [found for page in pages for found in page] == stored

    def test_scan_filters_by_status(self, repository: Repository) -> None:
        store(repository, record("1000"), used("1001"), record("1002"), used("1003"))
        found = repository.scan(Query(NODE, status=Status.USED))
        assert numbers_of(found) == ["1001", "1003"]

    def test_scan_by_status_pages_with_the_cursor(self, repository: Repository) -> None:
        store(repository, *(used(str(number)) for number in range(1000, 1006)), record("1006"))
        found = repository.scan(Query(NODE, status=Status.USED, after="1002", limit=2))
        assert numbers_of(found) == ["1003", "1004"]

    def test_scan_filters_by_prefix(self, repository: Repository) -> None:
        numbers = ["10", "1099", "11", "110", "1100", "1199", "12", "+110"]
        store(repository, *(record(number) for number in numbers))
        found = repository.scan(Query(NODE, prefix="11"))
        assert numbers_of(found) == ["11", "110", "1100", "1199"]

    def test_scan_filters_by_a_plus_prefix(self, repository: Repository) -> None:
        store(repository, *(record(number) for number in ["+441", "+449", "441", "+45"]))
        assert numbers_of(repository.scan(Query(NODE, prefix="+44"))) == ["+441", "+449"]

    def test_scan_combines_prefix_and_cursor(self, repository: Repository) -> None:
        numbers = ["1000", "1100", "1101", "1102", "1200"]
        store(repository, *(record(number) for number in numbers))
        assert numbers_of(repository.scan(Query(NODE, prefix="11", after="1100"))) == [
            "1101",
            "1102",
        ]
        assert numbers_of(repository.scan(Query(NODE, prefix="11", after="1050"))) == [
            "1100",
            "1101",
            "1102",
        ]
        assert repository.scan(Query(NODE, prefix="11", after="1150")) == []

    def test_scan_combines_status_prefix_and_cursor(self, repository: Repository) -> None:
        store(repository, used("1100"), record("1101"), used("1102"), used("1103"), used("1200"))
        query = Query(NODE, status=Status.USED, prefix="11", after="1100", limit=1)
        assert numbers_of(repository.scan(query)) == ["1102"]

    def test_scan_of_a_node_without_records_is_empty(self, repository: Repository) -> None:
        store(repository, record("1000", SITE))
        assert repository.scan(Query(NODE)) == []
        assert repository.scan(Query("sys.elsewhere", status=Status.AVAILABLE)) == []

    # -- nodes and counts --------------------------------------------------------------

    def test_nodes_lists_every_node_holding_numbers_sorted(self, repository: Repository) -> None:
        store(repository, record("1", SITE), record("2", SIBLING), record("3", NODE))
        assert repository.nodes() == sorted([SITE, SIBLING, NODE])

    def test_nodes_under_a_node_are_it_and_its_subtree(self, repository: Repository) -> None:
        store(
            repository,
            record("1", NODE),
            record("2", SITE),
            record("3", LOOKALIKE),
            record("4", "sys.acme"),
            record("5", SIBLING),
        )
        assert repository.nodes(NODE) == [NODE, SITE]
        assert repository.nodes(SITE) == [SITE]
        assert repository.nodes("sys.acme") == sorted(["sys.acme", NODE, SITE, LOOKALIKE, SIBLING])

    def test_nodes_under_a_node_without_numbers_lists_its_subtree(
        self, repository: Repository
    ) -> None:
        store(repository, record("1", SITE))
        assert repository.nodes(NODE) == [SITE]
        assert repository.nodes("sys.other") == []

    def test_a_node_whose_numbers_are_all_deleted_is_no_longer_listed(
        self, repository: Repository
    ) -> None:
        store(repository, record("1", SITE), record("2", NODE))
        with repository.transaction() as tx:
            tx.delete([record("1", SITE)])
        assert repository.nodes() == [NODE]
        # Gone from the counts too, not listed with zeros: `utilization` reports every
        # node the counts list (a deleted node showed as an exhausted pool).
        assert list(repository.counts()) == [NODE], "a node with no records left is counted"
        assert list(repository.counts(NODE)) == [NODE], "a node with no records left is counted"

    def test_counts_tally_each_status_per_node(self, repository: Repository) -> None:
        store(
            repository,
            record("1000"),
            record("1001"),
            used("1002"),
            cooling("1003", NOW),
            record("1004", status=Status.RESERVED),
            used("1000", SITE),
        )
        assert tallies(repository.counts()) == {
            NODE: {Status.AVAILABLE: 2, Status.USED: 1, Status.COOLING: 1, Status.RESERVED: 1},
            SITE: {Status.USED: 1},
        }

    def test_counts_under_a_node_cover_its_subtree_only(self, repository: Repository) -> None:
        store(repository, record("1", NODE), record("2", SITE), record("3", LOOKALIKE))
        assert tallies(repository.counts(NODE)) == {
            NODE: {Status.AVAILABLE: 1},
            SITE: {Status.AVAILABLE: 1},
        }

    def test_counts_follow_a_status_change(self, repository: Repository) -> None:
        store(repository, record("1000"), record("1001"))
        with repository.transaction() as tx:
            tx.replace([(record("1000"), used("1000", version=2))])
        assert tallies(repository.counts()) == {NODE: {Status.AVAILABLE: 1, Status.USED: 1}}

    def test_counts_follow_a_deletion(self, repository: Repository) -> None:
        store(repository, record("1000"), record("1001"))
        with repository.transaction() as tx:
            tx.delete([record("1000")])
        assert tallies(repository.counts()) == {NODE: {Status.AVAILABLE: 1}}

    def test_counts_include_a_loaded_range(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            tx.insert_range(number_range("1000", count=250), record("1000"))
        assert tallies(repository.counts()) == {NODE: {Status.AVAILABLE: 250}}

    # -- due -----------------------------------------------------------------------

    def test_replace_and_delete_take_any_iterable_once(self, repository: Repository) -> None:
        """The protocol takes iterables: an adapter that reads its argument twice (once to
        check every version, once to write) writes nothing from a generator."""
        store(repository, record("1000"), record("1001"))
        with repository.transaction() as tx:
            tx.replace(
                (old, attrs.evolve(old, tag="new", version=2))
                for old in (record("1000"), record("1001"))
            )
        assert [found.tag for found in every_record(repository)] == ["new", "new"]
        with repository.transaction() as tx:
            tx.delete(found for found in every_record(repository))
        assert every_record(repository) == []

    def test_due_returns_records_at_or_before_now_earliest_first(
        self, repository: Repository
    ) -> None:
        store(
            repository,
            cooling("1000", NOW + timedelta(seconds=1)),
            cooling("1001", NOW),
            cooling("1002", NOW - timedelta(days=3)),
            cooling("1003", NOW - timedelta(microseconds=1)),
            record("1004"),
        )
        assert numbers_of(repository.due(NOW, 10)) == ["1002", "1003", "1001"]

    def test_due_orders_records_released_at_one_instant_by_number_then_node(
        self, repository: Repository
    ) -> None:
        store(
            repository,
            cooling("2000", NOW),
            cooling("1000", NOW, SITE),
            cooling("1000", NOW),
            cooling("0999", NOW - timedelta(seconds=1), SIBLING),
        )
        assert [key(found) for found in repository.due(NOW, 10)] == [
            ("0999", SIBLING),
            ("1000", NODE),
            ("1000", SITE),
            ("2000", NODE),
        ]

    def test_due_stops_at_the_limit(self, repository: Repository) -> None:
        store(
            repository, *(cooling(str(1000 + day), NOW - timedelta(days=day)) for day in range(5))
        )
        assert numbers_of(repository.due(NOW, 2)) == ["1004", "1003"]

    def test_due_includes_reservations_with_a_release_date(self, repository: Repository) -> None:
        reserved = record("1000", status=Status.RESERVED, release_date=NOW)
        store(repository, reserved, record("1001", status=Status.RESERVED))
        assert repository.due(NOW, 10) == [reserved]

    def test_due_compares_instants_across_time_zones(self, repository: Repository) -> None:
        paris = timezone(timedelta(hours=2))
        new_york = timezone(timedelta(hours=-5))
        store(
            repository,
            cooling("1000", datetime(2026, 3, 1, 13, 30, tzinfo=paris)),  # 11:30 UTC
            cooling("1001", datetime(2026, 3, 1, 6, 0, tzinfo=new_york)),  # 11:00 UTC
            cooling("1002", datetime(2026, 3, 1, 14, 30, tzinfo=paris)),  # 12:30 UTC
        )
        assert numbers_of(repository.due(NOW, 10)) == ["1001", "1000"]
        assert numbers_of(repository.due(NOW.astimezone(new_york), 10)) == ["1001", "1000"]

    def test_due_and_next_release_order_instants_not_wall_clocks(
        self, repository: Repository
    ) -> None:
        """The earlier instant has the later wall-clock time: an adapter ordering by the
        time as written (text, or the clock without its offset) gets both wrong."""
        paris = timezone(timedelta(hours=2))
        new_york = timezone(timedelta(hours=-5))
        store(
            repository,
            cooling("1000", datetime(2026, 3, 1, 7, 0, tzinfo=new_york)),  # 12:00 UTC
            cooling("1001", datetime(2026, 3, 1, 13, 0, tzinfo=paris)),  # 11:00 UTC
        )
        assert numbers_of(repository.due(NOW, 1)) == ["1001"]
        assert numbers_of(repository.due(NOW, 10)) == ["1001", "1000"]
        assert repository.next_release() == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)

    def test_due_follows_a_release(self, repository: Repository) -> None:
        store(repository, cooling("1000", NOW))
        with repository.transaction() as tx:
            tx.replace([(cooling("1000", NOW), record("1000", version=2))])
        assert repository.due(FAR, 10) == []

    def test_a_stored_release_date_is_the_same_instant(self, repository: Repository) -> None:
        when = datetime(2026, 3, 1, 13, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
        store(repository, cooling("1000", when))
        found = repository.get("1000", NODE)
        assert found is not None
        assert found.release_date == when
        assert found.release_date.utcoffset() is not None

    # -- E.164 associations --------------------------------------------------------------

    def test_with_e164_returns_every_record_it_points_to(self, repository: Repository) -> None:
        first = record("1000", e164=("+442071234567",))
        second = record("1000", SIBLING, e164=("+442071234567", "+442071234568"))
        store(repository, first, second, record("1001", e164=("+442071234568",)))
        assert sorted(repository.with_e164("+442071234567"), key=key) == [second, first]

    def test_an_e164_number_dropped_at_one_node_still_points_to_its_sibling(
        self, repository: Repository
    ) -> None:
        """Two nodes may each hold the number with the same association: dropping it from
        one record leaves the other's (an index keyed by number alone lost both)."""
        here = record("1000", e164=("+442071234567",))
        there = record("1000", SIBLING, e164=("+442071234567",))
        store(repository, here, there)
        write(repository, lambda tx: tx.replace([(here, attrs.evolve(here, e164=(), version=2))]))
        assert repository.with_e164("+442071234567") == [there]
        write(repository, lambda tx: tx.delete([attrs.evolve(here, e164=(), version=2)]))
        assert repository.with_e164("+442071234567") == [there]

    def test_with_e164_follows_a_dissociation(self, repository: Repository) -> None:
        before = record("1000", e164=("+442071234567", "+442071234568"))
        store(repository, before)
        after = attrs.evolve(before, e164=("+442071234568",), version=2)
        with repository.transaction() as tx:
            tx.replace([(before, after)])
        assert repository.with_e164("+442071234567") == []
        assert repository.with_e164("+442071234568") == [after]

    def test_with_e164_follows_an_association(self, repository: Repository) -> None:
        store(repository, record("1000"))
        after = record("1000", e164=("+442071234567",), primary_e164="+442071234567", version=2)
        with repository.transaction() as tx:
            tx.replace([(record("1000"), after)])
        assert repository.with_e164("+442071234567") == [after]

    def test_with_e164_forgets_a_deleted_record(self, repository: Repository) -> None:
        associated = record("1000", e164=("+442071234567",))
        store(repository, associated)
        with repository.transaction() as tx:
            tx.delete([associated])
        assert repository.with_e164("+442071234567") == []

    # -- transactions ------------------------------------------------------------------

    def test_a_committed_insert_is_read_outside_the_transaction(
        self, repository: Repository
    ) -> None:
        with repository.transaction() as tx:
            tx.insert([record("1000")])
        assert repository.get("1000", NODE) == record("1000")

    def test_insert_accepts_any_iterable(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            tx.insert(record(str(number)) for number in range(1000, 1003))
        assert numbers_of(repository.scan(Query(NODE))) == ["1000", "1001", "1002"]

    def test_reads_inside_a_transaction_see_its_inserts(self, repository: Repository) -> None:
        added = everything_set("1000")
        with repository.transaction() as tx:
            tx.insert([added])
            assert tx.get("1000", NODE) == added
            assert tx.holding("1000") == [added]
            assert tx.within(number_range("1000", "1009")) == [added]
            assert tx.scan(Query(NODE, status=Status.COOLING)) == [added]
            assert tx.nodes() == [NODE]
            assert tallies(tx.counts()) == {NODE: {Status.COOLING: 1}}
            assert tx.due(FAR, 10) == [added]
            assert tx.with_e164("+442071234567") == [added]

    def test_a_read_after_a_write_sees_the_write_not_the_earlier_read(
        self, repository: Repository
    ) -> None:
        """A transaction reads a record, changes it, reads it again: the second read is
        the new record (an adapter that kept what it read, an identity map, answered the
        old one, and the inventory then wrote from a record that was gone)."""
        before = record("1000", e164=("+442071234567",), reserved_for="alice")
        store(repository, before)
        after = attrs.evolve(before, tag="changed", e164=(), reserved_for=None, version=2)
        with repository.transaction() as tx:
            assert tx.get("1000", NODE) == before
            assert tx.holding("1000") == [before]
            assert tx.within(number_range("1000"), NODE) == [before]
            assert tx.scan(Query(NODE)) == [before]
            assert tx.with_e164("+442071234567") == [before]
            assert tx.held_by("alice") == [before]
            tx.replace([(before, after)])
            assert tx.get("1000", NODE) == after, "a read after a write answered what it read"
            assert tx.holding("1000") == [after]
            assert tx.within(number_range("1000"), NODE) == [after]
            assert tx.scan(Query(NODE)) == [after]
            assert tx.with_e164("+442071234567") == []
            assert tx.held_by("alice") == []
            tx.delete([after])
            assert tx.get("1000", NODE) is None
            assert tx.holding("1000") == []

    def test_reads_inside_a_transaction_see_its_replacements(self, repository: Repository) -> None:
        before = everything_set("1000")
        store(repository, before)
        after = record("1000", status=Status.RESERVED, e164=("+15550100",), version=8)
        with repository.transaction() as tx:
            tx.replace([(before, after)])
            assert tx.get("1000", NODE) == after
            assert tx.scan(Query(NODE, status=Status.COOLING)) == []
            assert tx.scan(Query(NODE, status=Status.RESERVED)) == [after]
            assert tallies(tx.counts()) == {NODE: {Status.RESERVED: 1}}
            assert tx.due(FAR, 10) == []
            assert tx.with_e164("+442071234567") == []
            assert tx.with_e164("+15550100") == [after]

    def test_reads_inside_a_transaction_see_its_deletions(self, repository: Repository) -> None:
        stored = everything_set("1000")
        store(repository, stored)
        with repository.transaction() as tx:
            tx.delete([stored])
            assert tx.get("1000", NODE) is None
            assert tx.holding("1000") == []
            assert tx.within(number_range("1000", "1009")) == []
            assert tx.scan(Query(NODE)) == []
            assert tx.nodes() == []
            assert tallies(tx.counts()) == {}
            assert tx.due(FAR, 10) == []
            assert tx.with_e164("+442071234567") == []

    def test_an_exception_rolls_back_every_write_with_its_indexes(
        self, repository: Repository
    ) -> None:
        kept, changed, deleted = everything_set("1000"), used("1001"), cooling("1002", NOW)
        store(repository, kept, changed, deleted)
        before = state(repository, ["1003", "1004"], ["+15550100", "+15550101"])
        with pytest.raises(Abort):
            write_then_fail(
                repository,
                lambda tx: tx.insert(
                    [cooling("1003", NOW, SITE), record("1004", e164=("+15550100",))]
                ),
                lambda tx: tx.replace([(changed, cooling("1001", NOW, version=2))]),
                lambda tx: tx.replace([(kept, record("1000", e164=("+15550101",), version=8))]),
                lambda tx: tx.delete([deleted]),
                lambda tx: tx.insert_range(number_range("2000", count=20), record("0", SIBLING)),
            )
        assert state(repository, ["1003", "1004"], ["+15550100", "+15550101"]) == before

    def test_an_exception_rolls_back_a_loaded_range(self, repository: Repository) -> None:
        store(repository, record("0999"))
        before = state(repository, ["1000", "1099"])
        with pytest.raises(Abort):
            write_then_fail(
                repository, lambda tx: tx.insert_range(number_range("1000", count=100), record("0"))
            )
        assert state(repository, ["1000", "1099"]) == before

    def test_a_record_deleted_and_added_again_comes_back_on_rollback(
        self, repository: Repository
    ) -> None:
        stored = everything_set("1000")
        store(repository, stored)
        before = state(repository)
        with pytest.raises(Abort):
            write_then_fail(
                repository, lambda tx: tx.delete([stored]), lambda tx: tx.insert([record("1000")])
            )
        assert state(repository) == before

    def test_a_nested_transaction_joins_the_outer_one(self, repository: Repository) -> None:

        def nest(outer: Transaction) -> None:
            outer.insert([record("1000")])
            with repository.transaction() as inner:
                inner.insert([record("1001")])
            assert outer.get("1001", NODE) == record("1001")

        with pytest.raises(Abort):
            write_then_fail(repository, nest)
        assert state(repository, ["1000", "1001"]) == state_of_nothing(["1000", "1001"])

    def test_a_nested_transaction_commits_with_the_outer_one(self, repository: Repository) -> None:
        with repository.transaction() as outer:
            outer.insert([record("1000")])
            with repository.transaction() as inner:
                inner.insert([record("1001")])
        assert numbers_of(repository.scan(Query(NODE))) == ["1000", "1001"]

    def test_what_waits_for_the_end_of_a_transaction_runs_once_it_has_ended(
        self, repository: Repository
    ) -> None:
        """The optional `AtEnd` (a store without it skips): a nested `transaction()` says it
        `joined`; `at_end` callbacks, from the outer or a nested one, run once the
        outermost has ended, in order, with True after a commit that another thread can
        already read, False after a rollback. The inventory delivers events through
        them: run before the commit, an event announces what nobody can read yet."""
        calls: list[tuple[str, bool, list[str]]] = []

        def note(name: str) -> Callable[[bool], None]:
            return lambda committed: calls.append((name, committed, read_elsewhere()))

        def read_elsewhere() -> list[str]:  # committed state, as another thread reads it
            seen: list[list[str]] = []
            reader = threading.Thread(
                target=lambda: seen.append(numbers_of(repository.scan(Query(NODE)))),
                daemon=True,
            )
            reader.start()
            reader.join(JOIN)
            assert seen, "a read on another thread waited for the store to let go"
            return seen[0]

        with repository.transaction() as outer:
            hook = at_end_of(outer)
            assert getattr(outer, "joined", None) is False
            outer.insert([record("1000")])
            with repository.transaction() as inner:
                assert getattr(inner, "joined", None) is True
                at_end_of(inner)(note("inner"))
            hook(note("outer"))
            assert calls == []
        assert calls == [("inner", True, ["1000"]), ("outer", True, ["1000"])]
        calls.clear()

        def hooked(tx: Transaction) -> None:
            at_end_of(tx)(note("rolled back"))

        with pytest.raises(Abort):
            write_then_fail(repository, lambda tx: tx.insert([record("1001")]), hooked)
        assert calls == [("rolled back", False, ["1000"])]

    def test_a_nested_transaction_that_raises_leaves_the_outer_one_to_decide(
        self, repository: Repository
    ) -> None:
        """A nested `transaction()` neither commits nor rolls back by itself: when its block
        raises and the caller catches the error, the outer transaction goes on, and its
        commit keeps everything written before, inside and after the nested block. An
        adapter that rolls the connection back there (and carries on in a new transaction)
        loses the outer work; one that makes the nested block a savepoint loses its own."""
        store(repository, record("0999"))

        def nested_and_failing() -> None:
            with repository.transaction() as inner:
                inner.insert([record("1001")])
                inner.replace([(record("0999"), used("0999", version=2))])
                inner.journal([entry(record("1001"))])
                raise Abort

        def nest(outer: Transaction) -> None:
            outer.insert([record("1000")])
            outer.journal([entry(record("1000"))])
            with pytest.raises(Abort):
                nested_and_failing()
            assert numbers_of(outer.scan(Query(NODE))) == ["0999", "1000", "1001"]
            outer.insert([record("1002")])
            outer.journal([entry(record("1002"))])

        write(repository, nest)
        assert repository.scan(Query(NODE)) == [
            used("0999", version=2),
            record("1000"),
            record("1001"),
            record("1002"),
        ]
        assert [c.number for c in every_change(repository)] == ["1000", "1001", "1002"]

    def test_an_interrupt_rolls_back_like_any_exception(self, repository: Repository) -> None:
        """Ctrl-C (`KeyboardInterrupt`, not an `Exception`) inside the block: nothing is kept."""
        store(repository, record("0999"))
        before = state(repository, ["1000", "2000"])

        def write_then_interrupt() -> None:
            with repository.transaction() as tx:
                tx.insert([record("1000")])
                tx.insert_range(number_range("2000", count=3), record("0"))
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            write_then_interrupt()
        assert state(repository, ["1000", "2000"]) == before
        store(repository, record("1000"))  # and the repository is usable after it
        assert repository.get("1000", NODE) == record("1000")

    @pytest.mark.parametrize(
        "bad",
        ["a\x00b", "lone \ud800"],
        ids=["nul", "lone-surrogate"],
    )
    def test_text_no_store_keeps_is_refused_and_changes_nothing(
        self, repository: Repository, bad: str
    ) -> None:
        """SPEC 17: a NUL, a lone surrogate is `InvalidInput` on every store alike
        (`numinv.storage.rows.refuse_unkeepable` does the check)."""
        stored = record("1000")
        store(repository, stored)
        before = state(repository, ["1000", "1001", "2000"])
        writes: list[Callable[[Transaction], object]] = [
            lambda tx: tx.insert([record("1001", description=bad)]),
            lambda tx: tx.insert([record("1001", reserved_for=bad)]),
            lambda tx: tx.insert_range(number_range("2000", count=2), record("0", tag=bad)),
            lambda tx: tx.replace([(stored, record("1000", extra1=bad, version=2))]),
        ]
        for step in writes:
            with pytest.raises(InvalidInput):
                write(repository, step)
            assert state(repository, ["1000", "1001", "2000"]) == before

    def test_a_repository_is_usable_after_a_rollback(self, repository: Repository) -> None:
        with pytest.raises(Abort):
            write_then_fail(repository, lambda tx: tx.insert([record("1000")]))
        store(repository, record("1000"))
        assert repository.get("1000", NODE) == record("1000")

    def test_a_reader_never_sees_a_write_that_is_rolled_back(self, repository: Repository) -> None:
        written = threading.Event()
        seen: list[NumberRecord | None] = []

        def read() -> None:
            written.wait(10)
            seen.append(repository.get("1000", NODE))

        reader = threading.Thread(target=read)
        reader.start()

        def insert_and_linger(tx: Transaction) -> None:
            tx.insert([record("1000")])
            written.set()
            time.sleep(0.05)

        with pytest.raises(Abort):
            write_then_fail(repository, insert_and_linger)
        reader.join(10)
        assert seen == [None]

    # -- compare-and-set -----------------------------------------------------------

    def test_replace_stores_the_new_record(self, repository: Repository) -> None:
        store(repository, record("1000"))
        with repository.transaction() as tx:
            tx.replace([(record("1000"), used("1000", version=2))])
        assert repository.get("1000", NODE) == used("1000", version=2)

    def test_replace_of_a_stale_version_is_refused_and_changes_nothing(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000", version=2), record("1001"))
        before = state(repository)
        with pytest.raises(ConcurrentUpdate):
            write(
                repository,
                lambda tx: tx.replace([(record("1001"), used("1001", version=2))]),
                lambda tx: tx.replace([(record("1000", version=1), used("1000", version=2))]),
            )
        assert state(repository) == before

    def test_replace_of_a_stale_version_inside_a_batch_writes_none_of_it(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000"), record("1001", version=5), record("1002"))
        before = state(repository)
        changes = [
            (record("1000"), used("1000", version=2)),
            (record("1001", version=4), used("1001", version=5)),
            (record("1002"), used("1002", version=2)),
        ]
        with pytest.raises(ConcurrentUpdate):
            write(repository, lambda tx: tx.replace(changes))
        assert state(repository) == before

    def test_replace_of_a_missing_record_is_refused(self, repository: Repository) -> None:
        with pytest.raises(ConcurrentUpdate):
            write(repository, lambda tx: tx.replace([(record("1000"), used("1000", version=2))]))
        assert repository.get("1000", NODE) is None

    def test_a_refused_replace_names_the_record(self, repository: Repository) -> None:
        store(repository, record("1000", version=3))
        with pytest.raises(ConcurrentUpdate) as refused:
            write(
                repository,
                lambda tx: tx.replace([(record("1000", version=2), record("1000", version=3))]),
            )
        assert (refused.value.number, refused.value.hierarchy) == ("1000", NODE)

    def test_replace_twice_in_one_transaction_follows_the_versions(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000"))
        with repository.transaction() as tx:
            tx.replace([(record("1000"), used("1000", version=2))])
            tx.replace([(used("1000", version=2), cooling("1000", NOW, version=3))])
        assert repository.get("1000", NODE) == cooling("1000", NOW, version=3)

    def test_replace_by_a_record_of_another_key_is_refused_and_changes_nothing(
        self, repository: Repository
    ) -> None:
        """`replace((old, new))` changes one record: a `new` of another number or node is
        `InvalidInput` (`numinv.storage.protocol.same_key`), not a move of the record nor a
        second record beside it. Inside a batch too, where nothing of the batch is kept."""
        store(repository, record("1000"), record("1001"))
        before = state(repository, ["1000", "1001", "1002"])
        for changes in (
            [(record("1000"), record("1002", version=2))],
            [(record("1000"), record("1000", SITE, version=2))],
            [(record("1001"), used("1001", version=2)), (record("1000"), record("+1000"))],
        ):
            with pytest.raises(InvalidInput), repository.transaction() as tx:
                tx.replace(changes)
            assert state(repository, ["1000", "1001", "1002"]) == before, changes

    def test_delete_removes_the_record_from_every_read(self, repository: Repository) -> None:
        stored = everything_set("1000")
        store(repository, stored)
        with repository.transaction() as tx:
            tx.delete([stored])
        found = state(repository, ["1000"], ["+442071234567"], ["user-7"])
        assert found.pop("retired") == {("1000", NODE): stored.version}
        nothing = state_of_nothing(["1000"], ["+442071234567"], ["user-7"])
        del nothing["retired"]
        assert found == nothing

    def test_delete_of_a_stale_version_is_refused_and_changes_nothing(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000", version=2), record("1001"))
        before = state(repository)
        with pytest.raises(ConcurrentUpdate), repository.transaction() as tx:
            tx.delete([record("1001"), record("1000", version=1)])
        assert state(repository) == before

    def test_delete_of_a_missing_record_is_refused(self, repository: Repository) -> None:
        store(repository, record("1000", SITE))
        before = state(repository)
        with pytest.raises(ConcurrentUpdate), repository.transaction() as tx:
            tx.delete([record("1000", NODE)])
        assert state(repository) == before

    def test_insert_of_a_taken_key_is_refused_and_changes_nothing(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000"))
        before = state(repository, ["1001"])
        with pytest.raises(ConcurrentUpdate) as refused, repository.transaction() as tx:
            tx.insert([record("1001"), used("1000", version=5)])
        assert (refused.value.number, refused.value.hierarchy) == ("1000", NODE)
        assert state(repository, ["1001"]) == before

    def test_insert_of_the_same_key_twice_in_one_batch_is_refused(
        self, repository: Repository
    ) -> None:
        with pytest.raises(ConcurrentUpdate), repository.transaction() as tx:
            tx.insert([record("1000"), record("1000")])
        assert repository.get("1000", NODE) is None

    def test_insert_of_a_number_held_at_another_node_is_allowed(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000", SIBLING))
        store(repository, record("1000", NODE))
        assert len(repository.holding("1000")) == 2

    def test_concurrent_compare_and_set_has_one_winner_per_version(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000"))
        wins: list[tuple[int, str]] = []
        failures: list[BaseException] = []
        start = threading.Barrier(THREADS)

        def write(name: str) -> None:
            try:
                start.wait(10)
                for _ in range(ROUNDS):
                    current = repository.get("1000", NODE)
                    assert current is not None
                    after = attrs.evolve(current, tag=name, version=current.version + 1)
                    try:
                        with repository.transaction() as tx:
                            tx.replace([(current, after)])
                    except ConcurrentUpdate:
                        continue
                    wins.append((after.version, name))
            except BaseException as error:  # reported below, in the test's thread
                failures.append(error)

        writers = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(THREADS)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(60)
        raise_failures(failures)
        final = repository.get("1000", NODE)
        assert final is not None
        assert sorted(version for version, _ in wins) == list(range(2, final.version + 1))
        assert (final.version, final.tag) in wins

    # -- insert_range ---------------------------------------------------------------

    @pytest.mark.parametrize(
        "template",
        [
            record(
                "0",
                SITE,
                tag="pool",
                vendor="Microsoft",
                admin_vendor="Microsoft",
                description="DDI block",
                reservation_notes="from the carrier",
                internal_number_type="DDI",
                extra1="one",
                extra9="nine",
            ),
            everything_set("0", SITE),
        ],
        ids=["plain", "every-field"],
    )
    def test_insert_range_equals_inserting_each_record(
        self, repository: Repository, template: NumberRecord
    ) -> None:
        numbers = number_range("0098", "0101")
        with repository.transaction() as tx:
            tx.insert_range(numbers, template)
            tx.insert(
                attrs.evolve(template, number=number, hierarchy=SIBLING) for number in numbers
            )
        loaded = repository.scan(Query(SITE))
        inserted = repository.scan(Query(SIBLING))
        assert loaded == [attrs.evolve(template, number=number) for number in numbers]
        assert [attrs.evolve(found, hierarchy=SITE) for found in inserted] == loaded
        assert tallies(repository.counts())[SITE] == tallies(repository.counts())[SIBLING]
        due = repository.due(FAR, 100)
        assert sorted(found.number for found in due if found.hierarchy == SITE) == sorted(
            found.number for found in due if found.hierarchy == SIBLING
        )
        for e164 in template.e164:
            pointed = repository.with_e164(e164)
            assert sorted(numbers_of(p for p in pointed if p.hierarchy == SITE)) == list(numbers)
            assert len(pointed) == 2 * len(numbers)

    def test_insert_range_reads_back_through_every_read(self, repository: Repository) -> None:
        template = record("0", NODE, tag="pool")
        with repository.transaction() as tx:
            tx.insert_range(number_range("1000", count=100), template)
        assert repository.get("1042", NODE) == attrs.evolve(template, number="1042")
        assert repository.holding("1099") == [attrs.evolve(template, number="1099")]
        assert numbers_of(repository.within(number_range("1010", "1012"))) == [
            "1010",
            "1011",
            "1012",
        ]
        page = repository.scan(Query(NODE, status=Status.AVAILABLE, prefix="105", limit=3))
        assert numbers_of(page) == ["1050", "1051", "1052"]

    def test_records_of_a_loaded_range_change_one_by_one(self, repository: Repository) -> None:
        template = record("0", NODE)
        with repository.transaction() as tx:
            tx.insert_range(number_range("1000", count=10), template)
        with repository.transaction() as tx:
            tx.replace([(record("1003"), used("1003", version=2))])
            tx.delete([record("1005")])
        assert repository.get("1003", NODE) == used("1003", version=2)
        assert repository.get("1004", NODE) == record("1004")
        assert repository.get("1005", NODE) is None
        assert tallies(repository.counts()) == {NODE: {Status.AVAILABLE: 8, Status.USED: 1}}

    def test_a_range_of_thousands_is_whole_across_every_block_of_a_thousand(
        self, repository: Repository
    ) -> None:
        """Bulk code works in batches (COPY chunks, `IN (...)` lists, blocks of a thousand
        journal seqs): a number lost at a batch's edge is never offered again, and a seq
        reused at a block's edge hides a change from every follower."""
        numbers = number_range("200000", count=2500)
        with repository.transaction() as tx:
            tx.insert_range(numbers, record("0", NODE, version=3))
            first = tx.journal([range_entry("200000", 2500, record("0"))])
        with repository.transaction() as tx:
            later = tx.journal([entry(record("1000"))])
        stored = repository.within(numbers, NODE)
        assert [found.number for found in stored] == list(numbers)
        assert {found.version for found in stored} == {3}
        assert later == first + 2500
        seqs = seqs_of(every_change(repository, first - 1, limit=1000))
        assert seqs == list(range(first, first + 2501))
        assert [c.number for c in repository.history("201999")] == ["201999"]
        with repository.transaction() as tx:
            tx.delete(stored)
        assert repository.retired(numbers, NODE) == dict.fromkeys(numbers, 3)
        assert repository.within(numbers, NODE) == []

    def test_insert_range_over_a_taken_number_is_refused_and_changes_nothing(
        self, repository: Repository
    ) -> None:
        store(repository, used("0100"))
        before = state(repository, list(number_range("0098", "0101")))
        with pytest.raises(ConcurrentUpdate), repository.transaction() as tx:
            tx.insert_range(number_range("0098", "0101"), record("0", NODE))
        assert state(repository, list(number_range("0098", "0101"))) == before

    def test_insert_range_beside_a_sibling_holding_the_numbers_is_allowed(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000", SIBLING))
        with repository.transaction() as tx:
            tx.insert_range(number_range("1000", count=3), record("0", NODE))
        assert len(repository.within(number_range("1000", count=3))) == 4

    # -- order: text and code points, never a collation ----------------------------------

    def test_scan_orders_numbers_by_their_text(self, repository: Repository) -> None:
        numbers = ["99", "100", "1000", "0100", "+5", "+50", "9", "10"]
        store(repository, *(record(number) for number in numbers))
        assert numbers_of(repository.scan(Query(NODE))) == sorted(numbers)
        assert numbers_of(pages(repository, Query(NODE, limit=3))) == sorted(numbers)

    def test_node_paths_compare_by_code_point_not_by_collation(
        self, repository: Repository
    ) -> None:
        nodes = ["sys.b", "sys.B", "sys.a", "sys.Z", "sys.é", "sys.e", "sys.A.x", "sys.a-b"]
        store(repository, *(record("1000", node) for node in nodes))
        assert repository.nodes() == sorted(nodes)
        assert [found.hierarchy for found in repository.holding("1000")] == sorted(nodes)
        found = repository.within(number_range("1000", "1001"))
        assert [found.hierarchy for found in found] == sorted(nodes)
        assert sorted(tallies(repository.counts())) == sorted(nodes)  # in any order
        assert repository.get("1000", "sys.E") is None
        assert repository.nodes("sys.a") == ["sys.a"]
        assert repository.nodes("sys.A") == ["sys.A.x"]

    def test_node_names_are_taken_literally(self, repository: Repository) -> None:
        """`_`, `%` and `\\` are text, not patterns; a name keeps its exact code points."""
        composed, decomposed = "sys.caf\u00e9", "sys.cafe\u0301"
        nodes = ["sys.a_b", "sys.axb", "sys.axb.c", "sys.a%", "sys.a%.x", "sys.ab", "sys.a\\b"]
        store(repository, *(record("1000", node) for node in [*nodes, composed]))
        assert repository.nodes("sys.a_b") == ["sys.a_b"]
        assert repository.nodes("sys.a%") == ["sys.a%", "sys.a%.x"]
        assert repository.nodes("sys.a\\b") == ["sys.a\\b"]
        assert sorted(tallies(repository.counts("sys.a_b"))) == ["sys.a_b"]
        assert repository.get("1000", decomposed) is None
        assert repository.get("1000", composed) == record("1000", composed)
        assert repository.nodes(decomposed) == []

    def test_extreme_values_read_back_equal(self, repository: Repository) -> None:
        largest = record(
            "1000", version=2**63 - 1, tag="x" * 65_536, description="\u00e9\U0001f4de"
        )
        store(repository, largest, record("99999999999999999999999999999999"))
        assert repository.get("1000", NODE) == largest
        assert repository.get("99999999999999999999999999999999", NODE) is not None

    def test_records_of_several_nodes_sort_by_number_then_node(
        self, repository: Repository
    ) -> None:
        store(
            repository,
            record("1001", "sys.B", e164=("+4420",), reserved_for="al"),
            record("1000", "sys.b", e164=("+4420",), reserved_for="al"),
            record("1000", "sys.B", e164=("+4420",), reserved_for="al"),
        )
        expected = [("1000", "sys.B"), ("1000", "sys.b"), ("1001", "sys.B")]
        assert [found.key for found in repository.with_e164("+4420")] == expected
        assert [found.key for found in repository.held_by("al")] == expected

    # -- held_by -------------------------------------------------------------------------

    def test_held_by_finds_records_by_consumer_id_owner_and_reserved_for(
        self, repository: Repository
    ) -> None:
        store(
            repository,
            owned("1003", "SEPa", owner="alice"),
            owned("1001", "alice"),
            record("1002", SITE, status=Status.RESERVED, reserved_for="alice"),
            owned("1000", "alice", owner="alice", reserved_for="alice"),
            owned("1004", "bob", owner="bob"),
            record("1005", reserved_for="alicia"),
        )
        assert [found.key for found in repository.held_by("alice")] == [
            ("1000", NODE),
            ("1001", NODE),
            ("1002", SITE),
            ("1003", NODE),
        ]
        assert numbers_of(repository.held_by("SEPa")) == ["1003"]
        assert repository.held_by("ali") == []
        assert repository.held_by("nobody") == []
        assert repository.held_by("Alice") == []  # names compare exactly: case matters
        assert repository.held_by("sepa") == []

    def test_a_holder_dropped_at_one_node_still_holds_the_sibling(
        self, repository: Repository
    ) -> None:
        """The same number at two nodes, both held by one name: a change of one record
        leaves the other held (an index keyed by number alone lost both)."""
        here = owned("1000", "SEPa", owner="alice")
        there = owned("1000", "SEPa", owner="alice", hierarchy=SIBLING)
        store(repository, here, there)
        freed = record("1000", version=2)
        write(repository, lambda tx: tx.replace([(here, freed)]))
        assert repository.held_by("alice") == [there]
        assert repository.held_by("SEPa") == [there]
        write(repository, lambda tx: tx.delete([freed]))
        assert repository.held_by("alice") == [there]

    def test_held_by_follows_a_replacement(self, repository: Repository) -> None:
        before = owned("1000", "SEPa", owner="alice", reserved_for="carol")
        store(repository, before)
        after = record("1000", reserved_for="dave", version=2)
        write(repository, lambda tx: tx.replace([(before, after)]))
        assert repository.held_by("SEPa") == []
        assert repository.held_by("alice") == []
        assert repository.held_by("carol") == []
        assert repository.held_by("dave") == [after]

    def test_held_by_forgets_a_deleted_record_added_again(self, repository: Repository) -> None:
        stored = owned("1000", "SEPa", owner="alice", reserved_for="carol")
        store(repository, stored)
        write(repository, lambda tx: tx.delete([stored]))
        store(repository, record("1000"))
        for name in ("SEPa", "alice", "carol"):
            assert repository.held_by(name) == [], name

    def test_held_by_finds_the_numbers_of_a_loaded_range(self, repository: Repository) -> None:
        template = owned("0", "SEPa", owner="alice", reserved_for="carol")
        write(repository, lambda tx: tx.insert_range(number_range("1000", count=3), template))
        for name in ("SEPa", "alice", "carol"):
            assert numbers_of(repository.held_by(name)) == ["1000", "1001", "1002"], name

    def test_held_by_leaves_out_the_device_a_number_cools_from(
        self, repository: Repository
    ) -> None:
        """A cooling number remembers the device it may go back to (`cooling_use`), but that
        device and its owner no longer use it: `held_by` finds it by its uses' consumer ids
        and owners and by `reserved_for` only (`NumberRecord.holders`)."""
        cooled = everything_set("1000")  # cools from gw1 (owner ann), reserved for user-7
        assert cooled.cooling_use is not None
        assert cooled.uses == ()
        store(repository, cooled)
        template = everything_set("0", SITE)
        write(repository, lambda tx: tx.insert_range(number_range("2000", count=2), template))
        for name in ("gw1", "ann"):
            assert repository.held_by(name) == [], name
            with repository.transaction() as tx:
                assert tx.held_by(name) == [], name
        assert [found.key for found in repository.held_by("user-7")] == [
            ("1000", NODE),
            ("2000", SITE),
            ("2001", SITE),
        ]

    # -- E.164 and holders of a record deleted, then added again -------------------------

    def test_an_e164_association_does_not_come_back_with_a_number_added_again(
        self, repository: Repository
    ) -> None:
        stored = record("1000", e164=("+442071234567",))
        store(repository, stored)
        write(repository, lambda tx: tx.delete([stored]))
        store(repository, record("1000", version=2))
        assert repository.with_e164("+442071234567") == []

    def test_an_e164_association_moved_by_replacement_leaves_nothing_behind(
        self, repository: Repository
    ) -> None:
        first = record("1000", e164=("+4420",))
        store(repository, first)
        second = record("1000", e164=("+4421",), version=2)
        third = record("1000", version=3)
        write(repository, lambda tx: tx.replace([(first, second)]))
        write(repository, lambda tx: tx.replace([(second, third)]))
        assert repository.with_e164("+4420") == []
        assert repository.with_e164("+4421") == []

    # -- counts through every change of status ------------------------------------------

    def test_counts_follow_every_change_of_status(self, repository: Repository) -> None:
        pairs = [(old, new) for old in Status for new in Status if old is not new]
        olds = [record(f"{1000 + n}", status=old) for n, (old, _) in enumerate(pairs)]
        store(repository, *olds)
        expected = tallies(repository.counts())[NODE]
        with repository.transaction() as tx:
            for stored, (old, new) in zip(olds, pairs, strict=True):
                tx.replace([(stored, attrs.evolve(stored, status=new, version=2))])
                expected[old] -= 1
                expected[new] = expected.get(new, 0) + 1
                assert tallies(tx.counts()) == tallies({NODE: expected}), f"{old} to {new}"
        assert tallies(repository.counts()) == tallies({NODE: expected})
        assert tallies(repository.counts(NODE)) == tallies({NODE: expected})

    def test_counts_follow_several_changes_of_one_record_in_a_transaction(
        self, repository: Repository
    ) -> None:
        first = record("1000")
        store(repository, first, record("1001"))
        second = used("1000", version=2)
        third = cooling("1000", NOW, version=3)
        fourth = record("1000", version=4)
        write(
            repository,
            lambda tx: tx.replace([(first, second)]),
            lambda tx: tx.replace([(second, third)]),
            lambda tx: tx.replace([(third, fourth)]),
        )
        assert tallies(repository.counts()) == {NODE: {Status.AVAILABLE: 2}}

    def test_counts_follow_the_deletion_of_a_record_in_use(self, repository: Repository) -> None:
        store(repository, used("1000"), record("1001", status=Status.INACTIVE))
        write(
            repository, lambda tx: tx.delete([used("1000"), record("1001", status=Status.INACTIVE)])
        )
        assert tallies(repository.counts()) == {}
        assert repository.nodes() == []

    # -- due dates: Query.due_by and next_release ----------------------------------------

    def test_scan_due_by_keeps_records_released_by_then(self, repository: Repository) -> None:
        store(
            repository,
            cooling("1000", NOW - timedelta(days=1)),
            cooling("1001", NOW),
            cooling("1002", NOW + timedelta(microseconds=1)),
            record("1003"),
            record("1004", status=Status.RESERVED, release_date=NOW),
            record("1005", status=Status.RESERVED),
        )
        assert numbers_of(repository.scan(Query(NODE, due_by=NOW))) == ["1000", "1001", "1004"]
        query = Query(NODE, status=Status.COOLING, due_by=NOW)
        assert numbers_of(repository.scan(query)) == ["1000", "1001"]
        query = Query(NODE, status=Status.COOLING, after="1000", due_by=NOW)
        assert numbers_of(repository.scan(query)) == ["1001"]
        query = Query(NODE, prefix="100", limit=1, due_by=NOW + timedelta(days=1))
        assert numbers_of(repository.scan(query)) == ["1000"]

    def test_scan_due_by_combines_with_prefix_and_cursor(self, repository: Repository) -> None:
        store(
            repository,
            cooling("1000", NOW),
            cooling("2000", NOW),
            cooling("2001", NOW - timedelta(days=1)),
            cooling("2002", NOW + timedelta(seconds=1)),
            cooling("2003", NOW),
            cooling("3000", NOW),
        )
        due = Query(NODE, Status.COOLING, "2", None, 10, due_by=NOW)
        assert numbers_of(repository.scan(due)) == ["2000", "2001", "2003"]
        assert numbers_of(repository.scan(attrs.evolve(due, after="2000"))) == ["2001", "2003"]
        assert numbers_of(repository.scan(attrs.evolve(due, limit=1))) == ["2000"]

    def test_scan_due_by_compares_instants_across_time_zones(self, repository: Repository) -> None:
        paris = timezone(timedelta(hours=2))
        store(
            repository,
            cooling("1000", datetime(2026, 3, 1, 13, 30, tzinfo=paris)),  # 11:30 UTC
            cooling("1001", datetime(2026, 3, 1, 14, 30, tzinfo=paris)),  # 12:30 UTC
        )
        assert numbers_of(repository.scan(Query(NODE, due_by=NOW))) == ["1000"]
        assert numbers_of(repository.scan(Query(NODE, due_by=NOW.astimezone(paris)))) == ["1000"]

    def test_next_release_is_the_earliest_release_date(self, repository: Repository) -> None:
        assert repository.next_release() is None
        paris = timezone(timedelta(hours=2))
        store(
            repository,
            cooling("1000", NOW + timedelta(days=3)),
            cooling("1001", datetime(2026, 3, 1, 13, 0, tzinfo=paris), SITE),  # 11:00 UTC
            record("1002", status=Status.RESERVED, release_date=NOW + timedelta(days=1)),
            record("1003"),
        )
        assert repository.next_release() == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)

    def test_next_release_counts_a_timed_reservation(self, repository: Repository) -> None:
        store(
            repository,
            cooling("1000", NOW + timedelta(days=2)),
            record("1001", status=Status.RESERVED, release_date=NOW + timedelta(days=1)),
        )
        assert repository.next_release() == NOW + timedelta(days=1)

    def test_a_release_date_far_ahead_reads_back_and_sorts_last(
        self, repository: Repository
    ) -> None:
        far = datetime(9990, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        store(repository, cooling("1000", far), cooling("1001", NOW))
        assert repository.get("1000", NODE) == cooling("1000", far)
        assert numbers_of(repository.due(far, 10)) == ["1001", "1000"]
        assert numbers_of(repository.scan(Query(NODE, due_by=NOW))) == ["1001"]

    def test_next_release_follows_replacement_and_deletion(self, repository: Repository) -> None:
        soon, later = cooling("1000", NOW), cooling("1001", NOW + timedelta(days=1))
        store(repository, soon, later)
        write(repository, lambda tx: tx.replace([(soon, record("1000", version=2))]))
        assert repository.next_release() == NOW + timedelta(days=1)
        write(repository, lambda tx: tx.delete([later]))
        assert repository.next_release() is None

    def test_due_and_next_release_keep_microseconds(self, repository: Repository) -> None:
        when = NOW + timedelta(microseconds=1)
        store(repository, cooling("1000", when))
        assert repository.due(NOW, 10) == []
        assert numbers_of(repository.due(when, 10)) == ["1000"]
        assert repository.next_release() == when

    # -- node settings ---------------------------------------------------------------------

    def test_configure_stores_what_a_node_sets(self, repository: Repository) -> None:
        uk = NodeSettings(auto_cooling=False, cooling_days=7, exhaustion_threshold=0.0)
        fr = NodeSettings(
            prevent_duplicates=True,
            audiocodes_cooling_days=999,
            exhaustion_threshold=1.0,
            auto_cooling=True,
        )
        write(repository, lambda tx: tx.configure(NODE, uk), lambda tx: tx.configure(SIBLING, fr))
        assert repository.node_settings([NODE]) == {NODE: uk}
        assert repository.node_settings([SIBLING, SITE, NODE]) == {SIBLING: fr, NODE: uk}
        assert repository.node_settings(None) == {NODE: uk, SIBLING: fr}
        assert repository.node_settings([]) == {}
        assert repository.node_settings([LOOKALIKE, "sys"]) == {}

    def test_settings_read_before_a_change_are_read_anew_after_it(
        self, repository: Repository
    ) -> None:
        """An adapter may keep the settings it read, but a change ends what it kept: read
        through the repository on the writing thread inside the transaction, and after."""
        seven, nine = NodeSettings(cooling_days=7), NodeSettings(cooling_days=9)
        write(repository, lambda tx: tx.configure(NODE, seven))
        assert repository.node_settings([NODE]) == {NODE: seven}
        assert repository.node_settings(None) == {NODE: seven}
        with repository.transaction() as tx:
            tx.configure(NODE, nine)
            assert tx.node_settings([NODE]) == {NODE: nine}
            assert repository.node_settings([NODE]) == {NODE: nine}, "kept settings read"
        assert repository.node_settings([NODE]) == {NODE: nine}, "kept settings read"
        assert repository.node_settings(None) == {NODE: nine}

    def test_configure_replaces_what_the_node_set_before(self, repository: Repository) -> None:
        write(repository, lambda tx: tx.configure(NODE, NodeSettings(cooling_days=7)))
        write(repository, lambda tx: tx.configure(NODE, NodeSettings(auto_cooling=True)))
        assert repository.node_settings([NODE]) == {NODE: NodeSettings(auto_cooling=True)}

    @pytest.mark.parametrize("nothing", [None, NodeSettings()], ids=["none", "empty"])
    def test_configuring_nothing_forgets_the_node(
        self, repository: Repository, nothing: NodeSettings | None
    ) -> None:
        write(repository, lambda tx: tx.configure(NODE, NodeSettings(cooling_days=7)))
        write(repository, lambda tx: tx.configure(NODE, nothing))
        assert repository.node_settings(None) == {}
        assert repository.node_settings([NODE]) == {}

    def test_configure_is_read_inside_its_transaction_and_rolled_back(
        self, repository: Repository
    ) -> None:
        settings_ = NodeSettings(cooling_days=7)

        def configure_and_read(tx: Transaction) -> None:
            tx.configure(NODE, settings_)
            assert tx.node_settings([NODE]) == {NODE: settings_}

        with pytest.raises(Abort):
            write_then_fail(repository, configure_and_read)
        assert repository.node_settings(None) == {}

    def test_a_setting_turned_off_reads_back_off(self, repository: Repository) -> None:
        """`False` is a value, not "inherit": a node that turns prevent-duplicates or
        auto-cooling off, and sets nothing else, keeps exactly that (an adapter keeping
        only the flags that are on loses them, and the node inherits `True` from above)."""
        off = NodeSettings(prevent_duplicates=False)
        both = NodeSettings(prevent_duplicates=False, auto_cooling=False, exhaustion_threshold=0.0)
        write(repository, lambda tx: tx.configure(NODE, off), lambda tx: tx.configure(SITE, both))
        assert repository.node_settings([NODE, SITE]) == {NODE: off, SITE: both}
        assert repository.node_settings(None) == {NODE: off, SITE: both}
        with repository.transaction() as tx:
            assert tx.node_settings([NODE]) == {NODE: off}

    def test_settings_of_nodes_that_differ_in_case_are_distinct(
        self, repository: Repository
    ) -> None:
        """Node paths compare exactly: `sys.B` and `sys.b` are two nodes, each with its own
        settings, and configuring one leaves the other alone."""
        upper, lower = NodeSettings(cooling_days=1), NodeSettings(cooling_days=2)
        write(repository, lambda tx: tx.configure("sys.B", upper))
        write(repository, lambda tx: tx.configure("sys.b", lower))
        assert repository.node_settings(["sys.B"]) == {"sys.B": upper}
        assert repository.node_settings(["sys.b", "sys.B"]) == {"sys.b": lower, "sys.B": upper}
        assert repository.node_settings(None) == {"sys.B": upper, "sys.b": lower}
        write(repository, lambda tx: tx.configure("sys.b", None))
        assert repository.node_settings(None) == {"sys.B": upper}
        assert repository.node_settings(["sys.b"]) == {}

    # -- retired versions ----------------------------------------------------------------

    def test_what_a_read_returns_is_the_callers_to_change(self, repository: Repository) -> None:
        """A read returns values the caller owns: changing a dict or list it returned
        changes nothing stored (an adapter that returned its own dict of settings lost
        them to a caller's `clear()`)."""
        store(repository, record("1000", version=3), used("1001"), record("1002", SITE))
        write(
            repository,
            lambda tx: tx.delete([record("1000", version=3)]),
            lambda tx: tx.configure(NODE, NodeSettings(cooling_days=7)),
        )
        reads: list[Callable[[], object]] = [
            lambda: repository.node_settings(None),
            lambda: repository.node_settings([NODE]),
            lambda: repository.retired(number_range("1000", "1002"), NODE),
            lambda: repository.counts(),
            lambda: repository.counts(NODE),
            lambda: repository.nodes(),
            lambda: repository.scan(Query(NODE)),
            lambda: repository.holding("1001"),
            lambda: repository.within(number_range("1000", "1002")),
            lambda: repository.held_by("SEP1"),
            lambda: repository.due(FAR, 10),
        ]
        for read in reads:
            expected = copy.deepcopy(read())
            _meddle(read())
            assert read() == expected, "changing what a read returned changed the store"

    def test_delete_keeps_the_version_each_record_had(self, repository: Repository) -> None:
        gone = [record("1000", version=4), used("1002", version=9), record("1002", SITE)]
        store(repository, *gone, record("1001"))
        write(repository, lambda tx: tx.delete(gone))
        assert repository.retired(number_range("1000", "1009"), NODE) == {"1000": 4, "1002": 9}
        assert repository.retired(number_range("1000", "1009"), SITE) == {"1002": 1}
        assert repository.retired(number_range("1001", "1001"), NODE) == {}
        assert repository.retired(number_range("1000", "1009"), SIBLING) == {}

    def test_retired_versions_keep_to_the_width_of_the_range(self, repository: Repository) -> None:
        gone = [record(number) for number in ("100", "1000", "0100", "+100", "101")]
        store(repository, *gone)
        write(repository, lambda tx: tx.delete(gone))
        assert repository.retired(number_range("100", "101"), NODE) == {"100": 1, "101": 1}
        assert repository.retired(number_range("+100", count=1), NODE) == {"+100": 1}

    def test_retired_keeps_the_last_version_over_several_deletions(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000", version=3))
        write(repository, lambda tx: tx.delete([record("1000", version=3)]))
        store(repository, record("1000", version=4))
        write(
            repository,
            lambda tx: tx.replace([(record("1000", version=4), used("1000", version=8))]),
        )
        write(repository, lambda tx: tx.delete([used("1000", version=8)]))
        assert repository.retired(number_range("1000"), NODE) == {"1000": 8}

    def test_a_deletion_rolled_back_retires_nothing(self, repository: Repository) -> None:
        store(repository, record("1000", version=3))
        with pytest.raises(Abort):
            write_then_fail(repository, lambda tx: tx.delete([record("1000", version=3)]))
        assert repository.retired(number_range("1000"), NODE) == {}

    # -- claim -----------------------------------------------------------------------------

    def test_claim_answers_like_scan_inside_a_transaction(self, repository: Repository) -> None:
        store(
            repository,
            *(record(str(number)) for number in range(1000, 1006)),
            used("1006"),
            cooling("1007", NOW),
            record("1008", SITE),
        )
        queries = [
            Query(NODE, Status.AVAILABLE, limit=1),
            Query(NODE, Status.AVAILABLE, after="1002", limit=2),
            Query(NODE, Status.USED),
            Query(NODE, Status.COOLING, due_by=NOW),
            Query(NODE, Status.COOLING, due_by=NOW - timedelta(seconds=1)),
            Query(NODE, prefix="100", limit=100),
            Query(SITE, Status.AVAILABLE),
        ]
        with repository.transaction() as tx:
            for query in queries:
                assert tx.claim(query) == tx.scan(query), query

    def test_a_claimed_record_is_changed_in_the_same_transaction(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000"), record("1001"))
        with repository.transaction() as tx:
            (first,) = tx.claim(Query(NODE, Status.AVAILABLE, limit=1))
            tx.replace([(first, used(first.number, version=first.version + 1))])
            assert numbers_of(tx.claim(Query(NODE, Status.AVAILABLE, limit=1))) == ["1001"]
        assert repository.get("1000", NODE) == used("1000", version=2)

    def test_claim_filters_by_prefix(self, repository: Repository) -> None:
        """`assign_next(prefix=...)` claims with a prefix: the claim keeps to it, with or
        without a cursor, and a `+` prefix keeps to `+` numbers."""
        store(
            repository,
            *(record(number) for number in ("1000", "1001", "1100", "2000", "2001", "+1000")),
        )
        expected = [
            (Query(NODE, Status.AVAILABLE, prefix="2", limit=1), ["2000"]),
            (Query(NODE, Status.AVAILABLE, prefix="11", limit=5), ["1100"]),
            (Query(NODE, Status.AVAILABLE, prefix="100", after="1000", limit=5), ["1001"]),
            (Query(NODE, prefix="+1", limit=5), ["+1000"]),
            (Query(NODE, Status.AVAILABLE, prefix="3", limit=5), []),
        ]
        with repository.transaction() as tx:
            for query, numbers in expected:
                assert numbers_of(tx.claim(query)) == numbers, query

    def test_claim_after_reading_a_record_in_the_same_transaction_answers_like_scan(
        self, repository: Repository
    ) -> None:
        """The inventory reads a number (`get`, which a store with row locks makes `FOR
        UPDATE`) and may then claim in the same transaction: rows the transaction itself
        read or locked are its own, never skipped as if another transaction held them."""
        store(repository, *(record(str(number)) for number in range(1000, 1004)))
        with repository.transaction() as tx:
            assert tx.get("1000", NODE) == record("1000")
            assert repository.get("1001", NODE) == record("1001")  # on the transaction's thread
            for query in (
                Query(NODE, Status.AVAILABLE, limit=1),
                Query(NODE, Status.AVAILABLE, after="1000", limit=1),
                Query(NODE, Status.AVAILABLE, limit=10),
            ):
                assert tx.claim(query) == tx.scan(query), query
            (first,) = tx.claim(Query(NODE, Status.AVAILABLE, limit=1))
            tx.replace([(first, used(first.number, version=2))])
        assert repository.get("1000", NODE) == used("1000", version=2)

    # -- reads on the transaction's thread, and on others ----------------------------------

    def test_a_read_through_the_repository_on_the_transactions_thread_reads_inside_it(
        self, repository: Repository
    ) -> None:
        kept = owned("1001", "SEPb", owner="bob", e164=("+4421",))
        store(repository, kept)
        with repository.transaction() as tx:
            tx.insert([everything_set("1000")])
            tx.delete([kept])
            tx.configure(NODE, NodeSettings(cooling_days=3))
            tx.journal([entry(everything_set("1000"))])
            inside = state(tx, ["1001"], ["+4421"], ["bob"])
            through = state(repository, ["1001"], ["+4421"], ["bob"])
            assert through == inside
        assert state(repository, ["1001"], ["+4421"], ["bob"]) == inside

    def test_other_threads_never_read_what_an_open_transaction_wrote(
        self, repository: Repository
    ) -> None:
        kept = owned("1001", "SEPb", owner="bob", e164=("+4421",))
        store(repository, kept)
        probe = (["1000", "1001"], ["+4421"], ["bob", "user-7"])
        committed = state(repository, *probe)
        seen: list[Any] = []
        failures: list[BaseException] = []

        def read() -> None:  # while the transaction is open, or (a store that locks) after it
            try:
                seen.append(state(repository, *probe))
            except BaseException as error:  # reported below
                failures.append(error)

        reader = threading.Thread(target=read, daemon=True)

        def write_and_let_read(tx: Transaction) -> None:
            tx.insert([everything_set("1000")])
            tx.replace([(kept, record("1001", version=2))])
            tx.configure(NODE, NodeSettings(cooling_days=3))
            tx.journal([entry(everything_set("1000"))])
            reader.start()
            reader.join(0.2)

        with pytest.raises(Abort):
            write_then_fail(repository, write_and_let_read)
        reader.join(JOIN)
        raise_failures(failures)
        assert seen == [committed], "another thread read what an open transaction wrote"

    # -- single-call atomicity ---------------------------------------------------------------

    def _refused_call_changes_nothing(
        self, repository: Repository, call: Callable[[Transaction], object]
    ) -> None:
        """A write call that is refused inside a transaction leaves it as it was before the call."""
        probe = (["1000", "1001", "1002", "1003", "2000"], ["+4420"], ["alice"])
        with repository.transaction() as tx:
            before = state(tx, *probe)
            with pytest.raises(ConcurrentUpdate):
                call(tx)
            assert state(tx, *probe) == before, "a refused write call changed the transaction"
        assert state(repository, *probe) == before, "a refused write call was committed"

    def test_an_insert_refused_part_way_stores_none_of_its_records(
        self, repository: Repository
    ) -> None:
        store(repository, record("1002"))
        self._refused_call_changes_nothing(
            repository,
            lambda tx: tx.insert(
                [
                    record("1000", e164=("+4420",), reserved_for="alice"),
                    used("1001"),
                    record("1002"),
                ]
            ),
        )

    @pytest.mark.parametrize(
        "template",
        [record("0", tag="pool"), record("0", e164=("+4420",), reserved_for="alice")],
        ids=["plain", "indexed"],
    )
    def test_a_range_refused_part_way_stores_none_of_its_numbers(
        self, repository: Repository, template: NumberRecord
    ) -> None:
        """Whatever path a range takes (a plain template may go a faster way), a taken
        key part way leaves none of the call's numbers, in the transaction either."""
        store(repository, record("1003"))
        self._refused_call_changes_nothing(
            repository, lambda tx: tx.insert_range(number_range("1000", "1003"), template)
        )

    def test_a_replacement_refused_part_way_stores_none_of_its_changes(
        self, repository: Repository
    ) -> None:
        store(repository, record("1000"), record("1001"), record("1002", version=3))
        changes = [
            (record("1000"), owned("1000", "SEP", owner="alice", version=2)),
            (record("1001"), record("1001", e164=("+4420",), version=2)),
            (record("1002", version=2), record("1002", version=3)),
        ]
        self._refused_call_changes_nothing(repository, lambda tx: tx.replace(changes))

    def test_a_deletion_refused_part_way_deletes_none_of_its_records(
        self, repository: Repository
    ) -> None:
        gone = [record("1000", e164=("+4420",)), owned("1001", "alice")]
        store(repository, *gone, record("1002", version=2))
        self._refused_call_changes_nothing(
            repository, lambda tx: tx.delete([*gone, record("1002")])
        )

    # -- the journal ------------------------------------------------------------------------

    def test_journal_returns_the_seq_of_the_first_change(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1000")), entry(record("1001"))])
        changes = every_change(repository)
        assert first >= 1
        assert seqs_of(changes) == [first, first + 1]
        assert [(c.number, c.hierarchy) for c in changes] == [("1000", NODE), ("1001", NODE)]

    def test_changes_take_consecutive_seqs_in_commit_order(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1000")), range_entry("2000", 3, record("0"))])
        with repository.transaction() as tx:
            second = tx.journal([entry(record("1001"))])
        assert second == first + 4
        changes = every_change(repository)
        assert seqs_of(changes) == list(range(first, first + 5))
        assert [c.number for c in changes] == ["1000", "2000", "2001", "2002", "1001"]

    def test_two_journal_calls_in_one_transaction_take_distinct_increasing_seqs(
        self, repository: Repository
    ) -> None:
        """A transaction may journal more than once (a host's transaction joined by several
        inventory calls): each call's seqs follow the last call's, never reuse them (an
        adapter counting from the last committed seq gives the second call the first's)."""
        with repository.transaction() as tx:
            tx.journal([entry(record("0999"))])
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1000")), range_entry("2000", 2, record("0"))])
            second = tx.journal([entry(record("1001"))])
            assert second >= first + 3
            assert seqs_of(every_change(tx, first - 1)) == [first, first + 1, first + 2, second]
        changes = every_change(repository)
        assert [c.number for c in changes] == ["0999", "1000", "2000", "2001", "1001"]
        assert seqs_of(changes)[1:] == [first, first + 1, first + 2, second]
        assert seqs_of(repository.history("1001")) == [second]

    def test_a_change_keeps_its_records_time_and_actor(self, repository: Repository) -> None:
        before = everything_set("+441000")
        after = attrs.evolve(before, status=Status.AVAILABLE, release_date=None, version=8)
        at = datetime(2026, 3, 1, 13, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
        with repository.transaction() as tx:
            first = tx.journal(
                [
                    Entry("release", before, after, at, "ünï ops"),
                    Entry("delete", after, None, NOW, None),
                    Entry("import", None, before, NOW, "x"),
                ]
            )
        assert every_change(repository) == [
            Change(first, "release", "+441000", NODE, before, after, at, "ünï ops"),
            Change(first + 1, "delete", "+441000", NODE, after, None, NOW, None),
            Change(first + 2, "import", "+441000", NODE, None, before, NOW, "x"),
        ]
        assert every_change(repository)[0].at.utcoffset() is not None

    def test_a_change_from_one_node_to_another_is_kept_whole(self, repository: Repository) -> None:
        before, after = record("1000", NODE), record("1000", SITE, version=2)
        with repository.transaction() as tx:
            first = tx.journal([Entry("move", before, after, NOW, None)])
        assert every_change(repository) == [
            Change(first, "move", "1000", SITE, before, after, NOW, None)
        ]
        assert repository.history("1000") == every_change(repository)

    def test_a_range_entry_stands_for_one_change_per_number(self, repository: Repository) -> None:
        template = everything_set("0", SITE)
        with repository.transaction() as tx:
            first = tx.journal([range_entry("0098", 5, template, actor="loader")])
        expected = [
            Change(
                first + offset,
                "add",
                number,
                SITE,
                None,
                attrs.evolve(template, number=number),
                NOW,
                "loader",
            )
            for offset, number in enumerate(["0098", "0099", "0100", "0101", "0102"])
        ]
        assert every_change(repository, limit=2) == expected
        assert repository.changes(first + 1, 2) == expected[2:4]
        assert repository.changes(first - 1, 1) == expected[:1]
        assert repository.changes(first + 4, 10) == []

    def test_changes_after_a_seq_start_right_after_it(self, repository: Repository) -> None:
        for number in ("1000", "1001", "1002"):
            with repository.transaction() as tx:
                tx.journal([entry(record(number))])
        seqs = seqs_of(every_change(repository))
        assert seqs_of(repository.changes(seqs[0], 10)) == seqs[1:]
        assert seqs_of(repository.changes(seqs[1], 1)) == seqs[2:]
        assert repository.changes(seqs[2], 10) == []

    def test_history_lists_every_change_of_a_number_in_seq_order(
        self, repository: Repository
    ) -> None:
        with repository.transaction() as tx:
            tx.journal([range_entry("1998", 6, record("0"))])  # crosses 1999 | 2000
        with repository.transaction() as tx:
            tx.journal(
                [
                    entry(record("2000", SIBLING)),
                    entry(used("2000", version=2), record("2000")),
                    entry(record("200")),
                    entry(record("20000")),
                    entry(record("+2000")),
                ]
            )
        with repository.transaction() as tx:
            tx.journal(
                [range_entry("100", 900, record("0")), range_entry("10000", 100, record("0"))]
            )
        history = repository.history("2000")
        assert [(c.operation, c.hierarchy, c.after) for c in history] == [
            ("add", NODE, record("2000")),
            ("assign", SIBLING, record("2000", SIBLING)),
            ("assign", NODE, used("2000", version=2)),
        ]
        assert seqs_of(history) == sorted(seqs_of(history))
        assert [c.number for c in repository.history("1999")] == ["1999"]
        assert [c.after for c in repository.history("0999")] == []
        assert [c.after for c in repository.history("999")] == [record("999")]
        assert repository.history("2004") == []

    def test_reads_inside_a_transaction_see_its_journal(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1000")), range_entry("2000", 2, record("0"))])
            assert seqs_of(every_change(tx)) == [first, first + 1, first + 2]
            assert seqs_of(tx.history("2001")) == [first + 2]
        assert seqs_of(every_change(repository)) == [first, first + 1, first + 2]

    def test_no_journal_entry_survives_a_rollback(self, repository: Repository) -> None:
        with pytest.raises(Abort):
            write_then_fail(
                repository,
                lambda tx: tx.insert([record("1000")]),
                lambda tx: tx.journal([entry(record("1000")), range_entry("2000", 2, record("0"))]),
            )
        assert every_change(repository) == []
        assert repository.history("1000") == []
        assert repository.history("2001") == []
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1001"))])
        assert seqs_of(every_change(repository)) == [first]

    def test_a_journal_written_at_commit_takes_its_seqs_in_commit_order(
        self, repository: Repository
    ) -> None:
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1000"))])
        with repository.transaction() as tx:
            tx.insert([record("1001")])
            at_commit(tx)([entry(record("1001")), range_entry("2000", 2, record("0"))])
        with repository.transaction() as tx:
            last = tx.journal([entry(record("1002"))])
        changes = every_change(repository)
        assert seqs_of(changes) == list(range(first, first + 5))
        assert last == first + 4
        assert [c.number for c in changes] == ["1000", "1001", "2000", "2001", "1002"]
        assert changes[1] == Change(
            first + 1, "assign", "1001", NODE, None, record("1001"), NOW, "ops"
        )
        assert seqs_of(repository.history("2001")) == [first + 3]

    def test_entries_take_their_seqs_in_the_order_given_whichever_method_took_them(
        self, repository: Repository
    ) -> None:
        """Calls joined to a host's transaction: the first, with nobody listening, hands
        its entries to `journal_at_commit`; a later one, with a listener, to `journal`.
        A store that kept the first for the commit numbered the second before it."""
        with repository.transaction() as tx:
            tx.insert([record("1000"), record("1001"), record("1002")])
            at_commit(tx)([entry(record("1000"))])
            tx.replace([(record("1001"), record("1001", version=2))])
            second = tx.journal([entry(record("1001"))])
            at_commit(tx)([entry(record("1002"))])
        changes = every_change(repository)
        assert [c.number for c in changes] == ["1000", "1001", "1002"]
        assert seqs_of(changes) == sorted(seqs_of(changes))
        assert seqs_of(repository.history("1001")) == [second]

    def test_no_journal_entry_written_at_commit_survives_a_rollback(
        self, repository: Repository
    ) -> None:
        with pytest.raises(Abort):
            write_then_fail(
                repository,
                lambda tx: tx.insert([record("1000")]),
                lambda tx: at_commit(tx)(
                    [entry(record("1000")), range_entry("2000", 2, record("0"))]
                ),
            )
        assert every_change(repository) == []
        assert repository.history("2001") == []
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1001"))])
        assert seqs_of(every_change(repository)) == [first]

    def test_followers_of_the_journal_miss_no_change_while_writers_commit(
        self, repository: Repository
    ) -> None:
        done = threading.Event()
        seen: list[int] = []
        failures: list[BaseException] = []

        def follow() -> None:
            after = 0
            try:
                while len(seen) <= 4 * ROUNDS:
                    finished = done.is_set()
                    page = repository.changes(after, 1000)
                    assert not page or page[0].seq > after, f"changes(after={after}) stalls"
                    seen.extend(seqs_of(page))
                    after = page[-1].seq if page else after
                    if finished and not page:
                        return
            except BaseException as error:  # reported below
                failures.append(error)

        def writer(name: str) -> None:
            try:
                for round_ in range(ROUNDS):
                    with repository.transaction() as tx:
                        written = [entry(record(f"{name}{round_:03d}"))]
                        if int(name) % 2 and isinstance(tx, JournalAtCommit):
                            tx.journal_at_commit(written)  # half the writers, where it can
                        else:
                            tx.journal(written)
            except BaseException as error:  # reported below
                failures.append(error)

        race(follow, writer, ["1", "2", "3", "4"], done, failures)
        everything = seqs_of(every_change(repository))
        assert len(everything) == 4 * ROUNDS
        assert seen == everything, "a follower of the journal missed changes or saw them twice"

    def test_a_transaction_that_commits_first_has_the_smaller_seq(
        self, repository: Repository
    ) -> None:
        """Seq order is commit order (SPEC 15). The first writer journals, then waits a
        moment before it commits; the second journals and commits if the store lets it.
        Whichever commits first must hold the smaller seq, or a follower that read the
        other's would never see it."""
        journaled, second_committed = threading.Event(), threading.Event()
        seqs: dict[str, int] = {}
        second_first: list[bool] = []
        failures: list[BaseException] = []

        def first() -> None:
            try:
                with repository.transaction() as tx:
                    tx.insert([record("1000")])
                    seqs["first"] = tx.journal([entry(record("1000"))])
                    journaled.set()
                    second_committed.wait(0.5)  # a store that lets it commits it meanwhile
                    second_first.append(second_committed.is_set())
            except BaseException as error:
                failures.append(error)
                journaled.set()

        def second() -> None:
            try:
                journaled.wait(JOIN)
                with repository.transaction() as tx:
                    tx.insert([record("2000")])
                    seqs["second"] = tx.journal([entry(record("2000"))])
                second_committed.set()
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN)
        raise_failures(failures)
        if second_first == [True]:
            assert seqs["second"] < seqs["first"], "the later commit holds the smaller seq"
        else:
            assert seqs["first"] < seqs["second"], "the later commit holds the smaller seq"
        assert seqs_of(every_change(repository)) == sorted(seqs.values())

    def test_prune_deletes_changes_older_than_the_time_given(self, repository: Repository) -> None:
        with repository.transaction() as tx:
            tx.insert([record("1000")])
            tx.journal(
                [
                    entry(record("1000"), at=NOW - timedelta(days=2)),
                    range_entry("2000", 3, record("0"), at=NOW - timedelta(microseconds=1)),
                    entry(record("1001"), at=NOW),
                    entry(record("1002"), at=NOW + timedelta(days=1)),
                ]
            )
        assert repository.prune(NOW) == 4
        assert [c.number for c in every_change(repository)] == ["1001", "1002"]
        assert repository.history("2000") == []
        assert repository.history("1000") == []
        assert repository.get("1000", NODE) == record("1000")
        assert repository.prune(NOW) == 0

    def test_the_journal_keeps_its_sequence_going_after_a_prune(
        self, repository: Repository
    ) -> None:
        """A follower that read up to seq N must find the next change after N, not at a seq it
        has already read, however much was pruned."""
        with repository.transaction() as tx:
            first = tx.journal([entry(record("1000"), at=NOW - timedelta(days=2))])
        assert repository.prune(NOW) == 1
        assert every_change(repository) == []
        with repository.transaction() as tx:
            later = tx.journal([entry(record("1001"), at=NOW)])
        assert later > first
        assert seqs_of(repository.changes(first, 10)) == [later]

    def test_prune_leaves_no_hole_in_the_seqs(self, repository: Repository) -> None:
        """An old change that follows a newer one (written by an instance whose clock is
        behind) stays until the newer one goes: a follower at the cursor before it, finding
        the oldest seq next to its cursor, must not have lost it."""
        with repository.transaction() as tx:
            tx.journal([entry(record("1000"), at=NOW - timedelta(days=2))])
        with repository.transaction() as tx:
            tx.journal([entry(record("1001"), at=NOW + timedelta(hours=1))])
        with repository.transaction() as tx:
            tx.journal([range_entry("2000", 3, record("0"), at=NOW - timedelta(minutes=5))])
        with repository.transaction() as tx:
            tx.journal([entry(record("1002"), at=NOW + timedelta(hours=2))])
        seqs = seqs_of(every_change(repository))
        assert repository.prune(NOW) == 1
        left = seqs_of(every_change(repository))
        assert left == seqs[1:]
        assert left == list(range(left[0], left[0] + len(left)))
        assert repository.prune(NOW + timedelta(hours=1, microseconds=1)) == 4
        assert [c.number for c in every_change(repository)] == ["1002"]

    def test_prune_compares_instants_across_time_zones(self, repository: Repository) -> None:
        paris = timezone(timedelta(hours=2))
        with repository.transaction() as tx:
            tx.journal(
                [
                    entry(record("1000"), at=datetime(2026, 3, 1, 13, 30, tzinfo=paris)),
                    entry(record("1001"), at=datetime(2026, 3, 1, 14, 30, tzinfo=paris)),
                ]
            )
        assert repository.prune(NOW) == 1
        assert [c.number for c in every_change(repository)] == ["1001"]

    def test_a_prune_while_a_transaction_is_open_keeps_its_changes_and_prunes_the_old(
        self, repository: Repository
    ) -> None:
        """A prune on another thread while a transaction is open (it waits for the commit,
        or runs beside it) neither loses what the transaction commits nor sees what it
        pruned come back. An adapter that reads the journal, trims it and writes the state
        back without the writers' lock does one or the other."""
        with repository.transaction() as tx:
            tx.insert([record("1000")])
            tx.journal(
                [
                    entry(record("1000"), at=NOW - timedelta(days=2)),
                    range_entry("2000", 3, record("0"), at=NOW - timedelta(days=1)),
                ]
            )
        pruned: list[int] = []
        failures: list[BaseException] = []

        def prune() -> None:
            try:
                pruned.append(repository.prune(NOW))
            except BaseException as error:  # reported below
                failures.append(error)

        pruner = threading.Thread(target=prune, daemon=True)
        with repository.transaction() as tx:
            tx.insert([record("1001")])
            tx.journal([entry(record("1001"), at=NOW)])
            pruner.start()
            pruner.join(0.1)  # a store that serialises writers makes it wait for the commit
        pruner.join(JOIN)
        raise_failures(failures)
        assert pruned == [4]
        assert [c.number for c in every_change(repository)] == ["1001"], "pruned changes are back"
        assert numbers_of(repository.scan(Query(NODE))) == ["1000", "1001"]
        assert repository.history("2000") == []

    def test_prunes_racing_writers_lose_no_committed_change(self, repository: Repository) -> None:
        """Prunes on one thread while writers commit on others, round after round: every
        record and journal entry committed is kept (none is older than the time pruned),
        and the one old change goes once. A prune that reads the state and writes back a
        trimmed copy, with a round trip to the database in between, loses a commit made
        meanwhile or brings back what it pruned. (An adapter in Python alone seldom
        switches threads there: the test before this one catches that one for certain.)"""
        with repository.transaction() as tx:
            tx.journal([entry(record("0999"), at=NOW - timedelta(days=1))])
        writing = threading.Event()
        done = threading.Event()
        pruned: list[int] = []
        failures: list[BaseException] = []

        def prune() -> None:
            try:
                writing.wait(JOIN)
                while True:  # at least once, and on until the writers are done
                    finished = done.is_set()
                    pruned.append(repository.prune(NOW))
                    if finished:
                        return
                    time.sleep(0)  # writers take the lock in between
            except BaseException as error:  # reported below
                failures.append(error)

        def commit(name: str) -> None:
            try:
                writing.set()
                for round_ in range(4 * ROUNDS):
                    number = f"{name}{round_:03d}"
                    with repository.transaction() as tx:
                        tx.insert([record(number)])
                        tx.journal([entry(record(number), at=NOW + timedelta(seconds=round_))])
                    time.sleep(0.0001)  # no transaction open for a moment: a prune may end
            except BaseException as error:  # reported below
                failures.append(error)

        race(prune, commit, ["1", "2"], done, failures)
        written = sorted(f"{n}{round_:03d}" for n in (1, 2) for round_ in range(4 * ROUNDS))
        assert numbers_of(repository.scan(Query(NODE))) == written, "a committed record is lost"
        assert sorted(c.number for c in every_change(repository)) == written, (
            "a committed journal entry is lost"
        )
        assert sum(pruned) == 1, "the old change was pruned more than once: it came back"

    # -- two repository objects on one database ------------------------------------------------

    def test_a_second_repository_reads_what_the_first_committed(
        self, repository: Repository, second_repository: Repository
    ) -> None:
        store(repository, everything_set("1000"))
        write(repository, lambda tx: tx.configure(NODE, NodeSettings(cooling_days=4)))
        assert state(second_repository, ["1000"]) == state(repository, ["1000"])

    def test_settings_a_second_repository_read_are_read_anew_after_a_change(
        self, repository: Repository, second_repository: Repository
    ) -> None:
        """Another instance's change of a node's settings ends what this one kept."""
        seven, nine = NodeSettings(cooling_days=7), NodeSettings(cooling_days=9)
        write(repository, lambda tx: tx.configure(NODE, seven))
        assert second_repository.node_settings([NODE]) == {NODE: seven}
        write(repository, lambda tx: tx.configure(NODE, nine))
        assert second_repository.node_settings([NODE]) == {NODE: nine}, "kept settings read"
        assert second_repository.node_settings(None) == {NODE: nine}

    def test_compare_and_set_holds_between_two_repositories(
        self, repository: Repository, second_repository: Repository
    ) -> None:
        store(repository, record("1000"), record("1001"))
        seen = second_repository.get("1000", NODE)
        assert seen is not None
        write(repository, lambda tx: tx.replace([(record("1000"), used("1000", version=2))]))
        with pytest.raises(ConcurrentUpdate), second_repository.transaction() as tx:
            tx.replace([(seen, record("1000", tag="lost", version=2))])
        with pytest.raises(ConcurrentUpdate), second_repository.transaction() as tx:
            tx.delete([seen])
        with pytest.raises(ConcurrentUpdate), second_repository.transaction() as tx:
            tx.insert([record("1000")])
        assert repository.get("1000", NODE) == used("1000", version=2)
        assert second_repository.get("1000", NODE) == used("1000", version=2)

    def test_two_repositories_racing_on_one_record_have_one_winner_per_version(
        self, repository: Repository, second_repository: Repository
    ) -> None:
        store(repository, record("1000"))
        wins: list[tuple[int, str]] = []
        failures: list[BaseException] = []
        start = threading.Barrier(THREADS)

        def race(name: str, target: Repository) -> None:
            try:
                start.wait(JOIN)
                for _ in range(ROUNDS):
                    current = target.get("1000", NODE)
                    assert current is not None
                    after = attrs.evolve(current, tag=name, version=current.version + 1)
                    try:
                        with target.transaction() as tx:
                            tx.replace([(current, after)])
                    except ConcurrentUpdate:
                        continue
                    wins.append((after.version, name))
            except BaseException as error:  # reported below
                failures.append(error)

        threads = [
            threading.Thread(
                target=race,
                args=(f"w{n}", repository if n % 2 else second_repository),
                daemon=True,
            )
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN)
        raise_failures(failures)
        final = repository.get("1000", NODE)
        assert final is not None
        assert sorted(version for version, _ in wins) == list(range(2, final.version + 1)), (
            "two writers won the same version"
        )

    def test_two_repositories_claiming_one_pool_never_take_the_same_number(
        self, repository: Repository, second_repository: Repository
    ) -> None:
        store(repository, *(record(str(number)) for number in range(1000, 1010)))
        taken: list[str] = []
        failures: list[BaseException] = []
        start = threading.Barrier(4)

        def take(target: Repository) -> None:
            try:
                start.wait(JOIN)
                for _ in range(10):
                    try:
                        with target.transaction() as tx:
                            page = tx.claim(Query(NODE, Status.AVAILABLE, limit=1))
                            if not page:
                                return
                            tx.replace([(page[0], used(page[0].number, version=2))])
                        taken.append(page[0].number)
                    except ConcurrentUpdate:
                        continue
            except BaseException as error:  # reported below
                failures.append(error)

        threads = [
            threading.Thread(target=take, args=(target,), daemon=True)
            for target in (repository, second_repository, repository, second_repository)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN)
        raise_failures(failures)
        assert sorted(taken) == sorted(set(taken)), "one number was taken twice"
        counts = {Status.USED: len(taken), Status.AVAILABLE: 10 - len(taken)}
        assert tallies(repository.counts()) == {NODE: {s: n for s, n in counts.items() if n}}

    def test_journals_of_two_repositories_share_one_sequence(
        self, repository: Repository, second_repository: Repository
    ) -> None:
        failures: list[BaseException] = []

        def journal(target: Repository, name: str) -> None:
            try:
                for round_ in range(ROUNDS):
                    with target.transaction() as tx:
                        tx.journal([entry(record(f"{name}{round_:03d}"))])
            except BaseException as error:  # reported below
                failures.append(error)

        threads = [
            threading.Thread(target=journal, args=(target, name), daemon=True)
            for target, name in ((repository, "1"), (second_repository, "2"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN)
        raise_failures(failures)
        seqs = seqs_of(every_change(second_repository))
        assert len(seqs) == 2 * ROUNDS
        assert seqs == sorted(set(seqs))
