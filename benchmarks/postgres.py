"""`python -m benchmarks.postgres`: PostgresRepository against hand-written psycopg, in one run.

The server is the one `NUMINV_POSTGRES_URL` names, else a throwaway cluster
started with the machine's PostgreSQL binaries (tests/postgres_server.py;
`--durable` turns fsync and synchronous commit back on there). Every figure
is a ratio of two measurements of this run, taken in alternation, medians of
several rounds; the machine is shared, so absolute times mean little.

- load: `add_range` of a million numbers against a raw COPY of the same rows
  into the same schema (target: within 2x).
- flat: `get`, `available` and `assign_next` on an estate of a million
  numbers against one of ten thousand (target: at most 1.5x), with the
  server's processes and the benchmark on cores apart where it may move them.
- assign_next from 1, 4 and 8 processes: numinv's throughput against the
  raw `FOR UPDATE SKIP LOCKED` floor (target: at least 0.5x), retries per
  number assigned (target: at most 0.1), throughput from 1 to 4 processes
  (target: rising), and SQLite's figures beside them. Beside the raw floor,
  which only marks a row used, runs hand-written code doing numinv's whole
  job (reservations, counts, holders, the journal in commit order), twice:
  as written plainly, a statement at a time, and tuned for round trips
  (three, with every write in one statement). numinv against them, and they
  against the raw floor, show what the job itself costs. Each worker makes
  `WARM_UP` calls before the clock starts, as every kind of worker does: what
  is timed is a running worker's throughput, not a new server backend loading
  its catalog caches and planning each statement its first few times (a few
  milliseconds a worker, once).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import psycopg
from tests.postgres_server import URL_VARIABLE, throwaway_server

from benchmarks.concurrency import KIND, SITE, Run, drain
from numinv import Consumer, Inventory, NumberRecord, SqliteRepository, Status, Usage, Use
from numinv.core.numbers import NumberRange, number_range
from numinv.storage.postgres import PostgresRepository

FIRST = "20000000"
_RANDOM = random.Random(14)


@attrs.frozen
class Line:
    """One figure: a ratio of two measurements of this run, and its target."""

    case: str
    measured: str
    reference: str
    figure: float
    target: str
    passed: bool


@attrs.frozen
class Sizes:
    load: int
    large: int
    small: int
    rounds: int
    calls: int
    assigns: int  # per process and run


FULL = Sizes(load=1_000_000, large=1_000_000, small=10_000, rounds=5, calls=300, assigns=150)
QUICK = Sizes(load=100_000, large=100_000, small=1_000, rounds=3, calls=100, assigns=60)


# -- schemas ----------------------------------------------------------------------


class Server:
    """Fresh schemas on one server, dropped when the run ends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schemas: list[str] = []

    def schema(self) -> str:
        self.schemas.append(f"numinv_bench_{uuid.uuid4().hex[:10]}")
        return self.schemas[-1]

    def repository(self, schema: str) -> PostgresRepository:
        return PostgresRepository(self.url, schema=schema)

    def drop(self, schema: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self.schemas.remove(schema)

    def close(self) -> None:
        for schema in list(self.schemas):
            self.drop(schema)

    def setting(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as connection:
            row = connection.execute(f"SHOW {name}").fetchone()
        return str(row[0]) if row else "?"


# -- timing --------------------------------------------------------------------------


def seconds(action: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def per_call(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def alternating(
    first: Callable[[], float], second: Callable[[], float], rounds: int
) -> tuple[float, float]:
    """Medians of `rounds` samples of each, taken in turn: a, b, b, a, a, b, ..."""
    a: list[float] = []
    b: list[float] = []
    for round_ in range(rounds):
        if round_ % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return statistics.median(a), statistics.median(b)


# -- load: add_range against a raw COPY ----------------------------------------------------


def load(server: Server, sizes: Sizes) -> list[Line]:
    count = sizes.load
    numbers = number_range(FIRST, count=count)

    def library() -> float:
        schema = server.schema()
        try:
            with server.repository(schema) as repository:
                inventory = Inventory(repository)
                elapsed = seconds(lambda: inventory.add_range(SITE, FIRST, count=count))
                if inventory.utilization(SITE)[SITE].available != count:
                    raise AssertionError("add_range did not load every number")
            return elapsed
        finally:
            server.drop(schema)

    def floor() -> float:
        schema = server.schema()
        try:
            server.repository(schema).close()  # the same tables and indexes
            return seconds(lambda: _raw_copy(server.url, schema, numbers))
        finally:
            server.drop(schema)

    reference, measured = alternating(floor, library, max(3, sizes.rounds - 2))
    figure = measured / reference
    return [
        Line(
            f"add_range {count:,} / raw COPY",
            f"{measured:.2f} s",
            f"{reference:.2f} s",
            figure,
            "<= 2x",
            figure <= 2.0,
        )
    ]


def _raw_copy(url: str, schema: str, numbers: NumberRange) -> None:
    """The rows numinv stores for a loaded range, by hand: one COPY in one transaction."""
    tail = (
        f"\t{SITE}\tAvailable\t[]\t[]\t\t\t\\N\t\\N\t[]\t\\N" + "\t" * 13 + "\t\\N\t\\N\t\\N\t1\t\n"
    )
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        table = f'"{schema}".records'
        with cursor.copy(f"COPY {table} FROM STDIN") as copy:
            batch: list[str] = []
            for number in numbers:
                batch.append(number + tail)
                if len(batch) == 4096:
                    copy.write("".join(batch))
                    batch.clear()
            copy.write("".join(batch))
        connection.commit()


# -- flat: reads and assign_next at two sizes -------------------------------------------------


@attrs.define
class Estate:
    repository: PostgresRepository
    inventory: Inventory
    numbers: NumberRange
    available: int


@contextlib.contextmanager
def estate(server: Server, size: int) -> Iterator[Estate]:
    """A node of `size` numbers, nine in ten of them used, the rest Available."""
    schema = server.schema()
    repository = server.repository(schema)
    try:
        numbers = number_range(FIRST, count=size)
        used = size * 9 // 10
        use = Use(KIND, "estate-phone", Usage.DEVICE, hierarchy=SITE)
        taken = NumberRecord(FIRST, SITE, status=Status.USED, usage=(Usage.DEVICE,), uses=(use,))
        with repository.transaction() as tx:
            tx.insert_range(number_range(FIRST, count=used), taken)
        with repository.transaction() as tx:
            free = number_range(numbers.format(numbers.start + used), count=size - used)
            tx.insert_range(free, NumberRecord(free.first, SITE))
        with psycopg.connect(server.url, autocommit=True) as connection:
            connection.execute(f'VACUUM ANALYZE "{schema}".records')
        yield Estate(repository, Inventory(repository), numbers, size - used)
    finally:
        repository.close()
        server.drop(schema)


def _server_processes(server: Server) -> list[int]:
    """The server's postmaster and its children, when the server runs on this machine."""
    with psycopg.connect(server.url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
        # Read while the backend lives: it ends with the connection.
        return _family(row[0] if row else -1)


def _family(backend: int) -> list[int]:
    """A backend's postmaster and the postmaster's children, from /proc; [] if not ours."""
    proc = Path("/proc")

    def parent(pid: int | str) -> tuple[str, int]:
        """A process's name and its parent's id, from /proc/PID/stat."""
        text = (proc / str(pid) / "stat").read_text()
        name = text[text.index("(") + 1 : text.rindex(")")]
        return name, int(text[text.rindex(")") + 2 :].split()[1])

    try:
        name, postmaster = parent(backend)
        if name != "postgres" or parent(postmaster)[0] != "postgres":
            return []  # another machine's backend: the number is some local process's
        children = []
        for entry in proc.iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError):
                    if parent(entry.name)[1] == postmaster:
                        children.append(int(entry.name))
    except (OSError, ValueError):
        return []
    return [postmaster, *children]


@contextlib.contextmanager
def cores_apart(server: Server) -> Iterator[str]:
    """The server's processes on the last core, this process on the others, while open.

    On two shared cores a call's wall time otherwise depends on whether the
    backend answering it sits on the benchmark's core (40 us a `get` here) or
    on the other (130 us), which the scheduler changes per backend, so two
    estates' pools differ by 3x whatever their sizes (docs/performance.md).
    Yields how it went: a server elsewhere, or one this user may not touch,
    is left as it is.
    """
    if not hasattr(os, "sched_setaffinity"):
        yield "cores not pinned: no sched_setaffinity here"
        return
    mine = os.sched_getaffinity(0)
    cores = sorted(mine)
    processes = _server_processes(server)
    if len(cores) < 2 or not processes:
        yield "cores not pinned: " + ("one core" if len(cores) < 2 else "the server is elsewhere")
        return
    pinned: list[tuple[int, set[int]]] = []
    try:
        for pid in processes:
            with contextlib.suppress(ProcessLookupError):
                before = os.sched_getaffinity(pid)
                os.sched_setaffinity(pid, {cores[-1]})
                pinned.append((pid, before))
        os.sched_setaffinity(0, set(cores[:-1]))
    except PermissionError:
        yield "cores not pinned: this user may not move the server's processes"
    else:
        yield f"the server on core {cores[-1]}, the benchmark on {cores[:-1]}"
    finally:
        # Back as they were; a process forked meanwhile took its parent's pinned core.
        before = dict(pinned)
        everywhere = pinned[0][1] if pinned else mine  # the postmaster's (listed first)
        for pid in _server_processes(server) if pinned else []:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.sched_setaffinity(pid, before.get(pid, everywhere))
        os.sched_setaffinity(0, mine)


def flat(server: Server, sizes: Sizes) -> list[Line]:
    lines: list[Line] = []
    with (
        estate(server, sizes.small) as small,
        estate(server, sizes.large) as large,
        cores_apart(server) as pinning,
    ):
        print(f"  flat: {pinning}", file=sys.stderr)
        cases: list[tuple[str, Callable[[Estate], float]]] = [
            ("get", lambda e: _get(e, sizes.calls)),
            ("available(limit=10)", lambda e: _available(e, sizes.calls)),
            ("assign_next", lambda e: _assign_next(e, sizes.calls)),
        ]
        for name, case in cases:
            case(small), case(large)  # warm both: prepared statements, caches
            reference, measured = alternating(
                lambda case=case: case(small), lambda case=case: case(large), sizes.rounds
            )
            figure = measured / reference
            lines.append(
                Line(
                    f"{name} {sizes.large:,} / {sizes.small:,}",
                    f"{measured * 1e6:.0f} us",
                    f"{reference * 1e6:.0f} us",
                    figure,
                    "<= 1.5x",
                    figure <= 1.5,
                )
            )
    return lines


def _get(estate: Estate, calls: int) -> float:
    numbers = estate.numbers
    wanted = iter(
        [numbers.format(numbers.start + _RANDOM.randrange(len(numbers))) for _ in range(calls)]
    )
    return per_call(lambda: estate.inventory.get(next(wanted), SITE), calls)


def _available(estate: Estate, calls: int) -> float:
    def offer() -> None:
        if len(list(estate.inventory.available(SITE, limit=10))) != 10:
            raise AssertionError("available offered fewer than 10 numbers")

    return per_call(offer, calls)


def _assign_next(estate: Estate, calls: int) -> float:
    """Seconds per `assign_next`; the numbers are given back afterwards, untimed."""
    inventory = estate.inventory
    calls = min(calls, estate.available // 2)
    consumers = [Consumer(KIND, f"new-phone-{index}", SITE) for index in range(calls)]
    given: list[tuple[str, Consumer]] = []

    def assign() -> None:
        consumer = consumers[len(given)]
        given.append((inventory.assign_next(consumer).number, consumer))

    elapsed = per_call(assign, calls)
    for number, consumer in given:
        inventory.unassign(number, consumer)
    return elapsed


# -- assign_next from several processes --------------------------------------------------------


# The hand-written references doing numinv's whole job (benchmarks/floors/postgres.py):
# as a competent programmer writes it, and tuned for round trips.
_REFERENCES = {"job": "same job by hand", "pipelined": "same job tuned by hand"}
# Untimed calls each worker makes first: PostgreSQL plans a prepared statement afresh its
# first five runs, and psycopg (the floor) prepares one at its sixth.
WARM_UP = 20


def processes(server: Server, sizes: Sizes, counts: tuple[int, ...] = (1, 4, 8)) -> list[Line]:
    pool = sizes.rounds * sum(counts) * (WARM_UP + sizes.assigns) * 2
    schemas = {kind: server.schema() for kind in ("postgres", "floor", *_REFERENCES)}
    for schema in schemas.values():
        with server.repository(schema) as repository:
            Inventory(repository).add_range(SITE, FIRST, count=pool)
    folder = Path(tempfile.mkdtemp(prefix="numinv-bench-"))
    sqlite = str(folder / "pool.db")
    with SqliteRepository(sqlite) as repository:
        Inventory(repository).add_range(SITE, FIRST, count=pool)
    runs: dict[tuple[str, int], list[Run]] = {}
    try:
        for count in counts:
            kinds = [(kind, server.url, schema) for kind, schema in schemas.items()]
            kinds.append(("sqlite", sqlite, ""))
            for round_ in range(sizes.rounds):
                order = kinds if round_ % 2 == 0 else kinds[::-1]
                for kind, where, schema in order:
                    run = drain(kind, where, schema, count, sizes.assigns, warm=WARM_UP)
                    runs.setdefault((kind, count), []).append(run)
                    print(
                        f"  {kind} x{count}: {run.per_second:.0f} numbers/s, {run.retried} retried",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        for schema in schemas.values():
            server.drop(schema)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()

    def rate(kind: str, count: int) -> float:
        return statistics.median(run.per_second for run in runs[(kind, count)])

    def retries(kind: str, count: int) -> float:
        found = runs[(kind, count)]
        return sum(run.retried for run in found) / sum(run.assigned for run in found)

    lines: list[Line] = []
    for count in counts:
        ours, theirs = rate("postgres", count), rate("floor", count)
        lines.append(
            Line(
                f"assign_next x{count} processes / SKIP LOCKED floor",
                f"{ours:.0f} /s",
                f"{theirs:.0f} /s",
                ours / theirs,
                ">= 0.5x",
                ours / theirs >= 0.5,
            )
        )
        lines.append(
            Line(
                f"assign_next x{count} processes: retries per number",
                f"{retries('postgres', count):.3f}",
                "-",
                retries("postgres", count),
                "<= 0.1",
                retries("postgres", count) <= 0.1,
            )
        )
    for kind, name in _REFERENCES.items():
        for count in counts:
            ours, job_rate = rate("postgres", count), rate(kind, count)
            theirs = rate("floor", count)
            lines.append(
                Line(
                    f"assign_next x{count} processes / {name}",
                    f"{ours:.0f} /s",
                    f"{job_rate:.0f} /s",
                    ours / job_rate,
                    "-",
                    True,
                )
            )
            lines.append(
                Line(
                    f"{name} x{count} processes / SKIP LOCKED floor",
                    f"{job_rate:.0f} /s",
                    f"{theirs:.0f} /s",
                    job_rate / theirs,
                    "-",
                    True,
                )
            )
    for kind in ("postgres", "floor", *_REFERENCES, "sqlite"):
        rising = rate(kind, 4) / rate(kind, 1)
        lines.append(
            Line(
                f"{kind} assign_next: 4 processes / 1",
                f"{rate(kind, 4):.0f} /s",
                f"{rate(kind, 1):.0f} /s",
                rising,
                "> 1x" if kind == "postgres" else "-",
                rising > 1 or kind != "postgres",
            )
        )
    for count in counts:
        sqlite_rate, theirs = rate("sqlite", count), rate("floor", count)
        lines.append(
            Line(
                f"sqlite assign_next x{count} processes / postgres floor",
                f"{sqlite_rate:.0f} /s",
                f"{theirs:.0f} /s",
                sqlite_rate / theirs,
                "-",
                True,
            )
        )
        lines.append(
            Line(
                f"sqlite assign_next x{count} processes: retries per number",
                f"{retries('sqlite', count):.3f}",
                "-",
                retries("sqlite", count),
                "-",
                True,
            )
        )
    return lines


# -- the table --------------------------------------------------------------------------------

CASES: dict[str, Callable[[Server, Sizes], list[Line]]] = {
    "load": load,
    "flat": flat,
    "processes": processes,
}


def _shown(line: Line) -> str:
    """The figure to two places, or more where two would round it onto its target's
    limit (0.4988 was shown as 0.50 beside ">= 0.5x" and FAIL)."""
    try:
        limit = float(line.target.lstrip("<>= ").rstrip("x"))
    except ValueError:  # "-": no limit
        return f"{line.figure:.2f}"
    places = 2
    while places < 6 and line.figure != limit and float(f"{line.figure:.{places}f}") == limit:
        places += 1
    return f"{line.figure:.{places}f}"


def table(lines: list[Line]) -> str:
    header = ("case", "measured", "reference", "figure", "target", "result")
    rows = [header] + [
        (
            line.case,
            line.measured,
            line.reference,
            _shown(line) + ("x" if "x" in line.target or line.target == "-" else ""),
            line.target,
            "PASS" if line.passed else ("FAIL" if line.target != "-" else ""),
        )
        for line in lines
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    rendered = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    rendered.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(rendered)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.postgres", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument("--case", action="append", choices=list(CASES), help="repeatable")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="a throwaway server with fsync and synchronous_commit on",
    )
    arguments = parser.parse_args(argv)
    sizes = QUICK if arguments.quick else FULL
    cases = arguments.case or list(CASES)
    given = os.environ.get(URL_VARIABLE)
    overrides = {"fsync": "on", "synchronous_commit": "on"} if arguments.durable else {}
    with contextlib.ExitStack() as stack:
        url = given or stack.enter_context(throwaway_server(overrides))
        server = Server(url)
        stack.callback(server.close)
        print(
            f"PostgreSQL: fsync={server.setting('fsync')}, synchronous_commit="
            f"{server.setting('synchronous_commit')}; {os.cpu_count()} cores",
            file=sys.stderr,
        )
        lines: list[Line] = []
        started = time.perf_counter()
        for case in cases:
            found = CASES[case](server, sizes)
            for line in found:
                print(f"  {line.case}: {line.figure:.2f} ({line.target})", file=sys.stderr)
            lines += found
    print(table(lines))
    targets = [line for line in lines if line.target != "-"]
    print(
        f"\n{sum(line.passed for line in targets)} of {len(targets)} targets met, "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0 if all(line.passed for line in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
