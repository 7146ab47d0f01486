"""How many examples a property or a state machine runs, and how many steps: fewer locally."""

from __future__ import annotations

import os

FULL = os.environ.get("NUMINV_HYPOTHESIS_PROFILE", "dev") == "ci"


def examples(full: int) -> int:
    """`full` under the `ci` profile; a tenth of it (at least 3) under `dev`."""
    return full if FULL else max(3, full // 10)


def steps(full: int) -> int:
    """A state machine's steps per example: `full` under `ci`, half (at least 10) under `dev`."""
    return full if FULL else max(10, full // 2)
