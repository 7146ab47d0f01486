"""The measurements: each gives a `Line`, a ratio of two timings of one run (or bytes).

Per-call figures are the median of several batches of calls; the small and
the large inventory are timed in turn, batch by batch, so that a slow moment
of a shared machine falls on both.
"""

from __future__ import annotations

import functools
import gc
import json
import random
import sqlite3
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from enum import Enum

import attrs

from benchmarks.estate import (
    DRIFT_EVERY,
    FIRST,
    KIND,
    SITE,
    TAG,
    Pool,
    Store,
    audit_estate,
    observations,
    pool,
)
from benchmarks.timing import alternating, frozen_heap, per_call, seconds
from numinv import (
    AuditReport,
    Consumer,
    InMemoryRepository,
    Inventory,
    NumberRecord,
    SqliteRepository,
)
from numinv.core.numbers import number_range

__all__ = ["CASES", "FULL", "QUICK", "Line", "Sizes", "run"]

_RANDOM = random.Random(8)
_LOAD_ROUNDS = 3
# A sample of the small size is ten audits in a row, so that both samples last
# as long and meet as much of the machine's noise. An audit of a million
# observations takes over a minute on SQLite: two rounds there, four in memory.
_AUDIT_ROUNDS = {"memory": 4, "sqlite": 2}


@attrs.frozen
class Sizes:
    """How many numbers each case uses."""

    load: int
    large: int
    small: int
    due: int
    audit_large: int
    audit_small: int
    rounds: int
    calls: int


FULL = Sizes(
    load=1_000_000,
    large=1_000_000,
    small=10_000,
    due=1_000,
    audit_large=1_000_000,
    audit_small=100_000,
    rounds=9,
    calls=400,
)
QUICK = Sizes(
    load=100_000,
    large=100_000,
    small=1_000,
    due=100,
    audit_large=100_000,
    audit_small=10_000,
    rounds=5,
    calls=200,
)


@attrs.frozen
class Line:
    """One figure and its target: a ratio of two timings (or bytes), at most `limit`."""

    store: str
    case: str
    measured: float
    reference: float
    unit: str
    figure: float
    limit: float
    figure_unit: str = "x"

    @property
    def passed(self) -> bool:
        return self.figure <= self.limit


# -- add_range against its floor ------------------------------------------------------


def add_range(store: Store, sizes: Sizes) -> list[Line]:
    """Load a range with `add_range` against building the same records without numinv."""
    count = sizes.load
    floor = _dict_floor if store.name == "memory" else _executemany_floor

    def library() -> float:
        inventory = Inventory(store.repository())
        elapsed = seconds(lambda: inventory.add_range(SITE, FIRST, count=count, tag=TAG))
        if inventory.utilization(SITE)[SITE].available != count:
            raise AssertionError("add_range did not load every number")
        return elapsed

    reference, measured = alternating(lambda: floor(store, count), library, _LOAD_ROUNDS)
    limit = 3.0 if store.name == "memory" else 2.0
    return [
        Line(
            store.name,
            f"add_range {count:,} / floor",
            measured,
            reference,
            "s",
            measured / reference,
            limit,
        )
    ]


def _dict_floor(store: Store, count: int) -> float:
    """The same records, numbers generated as the library does, into a plain dict."""

    def build() -> dict[str, NumberRecord]:
        return {number: NumberRecord(number, SITE, tag=TAG) for number in _numbers(count)}

    return seconds(build)


def _executemany_floor(store: Store, count: int) -> float:
    """The same rows into the same schema with one raw `executemany`, rows built as it goes."""
    path = store.new_path()
    SqliteRepository(path).close()  # the schema and indexes, exactly as numinv makes them
    connection = sqlite3.connect(path, isolation_level=None)
    # The connection settings SqliteRepository uses (WAL is stored in the file).
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA cache_size = -32768")
    columns = [row[1] for row in connection.execute("PRAGMA table_info(records)")]
    values = attrs.asdict(NumberRecord(FIRST, SITE, tag=TAG), recurse=False)
    if columns[0] != "number":
        raise AssertionError(f"records no longer starts with its number column: {columns}")
    rest = tuple(_column(values[name]) for name in columns[1:])
    sql = f"INSERT INTO records ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

    def load() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(sql, ((number, *rest) for number in _numbers(count)))
        connection.execute("COMMIT")

    try:
        return seconds(load)
    finally:
        connection.close()


def _numbers(count: int) -> Iterable[str]:
    """The numbers of the loaded range, generated as `add_range` generates them."""
    return number_range(FIRST, count=count)


