"""`python -m benchmarks`: run the cases on each store, print the table, write the JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import attrs

from benchmarks.cases import CASES, FULL, QUICK, Bench, Line, run
from benchmarks.estate import PG_SESSION, STORES, SYNCHRONOUS, Store
from benchmarks.timing import CLOCK

DEFAULT_JSON = Path(__file__).parent / "results" / "latest.json"
_HEADER = (
    "store",
    "case",
    "numinv",
    "floor",
    "numinv/floor",
    "small",
    "large/small",
    "result",
)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    sizes = QUICK if arguments.quick else FULL
    stores = STORES if arguments.store == "all" else (arguments.store,)
    cases = arguments.case or list(CASES)
    started, clock = datetime.now(UTC), time.perf_counter()
    lines: list[Line] = []
    durations: dict[str, float] = {}
    servers: dict[str, str] = {}
    for name in stores:
        with Store(name) as store:
            if name == "postgres":
                servers = store.server_settings()
                print(f"PostgreSQL: {servers}", file=sys.stderr, flush=True)
            bench = Bench(store, sizes, arguments.profile)
            try:
                for case in cases:
                    start = time.perf_counter()
                    lines += run(bench, [case], _print_line)
                    durations[f"{name} {case}"] = round(time.perf_counter() - start, 1)
            finally:
                bench.close()
    elapsed = time.perf_counter() - clock
    print(table(lines))
    print(f"\n{sum(line.passed for line in lines)} of {len(lines)} lines pass, in {elapsed:.0f} s")
    report = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "case_seconds": durations,
        "quick": arguments.quick,
        "clock": CLOCK.__name__,
        "sqlite_synchronous": SYNCHRONOUS,
        "postgres_session": PG_SESSION,
        "postgres": servers,
        "machine": machine(),
        "sizes": attrs.asdict(sizes),
        "lines": [
            attrs.asdict(line) | {"passed": line.passed, "checks": _checks(line)} for line in lines
        ],
    }
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {arguments.json}")
    return 0 if all(line.passed for line in lines) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="numinv against hand-written floors, and against itself at 100x the size.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (100,000 / 1,000): a smoke run"
    )
    parser.add_argument("--store", choices=[*STORES, "all"], default="all")
    parser.add_argument(
        "--case", action="append", choices=list(CASES), help="run only this case (repeatable)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also profile numinv's side of each case (cProfile), one text file per case in DIR",
    )
    return parser


def _checks(line: Line) -> dict[str, dict[str, float | bool]]:
    return {
        check.name: {"value": check.value, "limit": check.limit, "passed": check.passed}
        for check in line.checks
    }


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "B":
        return f"{value:,.0f} B"
    return f"{value:.4g} {unit}"


def _figure(line: Line, name: str) -> str:
    check = line.check(name)
    if check is None:
        return ""
    unit = " B" if name == "bytes" else "x"
    mark = "" if check.passed else " !"
    return f"{check.value:.2f}{unit} (<= {check.limit:g}){mark}"


def cells(line: Line) -> tuple[str, ...]:
    floor_figure = _figure(line, "numinv/floor") or _figure(line, "bytes")
    return (
        line.store,
        line.case,
        _amount(line.numinv, line.unit),
        _amount(line.floor, line.unit),
        floor_figure,
        _amount(line.small, line.unit),
        _figure(line, "large/small"),
        "PASS" if line.passed else "FAIL",
    )


def _print_line(line: Line) -> None:
    print("  ".join(cell for cell in cells(line) if cell), file=sys.stderr, flush=True)


def table(lines: list[Line]) -> str:
    rows = [_HEADER, *(cells(line) for line in lines)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER))]
    rendered = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    rendered.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(rendered)


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.platform(),
        "sqlite": _sqlite_version(),
        "load_average": _load_average(),
    }


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
