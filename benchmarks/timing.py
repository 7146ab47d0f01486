"""Timing with `time.perf_counter`: batches of calls, medians, two sizes in alternation."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["alternating", "frozen_heap", "median", "paused_gc", "per_call", "seconds"]


def seconds(action: Callable[[], object]) -> float:
    """How long one call of `action` takes (freeing what it returns is not counted)."""
    gc.collect()
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    del result
    return elapsed


def per_call(call: Callable[[], object], calls: int) -> float:
    """Seconds per call of `call`, over a batch of `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def alternating(
    small: Callable[[], float], large: Callable[[], float], rounds: int
) -> tuple[float, float]:
    """The medians of `rounds` samples of each, taken in turn: small, large, large, small, ..."""
    # Alternating spreads a shared machine's slow moments over both sizes.
    smalls: list[float] = []
    larges: list[float] = []
    gc.collect()
    for round_ in range(rounds):
        if round_ % 2 == 0:
            smalls.append(small())
            larges.append(large())
        else:
            larges.append(large())
            smalls.append(small())
    return median(smalls), median(larges)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Build an estate without the cyclic collector walking it again and again (setup only)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep what exists now (the estates) out of the cyclic collector's walks while measuring."""
    # CPython walks its oldest generation only once a quarter as many objects as
    # it holds have survived since the last walk. Side by side, a small
    # inventory's run would never pay for a walk over the large inventory's
    # records and the large one's would; frozen, each run pays the collections
    # its own allocations call for.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
