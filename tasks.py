"""Run numinv's tasks from a fresh clone with nothing but Python >= 3.11.

    python3 tasks.py simulate [ARGS...]   the main job: a simulation on the in-memory store
    python3 tasks.py test [PYTEST ARGS...] the whole test suite
    python3 tasks.py lint                 ruff check, ruff format --check, mypy --strict src
    python3 tasks.py bench [ARGS...]      the benchmarks (long: minutes)

Each task creates `.venv` on first use and installs the project into it
(editable, with the `cli` and `test` extras); it reinstalls only when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".numinv-installed"


def _python() -> Path:
    return BIN / ("python.exe" if os.name == "nt" else "python")


def _ensure_environment() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and _python().exists():
        return
    if not _python().exists():
        print("creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing numinv[cli,test] into .venv ...", file=sys.stderr)
    pip = [str(_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", f"{ROOT}[cli,test]"], check=True)
    STAMP.write_text(wanted)


def _run(*command: str) -> int:
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"simulate", "test", "lint", "bench"}:
        print(__doc__, file=sys.stderr)
        return 2
    task, rest = argv[0], argv[1:]
    _ensure_environment()
    python = str(_python())
    if task == "simulate":
        return _run(python, "-m", "numinv", "simulate", *rest)
    if task == "test":
        return _run(python, "-m", "pytest", *rest)
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
