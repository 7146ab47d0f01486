"""Hostile hierarchy paths cost bounded memory (#13 item 9, decision 68).

A path of 20,000 segments is refused with `InvalidHierarchy` naming the
bound before anything is built from it; the caches of checked paths and of
lines of descent stay bounded however many long, deep paths go through.
"""

from __future__ import annotations

import tracemalloc

import pytest

from numinv import Consumer, InvalidHierarchy, Inventory
from numinv.core.hierarchy import MAX_DEPTH, MAX_PATH, lineage, parse_path

MIB = 1024 * 1024


def test_a_path_of_twenty_thousand_segments_is_refused_cheaply() -> None:
    deep = ".".join(["s"] * 20_000)
    inventory = Inventory()
    tracemalloc.start()
    try:
        with pytest.raises(InvalidHierarchy, match=f"at most {MAX_PATH} characters"):
            inventory.add_range(deep, "1000")
        with pytest.raises(InvalidHierarchy):
            Consumer("device/cucm/Phone", "SEP1", deep)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB


def test_a_path_one_level_too_deep_is_refused_naming_the_bound() -> None:
    assert parse_path(".".join(["s"] * MAX_DEPTH))
    with pytest.raises(InvalidHierarchy, match=f"at most {MAX_DEPTH} levels"):
        parse_path(".".join(["s"] * (MAX_DEPTH + 1)))


def test_many_long_deep_paths_keep_the_caches_bounded() -> None:
    segment = "x" * (MAX_PATH // MAX_DEPTH - 1)
    tracemalloc.start()
    try:
        for index in range(5_000):
            path = ".".join([f"{index:05d}{segment[5:]}", *[segment] * (MAX_DEPTH - 1)])
            lineage(parse_path(path))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 48 * MIB
