"""The lifecycle is a pure function over frozen records, driven by a checked data table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from numinv import Consumer, InvalidTransition, NumberRecord, NumInvError, Settings, Status
from numinv.core import lifecycle
from numinv.core.kinds import BUILTIN_KINDS, use_of
from numinv.core.lifecycle import (
    TRANSITIONS,
    ApplyService,
    Assign,
    AssociateE164,
    Cool,
    DissociateE164,
    Lapse,
    Observe,
    Recompute,
    Release,
    Reserve,
    Rules,
    Transition,
    Unassign,
    Unreserve,
    Update,
    transition,
)
from numinv.errors import InvalidTransitionTable
from numinv.testing import strategies
from tests.examples import examples

NOW = datetime(2026, 5, 1, tzinfo=UTC)
SITE = "sys.a.b"


def test_every_status_is_reached_by_some_transition() -> None:
    reached = {target for row in TRANSITIONS.values() for target in row.targets}

    assert reached == set(Status)


def test_a_table_with_two_rows_for_one_action_and_status_is_refused_when_loaded() -> None:
    row = TRANSITIONS[(Release, Status.COOLING)]

    with pytest.raises(InvalidTransitionTable, match="two transitions"):
        lifecycle._checked([row, row])


def test_a_table_that_never_reaches_a_status_is_refused_when_loaded() -> None:
    only = Transition(Release, Status.COOLING, frozenset({Status.AVAILABLE}), lambda r, a, s: {})

    with pytest.raises(InvalidTransitionTable, match="no transition reaches"):
        lifecycle._checked([only])


def test_a_missing_row_is_a_refusal() -> None:
    record = NumberRecord("1000", SITE)

    with pytest.raises(InvalidTransition):
        transition(record, Release(), Rules(NOW))


def test_a_transition_returns_a_new_record_and_leaves_the_old_one_alone() -> None:
    record = NumberRecord("1000", SITE)

    after = transition(record, Reserve(tag="x"), Rules(NOW))

    assert record.status is Status.AVAILABLE
    assert after.status is Status.RESERVED
    assert after.version == record.version + 1


def test_a_transition_that_changes_nothing_returns_the_same_object() -> None:
    record = NumberRecord("1000", SITE, status=Status.RESERVED, tag="x")

    assert transition(record, Reserve(tag="x"), Rules(NOW)) is record


_consumers = strategies.consumers(
    hierarchy=st.just(SITE),
    kind=st.sampled_from(
        ["device/cucm/Phone", "device/cucm/HuntPilot", "device/audiocodes", "device/spark/Number"]
    ),
)
_uses = _consumers.map(lambda consumer: use_of(consumer, BUILTIN_KINDS))
_actions = st.one_of(
    st.builds(Assign, _uses, shared=st.booleans(), claim=st.booleans()),
    _consumers.map(lambda consumer: Unassign(consumer.kind, consumer.id, consumer.hierarchy)),
    st.builds(Reserve, days=st.none() | st.integers(1, 30), reserved_for=st.none() | st.just("x")),
    st.builds(Unreserve),
    st.builds(Cool, days=st.none() | st.integers(1, 30)),
    st.builds(Release),
    st.builds(Lapse),
    st.builds(Update, st.just({"tag": "t"})),
    st.builds(AssociateE164, strategies.e164_numbers(), primary=st.booleans()),
    st.builds(DissociateE164, strategies.e164_numbers()),
    st.builds(ApplyService, st.just("s1"), strategies.service_types(), st.just(SITE)),
    st.builds(Observe, _uses),
    st.builds(Recompute),
)


@settings(max_examples=examples(300))
@given(
    actions=st.lists(_actions, max_size=12),
    hours=st.lists(st.integers(0, 24 * 40), min_size=12, max_size=12),
    auto_cooling=st.booleans(),
)
def test_every_result_lies_in_the_rows_targets_and_refusals_are_numinv_errors(
    actions: list[lifecycle.Action], hours: list[int], auto_cooling: bool
) -> None:
    record = NumberRecord("1000", SITE)
    now = NOW
    for action, step in zip(actions, hours, strict=False):
        now += timedelta(hours=step)
        rules = Rules(now, Settings(auto_cooling=auto_cooling))
        row = TRANSITIONS.get((type(action), record.status))
        try:
            after = transition(record, action, rules)
        except NumInvError:
            continue
        assert row is not None
        assert after.status in row.targets, f"{action} from {record.status} gave {after.status}"
        assert after is record or after.version == record.version + 1
        record = after


def test_pure_functions_read_no_clock_of_their_own() -> None:
    record = NumberRecord("1000", SITE)
    past, future = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)

    early = transition(record, Cool(days=1), Rules(past))
    late = transition(record, Cool(days=1), Rules(future))

    assert early.release_date == past + timedelta(days=1)
    assert late.release_date == future + timedelta(days=1)


def test_observe_records_a_use_whatever_the_status() -> None:
    consumer = Consumer("device/cucm/Phone", "p", SITE)
    for status in Status:
        record = NumberRecord("1000", SITE, status=status)
        if status in (Status.USED, Status.USED_UTILITY):
            continue  # such a record has uses already; covered by the audit tests
        after = transition(record, Observe(use_of(consumer, BUILTIN_KINDS)), Rules(NOW))
        assert after.status is Status.USED
        assert [use.consumer_id for use in after.uses] == ["p"]
