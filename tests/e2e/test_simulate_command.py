"""`numinv simulate`: the summary table, the daily series, SQLite, and which settings apply."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from numinv import Status
from tests.e2e.conftest import Numinv


@pytest.fixture
def numinv(tmp_path: Path) -> Numinv:
    """The command without a root --db: a simulation then runs in memory."""
    return Numinv(tmp_path / "numinv.db", give_db=False)


SHAPE = (
    "--customers",
    "1",
    "--sites",
    "2",
    "--numbers-per-site",
    "30",
    "--pool",
    "5",
    "--days",
    "60",
)


def test_simulate_prints_a_summary_per_node(numinv: Numinv) -> None:
    out = numinv.ok("simulate", *SHAPE)
    for node in ("sys.sim.c001 ", "sys.sim.c001.s001", "sys.sim.c001.s002"):
        assert node in out
    assert "Exhausted (day)" in out
    assert "Activity" in out
    assert out.splitlines()[-1] == (
        "seed 1, 60 days from 2025-01-06, in memory; "
        "auto cooling 30 days, AudioCodes cooling 2 days"
    )
    assert not numinv.db.exists()  # in memory unless --db is given


def test_simulate_with_one_seed_prints_the_same_twice_and_another_seed_differs(
    numinv: Numinv,
) -> None:
    first = numinv.ok("simulate", *SHAPE, "--seed", "5")
    assert numinv.ok("simulate", *SHAPE, "--seed", "5") == first
    assert numinv.ok("simulate", *SHAPE, "--seed", "6") != first


def test_simulate_writes_the_daily_series(numinv: Numinv, tmp_path: Path) -> None:
    result = numinv.run("simulate", *SHAPE, "--series", "series.csv")
    assert result.exit_code == 0
    assert result.stderr == "daily series written to series.csv\n"
    with (tmp_path / "series.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == [
        "day", "date", "node", "Available", "Used", "Used-Utility", "Cooling", "Reserved",
        "Inactive", "failed",
    ]  # fmt: skip
    assert len(rows) == 61 * 3
    assert (rows[0]["day"], rows[0]["date"], rows[0]["node"]) == ("0", "2025-01-06", "sys.sim.c001")
    statuses = ("Available", "Used", "Used-Utility", "Cooling", "Reserved", "Inactive")
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["day"]] = totals.get(row["day"], 0) + sum(int(row[s]) for s in statuses)
    # The customer's numbers move between its nodes; the customer keeps all of them.
    assert set(totals.values()) == {5 + 2 * 30}


def test_a_series_to_dash_is_a_usage_error_not_a_file_named_dash(
    numinv: Numinv, tmp_path: Path
) -> None:
    """Stdout carries the summary: the series cannot go there too."""
    shown = numinv.misused("simulate", *SHAPE, "--series", "-")
    assert "'-' would mix the series with the summary on stdout: give a file name" in shown
    assert list(tmp_path.iterdir()) == []


def test_simulate_settings_come_from_its_options_then_the_root_options(numinv: Numinv) -> None:
    footer = numinv.ok("--no-auto-cooling", "simulate", *SHAPE).splitlines()[-1]
    assert footer.endswith("in memory; no auto cooling, AudioCodes cooling 2 days")
    footer = numinv.ok(
        "--no-auto-cooling", "--audiocodes-cooling-days", "4", "simulate", *SHAPE,
        "--auto-cooling", "--cooling-days", "7",
    ).splitlines()[-1]  # fmt: skip
    assert footer.endswith("in memory; auto cooling 7 days, AudioCodes cooling 4 days")


def test_simulate_on_sqlite_leaves_the_estate_in_the_file(numinv: Numinv, tmp_path: Path) -> None:
    in_memory = numinv.ok("simulate", *SHAPE)
    on_file = numinv.ok("simulate", *SHAPE, "--db", "sim.db")
    assert on_file.splitlines()[:-1] == in_memory.splitlines()[:-1]
    assert on_file.splitlines()[-1].startswith(
        "seed 1, 60 days from 2025-01-06, in SQLite file sim.db"
    )
    assert "sys.sim.c001.s002" in Numinv(tmp_path / "sim.db").ok("report")


def test_simulate_uses_the_root_db_only_when_given_on_the_command_line(
    numinv: Numinv, tmp_path: Path
) -> None:
    numinv.ok("simulate", *SHAPE, env={"NUMINV_DB": str(tmp_path / "env.db")})
    assert not (tmp_path / "env.db").exists()
    given = Numinv(tmp_path / "given.db")
    assert "in SQLite file" in given.ok("simulate", *SHAPE).splitlines()[-1]
    assert given.db.exists()


def test_simulate_refuses_a_database_that_holds_numbers(loaded: Numinv) -> None:
    message = Numinv(loaded.db).fails("simulate", *SHAPE)
    assert message == (
        f"SQLite file {loaded.db} already holds numbers; a simulation needs a new or empty database"
    )


def test_simulate_refuses_bad_options(numinv: Numinv) -> None:
    assert "--days" in numinv.misused("simulate", "--days", "0")
    assert "--seed" in numinv.misused("simulate", "--seed", "x")
    assert "--cooling-days" in numinv.misused("simulate", "--cooling-days", "1000")


def test_the_simulation_page_names_the_day_its_transcript_shows() -> None:
    """docs/cli.md said `from day 248` under a summary whose exhausted day is 325."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("sys.sim.c001.s001 "))
    (said,) = re.findall(r"from day (\d+) new people there found no", " ".join(page.split()))
    assert said == row.split()[-1]


def test_a_simulated_estate_larger_than_the_range_limit_is_a_usage_error(numinv: Numinv) -> None:
    """Each option was in its range and their product unbounded: 999 customers of 999
    sites ran on, and a large one ended in a MemoryError reported as a bug."""
    args = ("simulate", "--customers", "999", "--sites", "999", "--days", "1")
    message = numinv.misused(*args)
    assert "would hold 149,740,110 numbers, more than --max-range-size (1,000,000)" in message
    small = ("--customers", "2", "--sites", "2", "--numbers-per-site", "10", "--pool", "0")
    assert "Number estate" in numinv.ok("--max-range-size", "40", "simulate", *small, "--days", "2")
    assert "more than --max-range-size (39)" in numinv.misused(
        "--max-range-size", "39", "simulate", *small, "--days", "2"
    )


def test_each_simulated_nodes_statuses_add_up_to_what_it_loaded(numinv: Numinv) -> None:
    """Inactive numbers had no column: a site of 150 showed 111 in its statuses."""
    table = numinv.run("simulate", "--days", "3", env={"COLUMNS": "200"}).stdout
    header = next(line for line in table.splitlines() if line.startswith("Node"))
    assert "Inactive" in header.split()
    titles = header.split()
    statuses = [titles.index(name) for name in titles if name in {s.value for s in Status}]
    for line in table.splitlines():
        cells = line.split()
        if cells and cells[0].startswith("sys.sim."):
            loaded = int(cells[titles.index("Loaded")])
            assert sum(int(cells[i]) for i in statuses) == loaded, line
