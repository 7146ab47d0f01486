"""Library findings the project's own machine runs tolerate until the lead fixes them.

Each name is a switch of `numinv.testing.model.InventoryModel`: with it, the
model expects what the library does today instead of what SPEC.md and the
decisions say. Each has a strict xfail reproduction in
tests/kit/test_library_findings.py; fixing the library makes that test pass
(and fail as an unexpected pass), and then its name leaves this set. A host's
machine tolerates nothing.
"""

from __future__ import annotations

# All fixed (the lead's commit be9254d): nothing is tolerated any more.
KNOWN_FINDINGS: frozenset[str] = frozenset()
