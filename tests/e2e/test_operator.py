"""An operator's mistakes and habits: typos, options anywhere, narrow terminals, JSON Lines."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from numinv import Inventory
from numinv.cli.root import COMMANDS, commands
from tests.e2e.conftest import CUSTOMER, SITE, Numinv, library

PHONE = ("--kind", "Phone", "--id", "SEP1", "--at", SITE)


# -- unknown nodes and kinds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("list", "--at", ""), "no node '' in the inventory"),
        (("configure", ""), "no node '' in the inventory"),
        (("list", "--at", " sys"), "no node ' sys' in the inventory; did you mean sys?"),
        (
            ("list", "--after", "4420790000@"),
            "--after '4420790000@': '' is not a hierarchy path: it is empty",
        ),
        (("list", "--after", "x@y"), "--after 'x@y': 'x' is not a directory number"),
    ],
)
def test_refusals_name_an_empty_node_and_the_option_of_a_bad_cursor(
    loaded: Numinv, args: tuple[str, ...], said: str
) -> None:
    """`no node  in the inventory` named nothing; `'' is not a hierarchy path` no option."""
    assert loaded.fails(*args).startswith(said)


def test_one_of_a_thing_is_said_in_the_singular(loaded: Numinv, tmp_path: Path) -> None:
    (tmp_path / "one.jsonl").write_text(loaded.ok("export", "--jsonl").splitlines()[0] + "\n")
    assert Numinv(tmp_path / "one.db").ok("import", "one.jsonl") == "imported 1 record\n"
    result = loaded.run("export", "--at", SITE, "--only", "-o", "site.csv")
    assert result.stderr == "exported 20 records to site.csv\n"
    assert loaded.ok("configure", SITE, "--days", "1", "--audiocodes-days", "1").startswith(
        f"{SITE}: auto cooling off, cooling 1 day, AudioCodes 1 day, "
    )
    footer = Numinv(tmp_path / "unused.db", give_db=False).ok(
        "simulate", "--days", "1", "--customers", "1", "--sites", "1", "--cooling-days", "1",
        "--audiocodes-cooling-days", "1",
    ).splitlines()[-1]  # fmt: skip
    assert footer == (
        "seed 1, 1 day from 2025-01-06, in memory; auto cooling 1 day, AudioCodes cooling 1 day"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--at", "sys.acme.uk.londn"),
        ("report", "--at", "sys.acme.uk.londn"),
        ("export", "--at", "sys.acme.uk.londn"),
        ("show", "4420790001", "--at", "sys.acme.uk.londn"),
        ("reserve", "4420790001", "--at", "sys.acme.uk.londn"),
        ("assign-next", "--kind", "Phone", "--id", "p", "--at", "sys.acme.uk.londn"),
        ("range", "delete", "4420790001", "--at", "sys.acme.uk.londn"),
    ],
)
def test_a_mistyped_node_is_refused_with_the_closest_nodes(
    loaded: Numinv, args: tuple[str, ...]
) -> None:
    message = loaded.fails(*args)
    assert message.startswith("no node sys.acme.uk.londn in the inventory; did you mean ")
    assert "sys.acme.uk.london" in message


def test_only_the_commands_of_a_consumer_offer_new_node(loaded: Numinv) -> None:
    assert "--new-node" not in loaded.fails("list", "--at", "sys.acme.uk.londn")
    assert "--new-node" in loaded.fails("unassign", "4420790001", *PHONE[:4], "--at", "x.y")


def test_a_mistyped_node_changes_nothing(loaded: Numinv) -> None:
    before = loaded.json("list", "--json")
    loaded.fails("assign-next", "--kind", "Phone", "--id", "p", "--at", "sys.acme.uk.londn")
    assert loaded.json("list", "--json") == before


def test_a_consumer_at_a_node_without_numbers_needs_new_node(loaded: Numinv) -> None:
    args = ("assign-next", "--kind", "Phone", "--id", "p", "--at", f"{CUSTOMER}.paris")
    assert loaded.fails(*args).endswith(
        " Give --new-node for a node that holds no numbers yet."
    )  # the refusal names the way to a new node
    assert loaded.ok(*args, "--new-node") == f"4420799000 at {CUSTOMER}: Used (Device)\n"


def test_range_add_creates_a_node_below_an_existing_root_and_says_so(loaded: Numinv) -> None:
    out = loaded.ok("range", "add", "4420780000", "--at", "sys.acme.uk.leeds")
    assert out == "added 1 number at sys.acme.uk.leeds (a new node)\n"
    assert loaded.ok("range", "add", "4420780001", "--at", "sys.acme.uk.leeds") == (
        "added 1 number at sys.acme.uk.leeds\n"
    )


def test_range_add_outside_every_root_needs_new_root(loaded: Numinv) -> None:
    message = loaded.fails("range", "add", "4420780000", "--at", "acme.uk")
    assert message == (
        "acme.uk is outside every existing root (sys); did you mean sys.acme.uk? "
        "Give --new-root to start a new tree."
    )
    assert loaded.ok("range", "add", "4420780000", "--at", "acme.uk", "--new-root").startswith(
        "added 1 number at acme.uk"
    )


def test_the_first_range_of_an_empty_inventory_needs_no_new_root(numinv: Numinv) -> None:
    assert numinv.ok("range", "add", "1000", "--at", "acme").startswith("added 1 number")


def test_a_mistyped_kind_in_any_case_or_its_full_name_is_suggested(loaded: Numinv) -> None:
    assert "did you mean HuntPilot?" in loaded.misused(
        "assign", "4420790001", "--kind", "huntpilt", "--id", "h", "--at", SITE
    )
    assert "did you mean device/cucm/Phone" in loaded.misused(
        "assign", "4420790001", "--kind", "device/cucm/Phon", "--id", "h", "--at", SITE
    )


def test_a_mistyped_kind_in_an_audit_file_names_its_line(loaded: Numinv, tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text(f"number,kind,id,hierarchy\n4420790001,Phon,p,{SITE}\n")
    message = loaded.fails("audit", "o.csv")
    assert message == "o.csv line 2: unknown consumer kind 'Phon'; did you mean Phone?"


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion(numinv: Numinv) -> None:
    assert "No such command 'lsit'; did you mean list?" in numinv.misused("lsit")


# -- errors in the command line's words --------------------------------------------------


def test_refusals_name_options_not_library_arguments_and_show_times_one_way(
    loaded: Numinv,
) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    messages = [
        loaded.fails("assign", "4420790001", "--kind", "HuntPilot", "--id", "h", "--at", SITE),
        loaded.fails("service", "4420790099", "--at", SITE, "--subscriber", "s", "--type",
                     "Cisco-Only"),
    ]  # fmt: skip
    loaded.ok("cool", "4420790002", "--at", SITE, "--until", "2099-01-31T10:11:12")
    messages.append(loaded.fails("assign", "4420790002", *PHONE))
    assert messages[0].endswith("give --shared to share it")
    assert "apply_service" not in messages[1]
    assert messages[2].endswith("it is cooling until 2099-01-31 10:11 UTC")
    for message in messages:
        assert "=True" not in message
        assert "+00:00" not in message


@pytest.mark.parametrize(
    "args",
    [
        ("cool", "4420790001", "--at", SITE, "--days", "3", "--until", "2099-01-01"),
        ("range", "cool", "4420790001", "--at", SITE, "--days", "3", "--until", "2099-01-01"),
        ("range", "add", "1000", "1001", "--count", "2", "--at", SITE),
        ("range", "reserve", "4420790001", "4420790002", "--count", "2", "--at", SITE),
    ],
)
def test_options_that_say_the_same_thing_twice_are_a_usage_error(
    loaded: Numinv, args: tuple[str, ...]
) -> None:
    assert "not both" in loaded.misused(*args)


def test_a_postgresql_server_that_does_not_answer_is_one_line(numinv: Numinv) -> None:
    message = numinv.fails(
        "--db", "postgresql://nobody@127.0.0.1:1/numinv?connect_timeout=1&schema=x", "list"
    )
    assert "127.0.0.1" in message or "connect" in message


def test_an_unexpected_error_is_still_one_line(loaded: Numinv, monkeypatch: pytest.MonkeyPatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("numinv.Inventory.release_due", broken)
    message = loaded.fails("sweep")
    assert message.startswith("unexpected RuntimeError: boom (a bug in numinv")


# -- no file left behind --------------------------------------------------------------


def test_a_failed_import_into_a_new_database_leaves_no_file(busy_export: Path, tmp_path: Path):
    twice = tmp_path / "twice.jsonl"
    twice.write_text(busy_export.read_text() * 2)
    fresh = Numinv(tmp_path / "fresh.db")
    assert "already exist" in fresh.fails("import", str(twice))
    assert sorted(p.name for p in tmp_path.glob("fresh.db*")) == []


def test_a_failed_first_command_leaves_no_database(numinv: Numinv, tmp_path: Path) -> None:
    numinv.fails("range", "add", "12x", "--at", SITE)
    assert not numinv.db.exists()


def test_a_failed_first_command_keeps_a_database_another_command_committed_to(
    numinv: Numinv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file the failed command made holds another command's committed numbers: kept."""

    add_range = Inventory.add_range

    def meanwhile(*args: object, **kwargs: object) -> int:
        with library(numinv.db) as other:
            add_range(other, "sys.b", "5000", count=3)
        raise RuntimeError("interrupted after another command committed")

    monkeypatch.setattr("numinv.Inventory.add_range", meanwhile)
    numinv.fails("range", "add", "1000", "--count", "5", "--at", SITE)
    monkeypatch.undo()
    assert [row["number"] for row in numinv.json("list", "--json")] == ["5000", "5001", "5002"]


