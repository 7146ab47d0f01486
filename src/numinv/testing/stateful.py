"""The former home of `InventoryMachine`, kept so that `numinv.testing.stateful` still imports.

The machine lives in `numinv.testing.machine`, its model in `numinv.testing.model`.
"""

from __future__ import annotations

from numinv.testing.machine import InventoryMachine

__all__ = ["InventoryMachine"]
