"""A deadline for one step of a state machine, so that a step that never ends fails instead.

A broken rule or adapter can make a call loop for ever (a release that never
lapses, a cursor that never advances). `deadline(seconds, what)` raises
`StepTimeout` in the thread running the step once the time is up. It uses a
real-time interval timer, so it works in the main thread of a Unix process
(where pytest runs tests); elsewhere it only measures and raises when the step
finally returns. After a first timeout the limit drops to `AFTER_TIMEOUT`
seconds, so that Hypothesis shrinking a hanging example does not wait the
full limit for every attempt.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["AFTER_TIMEOUT", "StepTimeout", "deadline"]

AFTER_TIMEOUT = 1.0
_timed_out = False


class StepTimeout(AssertionError):
    """A step of a state machine ran past its deadline: a call that never returns."""


def _can_interrupt() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Run the block within `seconds`, else raise `StepTimeout` naming `what`."""
    global _timed_out
    limit = min(seconds, AFTER_TIMEOUT) if _timed_out else seconds
    message = f"{what} did not return within {limit:g} s (a loop that never ends?)"
    started = time.monotonic()
    if not _can_interrupt():
        yield
        if time.monotonic() - started > limit:
            _timed_out = True
            raise StepTimeout(message)
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        global _timed_out
        _timed_out = True
        raise StepTimeout(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
