"""PostgreSQL: a write meets a move another instance commits between its look-ups.

A transaction at READ COMMITTED sees each statement's own moment: the walk up
the hierarchy that finds the record to change may look at a node, then see
the record leave the next one for the node it has passed.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest


def test_an_update_finds_a_number_moved_down_between_its_look_ups(
    postgres_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It looked at sys.a.b (nothing), the number moved from sys.a to sys.a.b and the
    move committed, then it looked at sys.a (nothing): `NotFound`, though the number
    was visible from sys.a.b all along, and `NotFound` is not run again."""
    from numinv import Inventory
    from numinv.storage.postgres import PostgresRepository
    from numinv.storage.postgres.transaction import _PostgresTransaction

    with (
        PostgresRepository(postgres_url, schema=schema) as mine,
        PostgresRepository(postgres_url, schema=schema) as other,
    ):
        inventory, mover = Inventory(mine), Inventory(other)
        mover.add_range("sys.a", "2000")
        real = _PostgresTransaction.get
        moved: list[bool] = []

        def get(tx: Any, number: str, node: str) -> Any:
            found = real(tx, number, node)
            if node == "sys.a.b" and not moved and tx._db is mine._db:
                moved.append(True)
                move = threading.Thread(
                    target=lambda: mover.move_range("sys.a", "2000", to="sys.a.b")
                )
                move.start()
                move.join(30)
            return found

        monkeypatch.setattr(_PostgresTransaction, "get", get)
        updated = inventory.update("2000", "sys.a.b", description="moved meanwhile")
        assert moved == [True]
        assert (updated.hierarchy, updated.description) == ("sys.a.b", "moved meanwhile")
        assert mover.get("2000", "sys.a.b") == updated
