"""`numinv export`, `import` and `audit`: records and observations through files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import CUSTOMER, SITE, Numinv


@pytest.fixture
def busy(loaded: Numinv) -> Numinv:
    """The loaded site with every status, uses, E.164 numbers and free text."""
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    loaded.ok("assign", "4420790001", "--kind", "HuntPilot", "--id", "hp", "--at", SITE, "--shared")
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE, "--primary")
    loaded.ok(
        "reserve", "4420790002", "--at", SITE, "--days", "9", "--for", "bob", "--notes", "=1+1"
    )
    loaded.ok("assign", "4420790003", "--kind", "audiocodes", "--id", "gw", "--at", SITE)
    loaded.ok("unassign", "4420790003", "--kind", "audiocodes", "--id", "gw", "--at", SITE)
    loaded.ok(
        "range", "update", "4420799000", "--count", "2", "--at", CUSTOMER, "--extra", "2=+1 x"
    )
    return loaded


@pytest.mark.parametrize("name", ["all.csv", "all.json"])
def test_export_then_import_into_a_new_database_gives_the_same_records(
    busy: Numinv, tmp_path: Path, name: str
) -> None:
    result = busy.run("export", "-o", name)
    assert result.exit_code == 0
    assert result.stderr == f"exported 25 records to {name}\n"
    copy = Numinv(tmp_path / "copy.db")
    assert copy.ok("import", name) == "imported 25 records\n"
    assert copy.json("list", "--json") == busy.json("list", "--json")


def test_export_writes_json_for_a_json_file_and_csv_to_stdout(busy: Numinv, tmp_path: Path) -> None:
    busy.ok("export", "-o", "x.json")
    assert (tmp_path / "x.json").read_text().startswith("[\n{")
    assert busy.ok("export", "--at", CUSTOMER, "--only").startswith("number,hierarchy,status")
    assert len(busy.ok("export", "--at", CUSTOMER, "--only").splitlines()) == 6


def test_import_from_stdin(busy: Numinv, tmp_path: Path) -> None:
    exported = busy.ok("export", "--json")
    copy = Numinv(tmp_path / "copy.db")
    assert copy.ok("import", "--json", "-", input=exported) == "imported 25 records\n"


def test_import_is_all_or_nothing(busy: Numinv, tmp_path: Path) -> None:
    busy.ok("export", "-o", "all.csv")
    copy = Numinv(tmp_path / "copy.db")
    copy.ok("range", "add", "4420790019", "--at", SITE)
    message = copy.fails("import", "all.csv")
    assert message.startswith("1 imported number already exists in their line of descent")
    assert len(copy.json("list", "--json")) == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.json", "not json", "not JSON: Expecting value"),
        ("bad.json", '{"number": "1"}', "a JSON export is an array of records"),
        ("bad.json", '[{"number": "1"}]', "not a number record: the field 'hierarchy' is missing"),
        (
            "bad.csv",
            "a,b\n1,2\n",
            "a CSV of records needs at least the columns number and hierarchy",
        ),
        (
            "bad.csv",
            "number,hierarchy,status\n1x,sys.a,Available\n",
            "'1x' is not a directory number",
        ),
        ("bad.csv", "number,hierarchy,status\n1,sys.a,Free\n", "CSV line 2: not a number record"),
        (  # a record the lifecycle could not make is refused as read, with its line
            "bad.csv",
            "number,hierarchy,status\n1,sys.a,Available\n2,sys.a,Used\n",
            "CSV line 3: '2' at 'sys.a': uses must be present exactly when the status is in use",
        ),
        (
            "bad.jsonl",
            '{"number": "1", "hierarchy": "sys.a"}\n'
            '{"number": "2", "hierarchy": "sys.a", "status": "Cooling"}\n',
            "line 2: '2' at 'sys.a': release_date must be set while Cooling",
        ),
    ],
)
def test_import_refuses_malformed_files_in_one_line(
    numinv: Numinv, tmp_path: Path, name: str, content: str, expected: str
) -> None:
    (tmp_path / name).write_text(content)
    assert expected in numinv.fails("import", name)


def test_import_refuses_a_file_that_is_not_text(numinv: Numinv, tmp_path: Path) -> None:
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x01")
    assert numinv.fails("import", "bin.csv").startswith("the input is not UTF-8 text")


def test_import_of_a_missing_file_is_a_usage_error(numinv: Numinv) -> None:
    assert "'missing.csv' does not exist" in numinv.misused("import", "missing.csv")


def write(tmp_path: Path, name: str, *rows: str) -> str:
    (tmp_path / name).write_text("\n".join(rows) + "\n")
    return name


def test_audit_records_observed_uses_and_removes_the_others(busy: Numinv, tmp_path: Path) -> None:
    observed = write(
        tmp_path,
        "observed.csv",
        "number,kind,id,hierarchy,vendor",
        f"4420790001,Phone,SEP1,{SITE},",
        f"4420790005,device/cucm/Phone,SEP5,{SITE},",
        f"4420790009,PRS_MultiVendorPhone_DAT,v9,{SITE},Yealink",
        f"4420790777,Phone,SEP7,{SITE},",
    )
    out = busy.ok("audit", observed)
    first = out.splitlines()[0]
    assert first.startswith("Audit of the whole inventory (fixed): 25 records examined, 3 changed")
    assert "1 unknown observation" in first
    assert f"Unknown:\n  4420790777 used by device/cucm/Phone 'SEP7' at {SITE}" in out
    assert busy.record("4420790001")["usage"] == ["Device"]  # the hunt pilot was not seen
    assert busy.record("4420790009")["vendor"] == "Yealink"
    assert busy.record("4420790005")["status"] == "Used"


def test_audit_dry_run_writes_nothing_and_lists_the_changes(busy: Numinv, tmp_path: Path) -> None:
    observed = write(tmp_path, "o.csv", "number,kind,id,hierarchy", f"4420790005,Phone,SEP5,{SITE}")
    before = busy.json("list", "--json")
    out = busy.ok("audit", observed, "--dry-run", "--changes")
    assert "(dry run, nothing written)" in out
    assert "use recorded" in out
    assert "use removed" in out
    assert busy.json("list", "--json") == before


def test_audit_add_missing_adds_the_observed_number_at_the_audit_node(
    busy: Numinv, tmp_path: Path
) -> None:
    observed = write(tmp_path, "o.csv", "number,kind,id,hierarchy", f"5550000,Phone,SEP5,{SITE}")
    out = busy.ok("audit", observed, "--at", CUSTOMER, "--add-missing")
    assert "number added: 1" in out
    assert busy.record("5550000")["hierarchy"] == CUSTOMER


def test_audit_add_missing_needs_new_root_for_numbers_under_a_new_root(
    busy: Numinv, tmp_path: Path
) -> None:
    """One mistyped hierarchy in a sync file (`sy.a` for `sys.a`) started a tree of its own,
    and that tree then let every later typo through `range add`'s guard."""
    observed = write(tmp_path, "o.csv", "number,kind,id,hierarchy", "5550000,Phone,p3,sy.a.lon")
    before = busy.json("list", "--json")
    message = busy.fails("audit", observed, "--add-missing")
    assert message == (
        "o.csv line 2: sy.a.lon is outside every existing root (sys). "
        "Give --new-root to start a new tree."
    )
    assert busy.json("list", "--json") == before
    assert "number added: 1" in busy.ok("audit", observed, "--add-missing", "--new-root")
    assert busy.ok("audit", observed, "--dry-run")  # without --add-missing: no guard needed


