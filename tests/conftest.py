"""Hypothesis profiles: `dev` (the default) for quick local runs, `ci` for the full sizes.

`.ci/run` sets `NUMINV_HYPOTHESIS_PROFILE=ci`. Tests that name their own
number of examples ask `examples(n)`, which scales it to the profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("NUMINV_HYPOTHESIS_PROFILE", "dev")
if PROFILE not in ("dev", "ci"):
    raise RuntimeError(f"NUMINV_HYPOTHESIS_PROFILE must be dev or ci, not {PROFILE!r}")

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(PROFILE)
