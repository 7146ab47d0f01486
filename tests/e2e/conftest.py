"""Fixtures of the end-to-end tests: the `numinv` command run in-process on a fresh SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner, Result

from numinv import Inventory
from numinv.cli.app import cli
from numinv.storage.sqlite import SqliteRepository

SITE = "sys.acme.uk.london"
CUSTOMER = "sys.acme.uk"


@attrs.define
class Numinv:
    """The command on one database file, with assertions on how a run ended.

    With `give_db=False` the root `--db` is left out (the file is then ./numinv.db).
    """

    db: Path
    give_db: bool = True

    def run(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Result:
        result = CliRunner().invoke(
            cli,
            [*(["--db", str(self.db)] if self.give_db else []), *args],
            input=input,
            # A pipe, as under pytest, whatever the terminal (pytest-xdist's workers set COLUMNS).
            env={"COLUMNS": None, "LINES": None, **(env or {})},
            catch_exceptions=True,
        )
        assert "Traceback" not in result.output
        return result

    def ok(self, *args: str, **kwargs: Any) -> str:
        """Run, expect success, return stdout."""
        result = self.run(*args, **kwargs)
        assert result.exception is None, result.output
        assert result.exit_code == 0, result.output
        return result.stdout

    def fails(self, *args: str, **kwargs: Any) -> str:
        """Run, expect a refusal: exit 1, one line `numinv: error: ...` on stderr; return it."""
        result = self.run(*args, **kwargs)
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 1, result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("numinv: error: "), lines[0]
        return lines[0].removeprefix("numinv: error: ")

    def misused(self, *args: str, **kwargs: Any) -> str:
        """Run, expect a usage error from click: exit 2 and its usage message; return stderr."""
        result = self.run(*args, **kwargs)
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 2, result.output
        assert "Usage:" in result.stderr
        return result.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))

    def record(self, number: str, at: str = SITE) -> dict[str, Any]:
        """The record as `show --json` gives it."""
        data: dict[str, Any] = self.json("show", number, "--at", at, "--json")
        return data


@pytest.fixture(autouse=True)
def _no_host_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The host's NUMINV_* variables and working directory must not leak into a test."""
    for name in (
        "NUMINV_DB",
        "NUMINV_AUTO_COOLING",
        "NUMINV_COOLING_DAYS",
        "NUMINV_AUDIOCODES_COOLING_DAYS",
        "NUMINV_TELURI_PREFIX",
        "NUMINV_PREVENT_DUPLICATES",
        "NUMINV_MAX_RANGE_SIZE",
        "NUMINV_ACTOR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def numinv(tmp_path: Path) -> Numinv:
    return Numinv(tmp_path / "numinv.db")


@pytest.fixture
def loaded(numinv: Numinv) -> Numinv:
    """A site with 4420790000..4420790019 and its customer's pool 4420799000..4420799004."""
    numinv.ok("range", "add", "4420790000", "4420790019", "--at", SITE, "--tag", "london")
    numinv.ok("range", "add", "4420799000", "--count", "5", "--at", CUSTOMER)
    return numinv


@contextmanager
def library(path: Path, **kwargs: Any) -> Iterator[Inventory]:
    """The same database through the library, for set-ups the command cannot make."""
    with SqliteRepository(path) as repository:
        yield Inventory(repository, **kwargs)
