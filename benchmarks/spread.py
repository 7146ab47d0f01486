"""`python -m benchmarks.spread A.json B.json C.json`: each figure's median and range over runs.

Reads the JSON files that `python -m benchmarks --json ...` wrote and prints
one Markdown table: per store and case, each check's value in every run,
the median and the spread (lowest to highest), and whether the median meets
the target.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def spread(paths: list[Path]) -> str:
    runs = [json.loads(path.read_text()) for path in paths]
    figures: dict[tuple[str, str, str], list[float]] = {}
    limits: dict[tuple[str, str, str], float] = {}
    for run in runs:
        for line in run["lines"]:
            for name, check in line["checks"].items():
                key = (line["store"], line["case"], name)
                figures.setdefault(key, []).append(check["value"])
                limits[key] = check["limit"]
    rows = [("store", "case", "figure", "runs", "median", "spread", "target", "median meets it")]
    for key, values in figures.items():
        store, case, name = key
        unit = " B" if name == "bytes" else "x"
        middle = statistics.median(values)
        rows.append(
            (
                store,
                case,
                name,
                ", ".join(f"{value:.2f}" for value in values),
                f"{middle:.2f}{unit}",
                f"{min(values):.2f} - {max(values):.2f}",
                f"<= {limits[key]:g}{unit}",
                "yes" if middle <= limits[key] else "NO",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    rendered = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    rendered.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(rendered)


def main(argv: list[str] | None = None) -> int:
    paths = [Path(argument) for argument in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    print(spread(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
