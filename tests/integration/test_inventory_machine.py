"""The lifecycle state machine over the SQLite store (SPEC 12: stores behave alike)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from numinv import Repository, SqliteRepository
from numinv.testing import InventoryMachine
from tests.examples import examples, steps
from tests.kit.known import KNOWN_FINDINGS


class SqliteInventoryMachine(InventoryMachine):
    tolerate = KNOWN_FINDINGS

    def make_repository(self) -> Repository:
        return SqliteRepository(":memory:")


TestInventoryMachineOnSqlite = SqliteInventoryMachine.TestCase
TestInventoryMachineOnSqlite.settings = settings(
    max_examples=examples(100),
    stateful_step_count=steps(50),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
