"""The measurements: each case gives `Line`s, numinv beside its floor and its own flatness.

A per-call case times batches of calls on the large estate (numinv and its
floor) and on the small one (numinv), one batch of each in turn, several
rounds; its figures are the ratios of the medians: numinv / floor on the
large estate, and large / small for numinv (flat). Every floor is checked
to give what numinv gives on the same estate before it is timed.
"""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import os
import pstats
import random
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from benchmarks.estate import (
    CUSTOMER,
    DRIFT_EVERY,
    FIRST,
    KIND,
    SITE,
    TAG,
    Clock,
    Pool,
    Store,
    audit_estate,
    consumer_id,
    observations,
    pool,
)
from benchmarks.floors.memory import MemoryFloor, as_record
from benchmarks.floors.sqlite import SqliteFloor

if TYPE_CHECKING:
    from benchmarks.floors.postgres import PostgresFloor
from benchmarks.timing import (
    frozen_heap,
    interleaved,
    median,
    paused_gc,
    per_call,
    profiling,
    seconds,
)
from numinv import (
    Consumer,
    InMemoryRepository,
    Inventory,
    NumberRecord,
    Settings,
    SqliteRepository,
)
from numinv.core.journal import Entry
from numinv.core.kinds import BUILTIN_KINDS, use_of
from numinv.core.lifecycle import Assign, AssociateE164, Rules, loaded, transition
from numinv.core.numbers import NumberRange, number_range

__all__ = ["CASES", "FULL", "QUICK", "TINY", "Bench", "Check", "Line", "Sizes", "run"]

# Targets (issues #8, #12, #15).
FLOOR_LIMIT = {"memory": 8.0, "sqlite": 1.5, "postgres": 1.5}
AUDIT_FLOOR_LIMIT = {"memory": 6.0, "sqlite": 1.5, "postgres": 1.5}
LOAD_FLOOR_LIMIT = 1.5
FLAT_LIMIT = 1.5
LINEAR_LIMIT = 12.0
AVAILABLE_BYTES = 150.0
USED_BYTES = 600.0


Floor: TypeAlias = "MemoryFloor | SqliteFloor | PostgresFloor"
# Stores whose floor works on numinv's own file or schema (not on a copy of its records).
_SHARED = ("sqlite", "postgres")


@attrs.frozen
class Sizes:
    """How many numbers each case uses, and how many samples it takes."""

    load: int
    large: int
    small: int
    due: int
    audit_large: int
    audit_small: int
    rounds: int
    calls: int
    audit_rounds: int
    load_rounds: int
    journal: int
    used_records: int


FULL = Sizes(
    load=1_000_000,
    large=1_000_000,
    small=10_000,
    due=1_000,
    audit_large=1_000_000,
    audit_small=100_000,
    rounds=9,
    calls=400,
    audit_rounds=3,
    load_rounds=3,
    journal=1_000_000,
    used_records=100_000,
)
QUICK = Sizes(
    load=100_000,
    large=100_000,
    small=1_000,
    due=100,
    audit_large=100_000,
    audit_small=10_000,
    rounds=5,
    calls=100,
    audit_rounds=3,
    load_rounds=3,
    journal=100_000,
    used_records=10_000,
)
# For the tests: every case runs, nothing is meant to be timed.
TINY = Sizes(
    load=3_000,
    large=3_000,
    small=300,
    due=20,
    audit_large=2_000,
    audit_small=200,
    rounds=2,
    calls=5,
    audit_rounds=1,
    load_rounds=1,
    journal=4_000,
    used_records=500,
)


@attrs.frozen
class Check:
    """One figure against its target: `value` at most `limit`."""

    name: str
    value: float
    limit: float

    @property
    def passed(self) -> bool:
        return self.value <= self.limit


@attrs.frozen
class Line:
    """A case on a store: numinv's median, its floor's, the small estate's, and the checks.

    Times are in `unit` (us/call, ms or s); for a memory line `numinv` is
    bytes per record and there is no floor. `samples` holds every sample,
    in seconds (or bytes), by sampler.
    """

    store: str
    case: str
    unit: str
    numinv: float
    floor: float | None
    small: float | None
    checks: tuple[Check, ...]
    samples: Mapping[str, Sequence[float]] = attrs.field(factory=dict)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def check(self, name: str) -> Check | None:
        return next((check for check in self.checks if check.name == name), None)


