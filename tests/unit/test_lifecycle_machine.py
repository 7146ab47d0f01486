"""The lifecycle as a whole: random operations keep every SPEC invariant (in memory)."""

from hypothesis import HealthCheck, settings

from numinv.testing import InventoryMachine
from tests.examples import examples

TestInventoryMachineInMemory = InventoryMachine.TestCase
TestInventoryMachineInMemory.settings = settings(
    max_examples=examples(300),
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
