"""`RepositoryContract`: every storage rule of docs/storage.md as pytest tests an adapter runs.

Subclass it (under a name starting with `Test`) and provide a `repository`
fixture returning a fresh, empty repository for each test:

    class TestMyRepository(RepositoryContract):
        @pytest.fixture
        def repository(self) -> Iterator[Repository]:
            repository = MyRepository(...)
            yield repository
            repository.close()

Each test checks one rule directly against the repository, without an
`Inventory` in between: the reads (ordering, paging, filters, counts, due
dates, E.164 associations), transactions (commit, rollback, nesting, reads
of a transaction's own writes), compare-and-set on `version`, `insert_range`
against inserting each record, and compare-and-set under threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from numinv.core.numbers import number_range
from numinv.core.records import NumberRecord, ServiceType, Status, Usage, Use
from numinv.errors import ConcurrentUpdate
from numinv.storage.protocol import Query, Repository, Transaction
from numinv.testing import strategies

__all__ = ["RepositoryContract"]

NODE = "sys.acme.uk"
SITE = "sys.acme.uk.london"
SIBLING = "sys.acme.fr"
# Shares a text prefix with NODE but is not below it.
LOOKALIKE = "sys.acme.ukraine"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAR = datetime(9999, 1, 1, tzinfo=UTC)
THREADS = 8
ROUNDS = 25


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


def cooling(
    number: str, release_date: datetime, hierarchy: str = NODE, **fields: Any
) -> NumberRecord:
    return record(number, hierarchy, status=Status.COOLING, release_date=release_date, **fields)


def everything_set(number: str, hierarchy: str = NODE) -> NumberRecord:
    """A record with every field away from its default."""
    audiocodes = Use("device/audiocodes", "gw1", Usage.DEVICE, "AudioCodes", Status.USED, hierarchy)
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
    )


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


def every_record(repository: Repository) -> list[NumberRecord]:
    """Every record, node by node through `nodes` and paged `scan`s."""
    found: list[NumberRecord] = []
    for node in repository.nodes():
        after: str | None = None
        while page := repository.scan(Query(node, after=after, limit=50)):
            found += page
            after = page[-1].number
    return sorted(found, key=key)


def tallies(counts: Mapping[str, Mapping[Status, int]]) -> dict[str, dict[Status, int]]:
    """Counts without the zero entries (an adapter may or may not list them)."""
    return {
        node: {Status(status): total for status, total in statuses.items() if total}
        for node, statuses in counts.items()
        if any(statuses.values())
    }


def state(
    repository: Repository, numbers: Iterable[str] = (), e164s: Iterable[str] = ()
) -> dict[str, Any]:
    """What every read says, also for numbers and E.164 numbers that may be gone."""
    records = every_record(repository)
    numbers = {*numbers, *(found.number for found in records)}
    e164s = {*e164s, *(e164 for found in records for e164 in found.e164)}
    return {
        "records": records,
        "nodes": repository.nodes(),
        "counts": tallies(repository.counts()),
        "due": repository.due(FAR, 1_000_000),
        "holding": {number: sorted(repository.holding(number), key=key) for number in numbers},
        "e164": {e164: sorted(repository.with_e164(e164), key=key) for e164 in e164s},
    }


def state_of_nothing(numbers: Iterable[str] = (), e164s: Iterable[str] = ()) -> dict[str, Any]:
    """What `state` reads from an empty repository."""
    return {
        "records": [],
        "nodes": [],
        "counts": {},
        "due": [],
        "holding": {number: [] for number in numbers},
        "e164": {e164: [] for e164 in e164s},
    }


class RepositoryContract:
    """The storage rules every `Repository` keeps; subclass with a `repository` fixture."""

    @pytest.fixture
    def repository(self) -> Repository:
        raise NotImplementedError(
            f"{type(self).__name__} must provide a `repository` fixture: a fresh, empty repository"
        )

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
        while page := repository.scan(Query(NODE, after=after, limit=7)):
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
        assert list(tallies(repository.counts())) == [NODE]

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

    def test_delete_removes_the_record_from_every_read(self, repository: Repository) -> None:
        stored = everything_set("1000")
        store(repository, stored)
        with repository.transaction() as tx:
            tx.delete([stored])
        assert state(repository, ["1000"], ["+442071234567"]) == state_of_nothing(
            ["1000"], ["+442071234567"]
        )

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
        assert failures == []
        final = repository.get("1000", NODE)
        assert final is not None
        assert sorted(version for version, _ in wins) == list(range(2, final.version + 1))
        assert (final.version, final.tag) in wins

    # -- insert_range ---------------------------------------------------------------

    @pytest.mark.parametrize(
        "template",
        [
            record("0", SITE, tag="pool", vendor="Microsoft", admin_vendor="Microsoft"),
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
