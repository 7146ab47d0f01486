"""Test kit for hosts: prove that your repository keeps numinv's rules.

- `RepositoryContract`: pytest tests of every storage rule; subclass it and
  provide a `repository` fixture.
- `strategies`: Hypothesis strategies for numbers, paths, consumers, ranges
  and records.
- `InventoryMachine`: a Hypothesis state machine driving an `Inventory` over
  any repository and checking SPEC invariants after every step.

Needs the test dependencies (pytest, hypothesis); `import numinv` never
imports this package. Names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numinv.testing import strategies
    from numinv.testing.contract import RepositoryContract
    from numinv.testing.stateful import InventoryMachine

__all__ = ["InventoryMachine", "RepositoryContract", "strategies"]

_HOMES = {
    "InventoryMachine": "numinv.testing.stateful",
    "RepositoryContract": "numinv.testing.contract",
}


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module("numinv.testing.strategies")
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'numinv.testing' has no attribute {name!r}")
