"""The kit catches every lifecycle rule broken on purpose: `InventoryMachine` fails on each.

Each rule of `tests.kit.broken_rules.BROKEN_RULES` is broken in the running
library (the library's files are untouched), then the machine runs on an
in-memory store, derandomized so that the run is the same on every machine,
until its first failure: within `EXAMPLES` examples and `BOUND` seconds.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from numinv.testing import InventoryMachine
from tests.kit.broken_rules import BROKEN_RULES
from tests.kit.known import KNOWN_FINDINGS

EXAMPLES = 400  # the most examples the machine may need to catch a broken rule
BOUND = 180.0  # seconds, on a loaded machine of two cores
# Rules the machine needs more than a second to catch: under the `ci` profile only.
SLOW = {
    "a freed number forgets its person",
    "the TelURI keeps its plus",
    "the cooling tag counts whole days down",
    "a timed reservation keeps its person",
    "Cisco shows the number type",
    "unreserve keeps the person",
    "hunt pilots cool",
    "delete takes Reserved numbers",
    "sharing keeps the first use's status",
    "the audit keeps unobserved uses",
    "a stored release is not journaled",
    "a claim that ignores reserved_for",
    "cooling by the number's node, not the consumer's",
}
assert BROKEN_RULES.keys() >= SLOW, SLOW - BROKEN_RULES.keys()
# The same run alone and in the whole suite: tests/kit/steady.py.
pytestmark = pytest.mark.usefixtures("steady_hypothesis")
RUN = settings(
    max_examples=EXAMPLES,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # the first failure is enough: no shrinking
    suppress_health_check=list(HealthCheck),
)


class Machine(InventoryMachine):
    tolerate = KNOWN_FINDINGS


@pytest.mark.parametrize(
    "rule",
    [pytest.param(rule, marks=[pytest.mark.slow] if rule in SLOW else []) for rule in BROKEN_RULES],
)
def test_the_inventory_machine_fails_on_a_lifecycle_broken_by(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    BROKEN_RULES[rule](monkeypatch)
    started = time.monotonic()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any failure of the machine
        run_state_machine_as_test(Machine, settings=RUN)
    assert not isinstance(caught.value, HypothesisException), caught.value
    assert time.monotonic() - started < BOUND
