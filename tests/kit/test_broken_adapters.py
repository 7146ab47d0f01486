"""The kit catches every adapter broken on purpose: each fails the contract within a bound.

Each adapter of `tests.kit.adapters.BROKEN` is the plain `DictRepository`
with one defect. The contract runs on it test by test until the first
failure; the plain adapter itself passes the whole contract, so every
failure comes from the defect.
"""

from __future__ import annotations

import pytest

from numinv.storage.protocol import Repository
from tests.kit.adapters import BROKEN, DictRepository
from tests.kit.runner import run_contract

# Seconds the contract may take to fail on one broken adapter (each takes under 2 s here).
BOUND = 30.0


def second(repository: Repository) -> Repository:
    assert isinstance(repository, DictRepository)
    return repository.again()


def test_the_plain_adapter_passes_the_whole_contract() -> None:
    outcome = run_contract(DictRepository, second=second, first_only=False, budget=120)
    assert [str(failure) for failure in outcome.failures] == []
    assert outcome.skipped == 0


@pytest.mark.parametrize("defect", sorted(BROKEN))
def test_the_contract_fails_on_an_adapter_broken_by(defect: str) -> None:
    outcome = run_contract(BROKEN[defect], second=second, budget=BOUND)
    assert outcome.failures, f"the contract passed an adapter with {defect}"
    assert outcome.seconds < BOUND
