"""Library findings the project's own machine runs tolerate until the lead fixes them.

Each name is a switch of `numinv.testing.model.InventoryModel`: with it, the
model expects what the library does today instead of what SPEC.md and the
decisions say. Each has a strict xfail reproduction in
tests/kit/test_library_findings.py; fixing the library makes that test pass
(and fail as an unexpected pass), and then its name leaves this set. A host's
machine tolerates nothing.
"""

from __future__ import annotations

KNOWN_FINDINGS = frozenset(
    {
        "an observed number type is stored as spelled",
        "an audit stores a change that changes nothing",
        "an inactive observation shows the number type set before it",
        "manual cooling uses the inventory's cooling days",
        "import refuses a number type kept apart from its vendor",
        "assign_next hands out a reserved duplicate",
        "apply_service cools by the settings of its own line",
        "assign_next trips over a lapse it stored",
    }
)
