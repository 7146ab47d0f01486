"""`SortedKeys`, the in-memory indexes' sorted set, against a plain sorted list."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

import pytest
from hypothesis import given, note, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from numinv.storage.sorted_keys import SortedKeys
from tests.examples import examples, steps

KEYS = st.integers(min_value=-10_000, max_value=10_000)


def _expected_range(
    model: list[int], start: int | None, stop: int | None, after: int | None
) -> list[int]:
    if after is not None:
        low = bisect_right(model, after)
    elif start is not None:
        low = bisect_left(model, start)
    else:
        low = 0
    high = len(model) if stop is None else bisect_left(model, stop)
    return model[low : max(low, high)]


class SortedKeysMachine(RuleBasedStateMachine):
    """Random adds, removes and bulk updates keep `SortedKeys` equal to a sorted list."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: SortedKeys[int] = SortedKeys()
        self.model: list[int] = []

    @initialize(initial=st.lists(KEYS, unique=True, max_size=50))
    def start_from(self, initial: list[int]) -> None:
        self.keys = SortedKeys(initial)
        self.model = sorted(initial)

    @rule(key=KEYS)
    def add(self, key: int) -> None:
        if key in self.model:
            return  # the caller never adds a key twice
        self.keys.add(key)
        insort(self.model, key)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.model))
        self.keys.remove(key)
        self.model.remove(key)

    @rule(key=KEYS)
    def remove_a_missing_key(self, key: int) -> None:
        if key in self.model:
            return
        with pytest.raises(KeyError):
            self.keys.remove(key)

    @rule(size=st.integers(min_value=0, max_value=3000), step=st.integers(1, 3))
    def update_beyond_the_maximum(self, size: int, step: int) -> None:
        base = (self.model[-1] + 1) if self.model else 0
        new = list(range(base, base + size * step, step))
        note(f"append {len(new)} keys from {base}")
        self.keys.update(new)
        self.model.extend(new)

    @rule(new=st.lists(KEYS, unique=True, max_size=300))
    def update_merging_into_the_keys(self, new: list[int]) -> None:
        fresh = sorted(set(new) - set(self.model))
        self.keys.update(fresh)
        self.model = sorted(self.model + fresh)

    @rule(
        start=st.none() | KEYS,
        stop=st.none() | KEYS,
        after=st.none() | KEYS,
        from_a_key=st.booleans(),
        data=st.data(),
    )
    def irange(
        self,
        start: int | None,
        stop: int | None,
        after: int | None,
        from_a_key: bool,
        data: st.DataObject,
    ) -> None:
        if from_a_key and self.model:  # bounds that are keys: the inclusive/exclusive edges
            start = data.draw(st.sampled_from(self.model))
            after = data.draw(st.none() | st.sampled_from(self.model))
        got = list(self.keys.irange(start, stop, after=after))
        assert got == _expected_range(self.model, start, stop, after)

    @rule(key=KEYS)
    def contains(self, key: int) -> None:
        assert (key in self.keys) == (key in self.model)

    @invariant()
    def holds_the_models_keys_in_order(self) -> None:
        assert list(self.keys) == self.model

    @invariant()
    def counts_its_keys(self) -> None:
        assert len(self.keys) == len(self.model)
        assert bool(self.keys) == bool(self.model)

    @invariant()
    def knows_its_first_key(self) -> None:
        assert self.keys.first() == (self.model[0] if self.model else None)

    @invariant()
    def holds_every_key_it_lists(self) -> None:
        for key in self.model[:: max(1, len(self.model) // 20)]:
            assert key in self.keys


TestSortedKeysAgainstASortedList = SortedKeysMachine.TestCase
TestSortedKeysAgainstASortedList.settings = settings(
    max_examples=examples(60), stateful_step_count=steps(25), deadline=None
)


# -- beyond one bucket --------------------------------------------------------------------------


@settings(max_examples=examples(15), deadline=None)
@given(
    size=st.integers(min_value=2_000, max_value=6_000),
    inserts=st.lists(st.integers(0, 12_000), min_size=1, max_size=2_500, unique=True),
    removals=st.integers(min_value=0, max_value=6_000),
)
def test_thousands_of_adds_and_removes_within_buckets_keep_the_order(
    size: int, inserts: list[int], removals: int
) -> None:
    model = list(range(0, 2 * size, 2))  # even keys; odd ones are added between them
    keys = SortedKeys(model)
    for key in inserts:
        key = key | 1
        if key in keys:
            continue
        keys.add(key)
        insort(model, key)
    assert list(keys) == model
    for key in model[: min(removals, len(model))]:
        keys.remove(key)
    del model[: min(removals, len(model))]
    assert list(keys) == model
    assert len(keys) == len(model)
    assert keys.first() == (model[0] if model else None)
    middle = model[len(model) // 2] if model else 0
    assert list(keys.irange(middle)) == [key for key in model if key >= middle]
    assert list(keys.irange(after=middle)) == [key for key in model if key > middle]


def test_adding_in_the_middle_of_a_full_bucket_splits_it_and_keeps_every_key() -> None:
    keys = SortedKeys(range(0, 20_000, 4))
    added = list(range(1, 4_096, 2))  # all into the first bucket or two
    for key in added:
        keys.add(key)
    expected = sorted([*range(0, 20_000, 4), *added])
    assert list(keys) == expected
    assert all(key in keys for key in added[::97])
    assert list(keys.irange(1001, 1011)) == [key for key in expected if 1001 <= key < 1011]


def test_removing_every_key_of_a_bucket_leaves_the_others_reachable() -> None:
    keys = SortedKeys(range(5_000))
    for key in range(1_000, 2_500):
        keys.remove(key)
    assert list(keys.irange(900, 2_600)) == [*range(900, 1_000), *range(2_500, 2_600)]
    assert 999 in keys
    assert 1_000 not in keys
    assert 2_500 in keys


def test_removing_every_key_empties_the_set() -> None:
    keys = SortedKeys(range(3_000))
    for key in range(3_000):
        keys.remove(key)
    assert (len(keys), keys.first(), list(keys), bool(keys)) == (0, None, [], False)


def test_an_empty_set_yields_nothing_from_any_range() -> None:
    keys: SortedKeys[int] = SortedKeys()
    assert list(keys.irange()) == list(keys.irange(5)) == list(keys.irange(after=5)) == []


def test_irange_past_the_last_key_yields_nothing() -> None:
    keys = SortedKeys(range(3_000))
    assert list(keys.irange(3_000)) == list(keys.irange(after=2_999)) == []


def test_keys_may_be_text_in_text_order() -> None:
    numbers = ["100", "99", "+1", "0100", "1000"]
    keys = SortedKeys(numbers)
    assert list(keys) == sorted(numbers)
    assert list(keys.irange("100", "100:")) == ["100", "1000"]


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_keys_added_one_at_a_time_past_a_split_are_each_found_and_removed(order: str) -> None:
    """A bucket splits when single adds take it past twice its load: every key is still
    found by `in`, listed from itself, and removed (the split's new bounds, not a sample)."""
    added = list(range(3 * 2048 + 5))
    if order == "descending":
        added.reverse()
    elif order == "shuffled":
        added = added[1::2] + added[::2]
    keys: SortedKeys[int] = SortedKeys()
    for key in added:
        keys.add(key)
    assert list(keys) == sorted(added)
    for key in range(len(added)):
        assert key in keys, key
        assert next(iter(keys.irange(key))) == key
    for key in range(0, len(added), 3):
        keys.remove(key)
    assert list(keys) == [key for key in range(len(added)) if key % 3]
    assert all((key in keys) == bool(key % 3) for key in range(len(added)))
