"""The error tree: every refusal numinv makes is a `NumInvError`.

Each error carries the context it has as attributes (`number`, `hierarchy`,
`status`, `operation`, `value`), so that hosts can react without parsing
the message, and subclasses the matching built-in where one fits. An error
has only the attributes that say something about it: a `ConcurrentUpdate`
names the record that moved on, not a status it never knew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = [
    "ConcurrentUpdate",
    "Conflict",
    "DuplicateNumber",
    "InvalidHierarchy",
    "InvalidInput",
    "InvalidNumber",
    "InvalidTransition",
    "InvalidTransitionTable",
    "NotFound",
    "NumInvError",
    "NumberBusy",
    "StorageError",
]


class NumInvError(Exception):
    """The root of every error numinv raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(NumInvError, ValueError):
    """A value given to numinv is malformed or out of range; `value` is that value."""

    def __init__(
        self,
        message: str,
        *,
        value: object = None,
        number: str | None = None,
        hierarchy: str | None = None,
    ) -> None:
        super().__init__(message)
        self.value = value
        self.number = number
        self.hierarchy = hierarchy


class InvalidNumber(InvalidInput):
    """A directory number, E.164 number or number range is malformed."""


class InvalidHierarchy(InvalidInput):
    """A hierarchy path is malformed."""


class NotFound(NumInvError, LookupError):
    """No record (or association) is visible where one was asked for."""

    def __init__(
        self,
        message: str,
        *,
        number: str | None = None,
        hierarchy: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.number = number
        self.hierarchy = hierarchy
        self.value = value


class Conflict(NumInvError):
    """The change would break a uniqueness rule, or take what is held for somebody else."""

    def __init__(
        self,
        message: str,
        *,
        number: str | None = None,
        hierarchy: str | None = None,
        operation: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.number = number
        self.hierarchy = hierarchy
        self.operation = operation
        self.value = value


class DuplicateNumber(Conflict):
    """A number already exists in the line of descent of the node it is added at.

    `conflicts` lists every (number, hierarchy) already holding a number of
    the request; the message names the first ten and the count.
    """

    def __init__(
        self,
        message: str,
        *,
        conflicts: Sequence[tuple[str, str]] = (),
        number: str | None = None,
        hierarchy: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, number=number, hierarchy=hierarchy, operation=operation)
        self.conflicts = tuple(conflicts)


class InvalidTransition(NumInvError):
    """The operation is not allowed in the number's current status.

    `reason` says why in a few fixed words a program can test: `not allowed`
    (no such transition), `in use`, `reserved`, `reserved for` (somebody
    else), `cooling`, `not its user`, `not reserved`, `past date`, `held back`,
    `managed fields`, `stranded` (a move would strand a user), `not available`.
    """

    def __init__(
        self,
        message: str,
        *,
        number: str | None = None,
        hierarchy: str | None = None,
        status: str | None = None,
        operation: str | None = None,
        reason: str = "not allowed",
    ) -> None:
        super().__init__(message)
        self.number = number
        self.hierarchy = hierarchy
        self.status = status
        self.operation = operation
        self.reason = reason


class ConcurrentUpdate(NumInvError):
    """Another writer changed the record first (its version moved on), or the store gave up.

    Serialization failures and deadlocks of a database reach the inventory
    as this error too; the inventory runs the call again a bounded number of
    times (`Settings.retries`) before raising it.

    `wait`, when a store sets it, readies the run again: it waits until the
    writer that won is done (holding nothing itself), or has the thread's
    next transaction wait first (PostgreSQL, for a transaction checking
    more numbers than it locks one by one). The inventory calls it before
    running the call again, and a host that retries its own transaction may
    call it too, just before.
    """

    def __init__(
        self,
        message: str,
        *,
        number: str | None = None,
        hierarchy: str | None = None,
        wait: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(message)
        self.number = number
        self.hierarchy = hierarchy
        self.wait = wait


class NumberBusy(ConcurrentUpdate):
    """Another writer is adding, moving or deleting a number whose row this transaction
    already holds locked (a claim took it before its uniqueness check).

    Waiting for that writer then could deadlock (it may be waiting for the
    row), so a store that locks what a check reads says so at once instead, and
    the transaction goes on: `assign_next` and `reserve_next` look past the
    number. Any other call is run again as after any lost race, once `wait`
    says the writer is done.
    """


class StorageError(NumInvError):
    """The store could not do what was asked: locked too long, closed, or failing."""

    def __init__(self, message: str, *, value: object = None) -> None:
        super().__init__(message)
        self.value = value


class InvalidTransitionTable(NumInvError):
    """A transition table is inconsistent: two rows for one (action, status), or a status
    no row reaches. Raised when the table is checked, before any record is touched."""
