"""`numinv.simulation`: seeded, deterministic, and every day's counts add up."""

from __future__ import annotations

from collections import defaultdict

import attrs
import pytest
from hypothesis import example, given, settings, strategies as st

from numinv import InvalidInput, Settings, Status
from numinv.simulation import SimulationConfig, SimulationResult, simulate
from numinv.storage.sqlite import SqliteRepository
from tests.examples import examples

# Small sites with a fast-growing one: some site runs out within the run.
SMALL = SimulationConfig(customers=2, sites=2, numbers_per_site=40, pool=5, days=120, seed=3)


@pytest.fixture(scope="module")
def small() -> SimulationResult:
    return simulate(SMALL)


def _customer(node: str) -> str:
    return ".".join(node.split(".")[:3])


def check_invariants(result: SimulationResult) -> None:
    config = result.config
    each = config.pool + config.sites * config.numbers_per_site  # numbers a customer loaded
    days: dict[str, list[int]] = defaultdict(list)
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for row in result.series:
        assert all(count >= 0 for count in row.counts.values()), row
        assert row.failed >= 0
        totals[(row.day, _customer(row.node))] += row.total
        days[row.node].append(row.day)
    # Numbers move between a customer's nodes, never in or out of the customer.
    assert set(totals.values()) == {each}
    assert {node.node for node in result.summary} == set(days)
    loaded: dict[str, int] = defaultdict(int)
    for node in result.summary:
        loaded[_customer(node.node)] += node.loaded
        assert days[node.node] == list(range(config.days + 1))
        failures = [row.day for row in result.series if row.node == node.node and row.failed]
        assert node.exhausted_on == (failures[0] if failures else None)
        assert node.failed == sum(r.failed for r in result.series if r.node == node.node)
    assert set(loaded.values()) == {each}
    last = {row.node: row.counts for row in result.series if row.day == config.days}
    assert last == {node.node: node.counts for node in result.summary}


def test_the_same_seed_gives_the_same_series_and_summary(small: SimulationResult) -> None:
    again = simulate(SMALL)
    assert again.series == small.series
    assert again.summary == small.summary
    assert again.activity == small.activity


def test_another_seed_gives_another_run(small: SimulationResult) -> None:
    other = simulate(attrs.evolve(SMALL, seed=4))
    assert other.series != small.series


def test_every_day_the_counts_of_a_node_add_up_to_its_numbers(small: SimulationResult) -> None:
    check_invariants(small)


def test_a_site_runs_out_and_its_exhaustion_day_is_a_day_of_failed_assignment(
    small: SimulationResult,
) -> None:
    exhausted = [node for node in small.summary if node.exhausted_on is not None]
    assert exhausted
    for node in exhausted:
        assert node.role == "site"
        day = next(r for r in small.series if r.node == node.node and r.day == node.exhausted_on)
        assert day.failed > 0


def test_the_run_shows_churn_cooling_restores_and_reservations(small: SimulationResult) -> None:
    for what in ("joined", "left", "devices offline", "devices back, number restored",
                 "reservations made", "reservations claimed"):  # fmt: skip
        assert small.activity.get(what, 0) > 0, what
    assert max(r.counts[Status.COOLING] for r in small.series) > 0


def test_most_devices_back_from_offline_get_their_own_number_again(
    small: SimulationResult,
) -> None:
    """Four in five offline devices come back within their cooling period, while their
    number cools for them, and get it back; the rest, back late, find it taken or not."""
    restored = small.activity["devices back, number restored"]
    otherwise = small.activity.get("devices back", 0) + small.activity.get(
        "devices back on a new number", 0
    )
    assert restored > 2 * otherwise


def test_the_day_0_build_is_not_counted_as_activity() -> None:
    """The estate loaded on day 0 (users, two hunt pilots a site, devices) is the start,
    not activity: after one day at most one hunt pilot a site has been added."""
    config = SimulationConfig(customers=1, sites=2, numbers_per_site=50, pool=10, days=1, seed=3)
    result = simulate(config)
    assert result.activity.get("hunt pilots added", 0) <= config.customers * config.sites
    used_at_build = sum(row.counts[Status.USED] for row in result.series if row.day == 0)
    assert result.activity.get("joined", 0) < used_at_build // 4


def test_without_auto_cooling_only_audiocodes_numbers_cool() -> None:
    result = simulate(SMALL, settings=Settings(auto_cooling=False))
    devices = 3 * SMALL.customers * SMALL.sites
    for day in range(SMALL.days + 1):
        cooling = sum(r.counts[Status.COOLING] for r in result.series if r.day == day)
        assert cooling <= devices


def test_on_sqlite_the_run_is_the_same_as_in_memory() -> None:
    config = SimulationConfig(customers=1, sites=2, numbers_per_site=25, pool=3, days=40, seed=9)
    with SqliteRepository(":memory:") as repository:
        on_sqlite = simulate(config, repository=repository)
    in_memory = simulate(config)
    assert (on_sqlite.series, on_sqlite.summary) == (in_memory.series, in_memory.summary)


def test_on_day_reports_every_day_including_the_build() -> None:
    seen: list[int] = []
    simulate(
        SimulationConfig(customers=1, sites=1, numbers_per_site=5, pool=0, days=3),
        on_day=seen.append,
    )
    assert seen == [0, 1, 2, 3]


@settings(max_examples=examples(15), deadline=None)
# A gateway away past its cooling: its pool number lapsed and was moved to another site.
@example(
    customers=1,
    sites=3,
    numbers=24,
    pool=2,
    days=16,
    seed=8662,
    auto_cooling=True,
    audiocodes_days=2,
)
@given(
    customers=st.integers(1, 2),
    sites=st.integers(1, 3),
    numbers=st.integers(1, 30),
    pool=st.integers(0, 10),
    days=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    auto_cooling=st.booleans(),
    audiocodes_days=st.integers(1, 4),
)
def test_the_invariants_hold_for_any_shape_and_seed(
    customers: int,
    sites: int,
    numbers: int,
    pool: int,
    days: int,
    seed: int,
    auto_cooling: bool,
    audiocodes_days: int,
) -> None:
    config = SimulationConfig(
        customers=customers, sites=sites, numbers_per_site=numbers, pool=pool, days=days, seed=seed
    )
    check_invariants(
        simulate(
            config,
            settings=Settings(auto_cooling=auto_cooling, audiocodes_cooling_days=audiocodes_days),
        )
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"customers": 0},
        {"days": 0},
        {"pool": -1},
        {"seed": -1},
        {"sites": True},
        {"numbers_per_site": "9"},
        {"customers": 1000},
        {"sites": 1000},
    ],
)
def test_a_malformed_configuration_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        SimulationConfig(**bad)  # type: ignore[arg-type]
