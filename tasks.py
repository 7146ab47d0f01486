"""Run numinv's tasks from a fresh clone with nothing but Python >= 3.11.

    python3 tasks.py simulate [ARGS...]    the main job: a simulation on the in-memory store
    python3 tasks.py test [PYTEST ARGS...] the whole test suite, at full size (what CI runs)
    python3 tasks.py quick [PYTEST ARGS...] a quick local run: fewer examples, `slow` skipped
    python3 tasks.py lint                  ruff check, ruff format --check, mypy --strict src
    python3 tasks.py bench [ARGS...]       the benchmarks (long: minutes)

`simulate` runs in the directory it is called from (relative `--series` and
`--db` paths are the caller's); the others run in the clone.

Each task creates `.venv` on first use and installs the project into it,
editable, with only the extras it needs: `simulate` the `cli` extra, the
others `dev` (everything, and the linters). `.venv/.numinv-installed` records
the pyproject.toml it installed from and the extras, so a task installs again
only when pyproject.toml changed or it needs an extra not yet there.

`test` runs everything in one process under the `ci` Hypothesis profile, and
a PostgreSQL test that cannot find or start a server fails instead of
skipping (`NUMINV_REQUIRE_POSTGRES=1`), whatever the environment says.
`quick` runs the `dev` profile across the machine's cores (pytest-xdist),
and keeps compiled modules between runs
in `.venv/pycache` even where PYTHONDONTWRITEBYTECODE is set: compiling and
rewriting the asserts of every test module again is a tenth of a quick run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".numinv-installed"
# What each extra brings, so that a task can tell whether it is already there.
INCLUDES = {"dev": {"dev", "cli", "postgres", "testing"}, "cli": {"cli"}}
NEEDS = {"simulate": "cli", "test": "dev", "quick": "dev", "lint": "dev", "bench": "dev"}
# The environment of each test task. `test` is what CI runs, so its values are set
# whatever the environment says; `quick`'s are defaults the environment may change.
PROFILES = {
    "test": {"NUMINV_HYPOTHESIS_PROFILE": "ci", "NUMINV_REQUIRE_POSTGRES": "1"},
    "quick": {"NUMINV_HYPOTHESIS_PROFILE": "dev"},
}


def _python() -> Path:
    return BIN / ("python.exe" if os.name == "nt" else "python")


def _stamp() -> dict[str, object]:
    try:
        found = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _ensure_environment(extra: str) -> None:
    """Install `.[extra]` into .venv unless the stamp says it (or more) is installed."""
    pyproject = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = _stamp()
    have = set(stamp.get("extras", [])) if stamp.get("pyproject") == pyproject else set()
    if _python().exists() and INCLUDES[extra] <= have:
        return
    if not _python().exists():
        print("creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
        have = set()
    print(f"installing numinv[{extra}] into .venv ...", file=sys.stderr)
    pip = [str(_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", f"{ROOT}[{extra}]"], check=True)
    extras = sorted(have | INCLUDES[extra])
    STAMP.write_text(json.dumps({"pyproject": pyproject, "extras": extras}) + "\n")


def _run(*command: str, env: dict[str, str] | None = None, in_clone: bool = True) -> int:
    """Run `command` in the clone, or (not `in_clone`) in the caller's directory."""
    return subprocess.run(command, cwd=ROOT if in_clone else None, env=env).returncode


def _workers(rest: list[str]) -> list[str]:
    """A quick run spreads over the machine's cores unless the arguments say otherwise."""
    given = " ".join(rest)
    if any(arg.startswith(("-n", "--numprocesses")) for arg in rest) or "no:xdist" in given:
        return []
    return ["-n", "auto"]


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):  # asked for: the tasks, on stdout
        print(__doc__)
        return 0
    if not argv or argv[0] not in NEEDS:
        print(__doc__, file=sys.stderr)
        return 2
    task, rest = argv[0], argv[1:]
    _ensure_environment(NEEDS[task])
    python = str(_python())
    if task == "simulate":
        # In the caller's directory, where relative paths (--series, --db) were meant; -P:
        # a `numinv` there is not the one imported.
        return _run(python, "-P", "-m", "numinv", "simulate", *rest, in_clone=False)
    if task in PROFILES:
        if task == "test":
            env = {**os.environ, **PROFILES[task]}
        else:
            env = {**PROFILES[task], **os.environ}
        workers: list[str] = []
        if task == "quick":
            workers = _workers(rest)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env.setdefault("PYTHONPYCACHEPREFIX", str(VENV / "pycache"))
        return _run(python, "-m", "pytest", *workers, *rest, env=env)
    if task == "bench":
        return _run(python, "-m", "benchmarks", *rest)
    for command in (
        (python, "-m", "ruff", "check", "."),
        (python, "-m", "ruff", "format", "--check", "."),
        (python, "-m", "mypy", "--strict", "src"),
    ):
        if code := _run(*command):
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
