"""The command as a whole: entry points, the optional extra, settings, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from numinv import __version__
from tests.e2e.conftest import SITE, Numinv


def python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)


def test_python_dash_m_numinv_runs_the_command() -> None:
    done = python("-m", "numinv", "--version")
    assert (done.returncode, done.stdout) == (0, f"numinv, version {__version__}\n")


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    hide_rich = (
        "import sys, runpy; sys.modules['rich'] = None; "
        "runpy.run_module('numinv', run_name='__main__')"
    )
    done = python("-c", hide_rich, "--help")
    assert done.returncode == 1
    assert done.stderr == (
        "numinv: error: the command line needs click and rich (numinv's cli extra): "
        "python3 -m pip install click rich\n"
    )


def test_importing_numinv_imports_neither_click_nor_rich() -> None:
    code = (
        "import sys, numinv, numinv.simulation, numinv.serialization, numinv.storage.sqlite; "
        "print(sorted(m for m in ('click', 'rich') if m in sys.modules))"
    )
    assert python("-c", code).stdout == "[]\n"


def test_help_lists_every_command(numinv: Numinv) -> None:
    out = numinv.ok("--help")
    for command in (
        "range", "list", "show", "assign", "assign-next", "unassign", "reserve", "unreserve",
        "cool", "release", "sweep", "e164", "service", "audit", "export", "import", "report",
        "simulate",
    ):  # fmt: skip
        assert f"  {command} " in out, command
    assert "NUMINV_AUTO_COOLING" in out


def test_an_unknown_command_is_a_usage_error(numinv: Numinv) -> None:
    assert "No such command 'frobnicate'" in numinv.misused("frobnicate")


def test_a_bad_setting_is_a_usage_error_on_the_command_line_and_in_the_environment(
    numinv: Numinv,
) -> None:
    assert "--cooling-days" in numinv.misused("--cooling-days", "0", "list")
    stderr = numinv.misused("list", env={"NUMINV_COOLING_DAYS": "many"})
    assert "'many' is not a valid integer" in stderr


def test_settings_come_from_the_environment(loaded: Numinv) -> None:
    env = {"NUMINV_PREVENT_DUPLICATES": "1"}
    message = loaded.fails("range", "add", "4420790000", "--at", "sys.other", env=env)
    assert message.startswith("1 numbers of 4420790000 already exist")
    assert (
        loaded.ok("range", "add", "4420790000", "--at", "sys.other")
        == "added 1 number at sys.other (a new node)\n"
    )


def test_the_database_comes_from_numinv_db(tmp_path: Path) -> None:
    numinv = Numinv(tmp_path / "env.db", give_db=False)
    numinv.ok("range", "add", "1000", "--at", SITE, env={"NUMINV_DB": str(tmp_path / "env.db")})
    assert (tmp_path / "env.db").exists()
    numinv.ok("range", "add", "1000", "--at", SITE)
    assert (tmp_path / "numinv.db").exists()  # the default, in the working directory


def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("shopping list\n" * 100)
    message = Numinv(tmp_path / "notes.db").fails("range", "add", "1000", "--at", SITE)
    assert message.startswith(f"cannot open '{tmp_path / 'notes.db'}' as a numinv database")


def test_a_database_in_a_missing_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    message = Numinv(tmp_path / "no" / "such.db").fails("range", "add", "1000", "--at", SITE)
    assert "cannot open" in message


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    assert "is a directory" in Numinv(tmp_path).misused("list")


@pytest.mark.parametrize(
    "args",
    [
        ("show", "12 34", "--at", SITE),
        ("show", "1000", "--at", " sys"),
        ("assign", "", "--kind", "Phone", "--id", "x", "--at", SITE),
        ("e164", "add", "1000", "+", "--at", SITE),
        ("list", "--after", "x@y"),
    ],
)
def test_bad_input_never_shows_a_traceback(loaded: Numinv, args: tuple[str, ...]) -> None:
    loaded.fails(*args)


def test_on_a_terminal_long_work_shows_progress_on_stderr_only(
    numinv: Numinv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = Numinv(tmp_path / "unused.db", give_db=False)
    quiet = in_memory.ok("simulate", "--customers", "1", "--sites", "1", "--days", "5")
    monkeypatch.setattr("numinv.cli.render.interactive", lambda: True)
    numinv.ok("range", "add", "1000", "--count", "50", "--at", SITE)
    exported = numinv.run("export", "-o", "all.csv")
    assert exported.stdout == ""
    assert "exported 50 records to all.csv" in exported.stderr
    assert Numinv(tmp_path / "copy.db").ok("import", "all.csv") == "imported 50 records\n"
    observed = tmp_path / "o.csv"
    observed.write_text(f"number,kind,id,hierarchy\n1000,Phone,p,{SITE}\n")
    assert numinv.ok("audit", str(observed)).startswith("Audit of the whole inventory (fixed)")
    shown = in_memory.run("simulate", "--customers", "1", "--sites", "1", "--days", "5")
    assert shown.stdout == quiet
