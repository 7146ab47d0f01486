"""The unit of work: one repository transaction, its changes, and their events.

Events are delivered only after the transaction has committed, one per
stored record change, and never for work that was rolled back. Events of a
loaded range are built only when somebody listens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import chain

import attrs

from numinv.core.numbers import NumberRange
from numinv.core.records import Event, NumberRecord
from numinv.storage.protocol import Repository, Transaction

__all__ = ["Listener", "Listeners", "Unit"]

Listener = Callable[[Event], None]
_log = logging.getLogger("numinv.events")

Change = tuple[NumberRecord | None, NumberRecord | None]


class Unit:
    """Writes through one transaction, remembering each change for its event."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._changes: list[Iterable[Change]] = []
        self.count = 0

    def insert(self, records: Iterable[NumberRecord]) -> None:
        records = list(records)
        self.tx.insert(records)
        self._changes.append([(None, record) for record in records])
        self.count += len(records)

    def insert_range(self, numbers: NumberRange, template: NumberRecord) -> None:
        self.tx.insert_range(numbers, template)
        self._changes.append((None, attrs.evolve(template, number=number)) for number in numbers)
        self.count += len(numbers)

    def replace(self, old: NumberRecord, new: NumberRecord) -> None:
        self.replace_all([(old, new)])

    def replace_all(self, changes: list[tuple[NumberRecord, NumberRecord]]) -> None:
        self.tx.replace(changes)
        self._changes.append(changes)
        self.count += len(changes)

    def delete(self, records: list[NumberRecord]) -> None:
        self.tx.delete(records)
        self._changes.append([(record, None) for record in records])
        self.count += len(records)

    def changes(self) -> Iterator[Change]:
        return chain.from_iterable(self._changes)


class Listeners:
    """The subscribers of one inventory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: tuple[Listener, ...] = ()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    index = self._listeners.index(listener)
                    self._listeners = self._listeners[:index] + self._listeners[index + 1 :]

        return unsubscribe

    @contextmanager
    def unit(self, repository: Repository, operation: str, at: datetime) -> Iterator[Unit]:
        """A transaction whose changes are announced once it has committed."""
        with repository.transaction() as tx:
            unit = Unit(tx)
            yield unit
        self.emit(operation, at, unit.changes())

    def emit(self, operation: str, at: datetime, changes: Iterable[Change]) -> None:
        listeners = self._listeners
        if not listeners:
            return
        for before, after in changes:
            event = Event(operation=operation, before=before, after=after, at=at)
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    # The change is committed; one failing subscriber must not
                    # hide it from the others or from the caller.
                    _log.exception("listener %r failed on %s", listener, operation)
