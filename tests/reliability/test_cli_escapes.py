"""The command line answers every bad input with one line and an exit status (#13 item 6).

Refusals exit 1 with `numinv: error: ...`, usage errors exit 2; never a
traceback, never a message that calls itself a bug. Driven through click's
runner, and through real processes for what only a process has (arguments
that are not UTF-8, a closed standard input).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from numinv import Inventory
from numinv.cli.app import cli
from numinv.storage.sqlite import SqliteRepository

SITE = "sys.a"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    with SqliteRepository(tmp_path / "n.db") as repository:
        Inventory(repository).add_range(SITE, "1000", count=5)
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "deep.jsonl").write_text("[" * 100_000 + "\n")
    (tmp_path / "sup.csv").write_text("number,hierarchy,version\n1000,sys.b,²\n")
    (tmp_path / "long.csv").write_text("number,hierarchy,version\n1000,sys.b," + "9" * 5000 + "\n")
    (tmp_path / "bad.csv").write_bytes(b"number,hierarchy\n\xff\xfe,sys.b\n")
    (tmp_path / "big.jsonl").write_text(
        '{"number":"1000","hierarchy":"sys.b","version":9' + "9" * 19 + "}\n"
    )
    (tmp_path / "text.db").write_text("not a database " * 100)
    foreign = sqlite3.connect(tmp_path / "foreign.db")
    foreign.execute("CREATE TABLE t (x)")
    foreign.commit()
    foreign.close()
    return tmp_path


CASES: list[tuple[str, ...]] = [
    ("range", "add", "2000", "--at", "sys.\udcff"),
    ("range", "add", "2000", "--at", SITE, "--tag", "\udcff"),
    ("range", "add", "2000", "--at", SITE, "--count", "9" * 30),
    ("range", "add", "2000", "--at", "." * 600),
    ("import", "{dir}/deep.json"),
    ("import", "{dir}/deep.jsonl"),
    ("import", "{dir}/sup.csv"),
    ("import", "{dir}/long.csv"),
    ("import", "{dir}/bad.csv"),
    ("import", "{dir}/big.jsonl"),
    ("audit", "{dir}/deep.json"),
    ("--db", "{dir}/text.db", "list"),
    ("--db", "{dir}/foreign.db", "list"),
    ("--db", "{dir}", "list"),
    ("--db", "{dir}/none/n.db", "list"),
    ("cool", "1000", "--at", SITE, "--until", "9999-12-31T23:59"),
    ("cool", "1000", "--at", SITE, "--until", "0001-01-01T00:00+14:00"),
    ("cool", "1000", "--at", SITE, "--until", "9999-12-31T23:59-14:00"),
    ("list", "--after", "\udcff"),
    ("list", "--after", "1000@"),
    ("list", "--after", "1000@sys.\udcff"),
    ("--max-range-size", "9" * 30, "list"),
    ("assign", "1000", "--kind", "Phone", "--id", "\udcff", "--at", SITE),
    ("show", "1000", "--at", "s" * 20_000),
    ("reserve", "1000", "--at", SITE, "--days", "9" * 30),
    ("--db", "file:{dir}/n.db?mode=ro", "range", "add", "2000", "--at", SITE),
    ("simulate", "--days", "9" * 30),
]


@pytest.mark.parametrize("args", CASES, ids=lambda args: " ".join(args)[:50])
def test_a_bad_command_line_gets_one_line_and_an_exit_status(
    files: Path, args: tuple[str, ...]
) -> None:
    argv = [arg.replace("{dir}", str(files)) for arg in args]
    if argv[0] != "--db":
        argv = ["--db", str(files / "n.db"), *argv]
    result = CliRunner().invoke(cli, argv)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert "a bug in numinv" not in result.stderr
    if result.exit_code == 1:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("numinv: error: ")


def _numinv(*args: bytes | str, stdin: int | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "numinv", *args],
        stdin=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX arguments and descriptors")
def test_a_real_process_refuses_arguments_that_are_not_utf8_in_one_line(files: Path) -> None:
    done = _numinv(b"--db", str(files / "n.db").encode(), b"show", b"1000", b"--at", b"sys.\xff")
    assert done.returncode == 1
    assert done.stderr.count(b"\n") == 1
    assert b"Traceback" not in done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX arguments and descriptors")
def test_a_real_process_reading_a_closed_stdin_is_a_usage_error(files: Path) -> None:
    done = _numinv("--db", str(files / "n.db"), "import", "-", "--json", stdin=subprocess.DEVNULL)
    assert done.returncode == 1  # an empty stdin: not JSON
    closed = subprocess.run(
        f"{sys.executable} -m numinv --db {files / 'n.db'} import - --json <&-",
        shell=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert closed.returncode == 2
    assert b"Traceback" not in closed.stderr
    assert b"a bug in numinv" not in closed.stderr
