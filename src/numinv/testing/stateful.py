"""`InventoryMachine`: a Hypothesis state machine that checks SPEC invariants on any store.

It drives an `Inventory` with random operations and a moving clock over a
small hierarchy, and after every step checks the invariants of SPEC.md:
uniqueness in every line of descent; Available and Reserved numbers have no
uses, Used and Used-Utility at least one, Cooling none and a future release
date; status is the newest use's; usage follows the uses; no number is held
by two assignments that were not shared; every refused call changed
nothing; and the events delivered rebuild exactly what is stored.

Run it over your own repository by overriding `make_repository`:

    class MyStoreMachine(InventoryMachine):
        def make_repository(self) -> Repository:
            return MyRepository(...)

    TestMyStore = MyStoreMachine.TestCase
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import event, note, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from numinv.audit import AuditReport
from numinv.core.hierarchy import lineage, related
from numinv.core.records import Consumer, Event, NumberRecord, Observation, ServiceType, Status
from numinv.errors import NumInvError
from numinv.inventory import Inventory
from numinv.settings import Settings
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Repository

__all__ = ["InventoryMachine"]

NODES = ("sys", "sys.c1", "sys.c1.s1", "sys.c1.s2", "sys.c2", "sys.c2.s1")
SITES = ("sys.c1.s1", "sys.c1.s2", "sys.c2.s1", "sys.c1")
KINDS = (
    "device/cucm/Phone",
    "device/cucm/HuntPilot",
    "device/msteamsonline/CsOnlineUser",
    "device/audiocodes",
    "device/cuc/Callhandler",
)
START = datetime(2026, 1, 1, tzinfo=UTC)
# Loaded before the first rule: site numbers (shared by sibling sites), a
# customer pool and a root pool, so that most rules meet numbers.
ESTATE = (
    ("sys.c1.s1", "100", 8),
    ("sys.c1.s2", "100", 4),
    ("sys.c1", "110", 6),
    ("sys.c2.s1", "116", 4),
    ("sys", "120", 2),
)

_offsets = st.integers(min_value=0, max_value=24)
_numbers = _offsets.map(lambda offset: f"{100 + offset}")
_consumers = st.builds(
    Consumer,
    kind=st.sampled_from(KINDS),
    id=st.sampled_from(["a", "b", "c", "d"]),
    hierarchy=st.sampled_from(SITES),
)
_nodes = st.sampled_from(NODES)
_days = st.integers(min_value=1, max_value=40)

Snapshot = dict[tuple[str, str], NumberRecord]


class InventoryMachine(RuleBasedStateMachine):
    """Random operations on an inventory; SPEC invariants checked after every step."""

    def make_repository(self) -> Repository:
        """The store under test; override to run the machine over another adapter."""
        return InMemoryRepository()

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.inventory = Inventory(self.make_repository(), clock=lambda: self.now)
        self.replica: Snapshot = {}
        self.exclusive: dict[tuple[str, str], set[tuple[str, str]]] = {}

    # -- set-up and bookkeeping ------------------------------------------------

    @initialize(auto_cooling=st.booleans(), cooling_days=st.integers(1, 10))
    def choose_settings(self, auto_cooling: bool, cooling_days: int) -> None:
        settings = Settings(auto_cooling=auto_cooling, cooling_days=cooling_days)
        note(f"settings: {settings}")
        self.inventory = Inventory(
            self.inventory.repository, settings=settings, clock=lambda: self.now
        )
        self.inventory.subscribe(self.record_event)
        for node, first, count in ESTATE:
            self.inventory.add_range(node, first, count=count)

    def record_event(self, event: Event) -> None:
        if event.before is not None:
            stored = self.replica.pop(event.before.key, None)
            assert stored == event.before, f"event before {event.before} != replica {stored}"
        if event.after is not None:
            assert event.after.key not in self.replica, f"two records for {event.after.key}"
            self.replica[event.after.key] = event.after

    def stored(self) -> Snapshot:
        """Every record as the repository holds it (a read never writes a due release)."""
        repository = self.inventory.repository
        found: Snapshot = {}
        for node in repository.nodes():
            after: str | None = None
            while page := repository.scan(Query(node, after=after, limit=100)):
                found.update((record.key, record) for record in page)
                after = page[-1].number
        return found

    def shown(self) -> Snapshot:
        """Every record as the inventory shows it now."""
        return {record.key: record for record in self.inventory.search()}

    def attempt(
        self, description: str, call: Callable[..., object], *args: object, **kwargs: object
    ) -> object:
        """Run a call; if it is refused, check that it changed nothing."""
        before = self.stored()
        try:
            result = call(*args, **kwargs)
        except NumInvError as error:
            note(f"{description}: refused: {type(error).__name__}: {error}")
            event(f"{description.partition('(')[0]} refused")
            assert self.stored() == before, f"refused {description} changed the inventory"
            return None
        note(f"{description}: ok")
        event(f"{description.partition('(')[0]} ok")
        self.check_versions(before, self.stored())
        return result

    @staticmethod
    def check_versions(before: Snapshot, after: Snapshot) -> None:
        for key, record in after.items():
            old = before.get(key)
            if old is not None and old != record:
                assert record.version > old.version, f"{key} changed without a new version"

    def visible(self, number: str, at: str) -> NumberRecord | None:
        return self.inventory.find(number, at)

    # -- rules -------------------------------------------------------------------

    @rule(node=_nodes, offset=_offsets, count=st.integers(1, 6), skip=st.booleans())
    def add_range(self, node: str, offset: int, count: int, skip: bool) -> None:
        first = f"{100 + offset}"
        count = min(count, 125 - offset)
        self.attempt(
            f"add_range({node}, {first}, count={count})",
            self.inventory.add_range,
            node,
            first,
            count=count,
            skip_existing=skip,
        )

    @rule(node=_nodes, offset=_offsets, count=st.integers(1, 4), skip=st.booleans())
    def delete_range(self, node: str, offset: int, count: int, skip: bool) -> None:
        count = min(count, 125 - offset)
        self.attempt(
            f"delete_range({node}, {100 + offset}, count={count})",
            self.inventory.delete_range,
            node,
            f"{100 + offset}",
            count=count,
            skip_unavailable=skip,
        )

    @rule(number=_numbers, consumer=_consumers, shared=st.booleans(), claim=st.booleans())
    def assign(self, number: str, consumer: Consumer, shared: bool, claim: bool) -> None:
        before = self.stored()
        record = self.attempt(
            f"assign({number}, {consumer}, shared={shared}, claim={claim})",
            self.inventory.assign,
            number,
            consumer,
            shared=shared,
            claim=claim,
        )
        if isinstance(record, NumberRecord):
            held = before.get(record.key)
            # The same consumer again changes nothing (SPEC 6), whatever `shared` says.
            if held is None or all(use.key != (consumer.kind, consumer.id) for use in held.uses):
                self.track(record, consumer, shared)

    @rule(consumer=_consumers)
    def assign_next(self, consumer: Consumer) -> None:
        mine = [
            record
            for record in self.inventory.numbers_of(consumer.id)
            if record.status is Status.RESERVED
            and record.reserved_for == consumer.id
            and record.hierarchy in lineage(consumer.hierarchy)
        ]
        mine.sort(key=lambda r: (lineage(consumer.hierarchy).index(r.hierarchy), r.number))
        offered = mine[0] if mine else next(self.inventory.available(consumer.hierarchy), None)
        record = self.attempt(f"assign_next({consumer})", self.inventory.assign_next, consumer)
        if isinstance(record, NumberRecord):
            assert offered is not None, "assign_next found a number available() did not offer"
            assert record.key == offered.key, "not the first number available() offered"
            self.track(record, consumer, shared=False)
        else:
            assert offered is None, "assign_next refused while a number was available"

    def track(self, record: NumberRecord, consumer: Consumer, shared: bool) -> None:
        holders = self.exclusive.setdefault(record.key, set())
        holders.discard((consumer.kind, consumer.id))
        if not shared:
            holders.add((consumer.kind, consumer.id))

    @rule(number=_numbers, consumer=_consumers)
    def unassign(self, number: str, consumer: Consumer) -> None:
        self.attempt(f"unassign({number}, {consumer})", self.inventory.unassign, number, consumer)

    @rule(
        number=_numbers,
        node=_nodes,
        days=st.none() | _days,
        reserved_for=st.none() | st.sampled_from(["a", "b"]),
    )
    def reserve(self, number: str, node: str, days: int | None, reserved_for: str | None) -> None:
        self.attempt(
            f"reserve({number}, {node}, days={days}, reserved_for={reserved_for})",
            self.inventory.reserve,
            number,
            node,
            tag="held",
            days=days,
            reserved_for=reserved_for,
        )

    @rule(number=_numbers, node=_nodes)
    def unreserve(self, number: str, node: str) -> None:
        self.attempt(f"unreserve({number}, {node})", self.inventory.unreserve, number, node)

    @rule(number=_numbers, node=_nodes, days=st.none() | _days)
    def cool(self, number: str, node: str, days: int | None) -> None:
        self.attempt(
            f"cool({number}, {node}, {days})", self.inventory.cool, number, node, days=days
        )

    @rule(number=_numbers, node=_nodes)
    def release(self, number: str, node: str) -> None:
        self.attempt(f"release({number}, {node})", self.inventory.release, number, node)

    @rule(node=_nodes, offset=_offsets, count=st.integers(1, 4), days=_days)
    def reserve_range(self, node: str, offset: int, count: int, days: int) -> None:
        count = min(count, 125 - offset)
        self.attempt(
            f"reserve_range({node}, {100 + offset}, count={count})",
            self.inventory.reserve_range,
            node,
            f"{100 + offset}",
            count=count,
            days=days,
        )

    @rule(hours=st.integers(1, 24 * 12))
    def advance_clock(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        note(f"clock: {self.now.isoformat()}")

    @rule()
    def release_due(self) -> None:
        released = self.attempt("release_due()", self.inventory.release_due)
        assert isinstance(released, list)
        assert all(
            record.status is (Status.AVAILABLE if record.reserved_for is None else Status.RESERVED)
            for record in released
        )

    @rule(number=_numbers, node=_nodes, e164=st.sampled_from(["+271", "+272", "+273"]))
    def associate_e164(self, number: str, node: str, e164: str) -> None:
        self.attempt(
            f"associate_e164({number}, {node}, {e164})",
            self.inventory.associate_e164,
            number,
            node,
            e164,
            primary=e164 == "+271",
        )

    @rule(number=_numbers, node=_nodes, e164=st.sampled_from(["+271", "+272", "+273"]))
    def dissociate_e164(self, number: str, node: str, e164: str) -> None:
        self.attempt(
            f"dissociate_e164({number}, {node}, {e164})",
            self.inventory.dissociate_e164,
            number,
            node,
            e164,
        )

    @rule(
        number=_numbers,
        node=st.sampled_from(SITES),
        subscriber=st.sampled_from(["s1", "s2"]),
        service=st.sampled_from(ServiceType),
    )
    def apply_service(self, number: str, node: str, subscriber: str, service: ServiceType) -> None:
        self.attempt(
            f"apply_service({number}, {node}, {subscriber}, {service})",
            self.inventory.apply_service,
            number,
            node,
            subscriber,
            service,
        )

    @rule(data=st.data())
    def audit_twice(self, data: st.DataObject) -> None:
        """Audit what is in use now, minus some uses, plus some new ones; then again."""
        current = self.stored()
        observed = [
            Observation(record.number, Consumer(use.kind, use.consumer_id, use.hierarchy))
            for record in current.values()
            for use in record.uses
            if use.hierarchy and data.draw(st.booleans(), label="keep use")
        ]
        observed += data.draw(
            st.lists(st.builds(Observation, _numbers, _consumers), max_size=3), label="new"
        )
        first = self.attempt("audit", self.inventory.audit, observed)
        if isinstance(first, AuditReport):
            self.exclusive.clear()  # the audit decides who holds what
            again = self.inventory.audit(observed)
            assert not again.changes, f"a second audit changed {again.changes}"

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def events_rebuild_the_store(self) -> None:
        assert self.replica == self.stored()

    @invariant()
    def numbers_are_unique_in_every_line_of_descent(self) -> None:
        by_number: dict[str, list[str]] = {}
        for number, node in self.stored():
            for other in by_number.setdefault(number, []):
                assert not related(node, other), f"{number} at {node} and at {other}"
            by_number[number].append(node)

    @invariant()
    def e164_numbers_are_unique_in_every_line_of_descent(self) -> None:
        holders: dict[str, list[str]] = {}
        for record in self.stored().values():
            for e164 in record.e164:
                for other in holders.setdefault(e164, []):
                    assert not related(record.hierarchy, other), f"{e164} twice"
                holders[e164].append(record.hierarchy)

    @invariant()
    def status_agrees_with_uses(self) -> None:
        for record in self.shown().values():
            if record.status in (Status.AVAILABLE, Status.RESERVED, Status.INACTIVE):
                assert not record.uses, f"{record.status} with uses: {record}"
            elif record.status is Status.COOLING:
                assert not record.uses, f"Cooling with uses: {record}"
                assert record.release_date is not None, f"Cooling without release date: {record}"
                assert record.release_date > self.now, f"Cooling past its release date: {record}"
            else:
                assert record.uses, f"{record.status} without uses: {record}"
                assert record.status is record.uses[-1].status, f"not the newest use: {record}"
            usage = tuple(dict.fromkeys(use.usage for use in record.uses))
            assert record.usage == usage, f"usage {record.usage} != {usage}"

    @invariant()
    def reservations_have_not_lapsed(self) -> None:
        for record in self.shown().values():
            if record.status is Status.RESERVED and record.release_date is not None:
                assert record.release_date > self.now, f"lapsed reservation shown: {record}"

    @invariant()
    def no_number_is_held_by_two_unshared_assignments(self) -> None:
        for key, record in self.stored().items():
            present = {use.key for use in record.uses}
            exclusive = self.exclusive.get(key, set()) & present
            assert len(exclusive) <= 1, f"{key} held exclusively by {exclusive}"
