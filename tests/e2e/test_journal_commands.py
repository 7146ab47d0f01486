"""`numinv history`, `numinv changes` and `simulate --history`: the journal from a shell."""

from __future__ import annotations

import json

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


def test_simulate_shows_the_history_of_a_number(numinv: Numinv) -> None:
    out = numinv.ok("simulate", "--days", "40", "--history", "+44001001010")
    assert "History of +44001001010" in out
    assert " add " in out
