"""How many examples a property or state machine runs: the full number in CI, fewer locally."""

from __future__ import annotations

import os

FULL = os.environ.get("NUMINV_HYPOTHESIS_PROFILE", "dev") == "ci"


def examples(full: int) -> int:
    """`full` under the `ci` profile; a tenth of it (at least 3) under `dev`."""
    return full if FULL else max(3, full // 10)
