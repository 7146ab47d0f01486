"""SPEC 15: a follower beside writers in several processes sees every change once, in order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from numinv import Change, Inventory, NumberRecord, SqliteRepository
from numinv.storage.protocol import Query

SITE = "sys.acme.uk.london"
WRITERS = 4
ROUNDS = 40

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes"),
    pytest.mark.slow,
]

# A writer: assigns, shares, frees and reserves numbers of one pool, competing
# with the others for them, then says how many changes it committed.
WRITER = """
import sys
from numinv import ConcurrentUpdate, Consumer, Inventory, NotFound, InvalidTransition
from numinv.storage.sqlite import SqliteRepository

path, worker, site, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with SqliteRepository(path) as repository:
    inventory = Inventory(repository, actor=lambda: worker)
    sys.stdin.readline()
    for n in range(rounds):
        phone = Consumer("device/cucm/Phone", f"{worker}-{n}", site)
        try:
            record = inventory.assign_next(phone)
            inventory.update(record.number, site, tag=f"{worker} {n}")
            if n % 3 == 0:
                inventory.unassign(record.number, phone)
        except (NotFound, InvalidTransition, ConcurrentUpdate):
            pass
    print("done", flush=True)
"""


def follow(inventory: Inventory, last: int, seen: list[Change]) -> int:
    while batch := inventory.changes(after=last, limit=17):
        seen += batch
        last = batch[-1].seq
    return last


def test_a_follower_sees_every_change_of_several_writing_processes_once_in_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "numbers.db"
    with SqliteRepository(path) as repository:
        Inventory(repository).add_range(SITE, "2000", count=WRITERS * ROUNDS)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"w{index}", SITE, str(ROUNDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(WRITERS)
    ]
    seen: list[Change] = []
    with SqliteRepository(path) as repository:
        follower = Inventory(repository)
        last = follow(follower, 0, seen)
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        while any(writer.poll() is None for writer in writers):
            last = follow(follower, last, seen)
        outputs = [writer.communicate(timeout=120)[0] for writer in writers]
        follow(follower, last, seen)

        assert outputs == ["done\n"] * WRITERS
        assert len(seen) > WRITERS * ROUNDS * 2
        assert [change.seq for change in seen] == list(range(1, len(seen) + 1))
        assert {change.actor for change in seen[WRITERS * ROUNDS :]} == {
            f"w{index}" for index in range(WRITERS)
        }
        state: dict[tuple[str, str], NumberRecord] = {}
        for change in seen:
            if change.before is not None:
                assert state.pop(change.before.key) == change.before
            if change.after is not None:
                state[change.after.key] = change.after
        assert state == {r.key: r for r in repository.scan(Query(SITE, limit=10**6))}
