"""The command as a whole: entry points, the optional extra, settings, and one-line errors."""

from __future__ import annotations

import os
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


def test_without_the_postgres_extra_the_library_and_command_say_what_to_install() -> None:
    """A bare `No module named 'psycopg'` traceback named no remedy, and the command line
    said to install numinv from a package index it is not on."""
    remedy = "python3 -m pip install 'psycopg[binary]' psycopg-pool"
    library = python(
        "-c",
        "import sys; sys.modules['psycopg'] = None; import numinv\n"
        "try:\n    numinv.PostgresRepository\nexcept ImportError as error:\n    print(error)",
    )
    assert "numinv's PostgreSQL store needs psycopg 3 and psycopg_pool" in library.stdout
    assert remedy in library.stdout
    command = python(
        "-c",
        "import sys, runpy; sys.modules['psycopg'] = None; "
        "runpy.run_module('numinv', run_name='__main__')",
        "--db",
        "postgresql://nobody@127.0.0.1:1/nothing",
        "report",
    )
    assert command.returncode == 1
    assert command.stderr.startswith("numinv: error: postgresql:// databases: numinv's")
    assert remedy in command.stderr
    assert command.stderr.count("\n") == 1


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
    assert message.startswith("1 number of 4420790000 already exists")
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


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        (["list"], ["--json", "--csv"]),
        (["export"], ["--jsonl", "--json"]),
        (["history", "4420790000"], ["--json", "--jsonl"]),
        (["import", "records.csv"], ["--csv", "--jsonl"]),
    ],
)
def test_two_formats_on_one_command_line_are_a_usage_error(
    loaded: Numinv, tmp_path: Path, command: list[str], flags: list[str]
) -> None:
    """`--json --csv` asks for two things; the last one used to win, silently."""
    (tmp_path / "records.csv").write_text(loaded.ok("export", "--csv"))
    before = loaded.ok("export", "--jsonl")
    shown = loaded.misused(*command, *flags)
    first, second = flags
    assert (
        f"Error: {first} and {second} ask for two formats: give one" in shown
        or f"Error: {second} and {first} ask for two formats: give one" in shown
    )
    assert loaded.ok("export", "--jsonl") == before


@pytest.mark.parametrize("conninfo", ["host=db.example dbname=numbers", "dbname=numinv"])
def test_a_keyword_connection_string_is_refused_not_made_a_sqlite_file(
    tmp_path: Path, conninfo: str
) -> None:
    """libpq's keyword form would have named a new SQLite file `host=db.example ...`."""
    shown = Numinv(Path(conninfo)).misused("range", "add", "1000", "--at", SITE)
    assert "looks like a PostgreSQL keyword connection string; give it as a URL" in shown
    assert list(tmp_path.iterdir()) == []


def test_a_file_whose_name_only_looks_like_keywords_is_still_a_file(tmp_path: Path) -> None:
    made = Numinv(tmp_path / "a=b.db")
    made.ok("range", "add", "1000", "--at", SITE)
    assert "1000" in Numinv(Path("a=b.db")).ok("list")  # the working directory: tmp_path


@pytest.mark.parametrize("command", [["list"], ["show", "1000", "--at", SITE], ["changes"]])
def test_a_command_that_reads_leaves_an_empty_file_empty(
    tmp_path: Path, command: list[str]
) -> None:
    """An empty file (made by `touch`, or a temporary file) is no database: reading it must
    not write numinv's schema into it."""
    empty = tmp_path / "empty.db"
    empty.touch()
    assert Numinv(empty).fails(*command).startswith(f"no database at {empty}")
    assert empty.stat().st_size == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.db"]


@pytest.mark.parametrize(
    "command", [["sweep"], ["audit", "observed.csv"], ["audit", "observed.csv", "--changes"]]
)
def test_sweep_and_audit_on_a_database_not_yet_made_are_refused(
    numinv: Numinv, tmp_path: Path, command: list[str]
) -> None:
    """A mistyped --db made an empty database, and `released 0 numbers` said all was well."""
    (tmp_path / "observed.csv").write_text(f"number,kind,id,hierarchy\n1000,Phone,p,{SITE}\n")
    message = numinv.fails(*command)
    assert message.startswith(f"no database at {numinv.db}")
    assert not numinv.db.exists()


def test_audit_add_missing_may_start_an_inventory(numinv: Numinv, tmp_path: Path) -> None:
    (tmp_path / "observed.csv").write_text(f"number,kind,id,hierarchy\n1000,Phone,p,{SITE}\n")
    numinv.ok("audit", "observed.csv", "--add-missing")
    assert numinv.record("1000")["status"] == "Used"


