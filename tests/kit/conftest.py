"""Fixtures of the kit's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kit.steady import steady_hypothesis as steady


@pytest.fixture
def steady_hypothesis() -> Iterator[None]:
    """The test's derandomized runs are the same alone and in the whole suite."""
    with steady():
        yield
