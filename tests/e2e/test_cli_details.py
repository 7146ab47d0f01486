"""Details a mutation probe found unprotected: help, settings, `show`, files and kinds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import CUSTOMER, SITE, Numinv

BOM = "\ufeff"


def field(out: str, name: str) -> str:
    """The value of one field of `show`'s text output (the line must be there)."""
    match = re.search(rf"^{re.escape(name)}  +(.*?) *$", out, re.MULTILINE)
    assert match is not None, out
    return match.group(1)


def columns(line: str) -> list[str]:
    """The cells of one table row (cells are at least two spaces apart)."""
    return re.split(r"\s{2,}", line.strip())


@pytest.mark.parametrize("command", [(), ("list",)], ids=["root", "list"])
def test_dash_h_shows_the_help_like_dash_dash_help(
    numinv: Numinv, command: tuple[str, ...]
) -> None:
    # R24: only `--help` was a help option; `-h` was "No such option".
    out = numinv.ok(*command, "-h")

    assert out.startswith(f"Usage: {' '.join(('numinv', *command))} [OPTIONS]")
    assert out == numinv.ok(*command, "--help")


@pytest.mark.parametrize("where", ["option", "environment"])
def test_a_max_range_size_of_0_is_a_usage_error_naming_the_option(
    loaded: Numinv, where: str
) -> None:
    # R23: 0 was taken as a range size.
    if where == "option":
        message = loaded.misused("--max-range-size", "0", "list")
    else:
        message = loaded.misused("list", env={"NUMINV_MAX_RANGE_SIZE": "0"})

    assert "Invalid value for '--max-range-size'" in message
    assert "0 is not in the range 1<=x<=1000000000" in message


def test_a_bad_teluri_prefix_after_the_command_name_is_a_usage_error(loaded: Numinv) -> None:
    # R26: only the root checked the prefix; after the command name it got through.
    message = loaded.misused("list", "--teluri-prefix", "abc")

    assert "Invalid value for '--teluri-prefix': 'abc' is not '+' and 1 to 15 digits" in message


def test_show_lists_both_e164_numbers_of_a_number_with_two(loaded: Numinv) -> None:
    # D10: the "E.164 numbers" line was left out unless there were three or more.
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE)
    loaded.ok("e164", "add", "4420790001", "+442079000002", "--at", SITE)

    out = loaded.ok("show", "4420790001", "--at", SITE)

    assert field(out, "E.164 numbers") == "+442079000001, +442079000002"


def test_show_without_a_second_e164_number_has_no_e164_numbers_line(loaded: Numinv) -> None:
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE)

    assert "E.164 numbers" not in loaded.ok("show", "4420790001", "--at", SITE)


def test_show_prints_the_records_version(loaded: Numinv) -> None:
    # D12: the Version line was left out.
    loaded.ok("reserve", "4420790001", "--at", SITE, "--for", "bob")
    version = loaded.record("4420790001")["version"]
    assert version > 1

    assert field(loaded.ok("show", "4420790001", "--at", SITE), "Version") == str(version)


def test_show_of_a_number_without_uses_says_no_uses(loaded: Numinv) -> None:
    # D13: nothing was said after the fields.
    out = loaded.ok("show", "4420790001", "--at", SITE)

    assert out.splitlines()[-1] == "No uses."
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    assert "No uses." not in loaded.ok("show", "4420790001", "--at", SITE)


def test_audit_changes_show_new_as_the_status_before_of_a_number_it_adds(
    loaded: Numinv, tmp_path: Path
) -> None:
    # D19: the Before cell of an added number was empty.
    observed = tmp_path / "o.csv"
    observed.write_text(f"number,kind,id,hierarchy\n5550000,Phone,SEP5,{SITE}\n")

    out = loaded.ok("audit", str(observed), "--at", CUSTOMER, "--add-missing", "--changes")

    rows = [columns(line) for line in out.splitlines() if line.startswith("5550000")]
    assert rows == [
        ["5550000", CUSTOMER, "(new)", "Available", "number added"],
        ["5550000", CUSTOMER, "Available", "Used", "use recorded"],
    ]


def test_import_reads_a_csv_file_that_starts_with_a_bom(loaded: Numinv, tmp_path: Path) -> None:
    # D21: Excel's UTF-8 BOM made the first column `\ufeffnumber`, and the file was refused.
    loaded.ok("export", "-o", "all.csv")
    exported = tmp_path / "all.csv"
    exported.write_text(BOM + exported.read_text(encoding="utf-8"), encoding="utf-8")
    copy = Numinv(tmp_path / "copy.db")

    assert copy.ok("import", str(exported)) == "imported 25 records\n"
    assert copy.json("list", "--json") == loaded.json("list", "--json")


def test_audit_reads_an_observed_csv_file_that_starts_with_a_bom(
    loaded: Numinv, tmp_path: Path
) -> None:
    # D21: the audit's observations with a BOM were refused too.
    observed = tmp_path / "o.csv"
    observed.write_text(
        f"{BOM}number,kind,id,hierarchy\n4420790001,Phone,SEP1,{SITE}\n", encoding="utf-8"
    )

    out = loaded.ok("audit", str(observed), "--at", SITE)

    assert "use recorded: 1" in out
    assert [use["consumer_id"] for use in loaded.record("4420790001")["uses"]] == ["SEP1"]


@pytest.mark.parametrize("kind", ["DEVICE/CUCM/PHONE", "Device/Cucm/phone"])
def test_a_full_kind_name_in_another_case_is_accepted(loaded: Numinv, kind: str) -> None:
    # T11: a full kind name was only known in its own case.
    loaded.ok("assign", "4420790001", "--kind", kind, "--id", "SEP1", "--at", SITE)

    assert loaded.record("4420790001")["uses"][0]["kind"] == "device/cucm/Phone"


def test_a_node_of_an_inventory_whose_numbers_were_all_deleted_holds_no_numbers_yet(
    numinv: Numinv,
) -> None:
    # T02: the message was the one of a mistyped node ("... in the inventory").
    numinv.ok("range", "add", "4420790000", "--count", "2", "--at", SITE)
    numinv.ok("range", "delete", "4420790000", "--count", "2", "--at", SITE)

    assert numinv.fails("list", "--at", SITE) == (
        f"no node {SITE}: the inventory holds no numbers yet"
    )
