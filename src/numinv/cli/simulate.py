"""`numinv simulate`: run `numinv.simulation` and show its summary (and write its series)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click
from rich import box
from rich.table import Column, Table
from rich.text import Text

from numinv import Inventory, Settings, Status
from numinv.cli.render import count_column, node_column, out, progress
from numinv.cli.root import Failure, Session, open_repository, pass_session
from numinv.simulation import SimulationConfig, SimulationResult, simulate

if TYPE_CHECKING:
    from numinv.storage.sqlite import SqliteRepository

__all__ = ["simulate_command"]

_DEFAULTS = SimulationConfig()
# A simulation shows cooling at work unless told otherwise.
_SIMULATION_SETTINGS = {"auto_cooling": True}


def _settings(session: Session, given: dict[str, Any]) -> Settings:
    """Simulation defaults, then the root's settings given explicitly, then simulate's own."""
    chosen = {**_SIMULATION_SETTINGS, **session.explicit, **given}
    return attrs.evolve(session.settings, **chosen)


def _summary(result: SimulationResult) -> Table:
    statuses = list(Status)
    counted = ("Loaded", *(str(s) for s in statuses), "Failed", "Exhausted (day)")
    width = len(str(max(max(node.loaded, node.failed) for node in result.summary)))
    table = Table(
        node_column(node.node for node in result.summary),
        "Role",
        *(count_column(header, width) for header in counted),
        title=f"Number estate after {result.config.days} days",
        box=box.SIMPLE_HEAD,
    )
    for node in result.summary:
        exhausted = "" if node.exhausted_on is None else str(node.exhausted_on)
        table.add_row(
            Text(node.node),
            node.role,
            str(node.loaded),
            *(str(node.counts.get(s, 0)) for s in statuses),
            str(node.failed) if node.failed else "",
            Text(exhausted, style="bold red"),
        )
    return table


def _activity(result: SimulationResult) -> Table:
    table = Table(
        "What happened", Column("Times", justify="right"), title="Activity", box=box.SIMPLE_HEAD
    )
    for what, times in result.activity.items():
        table.add_row(what, str(times))
    return table


def write_series(result: SimulationResult, path: Path) -> None:
    """The daily series as CSV: day, date, node, the count in each status, failed assignments."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["day", "date", "node", *(str(s) for s in Status), "failed"])
        for row in result.series:
            counts = [row.counts.get(status, 0) for status in Status]
            writer.writerow([row.day, row.date.isoformat(), row.node, *counts, row.failed])


@click.command("simulate")
@click.option(
    "--customers", type=click.IntRange(1, 999), default=_DEFAULTS.customers, show_default=True
)
@click.option(
    "--sites",
    type=click.IntRange(1, 999),
    default=_DEFAULTS.sites,
    show_default=True,
    help="Sites per customer.",
)
@click.option(
    "--numbers-per-site",
    type=click.IntRange(1, 10**6),
    default=_DEFAULTS.numbers_per_site,
    show_default=True,
)
@click.option(
    "--pool",
    type=click.IntRange(0, 10**6),
    default=_DEFAULTS.pool,
    show_default=True,
    help="Numbers in each customer's shared pool.",
)
@click.option("--days", type=click.IntRange(1, 36500), default=_DEFAULTS.days, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=_DEFAULTS.seed, show_default=True)
@click.option(
    "--auto-cooling/--no-auto-cooling",
    default=None,
    help="Cool numbers people leave behind (default: on, unless the root option says).",
)
@click.option("--cooling-days", type=click.IntRange(1, 999), help="Default: the root setting.")
@click.option(
    "--audiocodes-cooling-days", type=click.IntRange(1, 999), help="Default: the root setting."
)
@click.option(
    "--series",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the daily series to this CSV file.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run on this (new or empty) SQLite file instead of in memory.",
)
@pass_session
def simulate_command(
    session: Session,
    customers: int,
    sites: int,
    numbers_per_site: int,
    pool: int,
    days: int,
    seed: int,
    series: Path | None,
    db: Path | None,
    auto_cooling: bool | None,
    cooling_days: int | None,
    audiocodes_cooling_days: int | None,
) -> None:
    """Simulate a provider's estate: people joining and leaving, devices, reservations.

    Builds customers with a shared pool and sites, loads numbers, then runs
    one step per simulated day with a seeded random generator: the same
    options give the same result. Runs in memory unless --db is given (the
    root --db counts only when given on the command line, never NUMINV_DB).

    \b
    numinv simulate --days 730 --seed 7 --series series.csv
    """
    config = SimulationConfig(
        customers=customers,
        sites=sites,
        numbers_per_site=numbers_per_site,
        pool=pool,
        days=days,
        seed=seed,
    )
    given = {
        "auto_cooling": auto_cooling,
        "cooling_days": cooling_days,
        "audiocodes_cooling_days": audiocodes_cooling_days,
    }
    settings = _settings(
        session, {name: value for name, value in given.items() if value is not None}
    )
    path = db or (session.db if session.db_given else None)
    repository = None if path is None else _empty_repository(path)
    with progress() as bar:
        task = bar.add_task("Simulating", total=days + 1)
        result = simulate(
            config,
            settings=settings,
            repository=repository,
            on_day=lambda day: bar.update(task, completed=day + 1),
        )
    console = out()
    console.print(_summary(result))
    console.print(_activity(result))
    where = f"SQLite file {path}" if path is not None else "memory"
    cooling_text = (
        f"auto cooling {settings.cooling_days} days" if settings.auto_cooling else "no auto cooling"
    )
    click.echo(
        f"seed {seed}, {days} days from {result.date_of(0).isoformat()}, in {where}; "
        f"{cooling_text}, AudioCodes cooling {settings.audiocodes_cooling_days} days"
    )
    if series is not None:
        write_series(result, series)
        click.echo(f"daily series written to {series}", err=True)


def _empty_repository(path: Path) -> SqliteRepository:
    """The SQLite file to simulate on, open until the command ends; refused if it holds numbers."""
    repository = click.get_current_context().with_resource(open_repository(path))
    if next(Inventory(repository).search(limit=1), None) is not None:
        raise Failure(f"{path} already holds numbers; a simulation needs a new or empty database")
    return repository
