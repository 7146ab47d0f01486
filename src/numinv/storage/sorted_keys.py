"""A sorted set of keys kept in bounded buckets, for the in-memory indexes.

Adding or removing a key costs a bisect and a move within one bucket of at
most a few thousand keys, whatever the size of the set; iterating from a key
costs a bisect, then one step per key. numinv itself depends only on the
standard library, attrs and cattrs, so this is the small part of
`sortedcontainers.SortedList` that the in-memory repository needs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from heapq import merge
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["SortedKeys"]


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=_Ordered)

_LOAD = 1024


class SortedKeys(Generic[K]):
    """Distinct keys in ascending order; the caller never adds a key twice."""

    __slots__ = ("_buckets", "_length", "_maxes")

    def __init__(self, keys: Iterable[K] = ()) -> None:
        self._buckets: list[list[K]] = []
        self._maxes: list[K] = []
        self._length = 0
        self.update(sorted(keys))

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __iter__(self) -> Iterator[K]:
        for bucket in self._buckets:
            yield from bucket

    def __contains__(self, key: K) -> bool:
        index = bisect_left(self._maxes, key)
        if index == len(self._maxes):
            return False
        bucket = self._buckets[index]
        position = bisect_left(bucket, key)
        return position < len(bucket) and not (key < bucket[position])

    def first(self) -> K | None:
        return self._buckets[0][0] if self._buckets else None

    def add(self, key: K) -> None:
        maxes, buckets = self._maxes, self._buckets
        self._length += 1
        if not maxes:
            buckets.append([key])
            maxes.append(key)
            return
        index = bisect_left(maxes, key)
        if index == len(maxes):
            index -= 1
            buckets[index].append(key)
            maxes[index] = key
        else:
            insort(buckets[index], key)
        if len(buckets[index]) > 2 * _LOAD:
            bucket = buckets[index]
            buckets[index : index + 1] = [bucket[:_LOAD], bucket[_LOAD:]]
            maxes[index : index + 1] = [bucket[_LOAD - 1], bucket[-1]]

    def discard(self, key: K) -> None:
        """Remove a key if it is present."""
        if key in self:
            self.remove(key)

    def ensure(self, key: K) -> None:
        """Add a key unless it is present."""
        if key not in self:
            self.add(key)

    def remove(self, key: K) -> None:
        """Remove a key that is present (a missing key raises `KeyError`)."""
        maxes, buckets = self._maxes, self._buckets
        index = bisect_left(maxes, key)
        if index < len(maxes):
            bucket = buckets[index]
            position = bisect_left(bucket, key)
            if position < len(bucket) and not (key < bucket[position]):
                del bucket[position]
                self._length -= 1
                if not bucket:
                    del buckets[index], maxes[index]
                elif position == len(bucket):
                    maxes[index] = bucket[-1]
                return
        raise KeyError(key)

    def update(self, keys: Iterable[K]) -> None:
        """Add keys given in ascending order (none of them present yet)."""
        new = list(keys)
        if not new:
            return
        if self._maxes and not (self._maxes[-1] < new[0]):
            new = list(merge(self, new))
            self._buckets, self._maxes, self._length = [], [], 0
        for start in range(0, len(new), _LOAD):
            chunk = new[start : start + _LOAD]
            self._buckets.append(chunk)
            self._maxes.append(chunk[-1])
        self._length += len(new)

    def irange(
        self, start: K | None = None, stop: K | None = None, *, after: K | None = None
    ) -> Iterator[K]:
        """Keys from `start` (inclusive) or `after` (exclusive) up to `stop` (exclusive)."""
        maxes, buckets = self._maxes, self._buckets
        if after is not None:
            index = bisect_right(maxes, after)
            position = bisect_right(buckets[index], after) if index < len(maxes) else 0
        elif start is not None:
            index = bisect_left(maxes, start)
            position = bisect_left(buckets[index], start) if index < len(maxes) else 0
        else:
            index = position = 0
        while index < len(buckets):
            bucket = buckets[index]
            for offset in range(position, len(bucket)):
                key = bucket[offset]
                if stop is not None and not (key < stop):
                    return
                yield key
            index += 1
            position = 0
