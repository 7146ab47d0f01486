"""Test profiles: `dev` (the default) for quick local runs, `ci` for everything at full size.

`.ci/run` sets `NUMINV_HYPOTHESIS_PROFILE=ci`. Tests that name their own
number of examples ask `examples(n)`, which scales it to the profile. Under
`dev`, tests marked `slow` (many processes, a wheel built, every transcript
of a page run in a shell) are skipped; `ci` runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.postgres_server import REQUIRE_VARIABLE, ServerUnavailable, required, server_url

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


# -- a PostgreSQL server, shared by every test of the session that asks for one ----------


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"{REQUIRE_VARIABLE} is set, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server for this test session."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as error:
        _unavailable(f"the postgres extra is not installed ({error})")
    server = server_url()
    try:
        url = server.__enter__()
    except ServerUnavailable as error:
        _unavailable(f"no PostgreSQL server: {error}")
        raise
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
