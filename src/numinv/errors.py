"""The error tree: every refusal numinv makes is a `NumInvError`.

Each error carries its context as attributes (`number`, `hierarchy`,
`status`, `operation`, `value`) so that hosts can react without parsing the
message, and subclasses the matching built-in where one fits.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConcurrentUpdate",
    "Conflict",
    "DuplicateNumber",
    "InvalidHierarchy",
    "InvalidInput",
    "InvalidNumber",
    "InvalidTransition",
    "NotFound",
    "NumInvError",
    "StorageError",
]


class NumInvError(Exception):
    """The root of every error numinv raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        number: str | None = None,
        hierarchy: str | None = None,
        status: str | None = None,
        operation: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.number = number
        self.hierarchy = hierarchy
        self.status = status
        self.operation = operation
        self.value = value

    def __str__(self) -> str:
        return self.message


class InvalidInput(NumInvError, ValueError):
    """A value given to numinv is malformed or out of range."""


class InvalidNumber(InvalidInput):
    """A directory number, E.164 number or number range is malformed."""


class InvalidHierarchy(InvalidInput):
    """A hierarchy path is malformed."""


class NotFound(NumInvError, LookupError):
    """No record (or association) is visible where one was asked for."""


class Conflict(NumInvError):
    """The change would break a uniqueness rule."""


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
    """The operation is not allowed in the number's current status."""


class ConcurrentUpdate(NumInvError):
    """Another writer changed the record first (its version moved on)."""


class StorageError(NumInvError):
    """The store could not do what was asked: locked too long, closed, or failing."""
