"""`numinv.storage.protocol.ended`: what runs when a transaction has ended (`AtEnd`)."""

from __future__ import annotations

import pytest

from numinv.storage.protocol import ended


def test_every_callback_runs_and_the_first_failure_is_raised() -> None:
    calls: list[tuple[str, bool]] = []

    def first(committed: bool) -> None:
        calls.append(("first", committed))
        raise ValueError("the first listener failed")

    def second(committed: bool) -> None:
        calls.append(("second", committed))
        raise RuntimeError("the second listener failed")

    def third(committed: bool) -> None:
        calls.append(("third", committed))

    with pytest.raises(ValueError, match="the first listener failed"):
        ended([first, second, third], True)
    assert calls == [("first", True), ("second", True), ("third", True)]


def test_a_ctrl_c_in_a_listener_stays_a_ctrl_c_when_a_later_one_fails() -> None:
    later: list[bool] = []

    def interrupted(committed: bool) -> None:
        raise KeyboardInterrupt

    def failing(committed: bool) -> None:
        later.append(committed)
        raise ValueError("a later listener failed")

    with pytest.raises(KeyboardInterrupt):
        ended([interrupted, failing], False)
    assert later == [False]


def test_without_failures_nothing_is_raised() -> None:
    seen: list[bool] = []
    ended([seen.append, seen.append], True)
    assert seen == [True, True]
