"""Hierarchy paths: validation, ancestors and the line of descent (SPEC 3)."""

from __future__ import annotations

import functools
import unicodedata

from numinv.core.checks import plain
from numinv.errors import InvalidHierarchy

__all__ = ["MAX_DEPTH", "MAX_PATH", "is_at_or_below", "lineage", "parse_path", "related"]

# An organisation is a few levels deep (system, provider, reseller, customer,
# site, ...); the bounds keep a hostile path from costing memory or time.
MAX_DEPTH = 32
MAX_PATH = 512
_BAD_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, lone surrogates


def parse_path(value: object) -> str:
    """Return a valid dotted hierarchy path, or raise `InvalidHierarchy` naming it."""
    if not isinstance(value, str):
        raise InvalidHierarchy(f"{value!r} is not a hierarchy path (a dotted string)", value=value)
    value = plain(value)  # before the cache too, which would hand an equal path's object on
    if len(value) > MAX_PATH:
        raise InvalidHierarchy(
            f"a hierarchy path is at most {MAX_PATH} characters long, not {len(value)}: "
            f"{value[:40]!r}...",
            value=value[:40],
        )
    return _checked(value)


@functools.lru_cache(maxsize=4096)
def _checked(path: str) -> str:
    if not path:
        raise InvalidHierarchy("'' is not a hierarchy path: it is empty", value=path)
    segments = path.split(".")
    if len(segments) > MAX_DEPTH:
        raise InvalidHierarchy(
            f"a hierarchy path has at most {MAX_DEPTH} levels, not {len(segments)}: "
            f"{path[:40]!r}...",
            value=path,
        )
    for segment in segments:
        if not segment:
            raise InvalidHierarchy(f"{path!r} has an empty segment", value=path)
        if segment != segment.strip():
            raise InvalidHierarchy(
                f"{path!r}: segment {segment!r} has leading or trailing white space", value=path
            )
        if not segment.isascii() or not segment.isprintable():
            bad = [char for char in segment if unicodedata.category(char) in _BAD_CATEGORIES]
            if bad:
                raise InvalidHierarchy(
                    f"{path!r}: segment {segment!r} has a control character or lone surrogate",
                    value=path,
                )
    return path


@functools.lru_cache(maxsize=1024)
def lineage(path: str) -> tuple[str, ...]:
    """The node and its ancestors, nearest first: `a.b.c`, `a.b`, `a`."""
    ancestors = [path]
    while (cut := path.rfind(".")) > 0:
        path = path[:cut]
        ancestors.append(path)
    return tuple(ancestors)


def is_at_or_below(node: str, ancestor: str) -> bool:
    """Whether `node` is `ancestor` itself or lies in its subtree."""
    return node == ancestor or node.startswith(ancestor + ".")


def related(first: str, second: str) -> bool:
    """Whether two nodes share a line of descent (one is at or below the other)."""
    return is_at_or_below(first, second) or is_at_or_below(second, first)