def test_a_failed_first_command_keeps_a_database_another_command_has_open(
    numinv: Numinv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another command has the new file open (and may commit to it at any moment): kept."""
    with contextlib.ExitStack() as others:

        def meanwhile(*args: object, **kwargs: object) -> int:
            others.enter_context(library(numinv.db))
            raise RuntimeError("interrupted while another command has the file open")

        monkeypatch.setattr("numinv.Inventory.add_range", meanwhile)
        numinv.fails("range", "add", "1000", "--count", "5", "--at", SITE)
        assert numinv.db.exists()


def test_a_failed_export_leaves_no_file(loaded: Numinv, tmp_path: Path, monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device", "all.csv")

    monkeypatch.setattr("numinv.cli.files.write_records", broken)
    loaded.fails("export", "-o", "all.csv")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(("csv", "partial"))] == []


@pytest.fixture
def busy_export(loaded: Numinv, tmp_path: Path) -> Path:
    loaded.ok("export", "-o", "all.jsonl")
    return tmp_path / "all.jsonl"


# -- formats --------------------------------------------------------------------------


def test_import_reads_json_from_stdin_without_being_told(loaded: Numinv, tmp_path: Path) -> None:
    exported = loaded.ok("export", "--json")
    copy = Numinv(tmp_path / "copy.db")
    assert copy.ok("import", "-", input=exported) == "imported 25 records\n"
    jsonl = loaded.ok("export", "--jsonl")
    assert Numinv(tmp_path / "copy2.db").ok("import", "-", input=jsonl) == "imported 25 records\n"
    assert copy.json("list", "--json") == loaded.json("list", "--json")


def test_export_jsonl_is_one_record_a_line(busy_export: Path, loaded: Numinv) -> None:
    lines = busy_export.read_text().splitlines()
    assert [json.loads(line) for line in lines] == loaded.json("list", "--json")


def test_a_bad_jsonl_line_is_named(numinv: Numinv, tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"number": "1", "hierarchy": "sys"}\n{oops\n')
    assert numinv.fails("import", "x.jsonl").startswith("line 2: not JSON")


@pytest.mark.parametrize(
    "args",
    [
        ("assign", "4420790003", *PHONE),
        ("assign-next", *PHONE),
        ("reserve", "4420790004", "--at", SITE),
        ("cool", "4420790005", "--at", SITE, "--days", "3"),
        ("show", "4420790006", "--at", SITE),
        ("e164", "add", "4420790007", "+4420790007", "--at", SITE),
        ("service", "4420790008", "--at", SITE, "--subscriber", "s", "--type", "Cisco-Only"),
    ],
)
def test_every_one_number_command_writes_the_record_as_json_and_jsonl(
    loaded: Numinv, args: tuple[str, ...]
) -> None:
    document = json.loads(loaded.ok(*args, "--json"))
    assert document["hierarchy"] == SITE
    line = loaded.ok("show", document["number"], "--at", SITE, "--jsonl")
    assert len(line.splitlines()) == 1
    assert json.loads(line)["number"] == document["number"]


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("report",), "nodes"),
        (("range", "reserve", "4420790010", "--count", "2", "--at", SITE), "count"),
        (("sweep",), None),
        (
            ("simulate", "--db", "sim.db", "--customers", "1", "--sites", "1", "--days", "3"),
            "nodes",
        ),
    ],
)
def test_reports_write_json_and_json_lines(
    loaded: Numinv, args: tuple[str, ...], key: str | None
) -> None:
    document = json.loads(loaded.ok(*args, "--json"))
    if key is not None:
        assert key in document
    Path("sim.db").unlink(missing_ok=True)
    for line in loaded.ok(*args, "--jsonl").splitlines():
        json.loads(line)


def test_audit_writes_json_and_one_line_per_finding(loaded: Numinv, tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text(
        f"number,kind,id,hierarchy\n4420790001,Phone,p,{SITE}\n4420795555,Phone,q,{SITE}\n"
    )
    report = json.loads(loaded.ok("audit", "o.csv", "--dry-run", "--json"))
    assert (report["fixed"], report["changed"], len(report["unknown"])) == (False, 1, 1)
    lines = [json.loads(line) for line in loaded.ok("audit", "o.csv", "--jsonl").splitlines()]
    assert [line["type"] for line in lines] == ["change", "unknown"]


# -- options where users type them ------------------------------------------------------


def test_global_options_are_taken_after_the_command_too(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    out = loaded.ok("unassign", "4420790001", *PHONE, "--auto-cooling", "--cooling-days", "5")
    assert ", until " in out
    assert json.loads(loaded.ok("show", "4420790001", "--at", SITE, "--json"))["status"] == (
        "Cooling"
    )


def test_an_option_after_the_command_wins_over_the_one_before(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    out = loaded.ok("--auto-cooling", "unassign", "4420790001", *PHONE, "--no-auto-cooling")
    assert out == f"4420790001 at {SITE}: Available\n"


def test_db_after_the_command_names_the_database(loaded: Numinv, tmp_path: Path) -> None:
    other = Numinv(tmp_path / "other.db", give_db=False)
    other.ok("range", "add", "1000", "--at", SITE, "--db", str(tmp_path / "other.db"))
    assert (tmp_path / "other.db").exists()


def test_command_help_lists_its_own_options_then_the_global_ones(numinv: Numinv) -> None:
    out = numinv.ok("assign", "--help")
    assert out.index("--shared") < out.index("Global options") < out.index("--cooling-days")


def test_the_root_lists_each_command_with_its_own_first_line_of_help() -> None:
    for name, command in commands():
        assert (command.help or "").strip().splitlines()[0] == COMMANDS[name][2], name


# -- tables at 80 and 120 columns -------------------------------------------------------


@pytest.fixture
def wide(loaded: Numinv) -> Numinv:
    """Every column of `list` has something in it."""
    loaded.ok("assign", "4420790001", "--kind", "CsOnlineUser", "--id", "u", "--at", SITE)
    loaded.ok("assign", "4420790001", "--kind", "HuntPilot", "--id", "h", "--at", SITE, "--shared")
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE, "--primary")
    loaded.ok("reserve", "4420790002", "--at", SITE, "--days", "9", "--for", "bob")
    return loaded


def table(numinv: Numinv, columns: int, *args: str, text_lines: int = 0) -> list[str]:
    """The lines of a command's output at `columns`; past `text_lines`, none is wider."""
    result = numinv.run(*args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= columns for line in lines[text_lines:]), "\n".join(lines)
    return lines


@pytest.mark.parametrize("columns", [80, 120])
def test_list_keeps_the_number_the_node_and_the_status_whole(wide: Numinv, columns: int) -> None:
    lines = table(wide, columns, "list", "--limit", "3")
    rows = [line for line in lines if line.startswith("44207900")]
    assert [row.split()[:3] for row in rows] == [
        ["4420790000", SITE, "Available"],
        ["4420790001", SITE, "Used-Utility"],
        ["4420790002", SITE, "Reserved"],
    ]


def test_at_80_columns_list_names_the_columns_it_left_out(wide: Numinv) -> None:
    lines = table(wide, 80, "list", "--limit", "3")
    assert lines[-1].startswith("not shown at 80 columns: ")
    assert "Tag" in lines[-1]


def test_at_120_columns_list_shows_more_columns_than_at_80(wide: Numinv) -> None:
    narrow = table(wide, 80, "list", "--limit", "3")
    lines = table(wide, 120, "list", "--limit", "3")
    assert len(lines[-1].split(", ")) < len(narrow[-1].split(", "))
    assert any("+442079000001 (P)" in line for line in lines)
    assert any("Microsoft," in line for line in lines)


@pytest.mark.parametrize("columns", [80, 120])
def test_report_keeps_the_share_available_and_the_low_flag(loaded: Numinv, columns: int) -> None:
    lines = table(loaded, columns, "report", "--below", "90%")
    header = lines[0].split()
    assert header[0] == "Node"
    assert lines[0].rstrip().endswith("Available %   Flag")
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("sys.")}
    assert rows[SITE][-1] == "100.0%"
    assert rows[CUSTOMER][-2:] == ["100.0%"] or rows[CUSTOMER][-1] == "100.0%"


