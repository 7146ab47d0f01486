"""SPEC 10: the audit reconciles recorded uses with what the UC applications report."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from numinv import (
    Consumer,
    Event,
    InvalidInput,
    InvalidTransition,
    Inventory,
    NumberRecord,
    Observation,
    Settings,
    Status,
    Usage,
)
from tests.clock import Clock
from tests.examples import examples

SITE = "sys.acme.uk.london"
OTHER_SITE = "sys.acme.uk.leeds"
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)
PHONE_2 = Consumer("device/cucm/Phone", "SEP2", SITE)
HUNT = Consumer("device/cucm/HuntPilot", "HP1", SITE)
AUDIOCODES = Consumer("device/audiocodes", "AC1", SITE)


@pytest.fixture
def inventory(clock: Clock) -> Inventory:
    inventory = Inventory(clock=clock)
    inventory.add_range(SITE, "2000", count=10)
    inventory.add_range(OTHER_SITE, "3000", count=5)
    return inventory


def snapshot(inventory: Inventory) -> list[NumberRecord]:
    return list(inventory.search())


def test_an_observed_use_that_is_not_recorded_is_recorded(inventory: Inventory) -> None:
    report = inventory.audit([Observation("2000", PHONE)])

    record = inventory.get("2000", SITE)
    assert (record.status, record.usage) == (Status.USED, (Usage.DEVICE,))
    assert [(c.number, c.hierarchy, c.reason) for c in report.changes] == [
        ("2000", SITE, "use recorded")
    ]
    assert report.changes[0].before is not None
    assert report.changes[0].before.status is Status.AVAILABLE
    assert report.changes[0].after == record


@pytest.mark.parametrize("hold", ["reserve", "cool"])
def test_a_held_back_number_that_is_really_used_is_recorded_and_reported_as_conflict(
    inventory: Inventory, hold: str
) -> None:
    getattr(inventory, hold)("2000", SITE)

    report = inventory.audit([Observation("2000", PHONE)])

    assert inventory.get("2000", SITE).status is Status.USED
    (conflict,) = report.conflicts
    assert (conflict.number, conflict.hierarchy, conflict.consumer) == ("2000", SITE, PHONE)
    assert conflict.status in (Status.RESERVED, Status.COOLING)
    assert report.counts["conflict"] == 1


def test_a_recorded_use_that_is_not_observed_is_removed(inventory: Inventory) -> None:
    inventory.assign("2000", PHONE)
    inventory.assign("2000", HUNT, shared=True)

    report = inventory.audit([Observation("2000", HUNT)])

    record = inventory.get("2000", SITE)
    assert [use.consumer_id for use in record.uses] == ["HP1"]
    assert record.status is Status.USED_UTILITY
    assert report.counts["use removed"] == 1


def test_an_unobserved_last_use_follows_the_unassign_rule_and_cools(clock: Clock) -> None:
    inventory = Inventory(clock=clock, settings=Settings(auto_cooling=True))
    inventory.add_range(SITE, "2000")
    inventory.assign("2000", PHONE)

    inventory.audit([])

    assert inventory.get("2000", SITE).status is Status.COOLING


def test_an_offline_audiocodes_device_cools_and_comes_back_at_the_next_audit(
    inventory: Inventory, clock: Clock
) -> None:
    inventory.update("2000", SITE, tag="lobby")
    inventory.assign("2000", AUDIOCODES)

    inventory.audit([])
    cooling = inventory.get("2000", SITE)
    clock.advance(days=1)
    report = inventory.audit([Observation("2000", AUDIOCODES)])

    assert cooling.status is Status.COOLING
    back = inventory.get("2000", SITE)
    assert (back.status, back.usage, back.vendor, back.tag) == (
        Status.USED,
        (Usage.DEVICE,),
        "AudioCodes",
        "lobby",
    )
    assert report.conflicts == ()


def test_status_usage_and_vendor_that_do_not_match_the_uses_are_recomputed(
    inventory: Inventory,
) -> None:
    inventory.assign("2000", AUDIOCODES)
    good = inventory.get("2000", SITE)
    broken = attrs.evolve(
        good,
        status=Status.USED_UTILITY,
        usage=(Usage.HUNT_PILOT,),
        vendor="",
        version=good.version + 1,
    )
    with inventory.repository.transaction() as tx:
        tx.replace([(good, broken)])

    report = inventory.audit([Observation("2000", AUDIOCODES)])

    record = inventory.get("2000", SITE)
    assert (record.status, record.usage, record.vendor) == (
        Status.USED,
        (Usage.DEVICE,),
        "AudioCodes",
    )
    assert report.counts["status recomputed"] == 1


def test_a_used_record_without_uses_is_made_available(inventory: Inventory) -> None:
    good = inventory.get("2001", SITE)
    with inventory.repository.transaction() as tx:
        tx.replace([(good, attrs.evolve(good, status=Status.USED, version=good.version + 1))])

    inventory.audit([])

    assert inventory.get("2001", SITE).status is Status.AVAILABLE


def test_an_observed_number_nobody_holds_is_reported_unknown_and_not_invented(
    inventory: Inventory,
) -> None:
    before = snapshot(inventory)

    report = inventory.audit([Observation("9999", PHONE)])

    assert [o.number for o in report.unknown] == ["9999"]
    assert snapshot(inventory) == before
    assert report.counts["unknown"] == 1


def test_add_missing_creates_unknown_numbers_at_the_audit_node(inventory: Inventory) -> None:
    report = inventory.audit([Observation("9999", PHONE)], at="sys.acme", add_missing=True)

    record = inventory.get("9999", SITE)
    assert record.hierarchy == "sys.acme"
    assert record.status is Status.USED
    assert report.unknown == ()
    assert report.counts["number added"] == 1


def test_add_missing_uses_the_consumers_node_when_the_audit_node_is_not_visible_to_it(
    inventory: Inventory,
) -> None:
    inventory.audit([Observation("9999", PHONE)], add_missing=True)

    assert inventory.get("9999", SITE).hierarchy == SITE


def test_add_missing_does_not_break_uniqueness(inventory: Inventory) -> None:
    inventory.add_range("sys.acme.uk.london.floor2", "9999")

    report = inventory.audit([Observation("9999", PHONE)], at="sys.acme", add_missing=True)

    assert inventory.find("9999", "sys.acme") is None
    assert [c.number for c in report.conflicts] == ["9999"]


def test_an_audit_never_deletes_numbers(inventory: Inventory) -> None:
    inventory.assign("2000", PHONE)
    count = len(snapshot(inventory))

    inventory.audit([])

    assert len(snapshot(inventory)) == count


def test_at_limits_the_audit_to_a_subtree(inventory: Inventory) -> None:
    leeds_phone = Consumer("device/cucm/Phone", "L1", OTHER_SITE)
    inventory.assign("2000", PHONE)
    inventory.assign("3000", leeds_phone)

    report = inventory.audit([], at=OTHER_SITE)

    assert inventory.get("2000", SITE).status is Status.USED
    assert inventory.get("3000", OTHER_SITE).status is Status.AVAILABLE
    assert {change.hierarchy for change in report.changes} == {OTHER_SITE}


def test_a_dry_run_reports_the_same_and_writes_nothing(inventory: Inventory) -> None:
    inventory.assign("2000", PHONE)
    observed = [Observation("2001", PHONE_2), Observation("9999", PHONE)]
    before = snapshot(inventory)
    events: list[Event] = []
    inventory.subscribe(events.append)

    dry = inventory.audit(observed, fix=False)

    assert snapshot(inventory) == before
    assert events == []
    real = inventory.audit(observed)
    assert (dry.changes, dry.unknown, dry.conflicts, dry.counts) == (
        real.changes,
        real.unknown,
        real.conflicts,
        real.counts,
    )
    assert not dry.fixed
    assert real.fixed


def test_a_second_audit_with_the_same_observations_changes_nothing(inventory: Inventory) -> None:
    inventory.assign("2000", PHONE)
    inventory.reserve("2002", SITE)
    observed = [
        Observation("2001", PHONE),
        Observation("2002", HUNT),
        Observation("2003", AUDIOCODES),
    ]
    inventory.audit(observed)
    after_first = snapshot(inventory)

    second = inventory.audit(observed)

    assert second.changes == ()
    assert snapshot(inventory) == after_first


def test_observations_are_read_once_from_a_stream(inventory: Inventory) -> None:
    def sync() -> Iterator[Observation]:
        for number in ("2000", "2001", "2002"):
            yield Observation(number, Consumer("device/cucm/Phone", f"p{number}", SITE))

    report = inventory.audit(sync())

    assert report.counts["use recorded"] == 3


def test_a_malformed_observation_aborts_the_audit_and_changes_nothing(
    inventory: Inventory,
) -> None:
    before = snapshot(inventory)

    with pytest.raises(InvalidInput):
        inventory.audit([Observation("2000", PHONE), "2001"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="abc"):
        inventory.audit([Observation("2000", PHONE), Observation("abc", PHONE)])

    assert snapshot(inventory) == before


def test_the_report_reads_as_a_summary(inventory: Inventory) -> None:
    inventory.reserve("2000", SITE)

    report = inventory.audit([Observation("2000", PHONE), Observation("9999", PHONE)])

    text = str(report)
    assert "1 changed" in text
    assert "1 unknown observation," in text
    assert "1 conflict" in text
    assert "use recorded: 1" in text


def test_the_audit_emits_one_event_per_changed_record(inventory: Inventory) -> None:
    inventory.assign("2000", PHONE)
    events: list[Event] = []
    inventory.subscribe(events.append)

    inventory.audit([Observation("2000", HUNT), Observation("2001", PHONE_2)])

    assert sorted(e.after.number for e in events if e.after) == ["2000", "2001"]
    assert {e.operation for e in events} == {"audit"}


_sites = st.sampled_from([SITE, OTHER_SITE, "sys.acme"])
_observations = st.builds(
    Observation,
    st.sampled_from(["2000", "2001", "2002", "3000", "3001", "4000", "9999"]),
    st.builds(
        Consumer,
        st.sampled_from(["device/cucm/Phone", "device/audiocodes", "device/cucm/HuntPilot"]),
        st.sampled_from(["a", "b"]),
        _sites,
    ),
)
_assignments = st.lists(st.tuples(st.sampled_from(["2000", "2001", "3000"]), _observations))


def _estate(held: list[tuple[str, Observation]], settings: Settings) -> Inventory:
    """Two sites and a pool above them, with the `held` uses recorded at SITE."""
    inventory = Inventory(settings=settings)
    inventory.add_range(SITE, "2000", count=3)
    inventory.add_range(OTHER_SITE, "3000", count=2)
    inventory.add_range("sys.acme", "4000")
    for number, observation in held:
        consumer = attrs.evolve(observation.consumer, hierarchy=SITE)
        if inventory.find(number, SITE) is not None:
            with contextlib.suppress(InvalidTransition):  # cooling numbers refuse: fine here
                inventory.assign(number, consumer, shared=True)
    return inventory


@settings(max_examples=examples(150), deadline=None)
@given(
    held=_assignments,
    observed=st.lists(_observations, max_size=12),
    auto_cooling=st.booleans(),
)
def test_after_an_audit_recorded_uses_equal_observed_ones_and_a_second_audit_is_a_no_op(
    held: list[tuple[str, Observation]], observed: list[Observation], auto_cooling: bool
) -> None:
    inventory = _estate(held, Settings(auto_cooling=auto_cooling))

    inventory.audit(observed)

    wanted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for observation in observed:
        record = inventory.find(observation.number, observation.consumer.hierarchy)
        if record is not None:
            wanted.setdefault(record.key, set()).add(
                (observation.consumer.kind, observation.consumer.id)
            )
    for record in inventory.search():
        assert {use.key for use in record.uses} == wanted.get(record.key, set())
    assert inventory.audit(observed).changes == ()


@settings(max_examples=examples(150), deadline=None)
@given(
    held=_assignments,
    observed=st.lists(_observations, max_size=12),
    at=st.sampled_from([None, "sys", "sys.acme", "sys.acme.uk", SITE, OTHER_SITE]),
)
def test_an_audit_of_a_subtree_fixes_what_it_holds_and_reports_what_nobody_in_reach_holds(
    held: list[tuple[str, Observation]], observed: list[Observation], at: str | None
) -> None:
    inventory = _estate(held, Settings())
    before = {record.key: record for record in inventory.search()}

    def in_scope(node: str) -> bool:
        return at is None or node == at or node.startswith(at + ".")

    wanted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    unknown = []
    for observation in observed:
        if not in_scope(observation.consumer.hierarchy):
            continue
        record = inventory.find(observation.number, observation.consumer.hierarchy)
        if record is None:
            unknown.append(observation)
        else:
            consumer = observation.consumer
            wanted.setdefault(record.key, set()).add((consumer.kind, consumer.id))

    report = inventory.audit(observed, at=at)

    assert sorted(report.unknown, key=repr) == sorted(unknown, key=repr)
    for record in inventory.search():
        if in_scope(record.hierarchy):
            assert {use.key for use in record.uses} == wanted.get(record.key, set())
        else:
            assert record == before[record.key]
