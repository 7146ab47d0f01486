"""Checked values a mutation probe broke one at a time without any test failing.

A use kept in a record is checked for text no store keeps, its owner and the
use a cooling remembers included (SPEC 17); an observation's node is checked
when it is made; bytes are not an iterable of observations; the longest text,
the latest date and a list of exactly ten are kept or shown whole. Each test
fails with its rule broken.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from numinv import (
    InMemoryRepository,
    InvalidInput,
    InvalidTransition,
    Inventory,
    NumberRecord,
    Observation,
    Repository,
    SqliteRepository,
    Status,
    Usage,
    Use,
)
from numinv.core.checks import LATEST, MAX_TEXT
from numinv.core.numbers import number_range

NOW = datetime(2024, 1, 1, tzinfo=UTC)
SITE = "sys.acme.london"
PHONE = "device/cucm/Phone"


@pytest.fixture(params=["memory", "sqlite"])
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
        return
    with SqliteRepository(tmp_path / "numbers.db") as opened:
        yield opened


@pytest.fixture
def inventory(repository: Repository) -> Inventory:
    inv = Inventory(repository, clock=lambda: NOW)
    inv.add_range(SITE, "1000", count=20)
    return inv


def _state(inv: Inventory) -> list[NumberRecord]:
    return list(inv.search())


# -- a use kept in a record holds only text every store keeps (SPEC 17) ---------------------


def _used(use: Use) -> NumberRecord:
    return NumberRecord("1001", SITE, status=Status.USED, usage=(Usage.DEVICE,), uses=(use,))


def _cooling(use: Use) -> NumberRecord:
    return NumberRecord(
        "1001", SITE, status=Status.COOLING, release_date=NOW + timedelta(days=5), cooling_use=use
    )


def _refused_by_every_write(repository: Repository, bad: NumberRecord, field: str) -> None:
    """Each write of `bad` (insert, insert_range, replace) is refused naming `field`,
    and nothing is stored."""
    with repository.transaction() as tx:
        tx.insert([NumberRecord("1000", SITE)])
    stored = repository.get("1000", SITE)
    assert stored is not None
    writes: list[Callable[..., object]] = [
        lambda tx: tx.insert([NumberRecord("1002", SITE), bad]),
        lambda tx: tx.insert_range(number_range("1001", count=2), bad),
        lambda tx: tx.replace([(stored, attrs.evolve(bad, number="1000", version=2))]),
    ]
    for write in writes:
        with pytest.raises(InvalidInput, match=field), repository.transaction() as tx:
            write(tx)
    assert repository.holding("1001") == repository.holding("1002") == []
    assert repository.get("1000", SITE) == stored


@pytest.mark.parametrize(
    "use",
    [
        Use(PHONE, "SEP\x00", Usage.DEVICE, hierarchy=SITE),
        Use(PHONE, "SEP\ud800", Usage.DEVICE, hierarchy=SITE),
    ],
    ids=["nul", "surrogate"],
)
def test_every_store_refuses_a_cooling_that_remembers_a_use_holding_text_no_store_keeps(
    repository: Repository, use: Use
) -> None:
    """The use a cooling remembers (to restore it if its consumer returns) is checked
    like the uses of a record in use: PostgreSQL could not keep it."""
    _refused_by_every_write(repository, _cooling(use), "consumer_id")


@pytest.mark.parametrize("where", [_used, _cooling], ids=["uses", "cooling_use"])
@pytest.mark.parametrize("owner", ["al\x00ice", "al\udc00ice"], ids=["nul", "surrogate"])
def test_every_store_refuses_a_use_whose_owner_holds_text_no_store_keeps(
    repository: Repository, where: Callable[[Use], NumberRecord], owner: str
) -> None:
    """The inventory refuses such an owner at its edge (`Consumer.owner`); a host
    writing to a store itself is refused by the store, alike on every store."""
    use = Use(PHONE, "SEP1", Usage.DEVICE, hierarchy=SITE, owner=owner)
    _refused_by_every_write(repository, where(use), "owner")


# -- an observation (SPEC 10) ----------------------------------------------------------------


@pytest.mark.parametrize("node", ["sys..x", "sys.x.", " sys.x"])
def test_an_observation_at_a_malformed_node_is_refused_when_made_naming_the_node(
    inventory: Inventory, node: str
) -> None:
    """The node an observation names picks where an audit adds a missing number."""
    before = _state(inventory)
    with pytest.raises(InvalidInput) as refused:
        inventory.audit([Observation("2000", hierarchy=node)], add_missing=True)
    assert repr(node) in str(refused.value)
    assert refused.value.value == node
    assert _state(inventory) == before


def test_an_audit_of_bytes_is_refused_naming_the_bytes_and_changes_nothing(
    inventory: Inventory,
) -> None:
    """Bytes iterate as whole numbers: the refusal named one of them, not what was given."""
    before = _state(inventory)
    with pytest.raises(InvalidInput) as refused:
        inventory.audit(b"12")  # type: ignore[arg-type]
    assert "b'12'" in str(refused.value)
    assert refused.value.value == b"12"
    assert _state(inventory) == before


# -- the longest text, the latest date -------------------------------------------------------


def test_a_description_of_exactly_the_longest_text_is_kept_whole_and_one_more_is_refused(
    inventory: Inventory,
) -> None:
    longest = "x" * MAX_TEXT
    assert inventory.update("1000", SITE, description=longest).description == longest
    assert inventory.get("1000", SITE).description == longest
    before = _state(inventory)
    with pytest.raises(InvalidInput, match=f"is {MAX_TEXT + 1} characters long"):
        inventory.update("1001", SITE, description=longest + "y")
    assert _state(inventory) == before


def test_a_cooling_until_exactly_the_latest_date_is_kept_and_a_moment_later_refused(
    inventory: Inventory,
) -> None:
    """LATEST is the last release date numinv can count from: it is itself allowed."""
    assert inventory.cool("1000", SITE, until=LATEST).release_date == LATEST
    assert inventory.get("1000", SITE).release_date == LATEST
    before = _state(inventory)
    later = LATEST + timedelta(microseconds=1)
    with pytest.raises(InvalidInput, match="must be no later than") as refused:
        inventory.cool("1001", SITE, until=later)
    assert refused.value.value == later
    assert _state(inventory) == before


# -- messages listing numbers ----------------------------------------------------------------


def test_a_refusal_listing_exactly_ten_numbers_lists_them_all_and_says_no_more(
    inventory: Inventory,
) -> None:
    inventory.reserve_range(SITE, "1000", count=11)
    before = _state(inventory)
    with pytest.raises(InvalidTransition) as ten:
        inventory.delete_range(SITE, "1000", count=10)
    busy = ", ".join(f"{1000 + i} (Reserved)" for i in range(10))
    assert str(ten.value).endswith(f"not Available: {busy}")
    with pytest.raises(InvalidTransition) as eleven:
        inventory.delete_range(SITE, "1000", count=11)
    assert str(eleven.value).endswith(f"not Available: {busy} and 1 more")
    assert _state(inventory) == before


# -- times in a SQLite file ------------------------------------------------------------------


def test_a_release_at_a_whole_second_in_a_file_of_fixed_width_times_is_due_at_that_second(
    tmp_path: Path,
) -> None:
    """Stored times are ISO 8601 in UTC with microseconds, of one width, so that text
    order is time order in the file: a release due at a whole second, as a file written
    by numinv holds it (1001's set here by hand), is released at exactly that second."""
    path = tmp_path / "numbers.db"
    due = datetime(2030, 1, 1, tzinfo=UTC)
    with SqliteRepository(path) as repository:
        inv = Inventory(repository, clock=lambda: NOW)
        inv.add_range(SITE, "1000", count=3)
        inv.cool("1000", SITE, until=due)
        inv.cool("1001", SITE, until=due)
        inv.cool("1002", SITE, until=due + timedelta(microseconds=1))
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute(
            "UPDATE records SET release_date = ? WHERE number = '1001'",
            ("2030-01-01T00:00:00.000000+00:00",),
        )
        stored = raw.execute(
            "SELECT number, release_date FROM records WHERE release_date IS NOT NULL "
            "ORDER BY release_date, number"
        ).fetchall()
    assert stored == [
        ("1000", "2030-01-01T00:00:00.000000+00:00"),
        ("1001", "2030-01-01T00:00:00.000000+00:00"),
        ("1002", "2030-01-01T00:00:00.000001+00:00"),
    ]
    with SqliteRepository(path) as repository:
        later = Inventory(repository, clock=lambda: due)
        released = later.release_due()
        assert sorted(record.number for record in released) == ["1000", "1001"]
        assert later.get("1002", SITE).status is Status.COOLING