def test_report_at_80_columns_flags_a_low_node(loaded: Numinv) -> None:
    loaded.ok("range", "reserve", "4420790000", "--count", "19", "--at", SITE)
    lines = table(loaded, 80, "report")
    row = next(line for line in lines if line.startswith(SITE))
    assert row.split()[-2:] == ["5.0%", "LOW"]


@pytest.mark.parametrize("columns", [20, 25, 30])
def test_show_keeps_the_number_its_node_and_the_field_names_whole_at_any_width(
    wide: Numinv, columns: int
) -> None:
    """At 20 columns `show` printed the field names with no values; at 25 it cut the number
    into `442`, `079`, ... A key is never cut: the lines are as wide as it needs."""
    wide.ok("range", "add", "+27110001000", "--at", "sys.acme.za")
    for number, node in (("4420790001", SITE), ("+27110001000", "sys.acme.za")):
        result = wide.run("show", number, "--at", node, env={"COLUMNS": str(columns)})
        fields = [line.split() for line in result.stdout.splitlines()]
        assert ["Number", number] in fields
        assert ["Node", node] in fields
        assert ["Internal", "number", "type"] in fields
    assert ["CUCM", "form", "\\+27110001000"] in fields


def test_show_and_audit_tables_fit_80_columns(wide: Numinv, tmp_path: Path) -> None:
    table(wide, 80, "show", "4420790001", "--at", SITE)
    (tmp_path / "o.csv").write_text(f"number,kind,id,hierarchy\n4420790003,Phone,p,{SITE}\n")
    # The summary is the library's own line (a terminal wraps it); the table fits.
    lines = table(wide, 80, "audit", "o.csv", "--dry-run", "--changes", text_lines=4)
    assert any(line.startswith("4420790003") for line in lines)


