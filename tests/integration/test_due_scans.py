"""A scan for the due records of a status (`Query.due_by`) on every shipped store.

Each store finds a few due records by release date and walks the status in
number order when many are due; both ways must give what the protocol says:
the records of that status at the node whose release date is at or before
`due_by`, in number order, after the cursor, with the prefix, up to the limit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from numinv import NumberRecord, Status
from numinv.core.records import Usage, Use
from numinv.storage.protocol import Query, Repository

SITE = "sys.acme.uk"
OTHER = "sys.acme.fr"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
MANY = 1100  # more than a store gathers by release date: walked in number order


def _estate(due_cooling: int) -> list[NumberRecord]:
    """Open-ended reservations (never due), timed ones due and not, cooling numbers due
    and not (some due at exactly NOW), Used numbers, and the same at another node."""
    records: list[NumberRecord] = []

    def add(number: int, hierarchy: str = SITE, **fields: object) -> None:
        records.append(NumberRecord(f"{number:07d}", hierarchy, **fields))  # type: ignore[arg-type]

    reserved, cooling = Status.RESERVED, Status.COOLING
    for n in range(600):
        add(1000000 + 2 * n, status=reserved)  # open-ended
    for n in range(40):
        add(2000000 + 5 * n, status=reserved, release_date=NOW - timedelta(hours=n + 1))
        add(2000001 + 5 * n, status=reserved, release_date=NOW + timedelta(days=n + 1))
    for n in range(due_cooling):
        when = NOW if n % 50 == 0 else NOW - timedelta(minutes=n + 1)
        add(1000001 + 2 * n, status=cooling, release_date=when)
    for n in range(300):
        add(3000000 + 2 * n, status=cooling, release_date=NOW + timedelta(seconds=n + 1))
    phone = Use("device/cucm/Phone", "SEP1", Usage.DEVICE, hierarchy=SITE)
    for n in range(20):
        add(4000000 + n, status=Status.USED, usage=(Usage.DEVICE,), uses=(phone,))
    for n in range(30):
        add(1000002 + 3 * n, OTHER, status=cooling, release_date=NOW - timedelta(days=1))
    return records


def _expected(records: list[NumberRecord], query: Query) -> list[NumberRecord]:
    assert query.due_by is not None
    found = [
        record
        for record in records
        if record.hierarchy == query.hierarchy
        and record.status is query.status
        and record.release_date is not None
        and record.release_date <= query.due_by
        and (query.prefix is None or record.number.startswith(query.prefix))
        and (query.after is None or record.number > query.after)
    ]
    return sorted(found, key=lambda record: record.number)[: query.limit]


@pytest.mark.parametrize("due_cooling", [5, MANY], ids=["few due", "many due"])
def test_a_scan_for_due_records_finds_exactly_them_in_number_order(
    each_store: Repository, due_cooling: int
) -> None:
    records = _estate(due_cooling)
    with each_store.transaction() as tx:
        tx.insert(records)
    queries = [
        Query(SITE, status, prefix, after, limit, due_by=NOW)
        for status in (Status.COOLING, Status.RESERVED)
        for prefix in (None, "10", "100", "2")
        for after in (None, "1000001", "1000450", "2000100")
        for limit in (1, 10, 2000)
    ]
    for query in queries:
        want = _expected(records, query)
        assert each_store.scan(query) == want, query
        with each_store.transaction() as tx:  # as `claim` reads, inside a transaction
            assert tx.claim(query) == want, query
    # A cursor walk of every due Cooling record, page by page, meets each once.
    walked: list[NumberRecord] = []
    after = None
    while page := each_store.scan(Query(SITE, Status.COOLING, after=after, limit=97, due_by=NOW)):
        walked += page
        after = page[-1].number
    assert walked == _expected(records, Query(SITE, Status.COOLING, limit=10**6, due_by=NOW))


def test_a_due_scan_follows_the_records_as_they_change(each_store: Repository) -> None:
    """The index by release date moves with each write: a record released, or cooled
    again with a later date, leaves the due scan; a new due record joins it."""
    records = _estate(5)
    with each_store.transaction() as tx:
        tx.insert(records)
    query = Query(SITE, Status.COOLING, limit=100, due_by=NOW)
    first, second = each_store.scan(query)[:2]
    third = next(r for r in records if r.status is Status.COOLING and r.release_date > NOW)
    with each_store.transaction() as tx:
        released = attrs.evolve(first, status=Status.AVAILABLE, release_date=None, version=2)
        later = attrs.evolve(second, release_date=NOW + timedelta(days=9), version=2)
        now_due = attrs.evolve(third, release_date=NOW - timedelta(days=9), version=2)
        tx.replace([(first, released), (second, later), (third, now_due)])
    changed = [released, later, now_due]
    current = [next((c for c in changed if c.key == record.key), record) for record in records]
    assert each_store.scan(query) == _expected(current, query)
    assert third.number in [record.number for record in each_store.scan(query)]
