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

from benchmarks.cases import CASES, FULL, QUICK, Line, run
from benchmarks.estate import STORES, Store

DEFAULT_JSON = Path(__file__).parent / "results" / "latest.json"
_HEADER = ("store", "case", "measured", "reference", "figure", "target", "result")


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    sizes = QUICK if arguments.quick else FULL
    stores = STORES if arguments.store == "both" else (arguments.store,)
    cases = arguments.case or list(CASES)
    started, clock = datetime.now(UTC), time.perf_counter()
    lines: list[Line] = []
    durations: dict[str, float] = {}
    for name in stores:
        with Store(name) as store:
            for case in cases:
                start = time.perf_counter()
                found = run(store, sizes, [case])
                durations[f"{name} {case}"] = round(time.perf_counter() - start, 1)
                for line in found:
                    print(_row(line), file=sys.stderr, flush=True)
                lines += found
    elapsed = time.perf_counter() - clock
    print(_table(lines))
    print(f"\n{sum(line.passed for line in lines)} of {len(lines)} pass, in {elapsed:.0f} s")
    report = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "case_seconds": durations,
        "quick": arguments.quick,
        "machine": _machine(),
        "sizes": attrs.asdict(sizes),
        "lines": [attrs.asdict(line) | {"passed": line.passed} for line in lines],
    }
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {arguments.json}")
    return 0 if all(line.passed for line in lines) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="numinv's benchmarks: each figure is a ratio of two timings of one run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (100,000 / 1,000): a smoke run"
    )
    parser.add_argument("--store", choices=[*STORES, "both"], default="both")
    parser.add_argument(
        "--case", action="append", choices=list(CASES), help="run only this case (repeatable)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    return parser


def _cells(line: Line) -> tuple[str, ...]:
    ratio = line.figure_unit == "x"
    figure = f"{line.figure:.2f}x" if ratio else f"{line.figure:.0f} B"
    target = f"<= {line.limit:g}" + ("x" if ratio else " B")
    reference = f"{line.reference:.4g} {line.unit}" if ratio else f"{line.reference:,.0f} numbers"
    return (
        line.store,
        line.case,
        f"{line.measured:.4g} {line.unit}",
        reference,
        figure,
        target,
        "PASS" if line.passed else "FAIL",
    )


def _row(line: Line) -> str:
    return "  ".join(_cells(line))


def _table(lines: list[Line]) -> str:
    rows = [_HEADER, *(_cells(line) for line in lines)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER))]
    rendered = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    rendered.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(rendered)


def _machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.platform(),
    }


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