def _column(value: object) -> object:
    """A fresh record's field as its column holds it (docs/storage.md, column encodings)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return json.dumps(value)
    return value


# -- memory ----------------------------------------------------------------------------


def memory(store: Store, sizes: Sizes) -> list[Line]:
    """Bytes traced per Available number after `add_range` into an `InMemoryRepository`."""
    if store.name != "memory":
        return []
    count = sizes.load
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        inventory = Inventory(InMemoryRepository())
        inventory.add_range(SITE, FIRST, count=count, tag=TAG)
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del inventory
    return [
        Line(
            store.name,
            f"memory per Available number ({count:,})",
            used / 2**20,
            count,
            "MiB",
            used / count,
            400.0,
            "B",
        )
    ]


# -- per-call operations on a 90 %-used pool ----------------------------------------------


def operations(store: Store, sizes: Sizes) -> list[Line]:
    """`assign_next`, `available`, `get` and `release_due` on a large pool and a small one."""
    small, large = pool(store, sizes.small), pool(store, sizes.large)
    versus = f"{sizes.large:,} vs {sizes.small:,}"
    with frozen_heap():
        return _operations(store, sizes, small, large, versus)


def _operations(store: Store, sizes: Sizes, small: Pool, large: Pool, versus: str) -> list[Line]:
    lines = []
    for case, measure in (
        (f"assign_next, pool {versus} (90% used)", _assign_next),
        (f"available(limit=10), pool {versus}", _available),
        (f"get, pool {versus}", _get),
    ):
        reference, measured = alternating(
            functools.partial(measure, small, sizes.calls),
            functools.partial(measure, large, sizes.calls),
            sizes.rounds,
        )
        lines.append(_flat(store, case, measured, reference, "us/call"))
    due = sizes.due
    reference, measured = alternating(
        lambda: _release_due(small, due), lambda: _release_due(large, due), sizes.rounds
    )
    case = f"release_due of {due:,}, inventory {versus}"
    lines.append(_flat(store, case, measured, reference, "ms"))
    return lines


def _flat(store: Store, case: str, measured: float, reference: float, unit: str) -> Line:
    scale = 1e6 if unit == "us/call" else 1e3
    return Line(
        store.name, case, measured * scale, reference * scale, unit, measured / reference, 1.5
    )


def _assign_next(estate: Pool, calls: int) -> float:
    """Seconds per `assign_next`; the numbers are given back afterwards, untimed."""
    inventory = estate.inventory
    # Half the Available numbers at most, and all given back: every batch meets the same pool.
    calls = min(calls, (estate.size - estate.used) // 2)
    consumers = [Consumer(KIND, f"new-phone-{index}", SITE) for index in range(calls)]
    given: list[tuple[str, Consumer]] = []

    def assign() -> None:
        consumer = consumers[len(given)]
        given.append((inventory.assign_next(consumer).number, consumer))

    elapsed = per_call(assign, calls)
    for number, consumer in given:
        inventory.unassign(number, consumer)
    return elapsed


def _available(estate: Pool, calls: int) -> float:
    inventory = estate.inventory

    def offer() -> None:
        if len(list(inventory.available(SITE, limit=10))) != 10:
            raise AssertionError("available offered fewer than 10 numbers")

    return per_call(offer, calls)


def _get(estate: Pool, calls: int) -> float:
    """Seconds per `get` of a random number of the pool (new numbers every batch)."""
    inventory = estate.inventory
    numbers = estate.numbers
    wanted = iter(
        [numbers.format(numbers.start + _RANDOM.randrange(len(numbers))) for _ in range(calls)]
    )
    return per_call(lambda: inventory.get(next(wanted), SITE), calls)


def _release_due(estate: Pool, due: int) -> float:
    """Seconds of one `release_due` releasing `due` cooled numbers (cooled untimed)."""
    inventory = estate.inventory
    cooled = estate.part(estate.size - due, due)
    inventory.cool_range(SITE, cooled.first, cooled.last, days=1)
    estate.clock.advance(days=2)
    released: list[NumberRecord] = []

    def release() -> None:
        released.extend(inventory.release_due())

    elapsed = seconds(release)
    if len(released) != due:
        raise AssertionError(f"release_due released {len(released)}, expected {due}")
    return elapsed


# -- audit --------------------------------------------------------------------------------


def audit(store: Store, sizes: Sizes) -> list[Line]:
    """An audit of as many observations as numbers, large against small: 10x at best."""
    estates = {size: audit_estate(store, size) for size in (sizes.audit_small, sizes.audit_large)}
    seen = {
        size: [observations(estate, variant) for variant in "ab"]
        for size, estate in estates.items()
    }
    runs = dict.fromkeys(estates, 0)

    def run_audit(size: int) -> float:
        # Variants a and b in turn: each run moves the same numbers to the other phone.
        estate, variant = estates[size], seen[size][runs[size] % 2]
        runs[size] += 1
        reports: list[AuditReport] = []
        elapsed = seconds(lambda: reports.append(estate.inventory.audit(variant)))
        if reports[0].changed != -(-size // DRIFT_EVERY):
            raise AssertionError(f"audit changed {reports[0].changed} records of {size:,}")
        return elapsed

    times = sizes.audit_large // sizes.audit_small
    with frozen_heap():
        reference, measured = alternating(
            lambda: sum(run_audit(sizes.audit_small) for _ in range(times)) / times,
            lambda: run_audit(sizes.audit_large),
            _AUDIT_ROUNDS[store.name],
        )
    case = f"audit {sizes.audit_large:,} vs {sizes.audit_small:,} observations"
    return [Line(store.name, case, measured, reference, "s", measured / reference, 12.0)]


CASES: dict[str, Callable[[Store, Sizes], list[Line]]] = {
    "add_range": add_range,
    "memory": memory,
    "operations": operations,
    "audit": audit,
}


def run(store: Store, sizes: Sizes, cases: Sequence[str]) -> list[Line]:
    lines: list[Line] = []
    for name in cases:
        lines += CASES[name](store, sizes)
    return lines
