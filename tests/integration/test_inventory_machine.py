"""The lifecycle state machine over every shipped store (SPEC 12: stores behave alike)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from numinv import Repository, SqliteRepository
from numinv.testing import InventoryMachine
from tests.examples import examples


class SqliteInventoryMachine(InventoryMachine):
    def make_repository(self) -> Repository:
        return SqliteRepository(":memory:")


TestInventoryMachineOnSqlite = SqliteInventoryMachine.TestCase
TestInventoryMachineOnSqlite.settings = settings(
    max_examples=examples(150),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
