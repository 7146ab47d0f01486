"""What the command prints: texts, JSON shapes and refusals a mutation probe found unprotected."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.e2e.conftest import CUSTOMER, SITE, Numinv, library


def settings_line(
    *,
    cooling: int = 30,
    audiocodes: int = 2,
    duplicates: str = "allowed",
    threshold: str = "10%",
) -> str:
    """The line `configure` prints for SITE, auto cooling off."""
    return (
        f"{SITE}: auto cooling off, cooling {cooling} days, AudioCodes {audiocodes} days, "
        f"duplicates {duplicates}, low under {threshold} Available\n"
    )


def test_numbers_of_a_mistyped_node_is_refused_with_the_closest_nodes(loaded: Numinv) -> None:
    # C28: the typo was taken as a node holding nothing (exit 0, "uses and holds no numbers").
    message = loaded.fails("numbers-of", "alice", "--at", "sys.acme.uk.londn")

    assert message == (
        "no node sys.acme.uk.londn in the inventory; "
        "did you mean sys.acme.uk.london, sys.acme.uk or sys.acme?"
    )


def test_configure_threshold_inherit_takes_back_the_ancestors_threshold(loaded: Numinv) -> None:
    # C34: `--threshold inherit` was refused as a usage error ("'inherit' is not a share").
    loaded.ok("configure", CUSTOMER, "--threshold", "20%")
    assert loaded.ok("configure", SITE, "--threshold", "40%") == settings_line(threshold="40%")

    assert loaded.ok("configure", SITE, "--threshold", "inherit") == settings_line(threshold="20%")
    assert loaded.json("configure", SITE, "--json")["exhaustion_threshold"] == 0.2


def test_configure_days_and_audiocodes_days_inherit_take_back_the_ancestors_days(
    loaded: Numinv,
) -> None:
    # C35: `--days inherit` and `--audiocodes-days inherit` were refused as usage errors.
    loaded.ok("configure", CUSTOMER, "--days", "45", "--audiocodes-days", "5")
    out = loaded.ok("configure", SITE, "--days", "60", "--audiocodes-days", "90")
    assert out == settings_line(cooling=60, audiocodes=90)

    out = loaded.ok("configure", SITE, "--days", "inherit")
    assert out == settings_line(cooling=45, audiocodes=90)
    out = loaded.ok("configure", SITE, "--audiocodes-days", "inherit")
    assert out == settings_line(cooling=45, audiocodes=5)


def test_configure_duplicates_allow_says_allowed(loaded: Numinv) -> None:
    # C13: the text line said "duplicates prevented" whatever the setting.
    out = loaded.ok("configure", SITE, "--duplicates", "prevent")
    assert out == settings_line(duplicates="prevented")

    out = loaded.ok("configure", SITE, "--duplicates", "allow")

    assert out == settings_line(duplicates="allowed")
    assert "prevented" not in out


def test_configure_json_gives_every_setting_in_force(loaded: Numinv) -> None:
    # C26: `configure --json` left out exhaustion_threshold.
    assert loaded.json("configure", SITE, "--json") == {
        "hierarchy": SITE,
        "auto_cooling": False,
        "cooling_days": 30,
        "audiocodes_cooling_days": 2,
        "prevent_duplicates": False,
        "exhaustion_threshold": 0.1,
    }
    loaded.ok("configure", SITE, "--threshold", "5%")
    assert loaded.json("configure", SITE, "--json")["exhaustion_threshold"] == 0.05


def test_sweep_jsonl_writes_one_released_record_a_line(loaded: Numinv) -> None:
    # C22: `sweep --jsonl` wrote one JSON array on one line (`[]` when nothing was due).
    assert loaded.ok("sweep", "--jsonl") == ""
    past = datetime(2020, 1, 1, tzinfo=UTC)
    with library(loaded.db, clock=lambda: past) as inventory:
        inventory.cool("4420790005", SITE, days=1)
        inventory.reserve("4420790006", SITE, days=2)

    lines = loaded.ok("sweep", "--jsonl").splitlines()

    rows = [json.loads(line) for line in lines]
    assert all(isinstance(row, dict) for row in rows)
    assert [(row["number"], row["status"]) for row in rows] == [
        ("4420790005", "Available"),
        ("4420790006", "Available"),
    ]


def test_json_output_is_indented_by_two_spaces(loaded: Numinv) -> None:
    # C21: `--json` wrote the document on one line, as `--jsonl` does.
    out = loaded.ok("show", "4420790000", "--at", SITE, "--json")

    record = json.loads(out)
    assert record["number"] == "4420790000"
    assert out == json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert out.splitlines()[:2] == ["{", '  "admin_number_type": "",']


def test_a_threshold_is_shown_as_precisely_as_it_was_given(loaded: Numinv) -> None:
    # C02: a percentage was rounded to 3 significant digits (12.345% shown as 12.3%).
    out = loaded.ok("configure", SITE, "--threshold", "12.345%")

    assert out == settings_line(threshold="12.345%")
    last = loaded.ok("report", "--at", SITE).splitlines()[-1]
    assert last == "1 node, 0 with less than 12.345% Available"


def test_report_of_one_node_says_1_node(loaded: Numinv) -> None:
    # C07: the summary said "1 nodes".
    last = loaded.ok("report", "--at", SITE).splitlines()[-1]

    assert last == "1 node, 0 with less than 10% Available"


def test_list_without_a_match_says_so_on_stderr(loaded: Numinv) -> None:
    # C06: an empty table was printed with nothing said.
    result = loaded.run("list", "--status", "Used")

    assert result.exit_code == 0, result.output
    assert result.stderr == "no numbers match\n"
    assert "4420790000" not in result.stdout


def test_numbers_of_someone_holding_nothing_says_so_on_stderr(loaded: Numinv) -> None:
    # C09: nothing at all was printed.
    result = loaded.run("numbers-of", "nobody")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "nobody uses and holds no numbers\n"