def test_a_command_that_writes_makes_its_database_in_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    Numinv(empty).ok("range", "add", "1000", "--at", SITE)
    assert Numinv(empty).json("show", "1000", "--at", SITE, "--json")["status"] == "Available"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("name", "status", "said"), [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")]
)
def test_a_signal_undoes_the_command_and_removes_the_database_it_was_making(
    tmp_path: Path, name: str, status: int, said: str
) -> None:
    """`timeout` or `docker stop` ends a command as Ctrl-C does: the load is rolled back, the
    new database removed, one error line, and the signal's status (128 + its number)."""
    import signal
    import time

    db = tmp_path / "new.db"
    command = [
        sys.executable, "-m", "numinv", "--db", str(db), "--max-range-size", "20000000",
        "range", "add", "10000000", "--count", "20000000", "--at", SITE,
    ]  # fmt: skip
    # As from a terminal: a test run started in the background by a shell (`cmd &` in a
    # script) ignores SIGINT, and a child keeps an ignored signal ignored.
    loading = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while not db.exists() and time.monotonic() < deadline and loading.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the load
    loading.send_signal(getattr(signal, name))
    out, err = loading.communicate(timeout=60)
    assert loading.returncode == status, err
    assert err == f"numinv: error: {said}\n"
    assert out == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == []


# -- a reader that goes away ---------------------------------------------------------


def numinv_into_a_closed_pipe(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command writing into a pipe whose reader is already gone (`| head -0`)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "numinv", *args],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "NUMINV_ACTOR": "ops", **(env or {})},
        )
    finally:
        os.close(writer)


def test_a_sweep_whose_reader_goes_away_is_applied_and_exits_0_quietly(loaded: Numinv) -> None:
    loaded.ok("range", "cool", "4420790000", "--count", "3", "--at", SITE, "--days", "1",
              env={"NUMINV_NOW": "2026-01-01"})  # fmt: skip
    done = numinv_into_a_closed_pipe("--db", str(loaded.db), "sweep")
    assert (done.returncode, done.stderr) == (0, "")
    assert loaded.ok("list", "--status", "Cooling", "--csv").count("\n") == 1  # the header


def test_a_simulation_whose_reader_goes_away_keeps_its_new_database(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    done = numinv_into_a_closed_pipe("simulate", "--days", "3", "--db", str(db), "--jsonl")
    assert (done.returncode, done.stderr) == (0, "")
    assert Numinv(db).ok("list", "--limit", "1", "--csv").count("\n") == 2


@pytest.mark.parametrize(
    "command", [["list"], ["export", "--jsonl"], ["report"], ["changes"], ["history", "4420790000"]]
)
def test_a_reading_command_whose_reader_goes_away_exits_0_quietly(
    loaded: Numinv, command: list[str]
) -> None:
    done = numinv_into_a_closed_pipe("--db", str(loaded.db), *command)
    assert (done.returncode, done.stderr) == (0, "")


# -- a closed standard output ------------------------------------------------------------


def numinv_with_stdout_closed(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command run by a shell that closed its standard output (`>&-`)."""
    return subprocess.run(
        ["sh", "-c", '"$@" >&-', "sh", sys.executable, "-m", "numinv", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NUMINV_ACTOR": "ops"},
    )


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell closes the descriptor")
@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["export", "--csv"],
        ["reserve", "4420790005", "--at", SITE],
        ["range", "add", "5000", "--count", "3", "--at", SITE],
        ["sweep"],
        ["simulate", "--days", "1"],
    ],
)
def test_a_closed_standard_output_is_refused_before_anything_is_done(
    loaded: Numinv, command: list[str]
) -> None:
    """`list >&-` was `unexpected AttributeError ... (a bug in numinv ...)`; `reserve >&-`
    reserved the number and then failed, `range add >&-` rolled back."""
    before = loaded.ok("export", "--jsonl")
    done = numinv_with_stdout_closed("--db", str(loaded.db), *command)
    assert (done.returncode, done.stderr) == (1, "numinv: error: standard output is closed\n")
    assert loaded.ok("export", "--jsonl") == before


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell closes the descriptor")
def test_a_closed_standard_output_makes_no_database(tmp_path: Path) -> None:
    done = numinv_with_stdout_closed("--db", str(tmp_path / "new.db"), "range", "add", "5000",
                                     "--at", SITE)  # fmt: skip
    assert (done.returncode, done.stderr) == (1, "numinv: error: standard output is closed\n")
    assert list(tmp_path.iterdir()) == []
