"""The kit catches every adapter broken on purpose, each within a bound.

Each adapter of `tests.kit.adapters.BROKEN` is the plain `DictRepository`
with one defect. The contract runs on it test by test until the first
failure (the plain adapter itself passes the whole contract, so every
failure comes from the defect). `RepositoryMachine` catches most of them on
its own, and `InventoryMachine`, a second net behind the contract, catches
those its operations can reach; both run derandomized, under the `ci`
profile (they are slow).
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from numinv.storage.protocol import Repository
from numinv.testing import InventoryMachine, RepositoryMachine
from tests.kit.adapters import BROKEN, DictRepository, NumberedBySequence
from tests.kit.runner import run_contract

# Seconds the contract may run before it gives up on one broken adapter (each fails
# within 2 s here).
BOUND = 60.0
# What the machines may spend on one broken adapter.
MACHINE_EXAMPLES = 200
MACHINE_BOUND = 120.0
# Ranges of thousands, release dates in other time zones, generators: the machines send
# lists, dates in UTC and ranges of a few numbers; only the contract reaches these.
_BEYOND_THE_MACHINES = (
    "a number lost at each batch's edge",
    "range seqs capped at a thousand",
    "retired versions of the first batch only",
    "release dates by wall clock",
    "an argument read twice",
)
# Defects only the contract reaches: a caller that goes on after a refused write, and two
# connections racing.
CONTRACT_ONLY = {
    "a write call that is not atomic",
    "re-reading instead of compare-and-set",
    # Text the strategies never draw (no NUL, one case of each name); an interrupt;
    # two writers committing in the other order than they journaled.
    "unkeepable text kept",
    "a commit on Ctrl-C",
    "holders matched whatever their case",
    "seqs taken before the commit",
    # Clocks of instances that disagree: the machines write their journals in time order.
    "a hole left by prune",
    # A caller that goes on after a nested block failed; a prune racing a commit; a pair of
    # different keys, which the machines never send; a claim after a `get` of the same row;
    # an empty tag before cooling, which the repository machine never draws.
    "a nested failure dropping the outer work",
    "a nested transaction as a savepoint",
    "prune without the writers' lock",
    "replace moving a record to another key",
    "a claim skipping its own transaction's rows",
    "an empty tag before cooling stored as NULL",
    # The optional `AtEnd`, which only the inventory uses, and only in a host's transaction.
    "what waits for the end run before the commit",
    *_BEYOND_THE_MACHINES,
}
# Defects no operation of the inventory reaches reliably: those only the contract reaches,
# and a second connection, threads, a nested transaction, reads the inventory makes on its
# transaction, stale versions the inventory never sends.
OUT_OF_THE_INVENTORYS_REACH = CONTRACT_ONLY | {
    "version ignored on replace",
    "version ignored on delete",
    "insert overwriting",
    "nested commit",
    "dirty reads",
    "stale E.164 index",
    "late journal entries",
    "claim ignoring its filter",
    "same-thread reads outside the transaction",
    "a sequence restarted by prune",
    # Reached now and then only: an empty tag before a cooling that ends, E.164 numbers
    # written out of order, two journals in one transaction, a `+` number beside the
    # plain one asked for by `holding`, settings at nodes differing in case alone.
    "E.164 numbers sorted on read",
    "seqs counted from the last commit",
    "holding by digits, without the plus",
    "settings matched whatever their case",
}
# Found by a host's probe of the kit (2026-12-01) and caught by the contract since; the
# machines are not run on them (minutes each when they fail; the probe saw them catch some).
FOUND_BY_A_HOST = {
    "a transaction's reads kept as first read",
    "a plain range not atomic",
    "a plain range's description dropped",
    "settings returned as kept",
    "due ties by node first",
    "indexes by number alone",
    "settings kept until its own commit",
    "empty nodes counted",
    "a due scan without its prefix",
}
# Found by a mutation probe of the kit (2026-12-02): each a check of the contract no broken
# adapter guarded. The machines catch the untimed ones in seconds; the others (time zones,
# microseconds, widths, a refusal's wording, a record moved between nodes) they reach
# rarely or not at all, so they are not run there.
FOUND_BY_A_PROBE = {
    "prune by the time as written",
    "release dates at whole seconds",
    "retired numbers of any width",
    "a refusal naming no record",
    "replace checking the number only",
}
# Records the repository machine never draws (several uses in an order of their own, a
# cooling device with no other holder): the contract's fixed examples and the inventory
# machine's calls reach them.
BEYOND_THE_REPOSITORY_MACHINE = {
    "uses sorted on read",
    "the cooling device counted as a holder",
}
# The same run alone and in the whole suite: tests/kit/steady.py.
pytestmark = pytest.mark.usefixtures("steady_hypothesis")
RUN = settings(
    max_examples=MACHINE_EXAMPLES,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def second(repository: Repository) -> Repository:
    assert isinstance(repository, DictRepository)
    return repository.again()


def test_the_plain_adapter_passes_the_whole_contract() -> None:
    outcome = run_contract(DictRepository, second=second, first_only=False, budget=120)
    assert [str(failure) for failure in outcome.failures] == []
    assert outcome.skipped == 0


@pytest.mark.slow
@pytest.mark.parametrize("defect", list(BROKEN))
def test_the_contract_fails_on_an_adapter_broken_by(defect: str) -> None:
    outcome = run_contract(BROKEN[defect], second=second, budget=BOUND)
    # Found before the budget ran out (the runner stops there): the time a failing test
    # itself took is no measure of the kit (38 s once on a loaded machine; under 2 s here).
    assert outcome.failures, f"the contract passed an adapter with {defect} ({outcome})"


def fails(machine: type, what: str) -> None:
    """The machine fails (not Hypothesis itself) within the examples and the time allowed."""
    started = time.monotonic()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any failure of the machine
        run_state_machine_as_test(machine, settings=RUN)
    assert not isinstance(caught.value, HypothesisException), caught.value
    assert time.monotonic() - started < MACHINE_BOUND, f"{what} took too long to catch"


@pytest.mark.slow
@pytest.mark.parametrize(
    "defect",
    [
        d
        for d in BROKEN
        if d not in CONTRACT_ONLY | BEYOND_THE_REPOSITORY_MACHINE | FOUND_BY_A_HOST
        and d not in FOUND_BY_A_PROBE
    ],
)
def test_the_repository_machine_fails_on_an_adapter_broken_by(defect: str) -> None:
    class Machine(RepositoryMachine):
        def make_repository(self) -> Repository:
            return BROKEN[defect]()

        def open_second(self, repository: Repository) -> Repository | None:
            return second(repository)

    fails(Machine, defect)


@pytest.mark.slow
@pytest.mark.parametrize(
    "defect",
    [
        d
        for d in BROKEN
        if d not in OUT_OF_THE_INVENTORYS_REACH | FOUND_BY_A_HOST
        and (d not in FOUND_BY_A_PROBE or d == "release dates at whole seconds")
    ],
)
def test_the_inventory_machine_fails_on_an_adapter_broken_by(defect: str) -> None:
    class Machine(InventoryMachine):
        def make_repository(self) -> Repository:
            return BROKEN[defect]()

    fails(Machine, defect)


@pytest.mark.slow
def test_both_machines_pass_the_plain_adapter() -> None:
    class Stores(RepositoryMachine):
        def make_repository(self) -> Repository:
            return DictRepository()

        def open_second(self, repository: Repository) -> Repository | None:
            return second(repository)

    class Inventories(InventoryMachine):
        def make_repository(self) -> Repository:
            return DictRepository()

    few = settings(RUN, max_examples=20)
    run_state_machine_as_test(Stores, settings=few)
    run_state_machine_as_test(Inventories, settings=few)


def test_the_contract_passes_an_adapter_whose_seqs_skip_a_rollback() -> None:
    outcome = run_contract(NumberedBySequence, second=second, first_only=False, budget=120)
    assert [str(failure) for failure in outcome.failures] == []


@pytest.mark.slow
def test_the_repository_machine_passes_an_adapter_whose_seqs_skip_a_rollback() -> None:
    """Decision 90: a follower needs seqs in commit order, not without gaps. The machine
    compared seqs themselves, and failed an adapter numbering from a database sequence."""

    class Stores(RepositoryMachine):
        def make_repository(self) -> Repository:
            return NumberedBySequence()

        def open_second(self, repository: Repository) -> Repository | None:
            return second(repository)

    run_state_machine_as_test(Stores, settings=settings(RUN, max_examples=30))
