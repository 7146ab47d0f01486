"""Paging a search never repeats or skips a record, whatever the node names (#13 item 7).

Nodes whose paths are not ASCII (`été.b`, `日本`) sort after every ASCII
path; `search(after=NUMBER)` must still skip every record of that number,
and a page resumed after a (number, node) key must start at the next one,
on both stores and through the command line's `--after`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from numinv import Inventory
from numinv.cli.app import cli
from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository

NODES = (
    "a.e",
    "a.é",
    "z",
    "~",
    "ét",
    "été.a",
    "été.b",
    "étéa",
    "日本",
    "\U0001d518.x",
)  # beyond the BMP


@pytest.fixture
def inventory(each_store: Repository) -> Inventory:
    return Inventory(each_store)


def load(inventory: Inventory) -> None:
    for node in NODES:
        inventory.add_range(node, "1000", count=3)


def test_after_a_number_skips_every_record_of_it_at_every_node(inventory: Inventory) -> None:
    load(inventory)
    for after in ("1000", "1001"):
        found = [record.number for record in inventory.search(after=after)]
        assert after not in found
        assert len(found) == len(NODES) * (1002 - int(after))


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_pages_resumed_after_a_key_list_every_record_once(inventory: Inventory, size: int) -> None:
    load(inventory)
    seen: list[tuple[str, str]] = []
    after: tuple[str, str] | None = None
    while page := list(inventory.search(after=after, limit=size)):
        seen += [record.key for record in page]
        after = page[-1].key
    assert seen == sorted(record.key for record in inventory.search())
    assert len(seen) == len(set(seen)) == 3 * len(NODES)


def test_the_command_lines_after_skips_a_number_at_non_ascii_nodes(tmp_path: Path) -> None:
    database = tmp_path / "numbers.db"
    with SqliteRepository(database) as repository:
        load(Inventory(repository))

    def listed(*args: str) -> list[tuple[str, str]]:
        result = CliRunner().invoke(cli, ["--db", str(database), "list", "--json", *args])
        assert result.exit_code == 0, result.output
        return [(row["number"], row["hierarchy"]) for row in json.loads(result.stdout)]

    assert all(number != "1000" for number, _ in listed("--after", "1000"))
    assert listed("--after", "1000@été.a")[:3] == [
        ("1000", "été.b"),
        ("1000", "étéa"),
        ("1000", "日本"),
    ]
