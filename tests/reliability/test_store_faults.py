"""A fault at any internal mutation of a store leaves every read as it was (issue 13, items 4, 11).

Faults are injected inside the stores, from the test: on the in-memory
store at every call that changes its indexes, journal or dicts (just before
and just after each); on SQLite at every statement of the write connection
(before and after each, and at every row of a bulk statement). Each
operation runs once to count its fault points and learn what it leaves;
then, on a fresh store each time, the k-th point raises `KeyboardInterrupt`
(and, on a sample, an ordinary exception). After each fault every read
(records, search, counts, nodes, due, E.164, holders, node settings,
retired versions, the journal's changes and every history) says what it
said before, or, when the fault came after SQLite's COMMIT, what the
operation leaves; and the operation then runs as if nothing had happened.

Under the `dev` profile a stride of the points is tried; `ci` tries all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from numinv import Consumer, Inventory, NumberRecord, Observation
from numinv.core.numbers import number_range
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository
from numinv.testing.contract import state
from tests.examples import FULL
from tests.reliability.injection import Fault, MemoryFaults, Points, SqliteFaults

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = START + timedelta(days=4)  # the reservations of 1030..1035 are due, the cooling not
SITE = "sys.acme.uk.london"
OTHER = "sys.acme.uk.leeds"
E164S = ("+442071230001", "+442071230002", "+442071230005", "+442071230009")
NUMBERS = [str(n) for n in (*range(1000, 1040), *range(2000, 2008), 3000, 3001)]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def phone(name: str, at: str = SITE, owner: str = "") -> Consumer:
    return Consumer("device/cucm/Phone", name, at, owner=owner)


def set_up(inventory: Inventory, clock: Clock) -> None:
    """Available, associated, used, cooling, reserved (some due) and flagged numbers."""
    inventory.add_range(SITE, "1000", "1009", tag="pool")
    inventory.associate_e164("1001", SITE, E164S[0], primary=True)
    inventory.associate_e164("1002", SITE, E164S[1])
    inventory.assign("1005", phone("SEP1005", owner="alice"))
    inventory.associate_e164("1005", SITE, E164S[2])
    inventory.assign("1006", phone("SEP1006"))
    clock.now = START + timedelta(hours=1)  # the journal's later half, kept by prune_history
    inventory.add_range(SITE, "1020", "1025")
    inventory.cool_range(SITE, "1020", "1025", days=9)
    inventory.add_range(SITE, "1030", "1035")
    inventory.reserve_range(SITE, "1030", "1035", tag="hold", days=3)
    inventory.reserve("1008", SITE, reserved_for="bob")
    inventory.add_range(OTHER, "1000", "1003")
    inventory.deactivate("1003", OTHER)
    inventory.delete_range(SITE, "1009")
    inventory.configure("sys.acme.uk", cooling_days=7)


OBSERVED = [
    Observation("1000", phone("SEP1000")),
    Observation("1005", phone("SEP1005", owner="alice")),
    Observation("1030", phone("SEP1030")),
    Observation("2999", phone("SEP2999")),
]

IMPORTED = [
    NumberRecord("3000", SITE, tag="imported"),
    NumberRecord("3001", OTHER, e164=(E164S[3],), primary_e164=E164S[3]),
]

OPERATIONS: dict[str, Callable[[Inventory], object]] = {
    "add_range": lambda inv: inv.add_range(SITE, "2000", count=4, tag="new"),
    "add_range again after a delete": lambda inv: inv.add_range(SITE, "1009"),
    "add_range skipping existing": lambda inv: inv.add_range(
        SITE, "1007", "1009", skip_existing=True
    ),
    "import_records": lambda inv: inv.import_records(IMPORTED),
    "update_range": lambda inv: inv.update_range(SITE, "1000", "1004", description="moved"),
    "reserve_range": lambda inv: inv.reserve_range(SITE, "1000", "1002", tag="vip", days=9),
    "unreserve_range": lambda inv: inv.unreserve_range(SITE, "1008"),
    "cool_range (due)": lambda inv: inv.cool_range(SITE, "1030", "1033", days=2),
    "cool_range": lambda inv: inv.cool_range(SITE, "1000", "1002", days=7),
    "release_range": lambda inv: inv.release_range(SITE, "1020", "1023"),
    "delete_range": lambda inv: inv.delete_range(SITE, "1000", "1004"),
    "delete_range skipping": lambda inv: inv.delete_range(
        SITE, "1003", "1006", skip_unavailable=True
    ),
    "move_range": lambda inv: inv.move_range(SITE, "1000", "1002", to="sys.acme.uk.london.b"),
    "release_due": lambda inv: inv.release_due(),
    "assign": lambda inv: inv.assign("1004", phone("SEP1004")),
    "assign (due)": lambda inv: inv.assign("1031", phone("SEP1031")),
    "assign_next": lambda inv: inv.assign_next(phone("SEPnext", owner="bob")),
    "reserve_next": lambda inv: inv.reserve_next(SITE, tag="next"),
    "unassign": lambda inv: inv.unassign("1005", phone("SEP1005", owner="alice")),
    "reserve": lambda inv: inv.reserve("1004", SITE, reserved_for="carol"),
    "unreserve": lambda inv: inv.unreserve("1008", SITE),
    "cool": lambda inv: inv.cool("1004", SITE, days=3),
    "release": lambda inv: inv.release("1020", SITE),
    "update": lambda inv: inv.update("1001", SITE, tag="=x", extra1="y"),
    "activate": lambda inv: inv.activate("1003", OTHER),
    "deactivate": lambda inv: inv.deactivate("1002", OTHER),
    "associate_e164": lambda inv: inv.associate_e164("1004", SITE, E164S[3]),
    "dissociate_e164": lambda inv: inv.dissociate_e164("1001", SITE, E164S[0]),
    "apply_service": lambda inv: inv.apply_service("1002", SITE, "jane", "Cisco-MS-Hybrid"),
    "configure": lambda inv: inv.configure(SITE, prevent_duplicates=True, cooling_days=3),
    "audit": lambda inv: inv.audit(OBSERVED, add_missing=True),
    "prune_history": lambda inv: inv.prune_history(START + timedelta(minutes=1)),
}


def everything(inventory: Inventory, repository: Repository) -> dict[str, Any]:
    """What every read says, through the inventory and straight from the store."""
    nodes = repository.nodes()
    span = number_range("1000", "3999")
    return {
        "search": list(inventory.search()),
        **state(repository, NUMBERS, E164S),
        "holders": {who: repository.held_by(who) for who in ("alice", "bob", "carol", "SEP1005")},
        "settings": dict(repository.node_settings(None)),
        "retired": {node: dict(repository.retired(span, node)) for node in (*nodes, SITE)},
        "changes": repository.changes(0, 1_000_000),
        "history": {number: repository.history(number) for number in NUMBERS},
        "next_release": repository.next_release(),
    }


Store = tuple[Inventory, Repository, Points]


# SQLite's every statement under the `ci` profile only (local runs stay quick).
@pytest.fixture(params=["memory", pytest.param("sqlite", marks=pytest.mark.slow)])
def make_store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Store]]:
    opened: list[SqliteRepository] = []
    memory_points = MemoryFaults()

    def make() -> Store:
        clock = Clock()
        points: Points
        repository: Repository
        if request.param == "memory":
            repository = InMemoryRepository()
            points = memory_points
            memory_points.watch(repository)
        else:
            sqlite = SqliteRepository(":memory:")
            opened.append(sqlite)
            points = SqliteFaults()
            points.watch(sqlite)
            repository = sqlite
        inventory = Inventory(repository, clock=clock, actor=lambda: "probe")
        set_up(inventory, clock)
        clock.now = LATER
        return inventory, repository, points

    if request.param == "memory":
        with memory_points.installed(monkeypatch):
            yield make
    else:
        yield make
    for repository in opened:
        repository.close()


def tried(total: int) -> list[int]:
    """The fault points to try: all of them in CI, a stride and both ends locally."""
    if FULL or total <= 12:
        return list(range(1, total + 1))
    stride = max(total // 6, 1)
    return sorted({*range(1, 3), *range(1, total + 1, stride), *range(total - 1, total + 1)})


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_fault_at_any_mutation_inside_the_store_leaves_every_read_as_before(
    make_store: Callable[[], Store], operation: str
) -> None:
    run = OPERATIONS[operation]
    inventory, repository, points = make_store()
    before = everything(inventory, repository)
    points.arm(None)
    points.live = True
    run(inventory)
    points.live = False
    total, expected = points.count, everything(inventory, repository)
    assert total > 2, f"{operation}: too few fault points to test"
    assert expected != before, f"{operation} changed nothing"
    partial: list[str] = []
    for fail_at in tried(total):
        error: type[BaseException] = KeyboardInterrupt if fail_at % 5 else Fault
        inventory, repository, points = make_store()
        points.arm(fail_at, error)
        points.live = True
        with pytest.raises(error):
            run(inventory)
        points.live = False
        after_fault = everything(inventory, repository)
        if after_fault not in (before, expected):
            partial.append(f"point {fail_at} of {total} ({points.where})")
            continue
        if after_fault == before:
            run(inventory)
        assert everything(inventory, repository) == expected, (
            f"{operation}: after a fault at point {fail_at} of {total} ({points.where}), "
            "running it again did not leave what it leaves"
        )
    assert not partial, f"{operation}: partial writes after faults at {partial}"
