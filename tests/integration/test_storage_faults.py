"""A failure part way through any multi-record write leaves the store exactly as it was.

Every write step of each range operation and of `audit` is failed in turn
(before a write call, and at each record or number the store takes), on both
shipped stores; after each failure every read says what it said before, and
the operation then succeeds as if the failure had never happened.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from numinv import Consumer, Inventory, Observation
from numinv.core.numbers import number_range
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository
from numinv.testing.contract import state
from numinv.testing.faults import FaultyRepository, InjectedFault
from tests.examples import FULL

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SITE = "sys.acme.uk.london"
E164S = ("+442071230001", "+442071230002", "+442071230005")


def phone(name: str) -> Consumer:
    return Consumer("device/cucm/Phone", name, SITE)


def gateway(name: str) -> Consumer:
    return Consumer("device/audiocodes", name, SITE, vendor="AudioCodes")


def set_up(inventory: Inventory) -> None:
    """Available, associated, used, cooling and reserved numbers at one site."""
    inventory.add_range(SITE, "1000", "1009", tag="pool")
    inventory.associate_e164("1001", SITE, E164S[0], primary=True)
    inventory.associate_e164("1002", SITE, E164S[1])
    inventory.assign("1005", phone("SEP1005"))
    inventory.associate_e164("1005", SITE, E164S[2])
    inventory.assign("1006", phone("SEP1006"))
    inventory.assign("1007", gateway("gw1007"))
    inventory.add_range(SITE, "1020", "1025")
    inventory.cool_range(SITE, "1020", "1025", days=5)
    inventory.add_range(SITE, "1030", "1035")
    inventory.reserve_range(SITE, "1030", "1035", tag="hold", days=3)


OBSERVED = [
    Observation("1000", phone("SEP1000")),
    Observation("1005", phone("SEP1005")),
    Observation("1030", phone("SEP1030")),
    Observation("1999", phone("SEP1999")),
    Observation("1998", phone("SEP1998")),
]

OPERATIONS: dict[str, Callable[[Inventory], object]] = {
    "add_range": lambda inv: inv.add_range(SITE, "2000", count=6, tag="new"),
    "add_range skipping existing": lambda inv: inv.add_range(
        SITE, "1008", "1013", skip_existing=True
    ),
    "delete_range": lambda inv: inv.delete_range(SITE, "1000", "1004"),
    "delete_range skipping unavailable": lambda inv: inv.delete_range(
        SITE, "1003", "1008", skip_unavailable=True
    ),
    "reserve_range": lambda inv: inv.reserve_range(SITE, "1000", "1004", tag="vip", days=9),
    "unreserve_range": lambda inv: inv.unreserve_range(SITE, "1030", "1035"),
    "cool_range": lambda inv: inv.cool_range(SITE, "1000", "1004", days=7),
    "release_range": lambda inv: inv.release_range(SITE, "1020", "1025"),
    "update_range": lambda inv: inv.update_range(SITE, "1000", "1009", description="moved"),
    "audit": lambda inv: inv.audit(OBSERVED, add_missing=True),
}


# SQLite's every write step under the `ci` profile only (local runs stay quick).
@pytest.fixture(params=["memory", pytest.param("sqlite", marks=pytest.mark.slow)])
def make_store(request: pytest.FixtureRequest) -> Iterator[Callable[[], Repository]]:
    opened: list[SqliteRepository] = []

    def make() -> Repository:
        if request.param == "memory":
            return InMemoryRepository()
        opened.append(SqliteRepository(":memory:"))
        return opened[-1]

    yield make
    for repository in opened:
        repository.close()


def prepared(make_store: Callable[[], Repository]) -> tuple[Inventory, FaultyRepository]:
    faulty = FaultyRepository(make_store())
    inventory = Inventory(faulty, clock=lambda: NOW)
    set_up(inventory)
    return inventory, faulty


def everything(inventory: Inventory, faulty: FaultyRepository) -> dict[str, Any]:
    numbers = [f"{number}" for number in range(1000, 2006)]
    return {
        "search": list(inventory.search()),
        **state(faulty.repository, numbers, E164S),
    }


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_failure_at_any_write_step_leaves_every_read_as_before(
    make_store: Callable[[], Repository], operation: str
) -> None:
    run = OPERATIONS[operation]
    inventory, faulty = prepared(make_store)
    faulty.arm(None)
    run(inventory)
    steps, expected = faulty.steps, everything(inventory, faulty)
    assert steps > 2, f"{operation} wrote too little to test"
    # Every step in CI; locally the first and last few and a stride between.
    points = (
        range(1, steps + 1)
        if FULL
        else sorted({1, 2, *range(1, steps + 1, max(steps // 4, 1)), steps - 1, steps})
    )
    for fail_at in points:
        inventory, faulty = prepared(make_store)
        before = everything(inventory, faulty)
        faulty.arm(fail_at)
        with pytest.raises(InjectedFault):
            run(inventory)
        assert everything(inventory, faulty) == before, f"failed at step {fail_at} of {steps}"
        faulty.arm(None)
        run(inventory)
        assert everything(inventory, faulty) == expected, f"retry after step {fail_at}"


def test_a_failure_before_a_loaded_range_is_written_leaves_nothing(
    make_store: Callable[[], Repository],
) -> None:
    inventory, faulty = prepared(make_store)
    before = everything(inventory, faulty)
    faulty.arm(1)
    with pytest.raises(InjectedFault):
        inventory.add_range(SITE, "3000", count=500)
    assert everything(inventory, faulty) == before


def test_a_failure_half_way_through_a_loaded_range_leaves_nothing(
    make_store: Callable[[], Repository],
) -> None:
    inventory, faulty = prepared(make_store)
    before = everything(inventory, faulty)
    faulty.arm(250)
    with pytest.raises(InjectedFault):
        inventory.add_range(SITE, "3000", count=500)
    assert everything(inventory, faulty) == before
    assert faulty.repository.within(number_range("3000", count=500)) == []