_SCALE = {"us/call": 1e6, "ms": 1e3, "s": 1.0}


def _line(
    store: Store,
    case: str,
    unit: str,
    samples: dict[str, list[float]],
    *,
    floor_limit: float | None,
    flat_limit: float | None,
    flat_name: str = "large/small",
) -> Line:
    """The line of a timed case: medians of the `large`, `floor` and `small` samplers."""
    scale = _SCALE[unit]
    large = median(samples["large"])
    floor = median(samples["floor"]) if "floor" in samples else None
    small = median(samples["small"]) if "small" in samples else None
    checks = []
    if floor is not None and floor_limit is not None:
        checks.append(Check("numinv/floor", large / floor, floor_limit))
    if small is not None and flat_limit is not None:
        checks.append(Check(flat_name, large / small, flat_limit))
    return Line(
        store.name,
        case,
        unit,
        large * scale,
        None if floor is None else floor * scale,
        None if small is None else small * scale,
        tuple(checks),
        {name: [round(value, 9) for value in values] for name, values in samples.items()},
    )


# -- the estates of one store, built once and shared by its cases ------------------------


class Bench:
    """One store's estates and floors, built when a case first needs them."""

    def __init__(self, store: Store, sizes: Sizes, profile: Path | None = None) -> None:
        self.store = store
        self.sizes = sizes
        self.profile = profile
        self.random = random.Random(8)
        self._pools: dict[int, Pool] = {}
        self._floors: dict[int, Floor] = {}
        self._used_taken: dict[int, int] = {}

    @property
    def name(self) -> str:
        return self.store.name

    def pool(self, size: int) -> Pool:
        if size not in self._pools:
            self._pools[size] = pool(self.store, size)
        return self._pools[size]

    def floor(self, size: int) -> Floor:
        """The floor over the pool of `size`: a copy of its records, or its SQLite file."""
        if size not in self._floors:
            self._floors[size] = make_floor(self.store, self.pool(size))
        return self._floors[size]

    def next_used(self, size: int, count: int) -> list[str]:
        """`count` Used numbers of the pool that no earlier call of this took."""
        estate = self.pool(size)
        start = self._used_taken.get(size, 0)
        if start + count > estate.used:
            raise AssertionError(f"the pool of {size:,} has no {count} Used numbers left")
        self._used_taken[size] = start + count
        return list(estate.part(start, count))

    def close(self) -> None:
        for floor in self._floors.values():
            if not isinstance(floor, MemoryFloor):
                floor.close()


def make_floor(store: Store, estate: Pool) -> Floor:
    repository = estate.inventory.repository
    if store.name == "sqlite":
        assert isinstance(repository, SqliteRepository)
        return SqliteFloor(repository.path, estate.clock)
    if store.name == "postgres":
        from benchmarks.floors.postgres import PostgresFloor
        from numinv.storage.postgres import PostgresRepository

        assert isinstance(repository, PostgresRepository)
        return PostgresFloor(store.conninfo, repository.schema, estate.clock)
    records = repository.within(estate.numbers, SITE)
    if estate.customer is not None:
        records += repository.within(estate.customer, CUSTOMER)
    with paused_gc():
        return MemoryFloor.of(records, estate.clock)


def _number(found: NumberRecord | tuple[Any, ...]) -> str:
    return found.number if isinstance(found, NumberRecord) else str(found[0])


def _version(found: NumberRecord | tuple[Any, ...], floor: Floor) -> int:
    if not isinstance(floor, MemoryFloor):
        return int(found[floor.index["version"]])  # type: ignore[index]
    return int(found.version)  # type: ignore[union-attr]


def _same(what: str, numinv: object, floor: object) -> None:
    if numinv != floor:
        raise AssertionError(f"{what}: numinv gave {numinv!r}, its floor {floor!r}")


