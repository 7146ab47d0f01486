"""Hierarchy paths: validation, ancestors and the line of descent (SPEC 3)."""

from __future__ import annotations

import functools
import unicodedata

from numinv.errors import InvalidHierarchy

__all__ = ["is_at_or_below", "lineage", "parent", "parse_path", "related"]


def parse_path(value: object) -> str:
    """Return a valid dotted hierarchy path, or raise `InvalidHierarchy` naming it."""
    if not isinstance(value, str):
        raise InvalidHierarchy(f"{value!r} is not a hierarchy path (a dotted string)", value=value)
    return _checked(value)


@functools.lru_cache(maxsize=4096)
def _checked(path: str) -> str:
    if not path:
        raise InvalidHierarchy("'' is not a hierarchy path: it is empty", value=path)
    for segment in path.split("."):
        if not segment:
            raise InvalidHierarchy(f"{path!r} has an empty segment", value=path)
        if segment != segment.strip():
            raise InvalidHierarchy(
                f"{path!r}: segment {segment!r} has leading or trailing white space", value=path
            )
        if any(unicodedata.category(char) == "Cc" for char in segment):
            raise InvalidHierarchy(f"{path!r}: segment {segment!r} has a control character")
    return path


@functools.lru_cache(maxsize=4096)
def lineage(path: str) -> tuple[str, ...]:
    """The node and its ancestors, nearest first: `a.b.c`, `a.b`, `a`."""
    segments = path.split(".")
    return tuple(".".join(segments[:depth]) for depth in range(len(segments), 0, -1))


def parent(path: str) -> str | None:
    head, dot, _ = path.rpartition(".")
    return head if dot else None


def is_at_or_below(node: str, ancestor: str) -> bool:
    """Whether `node` is `ancestor` itself or lies in its subtree."""
    return node == ancestor or node.startswith(ancestor + ".")


def related(first: str, second: str) -> bool:
    """Whether two nodes share a line of descent (one is at or below the other)."""
    return is_at_or_below(first, second) or is_at_or_below(second, first)