def test_audit_reads_observations_from_stdin(busy: Numinv) -> None:
    observed = f"number,kind,id,hierarchy\n4420790001,Phone,SEP1,{SITE}\n"
    out = busy.ok("audit", "-", "--dry-run", input=observed)
    assert out.startswith("Audit of the whole inventory (dry run, nothing written)")


def test_audit_reports_a_reserved_number_in_use_as_a_conflict(busy: Numinv, tmp_path: Path) -> None:
    observed = write(tmp_path, "o.csv", "number,kind,id,hierarchy", f"4420790002,Phone,SEPX,{SITE}")
    out = busy.ok("audit", observed, "--at", SITE)
    assert f"Conflicts:\n  4420790002 at {SITE} (Reserved)" in out


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["number,kind,id", "1,Phone,x"], "o.csv: an audit CSV needs the columns number,kind,id,"
         "hierarchy[,vendor]; missing hierarchy"),
        (["number,kind,id,hierarchy", f"1,Phone,a,{SITE}", f"12x,Phone,b,{SITE}"],
         "o.csv line 3: '12x' is not a directory number"),
        (["number,kind,id,hierarchy", f"1,Fax,a,{SITE}"],
         "o.csv line 2: unknown consumer kind 'Fax'"),
        (["number,kind,id,hierarchy", "1,Phone,a,sys..x"],
         "o.csv line 2: 'sys..x' has an empty segment"),
        (["number,kind,id,hierarchy", "1,Phone,a"],
         "o.csv line 2: 3 fields where the header has 4"),
        (["number,kind,id,hierarchy", "1,Phone,a,sys,x"],
         "o.csv line 2: 5 fields where the header has 4"),
        (["number,kind,id,hierarchy", "1,Phone,a,sys", "2,Phone"],
         "o.csv line 3: 2 fields where"),
        (["number,kind,id,hierarchy,id", "1,Phone,a,sys,b"],
         "o.csv: the CSV header names id more than once"),
        (["number,kind,id,hierarchy", "1,Phone,a,sys", f"2,Phone,{'b' * 140_000},sys"],
         "o.csv line 3: a field longer than 131,072 characters"),
    ],
)  # fmt: skip
def test_audit_refuses_a_malformed_observation_naming_its_line(
    busy: Numinv, tmp_path: Path, rows: list[str], expected: str
) -> None:
    before = busy.json("list", "--json")
    assert busy.fails("audit", write(tmp_path, "o.csv", *rows)).startswith(expected)
    assert busy.json("list", "--json") == before


