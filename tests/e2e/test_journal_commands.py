"""`numinv history`, `numinv changes` and `simulate --history`: the journal from a shell."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import SITE, Numinv


def test_history_lists_a_numbers_changes_oldest_first(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    loaded.ok("unassign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)

    rows = [json.loads(line) for line in loaded.ok("history", "4420790001", "--jsonl").splitlines()]

    assert [(row["operation"], row["after"]["status"]) for row in rows] == [
        ("add", "Available"),
        ("assign", "Used"),
        ("unassign", "Available"),
    ]
    assert [row["seq"] for row in rows] == sorted(row["seq"] for row in rows)


def test_history_as_a_table_keeps_seq_operation_and_statuses_at_80_columns(
    loaded: Numinv,
) -> None:
    loaded.ok("reserve", "4420790002", "--at", SITE, "--for", "bob")

    table = loaded.run("history", "4420790002", env={"COLUMNS": "80"}).stdout

    assert "History of 4420790002" in table
    assert "reserve" in table
    assert "Reserved (for bob)" in table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_history_of_a_number_never_loaded_says_so(loaded: Numinv) -> None:
    result = loaded.run("history", "5555")
    assert result.exit_code == 0
    assert "no changes of 5555" in result.stderr


def test_changes_prints_the_feed_after_a_seq(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420790003", "--at", SITE)

    lines = loaded.ok("changes", "--after", "25").splitlines()

    assert len(lines) == 1
    assert lines[0].startswith("26 ")
    assert "reserve 4420790003 at sys.acme.uk.london: Available -> Reserved" in lines[0]


def test_changes_as_json_lines_page_through_everything(loaded: Numinv) -> None:
    rows = [json.loads(line) for line in loaded.ok("changes", "--jsonl").splitlines()]
    assert [row["seq"] for row in rows] == list(range(1, 26))
    assert loaded.json("changes", "--after", "20", "--limit", "2", "--json")[1]["seq"] == 22


def test_changes_follow_refuses_a_json_array(loaded: Numinv) -> None:
    assert "--jsonl" in loaded.misused("changes", "--follow", "--json")


def test_changes_every_without_follow_is_a_usage_error(loaded: Numinv) -> None:
    """It was accepted and did nothing: a follower started without --follow ran once."""
    assert "give --follow too" in loaded.misused("changes", "--every", "5")


def test_simulate_shows_the_history_of_a_number(numinv: Numinv) -> None:
    out = numinv.ok("simulate", "--days", "40", "--history", "+44001001010")
    assert "History of +44001001010" in out
    assert " add " in out


def test_simulate_says_when_a_number_has_no_history(numinv: Numinv) -> None:
    """The number is not one of the simulated estate's: no empty table, a line saying so."""
    result = numinv.run("simulate", "--days", "3", "--history", "+999")
    assert result.exit_code == 0, result.output
    assert "History of" not in result.stdout
    assert result.stderr == "no changes of +999 are journaled\n"


def test_changes_follow_outlives_a_failing_store_and_misses_nothing(
    loaded: Numinv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server restart fails a read or two: the follower says so on stderr, waits, and
    asks again after the last seq it printed."""
    from numinv import Inventory, StorageError

    real = Inventory.changes
    calls: list[int] = []
    pauses: list[float] = []

    def flaky(self: Inventory, after: int = 0, limit: int = 1000) -> list[Any]:
        calls.append(after)
        if len(calls) in (2, 3):
            raise StorageError("PostgreSQL at db:5432/telephony: the connection was lost")
        if len(calls) == 5:
            raise KeyboardInterrupt  # Ctrl-C ends the follow
        return real(self, after=after, limit=10)

    monkeypatch.setattr(Inventory, "changes", flaky)
    monkeypatch.setattr("time.sleep", pauses.append)
    result = loaded.run("changes", "--follow", "--jsonl", "--every", "0.5")
    seqs = [json.loads(line)["seq"] for line in result.stdout.splitlines()]
    assert result.exit_code == 0, result.output
    assert seqs == list(range(1, 21))  # two pages of ten, none twice, none missed
    assert calls == [0, 10, 10, 10, 20]
    assert pauses == [1.0, 2.0]  # longer each time it fails
    warnings = result.stderr.splitlines()
    assert warnings == [
        "numinv: warning: PostgreSQL at db:5432/telephony: the connection was lost; "
        f"asking again in {pause:g} s"
        for pause in (1.0, 2.0)
    ]


def test_changes_without_follow_reports_a_failing_store(
    loaded: Numinv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numinv import Inventory, StorageError

    def failing(self: Inventory, after: int = 0, limit: int = 1000) -> list[Any]:
        raise StorageError("the connection was lost")

    monkeypatch.setattr(Inventory, "changes", failing)
    assert loaded.fails("changes") == "the connection was lost"


@pytest.mark.parametrize(
    ("arguments", "shown"),
    [
        (["--follow", "--every", "inf"], "inf is not in the range 0.05<=x<=3600"),
        (["--follow", "--every", "1e308"], "is not in the range 0.05<=x<=3600"),
        (["--follow", "--every", "nan"], "'nan' is not a number of seconds"),
        (["--after", str(2**63)], "is not in the range 0<=x<=9223372036854775807"),
        (["--limit", "1000001"], "1000001 is not in the range 1<=x<=1000000"),
    ],
)
def test_changes_refuses_values_out_of_range_as_usage_errors_before_printing_anything(
    loaded: Numinv, arguments: list[str], shown: str
) -> None:
    """`--every inf` printed the feed, then ended in 'a bug in numinv' (an OverflowError)."""
    result = loaded.run("changes", *arguments)
    assert result.exit_code == 2, result.output
    assert shown in result.stderr
    assert result.stdout == ""


def test_a_date_later_than_numinv_counts_to_is_a_usage_error(loaded: Numinv) -> None:
    before = loaded.record("4420790001")
    shown = loaded.misused("cool", "4420790001", "--at", SITE, "--until", "9999-12-31")
    assert "'9999-12-31' is later than 9997-04-05 00:00 UTC" in shown
    assert loaded.record("4420790001") == before


def test_simulate_refuses_an_empty_series_file_name(numinv: Numinv) -> None:
    assert "give a file name" in numinv.misused("simulate", "--series", "", "--days", "5")


def test_every_change_is_journaled_with_who_made_it(numinv: Numinv) -> None:
    """docs/cli.md: NUMINV_ACTOR, else the login name of whoever runs the command."""
    import getpass

    numinv.ok("range", "add", "1000", "--at", SITE, env={"NUMINV_ACTOR": "provisioning-job"})
    numinv.ok("reserve", "1000", "--at", SITE, env={"NUMINV_ACTOR": None})
    actors = [json.loads(line)["actor"] for line in numinv.ok("changes", "--jsonl").splitlines()]
    assert actors == ["provisioning-job", getpass.getuser()]
    assert "by provisioning-job" in numinv.ok("changes", "--limit", "1")