# -- progress on a terminal --------------------------------------------------------------


def test_range_operations_show_a_counted_bar_on_a_terminal(
    numinv: Numinv, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, float | None, float]] = []

    import numinv.cli.render as render

    monkeypatch.setattr(render, "interactive", lambda: True)
    original = render.progress

    def recording() -> object:
        bar = original()
        real = bar.advance

        def advance(task: object, amount: float) -> None:
            real(task, amount)  # type: ignore[arg-type]
            found = bar.tasks[0]
            seen.append((found.description, found.total, found.completed))

        bar.advance = advance  # type: ignore[method-assign]
        return bar

    monkeypatch.setattr(render, "progress", recording)
    numinv.ok("range", "add", "100000", "--count", "5000", "--at", SITE)
    assert seen[-1] == (f"Loading at {SITE}", 5000, 5000)
    assert len(seen) > 1  # counted as it went
    numinv.ok("range", "reserve", "100000", "--count", "5000", "--at", SITE)
    assert seen[-1][1:] == (5000, 5000)


# -- startup ---------------------------------------------------------------------------


def _modules(*args: str) -> set[str]:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['numinv', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('numinv', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stdout.flush()\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    return set(done.stderr.split())


def test_help_and_one_line_commands_import_neither_rich_nor_other_commands(
    loaded: Numinv,
) -> None:
    library = _modules("--version")
    started = _modules("--help") - library
    assert not any(name.partition(".")[0] == "rich" for name in started)
    assert not any(name.startswith("numinv.cli.") for name in started)
    assigned = _modules("--db", str(loaded.db), "assign-next", *PHONE)
    assert not any(name.partition(".")[0] == "rich" for name in assigned)
    assert "numinv.cli.ranges" not in assigned


def test_the_at_option_completes_the_nodes_of_the_database(loaded: Numinv) -> None:
    env = {
        **os.environ,
        "_NUMINV_COMPLETE": "bash_complete",
        "COMP_WORDS": f"numinv --db {loaded.db} list --at sys.acme.uk.",
        "COMP_CWORD": "5",
    }
    done = subprocess.run(
        [sys.executable, "-m", "numinv"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "plain,sys.acme.uk.london" in done.stdout.splitlines()


def test_numinv_now_fixes_the_time_of_a_command(loaded: Numinv) -> None:
    env = {"NUMINV_NOW": "2030-05-01T08:00:00"}
    out = loaded.ok("reserve", "4420790001", "--at", SITE, "--days", "2", env=env)
    assert out == f"4420790001 at {SITE}: Reserved, until 2030-05-03 08:00 UTC\n"
    assert "'soon' is not an ISO date" in loaded.misused("sweep", env={"NUMINV_NOW": "soon"})


def test_running_out_of_memory_is_a_refusal_not_a_bug(
    loaded: Numinv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numinv import Inventory

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(Inventory, "utilization", exhausted)
    message = loaded.fails("report")
    assert message.startswith("out of memory")
    assert "bug" not in message


@pytest.mark.parametrize("columns", ["0", "-5", "wide"])
def test_a_columns_variable_that_names_no_width_leaves_tables_whole(
    loaded: Numinv, columns: str
) -> None:
    """`COLUMNS=0` (some CI runners set it) was taken as zero columns: every table came out
    empty, and the command still exited 0."""
    for args in (("list", "--limit", "2"), ("show", "4420790001", "--at", SITE), ("report",)):
        result = loaded.run(*args, env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        assert result.stdout == loaded.run(*args).stdout, args
    assert "4420790001" in loaded.run("list", "--limit", "2", env={"COLUMNS": "0"}).stdout


def test_refusals_name_the_option_or_variable_given_not_the_librarys_parameter(
    loaded: Numinv,
) -> None:
    """`Consumer.owner`, `who` and `the actor hook's name` meant nothing at a shell."""
    assert loaded.fails("assign", "4420790008", *PHONE, "--owner", " o").startswith(
        "--owner must not start or end with white space"
    )
    assert loaded.fails("numbers-of", " o").startswith("PERSON must not start or end")
    long_actor = loaded.fails(
        "reserve", "4420790008", "--at", SITE, env={"NUMINV_ACTOR": "x" * 70_000}
    )
    assert long_actor.startswith("NUMINV_ACTOR (else the login name) is 70000 characters long")
