"""Subscribers of an inventory, and delivery of its events in commit order (SPEC 11, 15).

A unit of work registers its first sequence number as soon as the store has
given it one (inside the transaction: the store allocates sequence numbers
in commit order), and hands over its events once it has committed. Events
are delivered in sequence order: a transaction that committed later waits
for one that committed earlier but has not handed its events over yet. One
thread delivers at a time; a listener that writes to the inventory has its
own events delivered after it returns. A listener that fails is logged on
the `numinv.events` logger and the others still get the event: the change is
committed, and a downstream push that failed must not fail the caller.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterable

from numinv.core.records import Event

__all__ = ["Dispatcher", "Listener"]

Listener = Callable[[Event], None]
_log = logging.getLogger("numinv.events")


class Dispatcher:
    """The listeners of one inventory and the events waiting for their turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: tuple[Listener, ...] = ()
        # (first seq, ticket) of each registered transaction, a heap. A seq may come
        # twice: a store gives the seqs of a transaction that rolled back to the next,
        # possibly before the first has said so (`cancel`). The ticket tells them apart.
        self._waiting: list[tuple[int, int]] = []
        self._ready: dict[int, Iterable[Event] | None] = {}  # by ticket
        self._tickets = itertools.count(1)
        self._delivering = False

    @property
    def listening(self) -> bool:
        return bool(self._listeners)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    index = self._listeners.index(listener)
                    self._listeners = self._listeners[:index] + self._listeners[index + 1 :]

        return unsubscribe

    def register(self, seq: int) -> int:
        """A transaction holds `seq`: events after it wait until it is ready or cancelled.
        Returns the ticket that `ready` or `cancel` names it by."""
        with self._lock:
            ticket = next(self._tickets)
            heapq.heappush(self._waiting, (seq, ticket))
            self._ready[ticket] = None
        return ticket

    def cancel(self, ticket: int) -> None:
        """The transaction of `ticket` rolled back: nothing to deliver for it."""
        with self._lock:
            self._ready[ticket] = ()
        self._deliver()

    def ready(self, ticket: int, events: Iterable[Event]) -> None:
        """The transaction of `ticket` committed: deliver its events in turn."""
        with self._lock:
            self._ready[ticket] = events
        self._deliver()

    def _next_batch(self) -> Iterable[Event] | None:
        """The events at the head of the queue, if they are ready (called under the lock)."""
        if not self._waiting:
            return None
        _, ticket = self._waiting[0]
        events = self._ready.get(ticket)
        if events is None:
            return None
        heapq.heappop(self._waiting)
        del self._ready[ticket]
        return events

    def _deliver(self) -> None:
        while True:
            with self._lock:
                if self._delivering:
                    return  # the thread delivering now will reach these
                batch = self._next_batch()
                if batch is None:
                    return
                self._delivering = True
                listeners = self._listeners
            try:
                self._emit(listeners, batch)
            finally:
                with self._lock:
                    self._delivering = False

    @staticmethod
    def _emit(listeners: tuple[Listener, ...], events: Iterable[Event]) -> None:
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    _log.exception("listener %r failed on %s", listener, event.operation)