def test_audit_of_a_missing_file_is_a_usage_error(busy: Numinv) -> None:
    assert "'nope.csv' does not exist" in busy.misused("audit", "nope.csv")


def test_export_to_a_directory_that_does_not_exist_is_refused(busy: Numinv, tmp_path: Path) -> None:
    target = tmp_path / "no" / "x.csv"
    assert busy.fails("export", "-o", str(target)) == (
        f"cannot write {target}: No such file or directory"
    )
    assert not target.parent.exists()


def test_export_over_the_database_itself_is_refused_and_keeps_it(
    busy: Numinv, tmp_path: Path
) -> None:
    before = busy.ok("export", "--jsonl")
    assert busy.fails("export", "-o", str(busy.db)) == (
        f"{busy.db} is the database itself: write to another file"
    )
    assert busy.ok("export", "--jsonl") == before


def test_a_simulation_series_over_its_own_database_is_refused_before_it_runs(
    tmp_path: Path,
) -> None:
    fresh = Numinv(tmp_path / "sim.db")
    assert fresh.fails("simulate", "--days", "3", "--series", str(fresh.db)) == (
        f"{fresh.db} is the database itself: write to another file"
    )
    assert not fresh.db.exists()


def test_import_refuses_a_csv_field_beyond_the_csv_limit_in_one_line(
    numinv: Numinv, tmp_path: Path
) -> None:
    (tmp_path / "big.csv").write_text(f"number,hierarchy,description\n1,sys.a,{'x' * 200_000}\n")
    assert numinv.fails("import", "big.csv") == "CSV line 2: a field longer than 131,072 characters"


def test_a_csv_export_keeps_a_blank_tag_to_restore_after_audiocodes_cooling(
    numinv: Numinv, tmp_path: Path
) -> None:
    device = ("--kind", "audiocodes", "--id", "gw", "--at", SITE)
    numinv.ok("range", "add", "1000", "--at", SITE)
    numinv.ok("assign", "1000", *device)
    numinv.ok("unassign", "1000", *device)
    numinv.ok("export", "-o", "all.csv")
    copy = Numinv(tmp_path / "copy.db")
    copy.ok("import", "all.csv")
    copy.ok("assign", "1000", *device)
    assert copy.record("1000")["tag"] == ""


@pytest.mark.parametrize("command", [["list"], ["range", "add", "1000", "--at", SITE]])
def test_an_in_memory_database_is_refused(tmp_path: Path, command: list[str]) -> None:
    """SQLite's `:memory:` would forget a change the moment the command ends."""
    memory = Numinv(Path(":memory:"))
    assert "--db :memory: keeps nothing from one command to the next" in memory.fails(*command)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX pipes")
def test_an_export_to_something_not_a_file_writes_into_it_and_leaves_it_there(
    busy: Numinv, tmp_path: Path
) -> None:
    """As `export -o /dev/null` must: the device is written to, never replaced by a file."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()), daemon=True)
    reader.start()
    busy.ok("export", "-o", str(pipe), "--jsonl")
    reader.join(10)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert received[0] == busy.ok("export", "--jsonl")


def test_an_export_over_a_link_writes_where_it_points_and_keeps_the_link(
    busy: Numinv, tmp_path: Path
) -> None:
    real, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    real.write_text("old\n")
    link.symlink_to(real)
    busy.ok("export", "-o", str(link))
    assert link.is_symlink()
    assert real.read_text() == busy.ok("export", "--jsonl")


def test_an_export_keeps_the_permissions_of_the_file_it_replaces(
    busy: Numinv, tmp_path: Path
) -> None:
    kept, new = tmp_path / "kept.csv", tmp_path / "new.csv"
    kept.write_text("old\n")
    kept.chmod(0o640)
    busy.ok("export", "-o", str(kept))
    busy.ok("export", "-o", str(new))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~mask


def test_import_under_a_root_the_database_lacks_needs_new_root(
    busy: Numinv, tmp_path: Path
) -> None:
    """As `range add`: `acme.uk` for `sys.acme.uk` would start a second tree silently."""
    records = write(tmp_path, "new.csv", "number,hierarchy", "5550001,acme.uk")
    before = busy.json("list", "--json")
    assert busy.fails("import", records) == (
        "the file holds records under acme, outside every existing root (sys). "
        "Give --new-root to start a new tree."
    )
    assert busy.json("list", "--json") == before
    assert busy.ok("import", records, "--new-root") == "imported 1 record\n"
    assert Numinv(tmp_path / "empty.db").ok("import", records) == "imported 1 record\n"