def _profiled(bench: Bench, case: str, sampler: Callable[[], float]) -> None:
    """With --profile, take one more sample of numinv's large estate, its timed part profiled."""
    if bench.profile is None:
        return
    profiler = cProfile.Profile()
    with profiling(profiler):
        sampler()
    bench.profile.mkdir(parents=True, exist_ok=True)
    path = bench.profile / f"{bench.name}-{case.replace(' ', '_')}.txt"
    path.write_text(profile_summary(profiler, f"{bench.name}: {case}"))


def profile_summary(profiler: cProfile.Profile, title: str, top: int = 25) -> str:
    """The functions taking the most time: own share (tottime) and with callees (cumtime)."""
    stats = pstats.Stats(profiler)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values()) or 1.0
    root = str(Path(__file__).resolve().parent.parent)

    def name(key: tuple[str, int, str]) -> str:
        file, line, function = key
        return f"{file.replace(root + '/', '')}:{line}({function})"

    out = io.StringIO()
    out.write(f"{title}: {total:.3f} s profiled (cProfile adds its own overhead per call)\n\n")
    groups: dict[str, float] = {}
    for (file, _, function), entry in table.items():
        groups[_group(file, function, root)] = (
            groups.get(_group(file, function, root), 0) + entry[2]
        )
    out.write("own time by where it is spent:\n")
    for group, own in sorted(groups.items(), key=lambda item: item[1], reverse=True)[:15]:
        out.write(f"{own / total:6.1%}  {group}\n")
    out.write("\n")
    for order, label in ((2, "own time"), (3, "with callees")):
        out.write(f"by {label}:\n  own    cum    calls  function\n")
        ranked = sorted(table.items(), key=lambda item: item[1][order], reverse=True)
        for key, (_, calls, own, cumulative, _) in ranked[:top]:
            out.write(f"{own / total:6.1%} {cumulative / total:6.1%} {calls:7d}  {name(key)}\n")
        out.write("\n")
    return out.getvalue()


def _group(file: str, function: str, root: str) -> str:
    """Where a function's own time goes: the SQLite driver, attrs classes, a module of ours."""
    if file == "~":
        if "sqlite3" in function:
            return "sqlite3 (the driver and SQLite, in C)"
        return "built-ins"
    if file.startswith("<attrs generated"):
        return "attrs-generated __init__ (records, uses, rules, queries)"
    if file.startswith(root):
        return file.replace(root + "/", "")
    return "standard library: " + Path(file).name


# -- per-call cases on the 90 %-used pools ------------------------------------------------


def _percall(
    bench: Bench,
    case: str,
    numinv: Callable[[Pool, int], float],
    floor: Callable[[Pool, Floor, int], float],
    calls: int | None = None,
    unit: str = "us/call",
) -> Line:
    sizes = bench.sizes
    small, large = bench.pool(sizes.small), bench.pool(sizes.large)
    floor_of_large = bench.floor(sizes.large)
    count = calls or sizes.calls
    samplers = {
        "large": functools.partial(numinv, large, count),
        "floor": functools.partial(floor, large, floor_of_large, count),
        "small": functools.partial(numinv, small, count),
    }
    with frozen_heap():
        samples = interleaved(samplers, sizes.rounds)
        _profiled(bench, case, samplers["large"])
        _profiled(bench, f"{case} floor", samplers["floor"])
    return _line(
        bench.store,
        f"{case}, pool {sizes.large:,} vs {sizes.small:,}",
        unit,
        samples,
        floor_limit=FLOOR_LIMIT[bench.name],
        flat_limit=FLAT_LIMIT,
    )


