"""An audit adding numbers never doubles one that another writer loads meanwhile (#13 item 1).

The audit plans outside any transaction and writes in one; between the two,
another connection loads `4000..4004` at `sys.acme.uk`. The audit adding
`4002` at the site below must see that load inside its own transaction and
report the number as a conflict instead of storing it a second time in the
line of descent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from numinv import (
    ConcurrentUpdate,
    Consumer,
    DuplicateNumber,
    Inventory,
    NumberRecord,
    Observation,
)
from numinv.storage.protocol import Repository, Transaction
from numinv.storage.sqlite import SqliteRepository

CUSTOMER = "sys.acme.uk"
SITE = "sys.acme.uk.london"
OTHER_SITE = "sys.acme.uk.aberdeen"  # its name sorts before SITE's
SEEN = [Observation("4002", Consumer("device/cucm/Phone", "SEP4002", SITE))]


def racing(repository: Repository, meanwhile: Callable[[], object]) -> None:
    """Run `meanwhile` once, just before the repository's next transaction begins."""
    original = repository.transaction
    pending = [meanwhile]

    def transaction() -> AbstractContextManager[Transaction]:
        if pending:
            pending.pop()()
        return original()

    repository.transaction = transaction  # type: ignore[method-assign]


def test_an_audit_adding_a_number_loaded_meanwhile_above_it_reports_a_conflict(
    two_connections: tuple[Repository, Repository],
) -> None:
    auditing, loading = two_connections
    loader = Inventory(loading)
    loader.add_range(SITE, "1000")  # the site exists
    racing(auditing, lambda: loader.add_range(CUSTOMER, "4000", "4004"))

    report = Inventory(auditing).audit(SEEN, at=SITE, add_missing=True)

    assert [record.hierarchy for record in loading.holding("4002")] == [CUSTOMER]
    assert [(c.number, c.hierarchy) for c in report.conflicts] == [("4002", SITE)]
    assert all(change.reason != "number added" for change in report.changes)


def test_an_audit_adding_a_number_loaded_meanwhile_below_it_reports_a_conflict(
    two_connections: tuple[Repository, Repository],
) -> None:
    auditing, loading = two_connections
    loader = Inventory(loading)
    racing(auditing, lambda: loader.add_range(SITE + ".floor1", "4000", "4004"))
    observed = [Observation("4002", Consumer("device/cucm/Phone", "SEP4002", CUSTOMER))]

    report = Inventory(auditing).audit(observed, add_missing=True)

    assert [record.hierarchy for record in loading.holding("4002")] == [SITE + ".floor1"]
    assert len(report.conflicts) == 1


def test_audits_and_loads_racing_in_threads_never_double_a_number(tmp_path: Path) -> None:
    """Five trials of a real race: an audit at the site, a load above it, on two connections."""
    doubled = 0
    for trial in range(5):
        path = tmp_path / f"race{trial}.db"
        with SqliteRepository(path) as auditing, SqliteRepository(path) as loading:
            Inventory(loading).add_range(SITE, "1000")
            start = threading.Barrier(2)

            def load(repository: Repository = loading, barrier: threading.Barrier = start) -> None:
                barrier.wait()
                with suppress(DuplicateNumber):  # the audit added 4002 first: refused, rightly
                    Inventory(repository).add_range(CUSTOMER, "4000", "4004")

            loader = threading.Thread(target=load)
            loader.start()
            start.wait()
            Inventory(auditing).audit(SEEN, at=SITE, add_missing=True)
            loader.join()
            held = [record.hierarchy for record in loading.holding("4002")]
            doubled += len(held) > 1
    assert doubled == 0


def test_an_audit_that_loses_a_race_runs_again_from_its_plan(
    two_connections: tuple[Repository, Repository],
) -> None:
    """An audit's write that loses a race is run again, like any other call (on
    PostgreSQL a large audit gives way so as not to deadlock, and runs again). The run
    that lost found 4002 in the way, a record its own transaction held and took back
    with the rest; the run again starts from the plan, not from what the lost run
    concluded, so it adds 4002 and reports no conflict."""
    auditing, _ = two_connections
    inventory = Inventory(auditing)
    inventory.add_range(SITE, "1000")
    original = auditing.transaction
    runs: list[int] = []

    class LosingFirstRun:
        """The first run's transaction holds 4002 above the site (written inside it, so
        taken back with it) and loses the race when it stores what it adds."""

        def __init__(self) -> None:
            self.context = original()

        def __enter__(self) -> Transaction:
            tx = self.context.__enter__()
            runs.append(len(runs))
            if len(runs) == 1:
                tx.insert([NumberRecord("4002", CUSTOMER)])
                insert = tx.insert

                def losing(records: Iterable[NumberRecord]) -> None:
                    insert(records)
                    raise ConcurrentUpdate("another writer won", number="4002")

                tx.insert = losing  # type: ignore[method-assign]
            return tx

        def __exit__(self, *info: Any) -> Any:
            return self.context.__exit__(*info)

    auditing.transaction = LosingFirstRun  # type: ignore[method-assign]
    try:
        report = inventory.audit(
            [*SEEN, Observation("4003", Consumer("device/cucm/Phone", "SEP4003", SITE))],
            at=SITE,
            add_missing=True,
        )
    finally:
        auditing.transaction = original  # type: ignore[method-assign]

    assert len(runs) == 2
    assert inventory.retried == 1
    assert report.conflicts == ()
    assert {change.number for change in report.changes} == {"4002", "4003"}
    assert [record.hierarchy for record in auditing.holding("4002")] == [SITE]
    assert [record.hierarchy for record in auditing.holding("4003")] == [SITE]


def test_the_first_observation_of_a_missing_number_is_the_one_added(
    two_connections: tuple[Repository, Repository],
) -> None:
    """A number missing from the inventory is seen at two sites, where prevent-duplicates
    makes the two clash: the audit adds it where it was seen first and reports the other
    as a conflict, whatever the order of the sites' names (the audit checks numbers in
    number order, and decides in the order of the observations)."""
    auditing, _ = two_connections
    inventory = Inventory(auditing)
    inventory.add_range(SITE, "1000")
    inventory.add_range(OTHER_SITE, "1000", "1001")
    inventory.configure(OTHER_SITE, prevent_duplicates=True)
    seen = [
        Observation("4002", Consumer("device/cucm/Phone", "SEP1", SITE)),
        Observation("4002", Consumer("device/cucm/Phone", "SEP2", OTHER_SITE)),
    ]

    report = inventory.audit(seen, add_missing=True)

    assert [record.hierarchy for record in auditing.holding("4002")] == [SITE]
    assert [(c.number, c.hierarchy) for c in report.conflicts] == [("4002", OTHER_SITE)]
