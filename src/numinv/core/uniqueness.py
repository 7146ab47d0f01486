"""Uniqueness of numbers and E.164 associations (SPEC 3, 7, 19, 22), as pure rules.

A number may exist once in every line of descent; where prevent-duplicates
is in force it must be unique in the whole tree. Which nodes prevent
duplicates is asked of a function (`prevents(node)`), since the setting can
differ per node: two records clash when their nodes are related, or when
either node prevents duplicates. The service reads the records that could
clash inside the transaction that writes, and asks this module which do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from numinv.core import checks
from numinv.core.hierarchy import lineage, related
from numinv.core.records import NumberRecord
from numinv.errors import Conflict, DuplicateNumber

__all__ = [
    "Placement",
    "Prevents",
    "clashes",
    "clashing",
    "duplicate_number",
    "e164_taken",
]

Prevents = Callable[[str], bool]


def clashes(node: str, other: str, prevents: Prevents) -> bool:
    """Whether a number at `node` and the same number at `other` may not both exist."""
    return related(node, other) or prevents(node) or prevents(other)


def clashing(
    records: Iterable[NumberRecord],
    node: str,
    prevents: Prevents,
    *,
    ignore: Callable[[NumberRecord], bool] | None = None,
) -> list[NumberRecord]:
    """The records that the same number at `node` would clash with."""
    return [
        record
        for record in records
        if (ignore is None or not ignore(record)) and clashes(node, record.hierarchy, prevents)
    ]


def duplicate_number(
    clash: Sequence[tuple[str, str]], head: str, operation: str
) -> DuplicateNumber:
    """The refusal for numbers that already exist where they would clash.

    `head` is the message up to the list of what clashes (the first ten and a count).
    """
    where = checks.listing([f"{number} at {node}" for number, node in clash])
    return DuplicateNumber(
        f"{head}: {where}",
        conflicts=clash,
        number=clash[0][0],
        hierarchy=clash[0][1],
        operation=operation,
    )


def e164_taken(e164: str, holder: NumberRecord, operation: str) -> Conflict:
    return Conflict(
        f"{e164} already points to {holder.number} at {holder.hierarchy}",
        number=holder.number,
        hierarchy=holder.hierarchy,
        operation=operation,
        value=e164,
    )


class Placement:
    """Nodes already holding each key (a number, an E.164 number) while a batch is placed.

    Checking a new node costs its depth: the nodes holding the key and all
    their ancestors are kept in sets, so a clash with an ancestor is a set
    look-up along the new node's lineage, and a clash with a descendant is
    the new node being some holder's ancestor.
    """

    def __init__(self, prevents: Prevents) -> None:
        self._prevents = prevents
        self._nodes: dict[str, set[str]] = {}
        self._above: dict[str, set[str]] = {}
        self._preventing: dict[str, bool] = {}

    def known(self, key: str) -> bool:
        return key in self._nodes

    def clashes(self, key: str, node: str) -> bool:
        nodes = self._nodes.get(key)
        if not nodes:
            return False
        if self._prevents(node) or self._preventing.get(key, False):
            return True
        return node in self._above[key] or any(a in nodes for a in lineage(node))

    def place(self, key: str, node: str) -> None:
        self._nodes.setdefault(key, set()).add(node)
        above = self._above.setdefault(key, set())
        above.update(lineage(node)[1:])
        if self._prevents(node):
            self._preventing[key] = True

    def start(self, key: str, holders: Iterable[str]) -> None:
        """Begin a key with the nodes that hold it in the store already."""
        self._nodes.setdefault(key, set())
        self._above.setdefault(key, set())
        for node in holders:
            self.place(key, node)
