"""The kit's own promises: failures surface, loops end, output reads well, the model is its own."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import numinv.testing.model
from numinv import Event, Inventory, Repository
from numinv.testing import InventoryMachine
from numinv.testing.machine import ListenerFailure
from numinv.testing.watchdog import StepTimeout, deadline

# The same run alone and in the whole suite: tests/kit/steady.py.
pytestmark = pytest.mark.usefixtures("steady_hypothesis")
FEW = settings(
    max_examples=5,
    stateful_step_count=10,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


class ListensAndFails(InventoryMachine):
    def listen(self, event: Event) -> None:
        assert event.operation != "reserve", "a host's check on a reservation fails"


class SubscribesAFailingListener(InventoryMachine):
    def make_inventory(self, repository: Repository, **options: object) -> Inventory:
        inventory = super().make_inventory(repository, **options)

        def push(event: Event) -> None:
            if event.operation == "cool":
                raise RuntimeError("the push to the UC application failed")

        inventory.subscribe(push)
        return inventory


def test_an_assertion_in_a_hosts_listen_hook_fails_the_machine() -> None:
    with pytest.raises(ListenerFailure, match="a host's check on a reservation fails"):
        run_state_machine_as_test(ListensAndFails, settings=FEW)


def test_a_listener_the_host_subscribed_itself_fails_the_machine_when_it_fails() -> None:
    with pytest.raises(ListenerFailure, match="the push to the UC application failed"):
        run_state_machine_as_test(SubscribesAFailingListener, settings=FEW)


def test_a_step_that_never_returns_fails_at_its_deadline() -> None:
    def spin() -> None:
        with deadline(0.2, "spinning"):
            while True:
                pass

    with pytest.raises(StepTimeout, match="spinning did not return"):
        spin()


def test_the_model_uses_none_of_the_rules_it_checks() -> None:
    """The model imports the library's values and errors only, never its rules or its stores."""
    allowed = {
        "numinv.core.kinds",  # the `ConsumerKind` rows a host gives, read as data
        "numinv.core.records",
        "numinv.errors",
        "numinv.settings",
    }
    tree = ast.parse(Path(numinv.testing.model.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("numinv")
    }
    assert imported <= allowed, imported - allowed


def run_host_tests(tmp_path: Path, source: str, *options: str) -> str:
    """Run a host's test file in a pytest of its own (a fresh interpreter); return its output."""
    (tmp_path / "test_host.py").write_text(textwrap.dedent(source), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *options, "test_host.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def test_a_hosts_contract_run_shows_the_values_a_failed_check_compared(tmp_path: Path) -> None:
    output = run_host_tests(
        tmp_path,
        """
        import pytest
        from numinv import InMemoryRepository
        from numinv.testing import RepositoryContract

        class Forgetful(InMemoryRepository):
            def get(self, number, hierarchy):
                return None

        class TestForgetful(RepositoryContract):
            @pytest.fixture
            def repository(self):
                return Forgetful()
        """,
        "-k",
        "test_get_returns_the_stored_record_with_every_field",
    )
    assert "where None = get('+441000', 'sys.acme.uk')" in output, output


def test_a_hosts_contract_run_shows_where_a_thread_of_a_test_failed(tmp_path: Path) -> None:
    """An error raised in one of a test's threads comes with its traceback, not a repr."""
    output = run_host_tests(
        tmp_path,
        """
        import pytest
        from numinv import InMemoryRepository
        from numinv.testing import RepositoryContract

        class Brittle(InMemoryRepository):
            def get(self, number, hierarchy):
                if number == "1000":
                    raise RuntimeError("the adapter's own mistake")
                return super().get(number, hierarchy)

        class TestBrittle(RepositoryContract):
            @pytest.fixture
            def repository(self):
                return Brittle()
        """,
        "-k",
        "test_concurrent_compare_and_set_has_one_winner_per_version",
    )
    assert "of the test's threads failed" in output, output
    assert 'raise RuntimeError("the adapter\'s own mistake")' in output, output


def test_a_failing_machine_prints_each_step_once_and_no_invariant(tmp_path: Path) -> None:
    output = run_host_tests(
        tmp_path,
        """
        from hypothesis import Phase, settings
        from numinv import Inventory
        from numinv.testing import InventoryMachine

        class ReservesNothing(Inventory):
            def reserve(self, number, at, **options):
                return self.get(number, at)

        class HostMachine(InventoryMachine):
            def make_inventory(self, repository, **options):
                return ReservesNothing(repository, **options)

        TestHost = HostMachine.TestCase
        TestHost.settings = settings(
            max_examples=5, deadline=None, derandomize=True, phases=[Phase.generate]
        )
        """,
    )
    assert "reserve(" in output
    assert "the inventory returned" in output
    assert "-> ok" in output  # one line per step, what it did and what it got
    assert ".verify()" not in output
    assert "invariant" not in output


STEADY_PROBE = """
import json
import sys

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.stateful import run_state_machine_as_test

import numinv.testing.machine
from numinv.testing import InventoryMachine
from tests.kit.steady import steady_hypothesis

RUN = settings(
    max_examples=8,
    stateful_step_count=20,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


class Machine(InventoryMachine):
    pass


def steps():
    taken = []
    numinv.testing.machine.note = taken.append  # each step, as a failure would print it
    with steady_hypothesis():
        run_state_machine_as_test(Machine, settings=RUN)
    return taken


def drawn(steady):
    seen = []

    @settings(RUN, max_examples=100)
    @given(st.lists(st.integers(), min_size=5))
    def record(values):
        seen.append(values)

    if steady:
        with steady_hypothesis():
            record()
    else:
        record()
    return seen


before = (steps(), drawn(True), drawn(False))
sys.path.insert(0, sys.argv[1])
import more_of_the_project  # as a test of the command line imports numinv.cli's modules

after = (steps(), drawn(True), drawn(False))
print(json.dumps({
    "steps": len(before[0]),
    "machine": before[0] == after[0],
    "steady": before[1] == after[1],
    "loose": before[2] == after[2],
}))
"""


def test_a_derandomized_run_under_steady_hypothesis_ignores_what_was_imported_before(
    tmp_path: Path,
) -> None:
    # A module with literals of its own, as the command line's modules have: Hypothesis
    # draws from them once imported, unless the run is held steady.
    module = tmp_path / "project" / "more_of_the_project.py"
    module.parent.mkdir()
    literals = ", ".join(str(value) for value in range(-3000, 3000, 7))
    module.write_text(f"NUMBERS = ({literals})\n", encoding="utf-8")
    script = tmp_path / "probe.py"
    script.write_text(STEADY_PROBE, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script), str(module.parent)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["steps"] > 50, found
    assert found["machine"], "the machine's steady run changed when a module was imported"
    assert found["steady"], "a steady run's draws changed when a module was imported"
    # The check has teeth: left loose, the same run draws the new module's numbers.
    assert not found["loose"], "the module changed nothing: the probe shows nothing"