def assign_next(bench: Bench) -> list[Line]:
    """`assign_next` of a new phone at the site; the numbers are given back, untimed."""
    taken: dict[str, list[str]] = {}

    def batch_size(estate: Pool) -> int:
        # Half the Available numbers at most, all given back: every batch meets the same pool.
        return min(bench.sizes.calls, (estate.size - estate.used) // 2)

    def consumers(count: int) -> list[Consumer]:
        return [Consumer(KIND, f"new-phone-{index}", SITE) for index in range(count)]

    def numinv(estate: Pool, calls: int) -> float:
        inventory, people = estate.inventory, consumers(batch_size(estate))
        given: list[str] = []
        elapsed = per_call(
            lambda: given.append(inventory.assign_next(people[len(given)]).number), len(people)
        )
        for number, consumer in zip(given, people, strict=True):
            inventory.unassign(number, consumer)
        taken.setdefault(f"numinv {estate.size}", given)
        return elapsed

    def floor(estate: Pool, floor: Floor, calls: int) -> float:
        people = consumers(batch_size(estate))
        given: list[str] = []
        elapsed = per_call(
            lambda: given.append(_number(floor.assign_next(people[len(given)]))), len(people)
        )
        for number, consumer in zip(given, people, strict=True):
            floor.unassign(number, consumer, cooling=False)
        taken.setdefault("floor", given)
        return elapsed

    line = _percall(bench, "assign_next (90% used)", numinv, floor)
    _same("assign_next's numbers", taken[f"numinv {bench.sizes.large}"], taken["floor"])
    return [line]


def available(bench: Bench) -> list[Line]:
    """`available(site, limit=10)`, consumed with `list()`: ten records."""
    offered: dict[str, list[str]] = {}

    def numinv(estate: Pool, calls: int) -> float:
        inventory = estate.inventory

        def offer() -> None:
            found = list(inventory.available(SITE, limit=10))
            offered.setdefault(f"numinv {estate.size}", [r.number for r in found])

        return per_call(offer, calls)

    def floor(estate: Pool, floor: Floor, calls: int) -> float:
        def offer() -> None:
            found = floor.available_numbers(SITE, 10)
            offered.setdefault("floor", [_number(r) for r in found])

        return per_call(offer, calls)

    line = _percall(bench, "available(limit=10)", numinv, floor)
    _same("available's numbers", offered[f"numinv {bench.sizes.large}"], offered["floor"])
    if len(offered["floor"]) != 10:
        raise AssertionError("available offered fewer than 10 numbers")
    return [line]


def _random_numbers(bench: Bench, numbers: NumberRange, count: int) -> list[str]:
    return [
        numbers.format(numbers.start + bench.random.randrange(len(numbers))) for _ in range(count)
    ]


def _gets(bench: Bench, case: str, part: Callable[[Pool], NumberRange]) -> Line:
    """`get(number, site)` of random numbers of `part` of the estate, new ones every batch."""

    def numinv(estate: Pool, calls: int) -> float:
        inventory = estate.inventory
        wanted = iter(_random_numbers(bench, part(estate), calls))
        return per_call(lambda: inventory.get(next(wanted), SITE), calls)

    def floor(estate: Pool, floor: Floor, calls: int) -> float:
        wanted = iter(_random_numbers(bench, part(estate), calls))
        return per_call(lambda: floor.get(next(wanted), SITE), calls)

    large = bench.pool(bench.sizes.large)
    raw = bench.floor(bench.sizes.large)
    for number in _random_numbers(bench, part(large), 5):
        found, record = raw.get(number, SITE), large.inventory.get(number, SITE)
        _same(
            f"get {number}", (record.number, record.version), (_number(found), _version(found, raw))
        )
    return _percall(bench, case, numinv, floor)


def get(bench: Bench) -> list[Line]:
    """`get` from the site of numbers held at the site, Used and Available alike."""
    return [_gets(bench, "get at the site", lambda estate: estate.numbers)]


def get_up(bench: Bench) -> list[Line]:
    """`get` from the site of numbers held at its customer: one key read more."""

    def part(estate: Pool) -> NumberRange:
        assert estate.customer is not None
        return estate.customer

    return [_gets(bench, "get walking up to the customer", part)]


def reserve(bench: Bench) -> list[Line]:
    """`reserve` then `unreserve` of a random Available number of the site: one call is both."""

    def available_part(estate: Pool) -> NumberRange:
        return estate.part(estate.used, estate.size - estate.used)

    def numinv(estate: Pool, calls: int) -> float:
        inventory = estate.inventory
        wanted = iter(_random_numbers(bench, available_part(estate), calls))

        def both() -> None:
            number = next(wanted)
            inventory.reserve(number, SITE, tag="held")
            inventory.unreserve(number, SITE)

        return per_call(both, calls)

    def floor(estate: Pool, floor: Floor, calls: int) -> float:
        wanted = iter(_random_numbers(bench, available_part(estate), calls))

        def both() -> None:
            number = next(wanted)
            floor.reserve(number, SITE, "held")
            floor.unreserve(number, SITE)

        return per_call(both, calls)

    return [_percall(bench, "reserve + unreserve", numinv, floor)]


def unassign(bench: Bench) -> list[Line]:
    """`unassign` of a phone's number with automatic cooling on: it starts cooling."""
    sizes = bench.sizes
    calls = min(sizes.calls, bench.pool(sizes.small).used // (sizes.rounds + 2))
    cooling = Settings(auto_cooling=True)
    inventories = {
        size: Inventory(
            bench.pool(size).inventory.repository, clock=bench.pool(size).clock, settings=cooling
        )
        for size in (sizes.small, sizes.large)
    }
    results: dict[str, NumberRecord | tuple[Any, ...]] = {}

    def numinv(estate: Pool, count: int) -> float:
        inventory = inventories[estate.size]
        wanted = iter(bench.next_used(estate.size, count))

        def one() -> None:
            number = next(wanted)
            results[f"numinv {estate.size}"] = inventory.unassign(
                number, Consumer(KIND, consumer_id(number), SITE)
            )

        return per_call(one, count)

    def floor(estate: Pool, floor: Floor, count: int) -> float:
        wanted = iter(bench.next_used(estate.size, count))

        def one() -> None:
            number = next(wanted)
            results["floor"] = floor.unassign(
                number, Consumer(KIND, consumer_id(number), SITE), cooling=True
            )

        return per_call(one, count)

    line = _percall(bench, "unassign (auto cooling)", numinv, floor, calls=calls)
    mine, theirs = results[f"numinv {sizes.large}"], results["floor"]
    assert isinstance(mine, NumberRecord)
    status = theirs.status if isinstance(theirs, NumberRecord) else theirs[2]
    _same("unassign's status", str(mine.status), str(status))
    return [line]


def release_due(bench: Bench) -> list[Line]:
    """One `release_due()` storing the release of `due` cooled numbers (cooled untimed)."""
    sizes = bench.sizes
    due = sizes.due
    counts: dict[str, int] = {}

    def cooled(estate: Pool) -> NumberRange:
        return estate.part(estate.size - due, due)

    def numinv(estate: Pool, calls: int) -> float:
        inventory, numbers = estate.inventory, cooled(estate)
        inventory.cool_range(SITE, numbers.first, numbers.last, days=1)
        estate.clock.advance(days=2)
        released: list[NumberRecord] = []
        elapsed = seconds(lambda: released.extend(inventory.release_due()))
        counts[f"numinv {estate.size}"] = len(released)
        return elapsed

    def floor(estate: Pool, floor: Floor, calls: int) -> float:
        numbers = cooled(estate)
        if isinstance(floor, MemoryFloor):
            floor.cool(numbers, SITE, estate.clock() + timedelta(days=1))
        else:
            estate.inventory.cool_range(SITE, numbers.first, numbers.last, days=1)
        estate.clock.advance(days=2)
        released: list[Any] = []

        def release() -> None:
            found = floor.release_due()
            released.append(found if isinstance(found, int) else len(found))

        elapsed = seconds(release)
        counts["floor"] = released[0]
        return elapsed

    line = _percall(bench, f"release_due of {due:,}", numinv, floor, unit="ms")
    for name, count in counts.items():
        _same(f"release_due's count ({name})", due, count)
    return [line]


# -- audit ----------------------------------------------------------------------------


def audit(bench: Bench) -> list[Line]:
    """An audit of as many observations as numbers; 1 % of them moved to another phone.

    numinv against its floor at the small size, and the large size against
    the small one (ten times the work: at most 12x).
    """
    sizes, store = bench.sizes, bench.store
    estates = {size: audit_estate(store, size) for size in (sizes.audit_small, sizes.audit_large)}
    seen = {
        size: [observations(estate, variant) for variant in "ab"]
        for size, estate in estates.items()
    }
    small = estates[sizes.audit_small]
    floor = make_floor(store, small)
    # Which variant each holder of state was moved to last (a shared SQLite file is one).
    state = {"numinv small": 0, "numinv large": 0, "floor": 0}
    shared = store.name in _SHARED
    expected = {size: -(-size // DRIFT_EVERY) for size in estates}

    def turn(holder: str) -> int:
        key = "numinv small" if shared and holder == "floor" else holder
        state[key] = 1 - state[key]
        return state[key]

    def numinv(size: int) -> float:
        estate = estates[size]
        variant = seen[size][turn("numinv small" if size == sizes.audit_small else "numinv large")]
        reports: list[Any] = []
        elapsed = seconds(lambda: reports.append(estate.inventory.audit(variant)))
        _same(f"audit of {size:,}: records changed", expected[size], reports[0].changed)
        return elapsed

    def floor_audit() -> float:
        variant = seen[sizes.audit_small][turn("floor")]
        fixes: list[int] = []

        def run_audit() -> None:
            found = floor.audit(variant)
            fixes.append(found if isinstance(found, int) else len(found))

        elapsed = seconds(run_audit)
        _same("the floor's audit: records changed", expected[sizes.audit_small], fixes[0])
        return elapsed

    samplers = {
        "small": functools.partial(numinv, sizes.audit_small),
        "floor": floor_audit,
        "large": functools.partial(numinv, sizes.audit_large),
    }
    with frozen_heap():
        samples = interleaved(samplers, sizes.audit_rounds)
        _profiled(bench, "audit", samplers["small"])
        _profiled(bench, "audit floor", samplers["floor"])
    if not isinstance(floor, MemoryFloor):
        floor.close()
    small_line = _line(
        store,
        f"audit of {sizes.audit_small:,} observations",
        "s",
        {"large": samples["small"], "floor": samples["floor"]},
        floor_limit=AUDIT_FLOOR_LIMIT[store.name],
        flat_limit=None,
    )
    linear = _line(
        store,
        f"audit {sizes.audit_large:,} vs {sizes.audit_small:,} observations",
        "s",
        {"large": samples["large"], "small": samples["small"]},
        floor_limit=None,
        flat_limit=LINEAR_LIMIT,
    )
    return [small_line, linear]


# -- add_range against its floor -------------------------------------------------------------


def _remove(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def load(bench: Bench) -> list[Line]:
    """`add_range` of `load` numbers into an empty store, against its floor; journal included."""
    store, count = bench.store, bench.sizes.load
    numbers = number_range(FIRST, count=count)
    template = NumberRecord(FIRST, SITE, tag=TAG)
    firsts: dict[str, tuple[object, int]] = {}

    def numinv() -> float:
        repository = store.repository()
        inventory = Inventory(repository, clock=Clock())
        elapsed = seconds(lambda: inventory.add_range(SITE, FIRST, count=count, tag=TAG))
        if inventory.utilization(SITE)[SITE].available != count:
            raise AssertionError("add_range did not load every number")
        firsts["numinv"] = (repository.get(FIRST, SITE), len(inventory.changes(limit=count)))
        if isinstance(repository, SqliteRepository):
            repository.close()
            _remove(repository.path)
        else:
            store.discard(repository)
        return elapsed

    def floor() -> float:
        clock = Clock()
        if store.name == "memory":
            memory = MemoryFloor(clock)
            elapsed = seconds(lambda: memory.add_range(numbers, SITE, template))
            firsts["floor"] = (as_record(memory.records[SITE][FIRST]), len(memory.journal))
            return elapsed
        if store.name == "postgres":
            return _load_postgres(store, numbers, template, firsts)
        path = str(store.new_path())
        SqliteRepository(path).close()  # the schema, exactly as numinv makes it
        raw = SqliteFloor(path, clock)
        try:
            elapsed = seconds(lambda: raw.add_range(numbers, SITE, template))
        finally:
            raw.close()
        with SqliteRepository(path) as reread:  # numinv reads what the floor wrote
            firsts["floor"] = (reread.get(FIRST, SITE), len(reread.changes(0, count)))
        _remove(path)
        return elapsed

    samples = interleaved({"floor": floor, "large": numinv}, bench.sizes.load_rounds)
    if store.name == "memory":  # the floor's list holds one entry for the range
        _same("add_range's first record", firsts["numinv"][0], firsts["floor"][0])
    else:  # numinv reads the floor's file: the same record and `count` changes
        _same("add_range's first record and changes", firsts["numinv"], firsts["floor"])
    return [
        _line(
            store,
            f"add_range {count:,} (journal included)",
            "s",
            samples,
            floor_limit=LOAD_FLOOR_LIMIT,
            flat_limit=None,
        )
    ]


def _load_postgres(
    store: Store,
    numbers: NumberRange,
    template: NumberRecord,
    firsts: dict[str, tuple[object, int]],
) -> float:
    """The PostgreSQL floor's load into a new schema that numinv made, read back by numinv."""
    from benchmarks.floors.postgres import PostgresFloor
    from numinv.storage.postgres import PostgresRepository

    schema = store.new_schema()
    try:
        PostgresRepository(store.conninfo, schema=schema).close()  # numinv makes the tables
        raw = PostgresFloor(store.conninfo, schema, Clock())
        try:
            elapsed = seconds(lambda: raw.add_range(numbers, SITE, template))
        finally:
            raw.close()
        with PostgresRepository(store.conninfo, schema=schema) as reread:
            firsts["floor"] = (reread.get(FIRST, SITE), len(reread.changes(0, len(numbers))))
    finally:
        store.drop(schema)
    return elapsed


# -- memory per record -------------------------------------------------------------------


def _traced(build: Callable[[], object], where: Path | None = None) -> tuple[int, object]:
    """Bytes still allocated after `build()` (what it returns kept), and what it returns.

    With `where`, the lines of code that allocated what is kept are written there.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
        if where is not None:
            top = tracemalloc.take_snapshot().statistics("lineno")[:20]
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_text("\n".join(str(stat) for stat in top) + "\n")
    finally:
        tracemalloc.stop()
    return used, kept


def memory(bench: Bench) -> list[Line]:
    """Bytes per record in an `InMemoryRepository`: Available, and Used with a use and an E.164."""
    if bench.name != "memory":
        return []
    count, used = bench.sizes.load, bench.sizes.used_records

    def available() -> Inventory:
        inventory = Inventory(InMemoryRepository())
        inventory.add_range(SITE, FIRST, count=count, tag=TAG)
        return inventory

    where = None if bench.profile is None else bench.profile / "memory-available-number.txt"
    free, _ = _traced(available, where)

    def in_use() -> InMemoryRepository:
        repository = InMemoryRepository()
        with repository.transaction() as tx:
            tx.insert(_used_with_e164(number_range(FIRST, count=used)))
        return repository

    where = None if bench.profile is None else bench.profile / "memory-used-record.txt"
    taken, repository = _traced(in_use, where)
    assert isinstance(repository, InMemoryRepository)
    (sample,) = repository.with_e164("+4420" + FIRST)
    if sample.uses[0].consumer_id != consumer_id(FIRST):
        raise AssertionError("the Used records were not stored as built")
    return [
        Line(
            bench.name,
            f"memory per Available number ({count:,} loaded)",
            "B",
            free / count,
            None,
            None,
            (Check("bytes", free / count, AVAILABLE_BYTES),),
            {"bytes": [free]},
        ),
        Line(
            bench.name,
            f"memory per Used record, one use and one E.164 ({used:,})",
            "B",
            taken / used,
            None,
            None,
            (Check("bytes", taken / used, USED_BYTES),),
            {"bytes": [taken]},
        ),
    ]


def _used_with_e164(numbers: NumberRange) -> Iterator[NumberRecord]:
    """Records as `assign` then `associate_e164` leave them: each its own use and E.164.

    Each is made by the lifecycle's own transitions from a loaded record, so
    that what the library shares between records (the usage tuple) is shared.
    """
    rules = Rules(Clock().now)
    for number in numbers:
        consumer = Consumer(KIND, consumer_id(number), SITE)
        record = loaded(number, SITE, {"tag": TAG})
        record = transition(record, Assign(use_of(consumer, BUILTIN_KINDS)), rules)
        yield transition(record, AssociateE164("+4420" + number), rules)


# -- the journal: history and changes ------------------------------------------------------


def journal(bench: Bench) -> list[Line]:
    """`history(number)` and a page of `changes`, 10,000 numbers against 1,000,000.

    Each estate's journal holds `journal` changes or more: the load of its
    numbers (one compact entry per block) and, for the small estate,
    individual changes of half its numbers up to that count. Then 1,000
    numbers of the other half are assigned (untimed): their history is the
    load and the assignment, two changes, in both estates; the page of
    `changes` is those 1,000 assignments.
    """
    sizes = bench.sizes
    estates = {size: _journal_estate(bench, size) for size in (sizes.small, sizes.large)}

    def histories(size: int, calls: int) -> float:
        inventory, samples, _ = estates[size]
        wanted = iter(bench.random.choices(samples, k=calls))

        def one() -> None:
            if len(inventory.history(next(wanted))) != 2:
                raise AssertionError("a sample number's history is not two changes")

        return per_call(one, calls)

    def pages(size: int, calls: int) -> float:
        inventory, samples, mark = estates[size]

        def one() -> None:
            if len(inventory.changes(after=mark, limit=len(samples))) != len(samples):
                raise AssertionError("the page of changes is short")

        return per_call(one, calls)

    lines = []
    page_calls = max(bench.sizes.calls // 20, 2)
    for case, measure, calls, unit in (
        ("history(number)", histories, sizes.calls, "us/call"),
        (f"changes, a page of {_sampled(sizes):,}", pages, page_calls, "ms"),
    ):
        samplers = {
            "small": functools.partial(measure, sizes.small, calls),
            "large": functools.partial(measure, sizes.large, calls),
        }
        with frozen_heap():
            samples = interleaved(samplers, sizes.rounds)
            _profiled(bench, case.split(",")[0].split("(")[0], samplers["large"])
        name = f"{case}, {sizes.large:,} vs {sizes.small:,} numbers, {sizes.journal:,} changes"
        lines.append(
            _line(bench.store, name, unit, samples, floor_limit=None, flat_limit=FLAT_LIMIT)
        )
    return lines


def _sampled(sizes: Sizes) -> int:
    """How many numbers of each journal estate are assigned: a thousand, or half the small one."""
    return min(1000, sizes.small // 2)


def _journal_estate(bench: Bench, size: int) -> tuple[Inventory, list[str], int]:
    """An inventory of `size` numbers with at least `journal` changes journaled."""
    clock = Clock()
    inventory = Inventory(bench.store.repository(), clock=clock)
    numbers = number_range(FIRST, count=size)
    half = size // 2
    # As many sample numbers in both estates: a thousand, or half the small one.
    sampled = _sampled(bench.sizes)
    samples = [numbers.format(numbers.start + half + index) for index in range(sampled)]
    with paused_gc():
        inventory.add_range(SITE, FIRST, count=size, tag=TAG)
        fill = bench.sizes.journal - size
        if fill > 0:
            repository = inventory.repository
            pairs = []
            for number in (numbers.format(numbers.start + i) for i in range(half)):
                before = NumberRecord(number, SITE, tag=TAG)
                pairs.append((before, attrs.evolve(before, tag="x", version=2)))
            with repository.transaction() as tx:
                chunk: list[Entry] = []
                for index in range(fill):
                    before, after = pairs[index % len(pairs)]
                    chunk.append(Entry("update", before, after, clock.now))
                    if len(chunk) == 10_000:
                        tx.journal(chunk)
                        chunk = []
                if chunk:
                    tx.journal(chunk)
        mark = size + max(fill, 0)  # the seq of the last change so far: seqs start at 1
        if inventory.changes(after=mark, limit=1) or not inventory.changes(after=mark - 1):
            raise AssertionError(f"the journal does not end at seq {mark}")
        for index, number in enumerate(samples):
            inventory.assign(number, Consumer(KIND, f"journal-phone-{index}", SITE))
    return inventory, samples, mark


CASES: dict[str, Callable[[Bench], list[Line]]] = {
    "load": load,
    "memory": memory,
    "assign_next": assign_next,
    "available": available,
    "get": get,
    "get_up": get_up,
    "reserve": reserve,
    "release_due": release_due,
    "unassign": unassign,
    "audit": audit,
    "journal": journal,
}


def run(bench: Bench, cases: Sequence[str], report: Callable[[Line], None]) -> list[Line]:
    lines: list[Line] = []
    for name in cases:
        for line in CASES[name](bench):
            report(line)
            lines.append(line)
    return lines
