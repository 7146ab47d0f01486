"""`tasks.py`: each task installs what it needs into .venv, once."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[str]]:
    """tasks.py on a copy of pyproject.toml, recording the installs it would run."""
    spec = importlib.util.spec_from_file_location("numinv_tasks", ROOT / "tasks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    venv_dir = tmp_path / ".venv"
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "VENV", venv_dir)
    monkeypatch.setattr(module, "BIN", venv_dir / "bin")
    monkeypatch.setattr(module, "STAMP", venv_dir / ".numinv-installed")
    installs: list[str] = []

    def create(self: Any, path: Path) -> None:
        (Path(path) / "bin").mkdir(parents=True)
        (Path(path) / "bin" / "python").write_text("")

    def run(command: list[str], **kwargs: Any) -> Any:
        installs.append(command[-1].rpartition("[")[2].rstrip("]"))
        return None

    monkeypatch.setattr(module.venv.EnvBuilder, "create", create)
    monkeypatch.setattr(module.subprocess, "run", run)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    return module, installs


def test_simulate_installs_only_the_cli_extra(tasks: tuple[ModuleType, list[str]]) -> None:
    module, installs = tasks
    module._ensure_environment("cli")
    assert installs == ["cli"]


def test_simulate_runs_in_the_callers_directory(
    tasks: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python3 tasks.py simulate --series s.csv` wrote s.csv into the clone."""
    module, _ = tasks
    module._ensure_environment("cli")
    ran: list[tuple[list[str], dict[str, Any]]] = []

    def run(command: list[str], **kwargs: Any) -> Any:
        ran.append((list(command), kwargs))
        return module.subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(module.subprocess, "run", run)
    assert module.main(["simulate", "--series", "s.csv"]) == 0
    ((command, kwargs),) = ran
    assert command[1:] == ["-P", "-m", "numinv", "simulate", "--series", "s.csv"]
    assert kwargs["cwd"] is None


def test_test_after_simulate_installs_the_rest_and_then_nothing_again(
    tasks: tuple[ModuleType, list[str]],
) -> None:
    module, installs = tasks
    module._ensure_environment("cli")
    module._ensure_environment("dev")
    module._ensure_environment("dev")
    module._ensure_environment("cli")
    assert installs == ["cli", "dev"]
    assert json.loads(module.STAMP.read_text())["extras"] == ["cli", "dev", "postgres", "testing"]


def test_a_changed_pyproject_installs_again(tasks: tuple[ModuleType, list[str]]) -> None:
    module, installs = tasks
    module._ensure_environment("dev")
    (module.ROOT / "pyproject.toml").write_text("# changed\n")
    module._ensure_environment("cli")
    assert installs == ["dev", "cli"]


def test_an_unknown_task_prints_the_tasks_and_exits_2(
    tasks: tuple[ModuleType, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    module, installs = tasks
    assert module.main(["frobnicate"]) == 2
    assert "python3 tasks.py simulate" in capsys.readouterr().err
    assert installs == []


def _pytest_run(
    tasks: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch, *argv: str
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The command and environment a test task runs pytest with."""
    module, _ = tasks
    module._ensure_environment("dev")
    ran: list[tuple[tuple[str, ...], dict[str, str]]] = []

    def run(*command: str, env: dict[str, str] | None = None) -> int:
        ran.append((command, env or {}))
        return 0

    monkeypatch.setattr(module, "_run", run)
    assert module.main(list(argv)) == 0
    (found,) = ran
    return found


def test_test_runs_the_whole_suite_in_one_process_at_full_size(
    tasks: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMINV_HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.delenv("NUMINV_REQUIRE_POSTGRES", raising=False)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    command, env = _pytest_run(tasks, monkeypatch, "test", "-q")
    assert command[1:] == ("-m", "pytest", "-q")
    assert env["NUMINV_HYPOTHESIS_PROFILE"] == "ci"
    assert env["NUMINV_REQUIRE_POSTGRES"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # left as the caller set it


def test_test_fails_a_postgresql_test_that_skips_whatever_the_environment_says(
    tasks: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMINV_REQUIRE_POSTGRES", "0")
    monkeypatch.setenv("NUMINV_HYPOTHESIS_PROFILE", "dev")
    _, env = _pytest_run(tasks, monkeypatch, "test")
    assert env["NUMINV_REQUIRE_POSTGRES"] == "1"
    assert env["NUMINV_HYPOTHESIS_PROFILE"] == "ci"


def test_ci_runs_the_readmes_test_command_as_written() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (written,) = [
        line for line in readme.splitlines() if line.startswith("python3 ") and "test suite" in line
    ]
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert written.partition("#")[0].strip() == "python3 tasks.py test"
    assert written in lines  # the README's line itself, character for character
    # Nothing set around it: what CI runs is what a reader of the README runs (the
    # command itself requires PostgreSQL: the tests above).
    assert not [line for line in lines if line.startswith(("export ", "NUMINV_"))]


def test_quick_spreads_over_the_cores_and_keeps_compiled_modules_in_the_venv(
    tasks: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, _ = tasks
    monkeypatch.delenv("NUMINV_HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    command, env = _pytest_run(tasks, monkeypatch, "quick", "-q")
    assert command[1:] == ("-m", "pytest", "-n", "auto", "-q")
    assert env["NUMINV_HYPOTHESIS_PROFILE"] == "dev"
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(module.VENV / "pycache")
    command, _ = _pytest_run(tasks, monkeypatch, "quick", "-n", "0")
    assert command[1:] == ("-m", "pytest", "-n", "0")


@pytest.mark.parametrize("asked", ["-h", "--help"])
def test_asking_for_help_prints_the_tasks_and_exits_0(
    tasks: tuple[ModuleType, list[str]], asked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module, installs = tasks
    assert module.main([asked]) == 0
    assert "python3 tasks.py simulate" in capsys.readouterr().out
    assert installs == []
