"""The lifecycle as a whole: random operations agree with the model of the rules, step by step.

`numinv.testing.InventoryMachine` drives an inventory in memory and compares
every answer, the store, the journal and the events with its plain-Python
model. The library's known findings are tolerated here (each has a strict
xfail reproduction in tests/kit/test_library_findings.py).
"""

from hypothesis import HealthCheck, settings

from numinv.testing import InventoryMachine
from tests.examples import examples, steps
from tests.kit.known import KNOWN_FINDINGS


class InMemoryMachine(InventoryMachine):
    tolerate = KNOWN_FINDINGS


TestInventoryMachineInMemory = InMemoryMachine.TestCase
TestInventoryMachineInMemory.settings = settings(
    max_examples=examples(200),
    stateful_step_count=steps(50),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
