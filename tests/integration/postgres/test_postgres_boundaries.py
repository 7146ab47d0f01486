"""Boundaries of `PostgresRepository`'s rules that mutation testing found untested."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from numinv import NumberRecord, Status
from numinv.core.journal import Entry
from numinv.core.numbers import number_range
from numinv.storage.protocol import Query

NODE = "sys.acme.uk"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(number: str, hierarchy: str = NODE, **fields: Any) -> NumberRecord:
    return NumberRecord(number=number, hierarchy=hierarchy, **fields)


def cooling(number: str, released: datetime = NOW - timedelta(days=1)) -> NumberRecord:
    return record(number, status=Status.COOLING, release_date=released)


def store(repository: Any, *records: NumberRecord) -> None:
    with repository.transaction() as tx:
        tx.insert(records)


def numbers(records: list[NumberRecord]) -> list[str]:
    return [found.number for found in records]


def test_a_scan_for_few_due_records_by_prefix_reaches_the_prefixs_last_numbers(
    repository: Any,
) -> None:
    """Rule: a due scan by prefix (found by release date, `_Sql._gather`) covers every
    number starting with the prefix, up to `prefix + ':'` (above every digit), so
    numbers whose next digit is 9 are in it."""
    store(repository, cooling("1000"), cooling("1899"), cooling("1900"), cooling("1999"))
    store(repository, cooling("2000"))
    query = Query(NODE, Status.COOLING, prefix="1", due_by=NOW)
    assert numbers(repository.scan(query)) == ["1000", "1899", "1900", "1999"]
    with repository.transaction() as tx:
        assert numbers(tx.claim(query)) == ["1000", "1899", "1900", "1999"]


def test_claims_of_due_records_in_two_transactions_skip_each_others_rows(
    repository: Any,
) -> None:
    """Rule: a claim of due records (`Query.due_by`, found by release date) locks the rows
    it returns and skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`), as a
    claim of a status does: two sweepers never take the same record."""
    store(repository, *(cooling(f"100{index}") for index in range(5)))
    query = Query(NODE, Status.COOLING, due_by=NOW, limit=2)
    first_claimed = threading.Event()
    done = threading.Event()
    claims: list[list[str]] = []

    def claim_and_hold() -> None:
        with repository.transaction() as tx:
            claims.append(numbers(tx.claim(query)))
            first_claimed.set()
            done.wait(10)

    holder = threading.Thread(target=claim_and_hold)
    holder.start()
    assert first_claimed.wait(10)
    try:
        with repository.transaction() as tx:
            claims.append(numbers(tx.claim(query)))
    finally:
        done.set()
        holder.join(10)
    assert claims == [["1000", "1001"], ["1002", "1003"]]


def test_a_cursor_equal_to_the_prefix_is_passed_over(repository: Any) -> None:
    """Rule: `Query.after` is exclusive even when it equals the prefix: a page after the
    number `100` by prefix `100` starts past `100` (`_Reads._scan`, `after >= first`)."""
    store(repository, record("100"), record("1000"), record("1001"), record("101"))
    query = Query(NODE, prefix="100", after="100")
    assert numbers(repository.scan(query)) == ["1000", "1001"]
    assert numbers(repository.scan(Query(NODE, Status.AVAILABLE, prefix="100", after="100"))) == [
        "1000",
        "1001",
    ]


def test_a_numbers_retired_version_is_the_highest_it_was_deleted_at(repository: Any) -> None:
    """Rule: `retired` keeps, per key, the highest version a record was deleted at
    (`greatest`), so a record added again never reuses a version a reader saw."""
    store(repository, record("1000", version=5))
    with repository.transaction() as tx:
        tx.delete([record("1000", version=5)])
    store(repository, record("1000", version=2))
    with repository.transaction() as tx:
        tx.delete([record("1000", version=2)])
    assert repository.retired(number_range("1000", count=1), NODE) == {"1000": 5}


def test_entries_kept_for_the_commit_are_numbered_past_every_change_before_them(
    repository: Any,
) -> None:
    """Rule: `journal_at_commit_numbered` tells the first seq of its entries, past every
    change kept before them (a range entry takes a seq per number, not one)."""
    told: list[int] = []
    block = number_range("2000", count=3)
    with repository.transaction() as tx:
        tx.journal_at_commit([Entry("add", None, record("2000"), NOW, numbers=block)])
        tx.journal_at_commit_numbered([Entry("add", None, record("1000"), NOW)], told.append)
        tx.journal_at_commit_numbered([Entry("add", None, record("1001"), NOW)], told.append)
    changes = repository.changes(0, 10)
    assert [(c.seq, c.number) for c in changes] == [
        (1, "2000"),
        (2, "2001"),
        (3, "2002"),
        (4, "1000"),
        (5, "1001"),
    ]
    assert told == [4, 5]
