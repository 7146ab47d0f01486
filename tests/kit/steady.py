"""Derandomized runs that are the same alone and in the whole suite.

Hypothesis mixes into its draws the constants it reads in the source of the
project's modules already imported (`sys.modules`). A derandomized run then
depends on which tests ran before it in the process and what they imported:
the command line's tests import modules the in-memory store never does, and
a broken rule the machine caught at example 324 of 400 with its file alone
went uncaught in the whole suite (decision 152). `steady_hypothesis` empties
that pool while it is open, so a run depends on its own code and seed only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis.internal.conjecture import providers


@contextmanager
def steady_hypothesis() -> Iterator[None]:
    """Hypothesis draws no constants from the modules imported so far (its own stay)."""
    current = getattr(providers, "_get_local_constants", None)
    if current is None:
        # A Hypothesis before its pool of local constants has nothing to hold still. One
        # that renamed it fails here, instead of drifting unnoticed.
        assert not hasattr(providers, "GLOBAL_CONSTANTS"), (
            "Hypothesis keeps its local constants under a new name: update steady_hypothesis"
        )
        yield
        return
    empty = providers.Constants()
    providers.CONSTANTS_CACHE.cache.clear()  # what the pool so far allowed
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = current
        providers.CONSTANTS_CACHE.cache.clear()  # later runs draw from the whole pool again
