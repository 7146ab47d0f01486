"""A holder's name, the number and its node make one index entry in every store.

PostgreSQL keeps at most 2,704 bytes in an index entry. A name of 512
characters outside the Basic Multilingual Plane (2,048 bytes) at a long
non-ASCII node went past it: PostgreSQL alone refused the call, and inside a
host's transaction its refusal came with the next call, as a `StorageError`
that rolled the host's whole transaction back. Every store now refuses such a
record alike, before anything is written (decision 142).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from numinv import Consumer, InvalidInput, Inventory, Repository
from tests.behaviour.conftest import MakeInventory

PHONE = "device/cucm/Phone"
LONG_NAME = "".join(chr(0x20000 + index) for index in range(512))  # 2,048 bytes
LONG_NODE = "sys." + "".join(chr(0x21000 + index) for index in range(200))  # 804 bytes
SHORT_NODE = "sys.a"

REFUSED: dict[str, Callable[[Inventory], object]] = {
    "a consumer's id": lambda inventory: inventory.assign(
        "1000", Consumer(PHONE, LONG_NAME, LONG_NODE)
    ),
    "a consumer's owner": lambda inventory: inventory.assign(
        "1000", Consumer(PHONE, "SEP1", LONG_NODE, owner=LONG_NAME)
    ),
    "reserved_for": lambda inventory: inventory.reserve("1000", LONG_NODE, reserved_for=LONG_NAME),
    "a move to a long node": lambda inventory: inventory.move_range(
        SHORT_NODE, "2000", count=1, to=LONG_NODE
    ),
}


@pytest.mark.parametrize("how", REFUSED)
def test_a_holder_too_long_for_an_index_entry_with_its_node_is_refused_on_every_store(
    make: MakeInventory, how: str
) -> None:
    inventory = make()
    inventory.add_range(LONG_NODE, "1000", count=2)
    inventory.add_range(SHORT_NODE, "2000", count=2)
    inventory.reserve("2000", SHORT_NODE, reserved_for=LONG_NAME)  # 2,057 bytes: kept
    records = list(inventory.search())
    changes = inventory.changes()
    with pytest.raises(InvalidInput, match=r"index entry of \d+ bytes") as refused:
        REFUSED[how](inventory)
    assert refused.value.value == LONG_NAME
    assert refused.value.number == ("2000" if how.startswith("a move") else "1000")
    assert list(inventory.search()) == records
    assert inventory.changes() == changes


def test_a_refused_holder_in_a_hosts_transaction_leaves_it_going(
    store: Callable[[], Repository],
) -> None:
    """The refusal is the call's own: the host's next call and its commit go through."""
    repository = store()
    inventory = Inventory(repository)
    with repository.transaction():
        inventory.add_range(LONG_NODE, "1000", count=3)
        with pytest.raises(InvalidInput):
            inventory.assign("1000", Consumer(PHONE, LONG_NAME, LONG_NODE))
        inventory.assign("1001", Consumer(PHONE, "SEP1", LONG_NODE))
    assert [(r.number, r.status) for r in inventory.search()] == [
        ("1000", "Available"),
        ("1001", "Used"),
        ("1002", "Available"),
    ]
