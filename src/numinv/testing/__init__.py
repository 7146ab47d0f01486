"""Test kit for hosts: prove that your repository and your business rules keep numinv's rules.

- `RepositoryContract`: pytest tests of every storage rule; subclass it and
  provide a `repository` fixture (and `open_second`, if your store can open
  a second connection to one database).
- `RepositoryMachine`: a Hypothesis state machine driving your repository
  and an `InMemoryRepository` with the same calls, comparing every answer.
- `InventoryMachine`: a Hypothesis state machine driving an `Inventory`
  over your repository and comparing it, after every step, with a model of
  the rules written in plain Python (`numinv.testing.model`).
- `strategies`: Hypothesis strategies for numbers, paths, consumers,
  ranges, records and settings.
- `FaultyRepository`: wraps a repository so that a write fails part way.

Needs the test dependencies (pytest, hypothesis); `import numinv` never
imports this package. Names load on first use. The kit's modules are
registered for pytest's assertion rewriting before any of them is imported,
so that a failing check shows the values it compared, in a host's test run
too, without the host doing anything. See docs/testing.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pytest

# Before any module of the kit is imported: pytest rewrites their `assert`s only if
# it knows them when they load (they are not test files of the host's project).
pytest.register_assert_rewrite(
    "numinv.testing.contract",
    "numinv.testing.machine",
    "numinv.testing.model",
    "numinv.testing.repository_machine",
    "numinv.testing.stateful",
)

if TYPE_CHECKING:
    from numinv.testing import strategies
    from numinv.testing.contract import RepositoryContract
    from numinv.testing.faults import FaultyRepository
    from numinv.testing.machine import InventoryMachine
    from numinv.testing.repository_machine import RepositoryMachine

__all__ = [
    "FaultyRepository",
    "InventoryMachine",
    "RepositoryContract",
    "RepositoryMachine",
    "strategies",
]

_HOMES = {
    "FaultyRepository": "numinv.testing.faults",
    "InventoryMachine": "numinv.testing.machine",
    "RepositoryContract": "numinv.testing.contract",
    "RepositoryMachine": "numinv.testing.repository_machine",
}


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module("numinv.testing.strategies")
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'numinv.testing' has no attribute {name!r}")
