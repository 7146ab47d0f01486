"""Test profiles: `dev` (the default) for quick local runs, `ci` for everything at full size.

`.ci/run` sets `NUMINV_HYPOTHESIS_PROFILE=ci`. Tests that name their own
number of examples ask `examples(n)`, which scales it to the profile. Under
`dev`, tests marked `slow` (many processes, a wheel built, every transcript
of a page run in a shell) are skipped; `ci` runs them.
"""

from __future__ import annotations

import os

import pytest
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PROFILE == "ci":
        return
    skip = pytest.mark.skip(reason="slow: runs under NUMINV_HYPOTHESIS_PROFILE=ci")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
