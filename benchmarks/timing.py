"""Timing: CPU time of this process, batches of calls, samples taken interleaved.

Every figure is a ratio of two medians of samples taken in the same run,
one sample of each in turn (A, B, A, B ...), so that a slow moment of a
shared machine falls on both. The clock is `time.process_time`, the CPU
time of this process (user and system): it leaves out the time the process
waits (for fsync, for the other jobs of a busy machine), which would
otherwise set the ratios.
"""

from __future__ import annotations

import cProfile
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext

__all__ = [
    "CLOCK",
    "frozen_heap",
    "interleaved",
    "median",
    "paused_gc",
    "per_call",
    "profiling",
    "seconds",
]

CLOCK = time.process_time
# While set, the timed part of every sample (and only that) runs under this profiler.
_profiler: cProfile.Profile | None = None


@contextmanager
def profiling(profiler: cProfile.Profile) -> Iterator[None]:
    """Profile the timed parts of the samples taken inside, leaving out their set-up."""
    global _profiler
    _profiler = profiler
    try:
        yield
    finally:
        _profiler = None


def _timed() -> cProfile.Profile | nullcontext[None]:
    return _profiler if _profiler is not None else nullcontext()


def seconds(action: Callable[[], object]) -> float:
    """CPU seconds of one call of `action` (freeing what it returns is not counted)."""
    with _timed():
        start = CLOCK()
        result = action()
        elapsed = CLOCK() - start
    del result
    return elapsed


def per_call(call: Callable[[], object], calls: int) -> float:
    """CPU seconds per call of `call`, over a batch of `calls` calls."""
    with _timed():
        start = CLOCK()
        for _ in range(calls):
            call()
        elapsed = CLOCK() - start
    return elapsed / calls


def interleaved(samplers: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """`rounds` samples of each sampler, one of each per round, the order turned every round.

    Round r starts at the r-th sampler (A B C, B C A, C A B, ...): each sampler
    takes each place in turn, and with two the order is A B, B A, A B, ...
    """
    names = list(samplers)
    samples: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(samplers[name]())
    return samples


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
