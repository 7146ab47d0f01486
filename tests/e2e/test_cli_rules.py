"""Rules of the command line that a mutation probe found no test protecting."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from numinv.cli.root import _schema_of, without_password
from numinv.storage.sqlite import SqliteRepository
from tests.e2e.conftest import CUSTOMER, SITE, Numinv
from tests.e2e.test_files import write


def test_changes_without_follow_prints_every_change_past_one_page(loaded: Numinv) -> None:
    # the loop stopped after the first full page of 1000, silently cutting the feed.
    loaded.ok("range", "add", "4420800000", "--count", "1200", "--at", SITE)
    last = loaded.json("changes", "--after", "1200", "--json")[-1]["seq"]
    assert last > 1000

    rows = [json.loads(line) for line in loaded.ok("changes", "--jsonl").splitlines()]
    assert [row["seq"] for row in rows] == list(range(1, last + 1))
    assert [row["seq"] for row in loaded.json("changes", "--json")] == list(range(1, last + 1))


def test_a_dry_run_audit_adding_missing_numbers_refuses_a_missing_database_and_makes_none(
    tmp_path: Path,
) -> None:
    # the dry run created a database at a mistyped path and reported a number added.
    fresh = Numinv(tmp_path / "nowhere.db")
    observed = write(tmp_path, "o.csv", "number,kind,id,hierarchy", f"4420790000,Phone,SEP1,{SITE}")

    message = fresh.fails("audit", observed, "--dry-run", "--add-missing")

    assert str(fresh.db) in message
    assert not fresh.db.exists()


def test_an_audit_without_add_missing_reports_a_number_under_another_root_as_unknown(
    loaded: Numinv, tmp_path: Path
) -> None:
    # the root guard of --add-missing refused the whole audit for that row.
    observed = write(
        tmp_path,
        "o.csv",
        "number,kind,id,hierarchy",
        f"4420790000,Phone,SEP1,{SITE}",
        "5550000,Phone,SEP2,other.root",
    )

    out = loaded.ok("audit", observed)

    assert "1 unknown observation" in out.splitlines()[0]
    assert "5550000" in out
    assert loaded.record("4420790000")["status"] == "Used"


def test_an_extra_without_a_value_is_a_usage_error_and_keeps_the_field(loaded: Numinv) -> None:
    # `--extra 3` was taken as `extra3=` and erased the field.
    loaded.ok("range", "update", "4420790000", "--at", SITE, "--extra", "3=x")

    shown = loaded.misused("range", "update", "4420790000", "--at", SITE, "--extra", "3")

    assert "'3' is not an extra field" in shown
    assert loaded.record("4420790000")["extra3"] == "x"


def test_an_extra_field_is_named_in_any_case(loaded: Numinv) -> None:
    # `--extra Extra3=x` was refused as not an extra field.
    loaded.ok("range", "update", "4420790000", "--at", SITE, "--extra", "Extra3=x")
    loaded.ok("range", "update", "4420790000", "--at", SITE, "--extra", "EXTRA4=y")

    record = loaded.record("4420790000")
    assert (record["extra3"], record["extra4"]) == ("x", "y")


def test_history_at_a_node_the_inventory_lacks_is_refused_naming_it(loaded: Numinv) -> None:
    # a mistyped node was answered as an empty history, exit 0.
    message = loaded.fails("history", "4420790000", "--at", "sys.acme.uk.paris")
    assert "sys.acme.uk.paris" in message


def test_export_over_another_name_of_the_database_is_refused_and_keeps_it(
    loaded: Numinv, tmp_path: Path
) -> None:
    # a hard link to the database was replaced by the export.
    before = loaded.ok("export", "--jsonl")
    link = tmp_path / "hard.db"
    os.link(loaded.db, link)

    assert loaded.fails("export", "-o", str(link)) == (
        f"{link} is the database itself: write to another file"
    )
    assert Numinv(link).ok("export", "--jsonl") == before


def test_range_delete_as_json_lists_the_numbers_it_skipped(loaded: Numinv) -> None:
    # the JSON lost `skipped`, so a program could not learn which numbers were left.
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)

    skip = ("--at", SITE, "--skip-unavailable", "--json")
    left = loaded.json("range", "delete", "4420790000", "--count", "3", *skip)
    none = loaded.json("range", "delete", "4420790005", "--count", "2", *skip)

    assert (left["count"], left["skipped"]) == (2, ["4420790001"])
    assert (none["count"], none["skipped"]) == (2, [])


def test_import_sniffs_json_after_leading_white_space(loaded: Numinv, tmp_path: Path) -> None:
    # a JSON file starting with a blank line was read as a CSV and refused.
    exported = loaded.ok("export", "--json")
    lines = loaded.ok("export", "--jsonl")

    copy = Numinv(tmp_path / "copy.db")
    assert copy.ok("import", "-", input="\n  " + exported) == "imported 25 records\n"
    other = Numinv(tmp_path / "other.db")
    assert other.ok("import", "-", input="\n" + lines) == "imported 25 records\n"
    assert copy.json("list", "--json") == loaded.json("list", "--json")


def test_export_to_an_upper_case_json_suffix_writes_json(loaded: Numinv, tmp_path: Path) -> None:
    # `-o OUT.JSON` wrote a CSV.
    loaded.ok("export", "-o", "OUT.JSON")

    records = json.loads((tmp_path / "OUT.JSON").read_text())

    assert len(records) == 25
    assert {record["hierarchy"] for record in records} == {SITE, CUSTOMER}


def test_a_move_in_the_feed_says_where_the_number_came_from(loaded: Numinv) -> None:
    # the text line of a move lost `from NODE`.
    loaded.ok("range", "move", "4420790000", "--at", SITE, "--to", CUSTOMER)

    line = loaded.ok("changes").splitlines()[-1]

    assert f"move 4420790000 at {CUSTOMER} from {SITE}: Available -> Available" in line


def test_history_with_limit_zero_prints_nothing(loaded: Numinv) -> None:
    # it said `no changes of N are journaled` of a number with changes.
    result = loaded.run("history", "4420790000", "--limit", "0")

    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == ("", "")
    assert loaded.ok("history", "4420790000", "--jsonl")


def test_report_takes_a_zero_share_as_a_threshold(loaded: Numinv) -> None:
    # `--below 0%` was refused as not a share from 0% to 100%.
    for n in range(20):
        loaded.ok("assign-next", "--kind", "Phone", "--id", f"p{n}", "--at", SITE)

    for given in ("0%", "0"):
        assert loaded.ok("report", "--below", given).splitlines()[-1] == (
            "2 nodes, 0 with less than 0% Available"
        )


class _Impatient(SqliteRepository):
    """A file that waits a tenth of a second, not 30, for another connection's lock."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, **{**kwargs, "timeout": 0.1})


def test_an_audit_failing_after_reading_its_file_blames_no_line_of_it(
    loaded: Numinv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the lock met while writing the fixes was reported as the file's last line.
    monkeypatch.setattr("numinv.storage.sqlite.SqliteRepository", _Impatient)
    observed = write(tmp_path, "o.csv", "number,kind,id,hierarchy", f"4420790001,Phone,SEP2,{SITE}")
    holder = sqlite3.connect(loaded.db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        message = loaded.fails("audit", observed)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert "is locked by another connection" in message
    assert "o.csv line" not in message
    assert loaded.record("4420790001")["status"] == "Available"


def test_a_password_holding_an_at_sign_is_not_shown() -> None:
    # the URL was split at the first `@`, showing the rest of the password.
    assert without_password("postgresql://ann:p@ss@db/x") == "postgresql://ann@db/x"


def test_a_percent_encoded_schema_parameter_is_taken_as_the_schema() -> None:
    # `schem%61=x` was passed on to libpq, which refuses it as an unknown parameter.
    assert _schema_of("postgresql://h/db?schem%61=x&sslmode=off") == (
        "postgresql://h/db?sslmode=off",
        "x",
    )
