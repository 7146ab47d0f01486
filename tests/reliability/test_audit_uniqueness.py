"""An audit adding numbers never doubles one that another writer loads meanwhile (#13 item 1).

The audit plans outside any transaction and writes in one; between the two,
another connection loads `4000..4004` at `sys.acme.uk`. The audit adding
`4002` at the site below must see that load inside its own transaction and
report the number as a conflict instead of storing it a second time in the
line of descent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from pathlib import Path

from numinv import Consumer, DuplicateNumber, Inventory, Observation
from numinv.storage.protocol import Repository, Transaction
from numinv.storage.sqlite import SqliteRepository

CUSTOMER = "sys.acme.uk"
SITE = "sys.acme.uk.london"
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
