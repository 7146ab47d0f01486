"""`numinv simulate`: run `numinv.simulation` and show its summary (and write its series)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from numinv import Status
from numinv.cli.errors import Failure
from numinv.cli.files import atomic_output, refuse_the_database
from numinv.cli.output import formats, quantity, write_document, write_lines
from numinv.cli.render import Col, fitted, inactive_if_any, out, progress
from numinv.cli.root import Session, command, pass_session
from numinv.simulation import SimulationConfig, SimulationResult, simulate

__all__ = ["simulate_command"]

_DEFAULTS = SimulationConfig()
# A simulation shows cooling at work unless told otherwise.
_SIMULATION_SETTINGS = {"auto_cooling": True}


def _summary(result: SimulationResult, width: int) -> Any:
    """Per node: what it loaded, its statuses at the end, failures and the day it ran out."""
    statuses = [Status.AVAILABLE, Status.USED, Status.USED_UTILITY, Status.COOLING]
    statuses += [Status.RESERVED, *inactive_if_any(node.counts for node in result.summary)]
    ranks = {Status.AVAILABLE: 2, Status.USED: 3, Status.COOLING: 4, Status.RESERVED: 6}
    columns = [  # shown as: node, role, loaded, statuses, outcome; higher ranks drop first
        Col("Node"),
        Col("Role", 8),
        Col("Loaded", 5, justify="right"),
        *(Col(str(status), ranks.get(status, 7), justify="right") for status in statuses),
        Col("Failed", 1, justify="right"),
        Col("Exhausted (day)", justify="right", wrap=True),
    ]
    rows = [
        [
            Text(node.node),
            Text(node.role),
            Text(str(node.loaded)),
            *(Text(str(node.counts.get(status, 0))) for status in statuses),
            Text(str(node.failed) if node.failed else ""),
            Text("" if node.exhausted_on is None else str(node.exhausted_on), style="bold red"),
        ]
        for node in result.summary
    ]
    return fitted(
        columns,
        rows,
        width,
        title=f"Number estate after {quantity(result.config.days, 'day')}",
    )


def _activity(result: SimulationResult, width: int) -> Any:
    rows = [(Text(what), Text(str(times))) for what, times in result.activity.items()]
    return fitted(
        (Col("What happened"), Col("Times", justify="right")), rows, width, title="Activity"
    )


def _document(result: SimulationResult, where: str) -> dict[str, Any]:
    settings = result.settings
    return {
        "config": {
            "customers": result.config.customers,
            "sites": result.config.sites,
            "numbers_per_site": result.config.numbers_per_site,
            "pool": result.config.pool,
            "days": result.config.days,
            "seed": result.config.seed,
        },
        "settings": {
            "auto_cooling": settings.auto_cooling,
            "cooling_days": settings.cooling_days,
            "audiocodes_cooling_days": settings.audiocodes_cooling_days,
        },
        "start": result.date_of(0).isoformat(),
        "store": where,
        "nodes": [
            {
                "hierarchy": node.node,
                "role": node.role,
                "loaded": node.loaded,
                "counts": {str(status): node.counts.get(status, 0) for status in Status},
                "failed": node.failed,
                "exhausted_on": node.exhausted_on,
            }
            for node in result.summary
        ],
        "activity": dict(result.activity),
        "history": [_change(change) for change in result.history],
    }


def _change(change: Any) -> dict[str, Any]:
    from numinv.cli.journal import change_data

    return change_data(change)


def write_series(result: SimulationResult, path: Path) -> None:
    """The daily series as CSV: day, date, node, the count in each status, failed assignments."""
    with atomic_output(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["day", "date", "node", *(str(s) for s in Status), "failed"])
        for row in result.series:
            counts = [row.counts.get(status, 0) for status in Status]
            writer.writerow([row.day, row.date.isoformat(), row.node, *counts, row.failed])


@command("simulate")
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
    "--series",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    callback=lambda ctx, param, value: _named(value),
    help="Write the daily series to this CSV file.",
)
@click.option(
    "--history",
    "number",
    metavar="NUMBER",
    help="At the end, show the history of NUMBER (e.g. +44001001000).",
)
@formats(json_help="Write the summary and activity as JSON.")
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
    number: str | None,
    fmt: str | None,
) -> None:
    """Simulate a number estate.

    A provider's customers, each with a shared pool and sites; people join
    and leave, devices go offline and come back, numbers are reserved. One
    step per simulated day with a seeded random generator: the same options
    give the same result. Auto cooling is on unless --no-auto-cooling is
    given. Runs in memory unless --db is given on the command line (never
    NUMINV_DB, so a simulation never writes into the inventory of the
    environment); the file must be new or empty.

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
    settings = session.settings(**_SIMULATION_SETTINGS)
    estate = customers * (sites * numbers_per_site + pool)
    if estate > settings.max_range_size:  # each option in range, their product unbounded
        raise click.UsageError(
            f"the simulated estate would hold {estate:,} numbers, more than "
            f"--max-range-size ({settings.max_range_size:,}): give fewer customers, sites "
            "or numbers, or a larger --max-range-size"
        )
    if series is not None and session.db_given:
        refuse_the_database(series, session)
    path = session.db if session.db_given else None
    repository = None if path is None else _empty_repository(session)
    with progress() as bar:
        task = bar.add_task("Simulating", total=days + 1)
        result = simulate(
            config,
            settings=settings,
            repository=repository,
            on_day=lambda day: bar.update(task, completed=day + 1),
            history=number,
        )
    where = session.shown if path is not None else "memory"
    if series is not None:
        write_series(result, series)
    if fmt == "json":
        write_document(_document(result, where), fmt)
    elif fmt == "jsonl":
        document = _document(result, where)
        write_lines({"type": "node", **node} for node in document["nodes"])
        write_lines([{"type": "activity", **document["activity"]}])
        if number is not None:
            from numinv.cli.journal import change_data

            write_lines({"type": "change", **change_data(c)} for c in result.history)
    else:
        console = out()
        console.print(_summary(result, console.width))
        console.print(_activity(result, console.width))
        if number is not None and not result.history:
            click.echo(f"no changes of {number} are journaled", err=True)
        elif number is not None:
            from numinv.cli.journal import history_table

            title = f"History of {number}"
            console.print(history_table(result.history, console.width, title=title))
        cooling_text = (
            f"auto cooling {quantity(settings.cooling_days, 'day')}"
            if settings.auto_cooling
            else "no auto cooling"
        )
        click.echo(
            f"seed {seed}, {quantity(days, 'day')} from {result.date_of(0).isoformat()}, "
            f"in {where}; {cooling_text}, "
            f"AudioCodes cooling {quantity(settings.audiocodes_cooling_days, 'day')}"
        )
    if series is not None:
        click.echo(f"daily series written to {series}", err=True)


def _named(path: Path | None) -> Path | None:
    """A file name: not the empty one (which names the working directory), nor `-`, which
    would mix the series with the summary that stdout carries."""
    if path is not None and str(path) in ("", "."):
        raise click.BadParameter("give a file name", param_hint="--series")
    if path is not None and str(path) == "-":
        raise click.BadParameter(
            "'-' would mix the series with the summary on stdout: give a file name",
            param_hint="--series",
        )
    return path


def _empty_repository(session: Session) -> Any:
    """The database to simulate on, open until the command ends; refused if it holds numbers."""
    inventory = session.inventory()
    if next(inventory.search(limit=1), None) is not None:
        raise Failure(
            f"{session.shown} already holds numbers; a simulation needs a new or empty database"
        )
    return inventory.repository
