"""`InventoryMachine`: an inventory over any repository, compared with a model after every step.

A Hypothesis state machine drives an `Inventory` through every public
operation of SPEC 1-22 (ranges, look-ups, the lifecycle, E.164 numbers,
service types, audits, settings per node, moves, imports, the journal) with a
clock that moves forward and back, settings drawn per example, consumers
with owners, a host's consumer kind, and races and failures injected into
the store. For every call, `numinv.testing.model.InventoryModel` (plain
Python, written from SPEC.md and docs/decisions.md) works out what the
inventory must answer, store and journal, or which error it must refuse with;
after every step the machine compares:

- the answer or refusal of the call;
- the repository's raw records and indexes, read through the side door
  (the repository itself, not the inventory);
- what the inventory shows: `search`, `available` from every node,
  `utilization`, `numbers_of` every name, `history` of the numbers touched;
- the journal's new changes, and the events delivered (each checked against
  the model by the machine's own listener, whose failures fail the step);
- that replaying the journal (`changes(after=0)`, paged) from empty rebuilds
  exactly the stored records.

Rules pick their numbers from the model by state (Reserved numbers to claim,
cooling AudioCodes numbers to take back, release dates to reach), so that the
interesting transitions happen in a stated share of examples (docs/testing.md).

Extend it by subclassing: `make_repository`, `make_inventory`, `model_class`,
`listen`, `check`, the class attributes that set the universe, and rules of
your own that call `perform`. See docs/testing.md.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, ClassVar

import attrs
from hypothesis import event, note, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from numinv.audit import AuditReport
from numinv.core.kinds import ConsumerKind, Cooling
from numinv.core.records import (
    Change,
    Consumer,
    Event,
    NumberRecord,
    Observation,
    ServiceType,
    Status,
    Usage,
)
from numinv.errors import InvalidInput, NumInvError
from numinv.inventory import Inventory, RangeResult
from numinv.settings import Settings
from numinv.storage.protocol import Query, Repository
from numinv.testing import strategies
from numinv.testing.contract import every_change, pages
from numinv.testing.faults import FaultyRepository, InjectedFault
from numinv.testing.model import (
    AuditOutcome,
    InventoryModel,
    Record,
    Refused,
    Tx,
    as_record,
    below,
    key_order,
)
from numinv.testing.watchdog import deadline

__all__ = ["HOST_KIND", "InventoryMachine", "ListenerFailure"]

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
# A host's own consumer kind (SPEC 5: the table is data): always cools, with the usual days.
HOST_KIND = ConsumerKind(
    "host/Pager", Status.USED, Usage.DEVICE, vendor="Pagers Ltd", cooling=Cooling.ALWAYS
)
KINDS = (
    "device/cucm/Phone",
    "device/cucm/HuntPilot",
    "device/msteamsonline/CsOnlineUser",
    "device/spark/Number",
    "device/audiocodes",
    "data/PRS_MultiVendorPhone_DAT",
    "host/Pager",
)
E164S = ("+271", "+272", "+273")
VENDORS = ("", "Cisco", "Microsoft", "Webex Calling", "AudioCodes")
NUMBER_TYPES = ("", "Calling Plan", "CallingPlan", "Extension", "Direct Routing", "Fax")
SUBSCRIBERS = ("s1", "s2")


class ListenerFailure(AssertionError):
    """A listener (the machine's, the host's `listen`, or one the host subscribed) failed."""


def _same_error(found: type[BaseException], expected: type[NumInvError]) -> bool:
    """The error the model expects; any `InvalidInput` stands for its subclasses."""
    return found is expected or (expected is InvalidInput and issubclass(found, InvalidInput))


def _short(consumer: Consumer) -> str:
    owner = f"/{consumer.owner}" if consumer.owner else ""
    return f"{consumer.kind.rsplit('/', 1)[-1]}:{consumer.id}{owner}@{consumer.hierarchy}"


def _change_view(change: Change) -> tuple[Any, ...]:
    return (change.operation, change.before, change.after, change.at, change.actor)


class _Capture(logging.Handler):
    """Errors logged on `numinv.events`: listeners that failed, each one a failure of the step."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class InventoryMachine(RuleBasedStateMachine):
    """An `Inventory` over any repository, compared after every step with a plain-Python model.

    Class attributes set the universe (override them in a subclass); the
    methods `make_repository`, `make_inventory`, `listen` and `check` are the
    hooks a host overrides. Settings are drawn per example from
    `settings_strategy`.
    """

    # -- the universe --------------------------------------------------------------------------

    nodes: ClassVar[tuple[str, ...]] = (
        "sys",
        "sys.c1",
        "sys.c1.s1",
        "sys.c1.S2",  # case matters (SPEC 3): its own node, sorting before sys.c1.s1
        "sys.c10",  # a text look-alike of sys.c1, not below it
        "sys.c2",
        "sys.c2.s1",
    )
    # (node, first number, count) loaded before the first rule.
    estate: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("sys.c1.s1", "100", 6),
        ("sys.c1.s1", "1000", 1),  # a wider number among them: text order is not number order
        ("sys.c1.S2", "100", 3),
        ("sys.c1", "110", 5),
        ("sys.c2.s1", "100", 3),
        ("sys.c10", "1000", 3),
        ("sys", "120", 3),
        ("sys.c2", "+4420", 2),
        ("sys.c1.S2", "+4420", 2),
    )
    numbers: ClassVar[tuple[str, ...]] = ("106", "130", "0100", "+4422")  # besides the estate
    consumer_ids: ClassVar[tuple[str, ...]] = ("a", "b", "c", "d")
    owners: ClassVar[tuple[str, ...]] = ("", "alice", "bob")
    names: ClassVar[tuple[str, ...]] = ("alice", "bob", "a", "b")
    kinds: ClassVar[tuple[ConsumerKind, ...]] = (HOST_KIND,)
    consumer_kinds: ClassVar[tuple[str, ...]] = KINDS
    settings_strategy: ClassVar[st.SearchStrategy[Settings]] = strategies.inventory_settings()
    model_class: ClassVar[type[InventoryModel]] = InventoryModel
    # Known library findings the model accepts as the library does them (each has a strict
    # xfail reproduction in the project's tests); a host leaves this empty.
    tolerate: ClassVar[frozenset[str]] = frozenset()
    step_timeout: ClassVar[float] = 10.0

    # -- hooks ---------------------------------------------------------------------------------

    def make_repository(self) -> Repository:
        """The store under test, fresh and empty. Override to run the machine on yours."""
        from numinv.storage.memory import InMemoryRepository

        return InMemoryRepository()

    def make_inventory(self, repository: Repository, **options: Any) -> Inventory:
        """The inventory under test; `options`: `settings`, `clock`, `kinds`, `describe`, `actor`.

        Override to build your own `Inventory` subclass (a host rule) or to
        subscribe your own listeners: their failures fail the step too.
        """
        return Inventory(repository, **options)

    def describe_consumer(self, consumer: Consumer, record: NumberRecord) -> str:
        """The `describe` hook used in examples that draw one (SPEC 13)."""
        return f"{consumer.id} on {record.number}"

    def listen(self, event: Event) -> None:
        """Called with every event; an exception here fails the step (it is not only logged)."""

    def check(self) -> None:
        """A host's own invariants, run after every step (the model agrees already)."""

    def close_repository(self, repository: Repository) -> None:
        close = getattr(repository, "close", None)
        if callable(close):
            close()

    # -- set-up --------------------------------------------------------------------------------

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.actor: str | None = None
        self.raw = self.make_repository()
        self.store = FaultyRepository(self.raw)
        self.step_events: list[Event] = []
        self.failures: list[str] = []
        self.capture = _Capture()
        self.logger = logging.getLogger("numinv.events")
        for stale in [h for h in self.logger.handlers if isinstance(h, _Capture)]:
            self.logger.removeHandler(stale)  # a subclass's teardown may not have called ours
        self.logger.addHandler(self.capture)
        self.seq = 0
        self.base: dict[tuple[str, str], NumberRecord] = {}  # the store when last pruned
        self.base_seq = 0
        self.deleted: list[NumberRecord] = []  # records deleted, to import again
        self.model: InventoryModel
        self.inventory: Inventory

    def teardown(self) -> None:
        self.logger.removeHandler(self.capture)
        self.close_repository(self.raw)

    @initialize(data=st.data(), describe=st.booleans())
    def start(self, data: st.DataObject, describe: bool) -> None:
        """Draw the settings, build the inventory and the model, load the estate."""
        settings = data.draw(self.settings_strategy, label="settings")
        hook = self.describe_consumer if describe else None
        note(f"settings: {settings}; describe hook: {describe}")
        self.model = self.model_class(
            settings, kinds=self.kinds, describe=hook, now=self.now, tolerate=self.tolerate
        )
        self.inventory = self.make_inventory(
            self.store,
            settings=settings,
            clock=lambda: self.now,
            kinds=list(self.kinds),
            describe=hook,
            actor=lambda: self.actor,
        )
        self.inventory.subscribe(self._heard)
        for node, first, count in self.estate:
            self.load(node, first, count)
        self.seed(data)

    def seed(self, data: st.DataObject) -> None:
        """Settings at some nodes, and numbers in every state, so that each rule meets some.

        Through `perform`, so checked like any step: a reservation for a person, a timed
        reservation, a device's number cooling (it may come back), a used number, a
        cooling with a date.
        """
        for _ in range(data.draw(st.integers(0, 2), label="nodes configured")):
            node = data.draw(st.sampled_from(self.nodes), label="node")
            self.configure_node(node, data.draw(strategies.node_settings(), label="settings"))
        if data.draw(_often(False, 2), label="prevent duplicates"):
            node = data.draw(st.sampled_from(self.nodes), label="node")
            self.configure_node(node, {"prevent_duplicates": True})
        if data.draw(_often(False, 2), label="a site cools its own way"):
            sites = [
                node for node in self.nodes if not any(o.startswith(node + ".") for o in self.nodes)
            ]
            site = data.draw(st.sampled_from(sites), label="site")
            own = {
                "auto_cooling": not self.model.settings.auto_cooling,
                "cooling_days": data.draw(st.integers(1, 9), label="days"),
            }
            self.configure_node(site, own)
        if not self.model.records:
            return
        person = data.draw(st.sampled_from(self.names), label="person")
        days = data.draw(strategies.days(max_days=3), label="days")
        keys = data.draw(st.permutations(sorted(self.model.records)), label="numbers")
        # A number held at two nodes (loaded before prevent-duplicates), reserved for a person.
        held = Counter(number for number, _ in keys)
        shared = [key for key in keys if held[key[0]] > 1] or keys
        mine = data.draw(st.sampled_from(shared), label="reserved for a person")
        keys = [mine, *(key for key in keys if key != mine)]
        self.seed_reserve(mine, days=None, reserved_for=person)
        if len(keys) < 5:
            return
        self.seed_reserve(keys[1], days=days, reserved_for=None)
        gateway = Consumer("device/audiocodes", "gw1", keys[2][1])
        self.assign(keys[2][0], gateway)
        self.unassign(keys[2][0], gateway)
        self.assign(keys[3][0], Consumer("device/cucm/Phone", "a", keys[3][1], owner="alice"))
        number, node = keys[4]
        self.perform(
            f"cool({number}, {node}, days={days})",
            "cool",
            lambda: self.inventory.cool(number, node, days=days),
            lambda tx: self.model.cool(tx, number, node, days=days),
        )

    def seed_reserve(
        self, key: tuple[str, str], *, days: int | None, reserved_for: str | None
    ) -> None:
        number, node = key
        self.perform(
            f"reserve({number}, {node}, days={days}, reserved_for={reserved_for})",
            "reserve",
            lambda: self.inventory.reserve(
                number, node, tag="seed", days=days, reserved_for=reserved_for
            ),
            lambda tx: self.model.reserve(
                tx, number, node, tag="seed", days=days, reserved_for=reserved_for
            ),
        )

    def load(self, node: str, first: str, count: int) -> None:
        self.perform(
            f"add_range({node}, {first}, count={count})",
            "add",
            lambda: self.inventory.add_range(node, first, count=count, tag="pool"),
            lambda tx: self.model.add_range(tx, node, first, count=count, tag="pool"),
            view=int,
        )

    # -- one step: the call, the model, the comparison -----------------------------------------

    def perform(
        self,
        description: str,
        operation: str,
        call: Callable[[], Any],
        expect: Callable[[Tx], Any],
        *,
        view: Callable[[Any], Any] = lambda result: result,
        fault: bool = False,
    ) -> tuple[bool, Any]:
        """Run `call()` on the inventory and `expect(tx)` on the model, then compare everything.

        Returns whether the call succeeded and what it returned. With
        `fault`, an `InjectedFault` from the store is an acceptable outcome
        (the model then expects that nothing changed).
        """
        self.model.now = self.now
        self.model.actor = self.actor
        tx = self.model.begin(operation)
        try:
            expected, refusal = expect(tx), None
        except Refused as refused:
            expected, refusal = None, refused
        self.step_events = []
        self.capture.records.clear()
        result: Any = None
        error: BaseException | None = None
        try:
            with deadline(self.step_timeout, description):
                result = call()
        except NumInvError as refused:
            error = refused
        except InjectedFault as failure:
            if not fault:
                raise
            error = failure
        if error is None:
            shown = f"ok: {self._brief(result)}"
        else:
            shown = f"{type(error).__name__}: {error}"
        note(f"{description} -> {shown}")
        injected = isinstance(error, InjectedFault)
        if refusal is not None and not injected:
            assert error is not None, f"{description}: the model expects {refusal}; it succeeded"
            assert _same_error(type(error), refusal.error), (
                f"{description}: the model expects {refusal}; the inventory "
                + (f"returned {self._brief(result)}" if error is None else f"raised {shown}")
            )
        elif not injected:
            assert error is None, (
                f"{description}: the inventory refused ({shown}); the model expects "
                f"{self._brief(expected)}"
            )
            found = view(result)
            assert found == expected, (
                f"{description}: the inventory returned {self._brief(found)}, the model expects "
                f"{self._brief(expected)}"
                + (
                    ": " + _fields_differ(found, expected, "inventory", "model")
                    if isinstance(found, NumberRecord) and isinstance(expected, NumberRecord)
                    else ""
                )
            )
        committed = error is None and refusal is None
        if committed:
            self.model.commit(tx)
        self.verify(description, self.model.expected_changes(tx) if committed else [])
        if error is None:
            event(f"succeeded: {operation}")
        return committed, result

    def read(self, description: str, call: Callable[[], Any], expected: Any) -> None:
        """A read: the inventory must answer what the model says and change nothing."""
        self.perform(description, "read", call, lambda tx: expected)

    @staticmethod
    def _brief(value: Any) -> str:
        if isinstance(value, NumberRecord):
            return f"{value.number}@{value.hierarchy} {value.status} v{value.version}"
        if isinstance(value, list) and len(value) > 3:
            head = ", ".join(InventoryMachine._brief(v) for v in value[:3])
            return f"[{len(value)} items: {head}, ...]"
        if isinstance(value, list):
            return "[" + ", ".join(InventoryMachine._brief(v) for v in value) + "]"
        text = repr(value)
        return text if len(text) < 300 else text[:300] + "..."

    # -- listening -----------------------------------------------------------------------------

    def _heard(self, event_: Event) -> None:
        """The machine's listener: keeps the event; a failing `listen` is kept to fail the step."""
        self.step_events.append(event_)
        try:
            self.listen(event_)
        except BaseException as error:  # surfaced after the step, not swallowed in a log
            self.failures.append(
                f"listen({event_.operation} of {event_.record.number}) raised "
                f"{type(error).__name__}: {error}"
            )

    # -- the comparisons after every step ------------------------------------------------------

    def verify(self, description: str, expected: list[tuple[str, Any, Any]]) -> None:
        """Everything the inventory and the store say agrees with the model."""
        with deadline(self.step_timeout, f"checking after {description}"):
            self._listeners(description)
            self._journal(description, expected)
            self._store(description)
            self._shown(description)
            self._replay(description)
            self.check()

    def _listeners(self, description: str) -> None:
        failures = self.failures + [
            f"a listener failed: {record.getMessage()} ({record.exc_info[1]!r})"
            if record.exc_info
            else record.getMessage()
            for record in self.capture.records
        ]
        self.failures = []
        self.capture.records.clear()
        if failures:
            raise ListenerFailure(f"after {description}: " + "; ".join(failures))

    def _journal(self, description: str, expected: list[tuple[str, Any, Any]]) -> None:
        """The step's new journal changes are the model's, and so are its events."""
        new = every_change(_Feed(self.inventory), self.seq, limit=7)
        wanted = Counter(
            (operation, before, after, self.now, self.actor)
            for operation, before, after in expected
        )
        found = Counter(_change_view(change) for change in new)
        assert found == wanted, (
            f"after {description}, the journal's new changes differ from the model's:\n"
            + _changes_differ(list((found - wanted).elements()), list((wanted - found).elements()))
        )
        events = [(e.seq, e.operation, e.before, e.after, e.at, e.actor) for e in self.step_events]
        changes = [(c.seq, *_change_view(c)) for c in new]
        assert events == changes, (
            f"after {description}, the events delivered are not the journal's changes in seq "
            f"order: {len(events)} events, {len(changes)} changes"
        )
        for change in new:
            if change.after is not None:
                assert change.after.e164_display == _display(change.after), (
                    f"e164_display of {change.number}: {change.after.e164_display!r}"
                )
        self.step_events = []
        self.model.journal += new
        if new:
            self.seq = new[-1].seq
            for change in new:
                if change.operation == "release_due":
                    event("reached: a lapse stored")

    def _store(self, description: str) -> None:
        """The repository's raw records and indexes, through the side door, are the model's."""
        raw = self.raw
        stored: dict[tuple[str, str], NumberRecord] = {}
        for node in raw.nodes():
            for found in pages(raw, Query(node, limit=16)):
                stored[found.key] = found
        model = {key: as_record(record) for key, record in self.model.records.items()}
        if stored != model:
            differ = sorted(
                key for key in set(stored) | set(model) if stored.get(key) != model.get(key)
            )
            key = differ[0]
            raise AssertionError(
                f"after {description}, the store holds other records than the model "
                f"({len(differ)} keys differ); first {key}: "
                + _fields_differ(stored.get(key), model.get(key), "store", "model")
            )
        counts: dict[str, Counter[Status]] = {}
        for record in model.values():
            counts.setdefault(record.hierarchy, Counter())[record.status] += 1
        raw_counts = {
            node: Counter({Status(s): n for s, n in statuses.items() if n})
            for node, statuses in raw.counts().items()
            if any(statuses.values())
        }
        assert raw_counts == counts, f"after {description}, the store's counts differ"
        assert raw.nodes() == sorted(counts), (
            f"after {description}, the store lists its nodes {raw.nodes()}, not in code-point "
            f"order {sorted(counts)}"
        )
        for name in {*self.names, *self.consumer_ids}:
            held = sorted(
                key_order(r)
                for r in self.model.records.values()
                if name in {u.consumer_id for u in r["uses"]} | {u.owner for u in r["uses"]}
                or r["reserved_for"] == name
            )
            assert [r.key for r in raw.held_by(name)] == held, (
                f"after {description}, the store's held_by({name!r}) differs"
            )
        for e164 in E164S:
            pointed = sorted(key for key, r in model.items() if e164 in r.e164)
            assert sorted(r.key for r in raw.with_e164(e164)) == pointed, (
                f"after {description}, the store's with_e164({e164}) differs"
            )
        dates = [r.release_date for r in model.values() if r.release_date is not None]
        assert raw.next_release() == (min(dates) if dates else None), (
            f"after {description}, the store's next_release differs"
        )
        due = sorted(
            (
                r
                for r in model.values()
                if r.release_date is not None and r.release_date <= self.now
            ),
            key=lambda r: (r.release_date, r.number, r.hierarchy),
        )
        assert [r.key for r in raw.due(self.now, 10_000)] == [r.key for r in due], (
            f"after {description}, the store's due({self.now}) differs"
        )
        settings = {
            node: {name: value for name, value in attrs.asdict(found).items() if value is not None}
            for node, found in raw.node_settings(None).items()
        }
        assert settings == self.model.nodes, (
            f"after {description}, the store's node settings differ"
        )

    def _shown(self, description: str) -> None:
        """What the inventory shows is what the model shows."""
        model = self.model
        bound = len(model.records) + 5
        shown = list(islice(self.inventory.search(), bound))
        expected = model.search()
        assert shown == expected, self._differ(f"after {description}, search()", shown, expected)
        for node in self.leaves():  # each lists its whole line of descent
            offered = list(islice(self.inventory.available(node), bound))
            expected = model.available(node)
            assert offered == expected, self._differ(
                f"after {description}, available({node})", offered, expected
            )
        usage = {
            node: (dict(found.counts), found.low, found.threshold)
            for node, found in self.inventory.utilization().items()
        }
        assert usage == model.utilization(), f"after {description}, utilization() differs"
        # A subtree whose root has a text look-alike beside it (sys.c10 is not below sys.c1).
        below = {
            node: (dict(found.counts), found.low, found.threshold)
            for node, found in self.inventory.utilization("sys.c1").items()
        }
        assert below == model.utilization("sys.c1"), (
            f"after {description}, utilization('sys.c1') differs"
        )
        for name in self.names:
            held = self.inventory.numbers_of(name)
            expected = model.numbers_of(name)
            assert held == expected, self._differ(
                f"after {description}, numbers_of({name!r})", held, expected
            )
        if any(model.is_due(record) for record in model.records.values()):
            event("reached: a lapse shown")

    def _replay(self, description: str) -> None:
        """Replaying the journal (from the last prune on) rebuilds exactly the stored records."""
        rebuilt = dict(self.base)
        for change in every_change(_Feed(self.inventory), self.base_seq, limit=64):
            if change.before is not None:
                held = rebuilt.pop(change.before.key, None)
                assert held == change.before, (
                    f"after {description}, journal change {change.seq} ({change.operation} of "
                    f"{change.number}) starts from a record the journal does not hold: "
                    f"{held} != {change.before}"
                )
            if change.after is not None:
                assert change.after.key not in rebuilt, (
                    f"after {description}, journal change {change.seq} adds "
                    f"{change.after.key} twice"
                )
                rebuilt[change.after.key] = change.after
        records = {key: as_record(record) for key, record in self.model.records.items()}
        assert rebuilt == records, (
            f"after {description}, replaying the journal does not rebuild the stored records "
            f"({len(set(rebuilt) ^ set(records))} keys differ)"
        )

    def _differ(self, what: str, found: list[NumberRecord], expected: list[NumberRecord]) -> str:
        for index, (one, other) in enumerate(zip(found, expected, strict=False)):
            if one != other:
                return f"{what} differs at {index}: " + _fields_differ(
                    one, other, "inventory", "model"
                )
        return (
            f"{what}: the inventory lists {len(found)} records, the model {len(expected)}: "
            f"{[r.key for r in found][-3:]} / {[r.key for r in expected][-3:]}"
        )

    # -- drawing from the model, by state ------------------------------------------------------

    def shown_records(self, where: Callable[[Record], bool] = lambda r: True) -> list[Record]:
        return sorted(
            (shown for r in self.model.records.values() if where(shown := self.model.shown(r))),
            key=key_order,
        )

    def pick(self, data: st.DataObject, where: Callable[[Record], bool] = lambda r: True) -> Record:
        found = self.shown_records(where) or self.shown_records()  # (a release may pass)
        # By state first, then a record of that state: rare states (a number reserved for
        # a person and in use, a device's number cooling) are drawn as often as common ones.
        # Half the time, that is; the other half any record, so common states stay common.
        if data.draw(st.booleans(), label="by state"):
            groups: dict[tuple[Any, ...], list[Record]] = {}
            for record in found:
                groups.setdefault(_state_of(record), []).append(record)
            state = data.draw(st.sampled_from(sorted(groups, key=repr)), label="state")
            found = groups[state]
        records = {key_order(record): record for record in found}
        return records[data.draw(st.sampled_from(sorted(records)), label="record")]

    def any_with(self, status: Status | Iterable[Status]) -> bool:
        wanted = {status} if isinstance(status, Status) else set(status)
        return any(self.model.shown(r)["status"] in wanted for r in self.model.records.values())

    def homes_seeing(self, node: str) -> list[str]:
        return sorted({home for home in self.nodes if below(home, node)})

    def consumer(
        self,
        data: st.DataObject,
        *,
        home: str | None = None,
        seeing: str | None = None,
        kind: str | None = None,
        acting_for: str | None = None,
        not_for: str | None = None,
    ) -> Consumer:
        """A consumer seeing a node (or living at `home`); acting for a person, or surely not."""
        if home is None:
            homes = self.homes_seeing(seeing) if seeing is not None else list(self.nodes)
            home = data.draw(st.sampled_from(homes), label="home")
        kind = kind or data.draw(st.sampled_from(self.consumer_kinds), label="kind")
        ident = data.draw(st.sampled_from(self.consumer_ids), label="id")
        owner = data.draw(st.sampled_from(self.owners), label="owner")
        if acting_for is not None:
            if data.draw(st.booleans(), label="acts as the person itself"):
                ident = acting_for
            else:
                owner = acting_for
        if not_for is not None:
            ident = "x" if ident == not_for else ident
            owner = "" if owner == not_for else owner
        vendor = data.draw(st.sampled_from(["", "Cisco", "Yealink"]), label="vendor")
        return Consumer(kind, ident, home, vendor=vendor, owner=owner)

    def run_at(self, data: st.DataObject) -> tuple[str, str, int]:
        """A node and a run of its numbers (its first number and a count) for a range call.

        Half the time the run starts at a record picked by state (`pick`).
        """
        start: Record | None = None
        if self.model.records and data.draw(st.booleans(), label="from a record") is True:
            start = self.pick(data)
            node = start["hierarchy"]
        else:
            nodes = sorted({r["hierarchy"] for r in self.model.records.values()}) or [*self.nodes]
            node = data.draw(st.sampled_from(nodes), label="node")
        held = sorted(r["number"] for r in self.model.records.values() if r["hierarchy"] == node)
        if not held:
            held = [n for n in self.numbers if not n.startswith("0")]
        first = start["number"] if start else data.draw(st.sampled_from(held), label="first")
        run = 1  # how many numbers from `first` on the node holds without a gap
        while run < 4 and _run(first, run + 1)[-1] in held:
            run += 1
        # Mostly a run the node holds; now and then one number past it (refused: NotFound).
        count = data.draw(st.integers(1, run), label="count")
        if data.draw(_often(False, 5), label="past the run"):
            count = run + 1
        width = len(first.lstrip("+"))
        count = min(count, 10**width - int(first.lstrip("+")))
        return node, first, count

    # -- rules: assigning ----------------------------------------------------------------------

    def assign(
        self, number: str, who: Consumer, *, shared: bool = False, claim: bool = False
    ) -> bool:
        seen = self.model.find(number, who.hierarchy)
        ok, _ = self.perform(
            f"assign({number}, {_short(who)}, shared={shared}, claim={claim})",
            "assign",
            lambda: self.inventory.assign(number, who, shared=shared, claim=claim),
            lambda tx: self.model.assign(tx, number, who, shared=shared, claim=claim),
        )
        if ok and seen is not None and seen.status is Status.RESERVED:
            event("reached: a claim")
        if ok and seen is not None and seen.status is Status.COOLING:
            event("reached: a return from cooling")
        return ok

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def assign_a_number(self, data: st.DataObject) -> None:
        record = self.pick(data)
        who = self.consumer(data, seeing=record["hierarchy"])
        shared = data.draw(st.booleans(), label="shared")
        claim = data.draw(st.booleans(), label="claim")
        self.assign(record["number"], who, shared=shared, claim=claim)

    @precondition(lambda self: self.any_with(Status.RESERVED))
    @rule(data=st.data())
    def claim_a_reservation(self, data: st.DataObject) -> None:
        """A Reserved number, claimed by its person (mostly) or by somebody else."""
        record = self.pick(data, lambda r: r["status"] is Status.RESERVED)
        person = record["reserved_for"]
        if person is not None and data.draw(st.booleans(), label="the person claims"):
            who = self.consumer(data, seeing=record["hierarchy"], acting_for=person)
        else:
            who = self.consumer(data, seeing=record["hierarchy"], not_for=person)
        self.assign(record["number"], who, claim=data.draw(_often(True, 5), label="claim"))

    @precondition(lambda self: self.any_with((Status.USED, Status.USED_UTILITY)))
    @rule(data=st.data())
    def share_a_number(self, data: st.DataObject) -> None:
        record = self.pick(data, lambda r: r["status"] in (Status.USED, Status.USED_UTILITY))
        who = self.consumer(data, seeing=record["hierarchy"])
        self.assign(record["number"], who, shared=data.draw(_often(True, 3), label="shared"))

    @precondition(lambda self: self.any_with((Status.USED, Status.USED_UTILITY)))
    @rule(data=st.data())
    def remove_a_use(self, data: st.DataObject) -> None:
        """The last use removed cools or frees the number (SPEC 6)."""
        record = self.pick(data, lambda r: bool(r["uses"]))
        use = data.draw(st.sampled_from(record["uses"]), label="use")
        who = Consumer(
            use.kind, use.consumer_id, use.hierarchy or record["hierarchy"], owner=use.owner
        )
        self.unassign(record["number"], who)

    def unassign(self, number: str, who: Consumer) -> None:
        self.perform(
            f"unassign({number}, {_short(who)})",
            "unassign",
            lambda: self.inventory.unassign(number, who),
            lambda tx: self.model.unassign(tx, number, who),
        )

    @precondition(lambda self: self.any_with(Status.AVAILABLE))
    @rule(data=st.data())
    def a_site_borrows_from_a_pool(self, data: st.DataObject) -> None:
        """A consumer below a pool's node takes a number and lets it go: the cooling in force
        at the consumer's node applies (SPEC 19), whatever the pool's node says."""
        record = self.pick(data, lambda r: r["status"] is Status.AVAILABLE)
        below_ = [
            home for home in self.homes_seeing(record["hierarchy"]) if home != record["hierarchy"]
        ]
        configured = [home for home in below_ if home in self.model.nodes]
        home = data.draw(
            st.sampled_from(configured or below_ or [record["hierarchy"]]), label="site"
        )
        who = self.consumer(data, home=home)
        if self.assign(record["number"], who):
            self.unassign(record["number"], who)

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def unassign_anybody(self, data: st.DataObject) -> None:
        record = self.pick(data)
        self.unassign(record["number"], self.consumer(data, seeing=record["hierarchy"]))

    @precondition(
        lambda self: any(
            self.model.shown(r)["cooling_use"] is not None for r in self.model.records.values()
        )
    )
    @rule(data=st.data())
    def take_back_from_cooling(self, data: st.DataObject) -> None:
        """The device whose removal started a cooling comes back (AudioCodes; SPEC 6)."""
        record = self.pick(data, lambda r: r["cooling_use"] is not None)
        use = record["cooling_use"]
        who = Consumer(
            use.kind, use.consumer_id, use.hierarchy or record["hierarchy"], owner=use.owner
        )
        if data.draw(_often(False, 4), label="somebody else"):
            who = self.consumer(data, seeing=record["hierarchy"], kind=use.kind)
        self.assign(record["number"], who)

    @precondition(
        lambda self: any(r["reserved_for"] is not None for r in self.model.records.values())
    )
    @rule(data=st.data())
    def assign_next_for_a_person(self, data: st.DataObject) -> None:
        """A device of the person a number is reserved for asks for its next number (SPEC 18)."""
        record = self.pick(data, lambda r: r["reserved_for"] is not None)
        who = self.consumer(data, seeing=record["hierarchy"], acting_for=record["reserved_for"])
        self.next_number(who, None)

    @rule(data=st.data(), prefix=st.none() | st.sampled_from(["1", "10", "11", "+44", "0"]))
    def assign_next(self, data: st.DataObject, prefix: str | None) -> None:
        acting = data.draw(st.none() | st.sampled_from(self.names), label="person")
        self.next_number(self.consumer(data, acting_for=acting), prefix)

    def next_number(self, who: Consumer, prefix: str | None) -> None:
        mine = {
            key
            for key, r in self.model.records.items()
            if self.model.shown(r)["status"] is Status.RESERVED
        }
        ok, result = self.perform(
            f"assign_next({_short(who)}, prefix={prefix})",
            "assign",
            lambda: self.inventory.assign_next(who, prefix=prefix),
            lambda tx: self.model.assign_next(tx, who, prefix=prefix),
        )
        if ok and isinstance(result, NumberRecord) and result.key in mine:
            event("reached: a claim")

    @rule(
        data=st.data(),
        prefix=st.none() | st.sampled_from(["1", "10", "+44"]),
        days=st.none() | strategies.days(max_days=5),
        person=st.none() | st.sampled_from(["alice", "bob"]),
    )
    def reserve_next(
        self, data: st.DataObject, prefix: str | None, days: int | None, person: str | None
    ) -> None:
        node = data.draw(st.sampled_from(self.nodes), label="at")
        self.perform(
            f"reserve_next({node}, prefix={prefix}, days={days}, reserved_for={person})",
            "reserve",
            lambda: self.inventory.reserve_next(
                node, prefix=prefix, tag="next", days=days, reserved_for=person
            ),
            lambda tx: self.model.reserve_next(
                tx, node, prefix=prefix, tag="next", days=days, reserved_for=person
            ),
        )

    # -- rules: holding back -------------------------------------------------------------------

    @precondition(lambda self: self.model.records)
    @rule(
        data=st.data(),
        days=st.none() | strategies.days(max_days=5),
        person=st.none() | st.sampled_from(["alice", "bob", "a"]),
        tag=st.sampled_from(["", "vip"]),
        notes=st.sampled_from(["", "for the new wing"]),
    )
    def reserve(
        self, data: st.DataObject, days: int | None, person: str | None, tag: str, notes: str
    ) -> None:
        record = self.pick(data)
        node = data.draw(st.sampled_from(self.homes_seeing(record["hierarchy"])), label="at")
        number = record["number"]
        self.perform(
            f"reserve({number}, {node}, days={days}, reserved_for={person}, tag={tag!r})",
            "reserve",
            lambda: self.inventory.reserve(
                number, node, tag=tag, notes=notes, days=days, reserved_for=person
            ),
            lambda tx: self.model.reserve(
                tx, number, node, tag=tag, notes=notes, days=days, reserved_for=person
            ),
        )

    def single(self, operation: str, data: st.DataObject, where: Callable[[Record], bool]) -> None:
        """`operation(number, at)` on a number picked by state (else any)."""
        record = self.pick(data, where)
        node = data.draw(st.sampled_from(self.homes_seeing(record["hierarchy"])), label="at")
        number = record["number"]
        self.perform(
            f"{operation}({number}, {node})",
            operation,
            lambda: getattr(self.inventory, operation)(number, node),
            lambda tx: getattr(self.model, operation)(tx, number, node),
        )

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def unreserve(self, data: st.DataObject) -> None:
        self.single(
            "unreserve",
            data,
            lambda r: r["reserved_for"] is not None or r["status"] is Status.RESERVED,
        )

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        self.single("release", data, lambda r: r["status"] is Status.COOLING)

    @precondition(lambda self: self.model.records)
    @rule(data=st.data(), activate=st.booleans())
    def activate_or_deactivate(self, data: st.DataObject, activate: bool) -> None:
        """SPEC 20: an Inactive Webex Calling number becomes Available, or the reverse."""
        if activate:
            self.single("activate", data, lambda r: r["status"] is Status.INACTIVE)
        else:
            self.single("deactivate", data, lambda r: r["status"] is Status.AVAILABLE)

    @precondition(lambda self: self.model.records)
    @rule(
        data=st.data(),
        days=st.none() | strategies.days(max_days=5),
        hours=st.none() | st.integers(-24, 24 * 6),
    )
    def cool(self, data: st.DataObject, days: int | None, hours: int | None) -> None:
        """Manual cooling by days, by date (also in the past), or the default duration.

        Half the time of a number already cooling, when there is one: its period is
        lengthened or cut, and a device's cooling tag counts the days again.
        """
        coolable: tuple[Status, ...] = (Status.AVAILABLE, Status.COOLING)
        if data.draw(st.booleans(), label="one already cooling") and self.any_with(Status.COOLING):
            coolable = (Status.COOLING,)
        record = self.pick(data, lambda r: r["status"] in coolable)
        node = record["hierarchy"]
        until = None if hours is None else self.now + timedelta(hours=hours)
        number = record["number"]
        self.perform(
            f"cool({number}, {node}, days={days}, until={until})",
            "cool",
            lambda: self.inventory.cool(number, node, days=days, until=until),
            lambda tx: self.model.cool(tx, number, node, days=days, until=until),
        )

    @rule(data=st.data())
    def release_due(self, data: st.DataObject) -> None:
        """Store every release that is due (the sweep a host may run; SPEC 6)."""
        ok, released = self.perform(
            "release_due()",
            "release_due",
            self.inventory.release_due,
            self.model.release_due,
            view=lambda records: records,
        )
        if ok and released:
            event("reached: a lapse stored")

    # -- rules: fields, E.164 numbers, service types -------------------------------------------

    @precondition(lambda self: self.model.records)
    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        """Free text, vendor and number type; Extra2 and Extra4 while a service type is applied."""
        names = data.draw(
            st.lists(
                st.sampled_from(
                    [
                        "tag",
                        "description",
                        "reservation_notes",
                        "extra2",
                        "extra4",
                        "extra9",
                        "vendor",
                        "internal_number_type",
                    ]
                ),
                min_size=1,
                max_size=3,
                unique=True,
            ),
            label="fields",
        )
        values = {"vendor": VENDORS, "internal_number_type": NUMBER_TYPES}
        fields = {
            name: data.draw(st.sampled_from(values.get(name, ("", "x"))), label=name)
            for name in names
        }
        record = self.pick(data)
        number, node = record["number"], record["hierarchy"]
        self.perform(
            f"update({number}, {node}, {fields})",
            "update",
            lambda: self.inventory.update(number, node, **fields),
            lambda tx: self.model.update(tx, number, node, **fields),
        )

    @precondition(lambda self: self.model.records)
    @rule(data=st.data(), e164=st.sampled_from(E164S), primary=st.booleans())
    def associate_e164(self, data: st.DataObject, e164: str, primary: bool) -> None:
        record = self.pick(data)
        number, node = record["number"], record["hierarchy"]
        self.perform(
            f"associate_e164({number}, {node}, {e164}, primary={primary})",
            "associate_e164",
            lambda: self.inventory.associate_e164(number, node, e164, primary=primary),
            lambda tx: self.model.associate_e164(tx, number, node, e164, primary=primary),
        )

    @precondition(lambda self: self.model.records)
    @rule(data=st.data(), e164=st.sampled_from(E164S))
    def dissociate_e164(self, data: st.DataObject, e164: str) -> None:
        record = (
            self.pick(data, lambda r: bool(r["e164"]))
            if any(r["e164"] for r in self.model.records.values())
            else self.pick(data)
        )
        if record["e164"]:
            e164 = data.draw(st.sampled_from(record["e164"]), label="e164")
        number, node = record["number"], record["hierarchy"]
        self.perform(
            f"dissociate_e164({number}, {node}, {e164})",
            "dissociate_e164",
            lambda: self.inventory.dissociate_e164(number, node, e164),
            lambda tx: self.model.dissociate_e164(tx, number, node, e164),
        )

    @precondition(lambda self: self.model.records)
    @rule(
        data=st.data(),
        subscriber=st.sampled_from(SUBSCRIBERS),
        # Those that write a TelURI into Extra4 first: they have the most to get wrong.
        service=st.sampled_from(
            [
                ServiceType.MS_ONLY_ENTVOICE,
                ServiceType.CISCO_MS_HYBRID,
                ServiceType.MS_ONLY_HYBRID,
                *ServiceType,
            ]
        ),
    )
    def apply_service(self, data: st.DataObject, subscriber: str, service: ServiceType) -> None:
        record = self.pick(data)
        node = data.draw(st.sampled_from(self.homes_seeing(record["hierarchy"])), label="at")
        number = record["number"]
        self.perform(
            f"apply_service({number}, {node}, {subscriber}, {service})",
            "apply_service",
            lambda: self.inventory.apply_service(number, node, subscriber, service),
            lambda tx: self.model.apply_service(tx, number, node, subscriber, str(service)),
        )

    # -- rules: ranges -------------------------------------------------------------------------

    @rule(
        data=st.data(),
        skip=st.booleans(),
        vendor=st.sampled_from(VENDORS),
        number_type=st.sampled_from(NUMBER_TYPES),
        extra=st.sampled_from([{}, {"extra3": "pool"}, {"description": "new"}]),
    )
    def add_range(
        self,
        data: st.DataObject,
        skip: bool,
        vendor: str,
        number_type: str,
        extra: dict[str, str],
    ) -> None:
        node = data.draw(st.sampled_from(self.nodes), label="node")
        first = data.draw(
            st.sampled_from(sorted({*self.numbers, *(n for _, n, _ in self.estate)})), label="first"
        )
        count = data.draw(st.integers(1, 4), label="count")
        self.perform(
            f"add_range({node}, {first}, count={count}, skip_existing={skip}, vendor={vendor!r}, "
            f"internal_number_type={number_type!r}, {extra})",
            "add",
            lambda: self.inventory.add_range(
                node,
                first,
                count=count,
                skip_existing=skip,
                vendor=vendor,
                internal_number_type=number_type,
                **extra,
            ),
            lambda tx: self.model.add_range(
                tx,
                node,
                first,
                count=count,
                skip_existing=skip,
                vendor=vendor,
                internal_number_type=number_type,
                **extra,
            ),
            view=int,
        )

    def ranged(self, operation: str, data: st.DataObject, **options: Any) -> None:
        node, first, count = self.run_at(data)
        journal = {"update_range": "update"}.get(operation, operation.removesuffix("_range"))
        self.perform(
            f"{operation}({node}, {first}, count={count}, {options})",
            journal,
            lambda: getattr(self.inventory, operation)(node, first, count=count, **options),
            lambda tx: getattr(self.model, operation)(tx, node, first, count=count, **options),
            view=int,
        )

    @precondition(lambda self: self.model.records)
    @rule(data=st.data(), tag=st.sampled_from(["bulk", "", "vip"]))
    def update_range(self, data: st.DataObject, tag: str) -> None:
        self.ranged("update_range", data, tag=tag)

    @precondition(lambda self: self.model.records)
    @rule(
        data=st.data(),
        days=st.none() | strategies.days(max_days=5),
        person=st.none() | st.sampled_from(["alice", "bob"]),
    )
    def reserve_range(self, data: st.DataObject, days: int | None, person: str | None) -> None:
        self.ranged("reserve_range", data, tag="held", days=days, reserved_for=person)

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def unreserve_range(self, data: st.DataObject) -> None:
        self.ranged("unreserve_range", data)

    @precondition(lambda self: self.model.records)
    @rule(
        data=st.data(),
        days=st.none() | strategies.days(max_days=5),
        hours=st.none() | st.integers(-2, 24 * 5),
    )
    def cool_range(self, data: st.DataObject, days: int | None, hours: int | None) -> None:
        until = None if hours is None or days is not None else self.now + timedelta(hours=hours)
        self.ranged("cool_range", data, days=days, until=until)

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def release_range(self, data: st.DataObject) -> None:
        self.ranged("release_range", data)

    @precondition(lambda self: self.model.records)
    @rule(data=st.data(), skip=st.booleans())
    def delete_range(self, data: st.DataObject, skip: bool) -> None:
        node, first, count = self.run_at(data)
        before = dict(self.model.records)
        ok, _ = self.perform(
            f"delete_range({node}, {first}, count={count}, skip_unavailable={skip})",
            "delete",
            lambda: self.inventory.delete_range(node, first, count=count, skip_unavailable=skip),
            lambda tx: self.model.delete_range(tx, node, first, count=count, skip_unavailable=skip),
            view=lambda result: (
                (int(result), result.skipped) if isinstance(result, RangeResult) else result
            ),
        )
        if ok:
            self.deleted += [
                as_record(record) for key, record in before.items() if key not in self.model.records
            ]

    @precondition(lambda self: self.model.records)
    @rule(data=st.data())
    def move_range(self, data: st.DataObject) -> None:
        node, first, count = self.run_at(data)
        to = data.draw(st.sampled_from(self.nodes), label="to")
        ok, _ = self.perform(
            f"move_range({node}, {first}, count={count}, to={to})",
            "move",
            lambda: self.inventory.move_range(node, first, count=count, to=to),
            lambda tx: self.model.move_range(tx, node, first, count=count, to=to),
            view=int,
        )
        if ok:
            event("reached: a move")
            for number in _run(first, count):  # what a consumer there saw happen to it
                self.history_seen_from(number, to)

    def history_seen_from(self, number: str, at: str) -> None:
        self.read(
            f"history({number}, at={at})",
            lambda: self.inventory.history(number, at=at),
            self.model.history(number, at=at),
        )

    @precondition(lambda self: self.deleted or self.model.records)
    @rule(data=st.data())
    def import_records(self, data: st.DataObject) -> None:
        """Records exported before (deleted since, or copies placed at another node) come back."""
        pool = self.deleted or [as_record(r) for r in self.model.records.values()]
        chosen = data.draw(
            st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique_by=lambda r: r.key),
            label="records",
        )
        exported = data.draw(st.sampled_from(["as they were", "elsewhere", "held"]), label="how")
        if exported == "held":  # another inventory's export: Inactive, or Reserved, for a person
            node = data.draw(st.sampled_from(self.nodes), label="node")
            person = data.draw(st.sampled_from(self.names), label="person")
            chosen = [
                NumberRecord(
                    number,
                    node,
                    status=data.draw(st.sampled_from([Status.INACTIVE, Status.RESERVED])),
                    vendor="Webex Calling",
                    admin_vendor="Webex Calling",
                    reserved_for=person,
                    tag="exported",
                )
                for number in data.draw(
                    st.lists(st.sampled_from(["160", "161", "162"]), min_size=1, unique=True),
                    label="numbers",
                )
            ]
        elif exported == "elsewhere":
            node = data.draw(st.sampled_from(self.nodes), label="node")
            chosen = [
                attrs.evolve(
                    r,
                    hierarchy=node,
                    uses=(),
                    usage=(),
                    status=Status.AVAILABLE,
                    vendor=r.admin_vendor,
                    release_date=None,
                    reserved_for=None,
                    cooling_use=None,
                    tag_before_cooling=None,
                    service_type=None,
                    internal_number_type=_type_for(r.admin_number_type, r.admin_vendor),
                )
                for r in chosen
            ]
        ok, _ = self.perform(
            f"import_records({[r.key for r in chosen]})",
            "import",
            lambda: self.inventory.import_records(chosen),
            lambda tx: self.model.import_records(tx, chosen),
            view=int,
        )
        if ok:
            event("reached: an import")
            self.deleted = [r for r in self.deleted if r.key not in {c.key for c in chosen}]

    # -- rules: audits -------------------------------------------------------------------------

    @precondition(lambda self: self.model.records)
    @rule(
        data=st.data(),
        fix=st.deferred(lambda: _often(True, 3)),
        add_missing=st.booleans(),
        scope=st.none() | st.sampled_from(["sys.c1", "sys.c2", "sys.c1.s1"]),
    )
    def audit(self, data: st.DataObject, fix: bool, add_missing: bool, scope: str | None) -> None:
        """What the UC applications use: most uses kept, some gone, some new, some unknown."""
        observed: list[Observation] = []
        for record in sorted(self.model.records.values(), key=key_order):
            for use in record["uses"]:
                if data.draw(_often(True, 3), label="keep a use"):
                    who = Consumer(
                        use.kind,
                        use.consumer_id,
                        use.hierarchy or record["hierarchy"],
                        vendor=use.vendor,
                        owner=use.owner,
                    )
                    observed.append(Observation(record["number"], who))
        for _ in range(data.draw(st.integers(0, 3), label="new uses")):
            record = self.pick(data)
            who = self.consumer(data, seeing=record["hierarchy"])
            observed.append(Observation(record["number"], who))
        for _ in range(data.draw(st.integers(0, 2), label="unknown numbers")):
            number = data.draw(st.sampled_from(["140", "141", "+4429"]), label="unknown")
            observed.append(Observation(number, self.consumer(data)))
        for _ in range(data.draw(st.integers(0, 2), label="held unassigned")):
            number = data.draw(
                st.sampled_from(
                    sorted({r["number"] for r in self.model.records.values()} | {"142"})
                ),
                label="number",
            )
            vendor, number_type = data.draw(
                st.sampled_from(
                    [
                        ("Microsoft", "Operator Connect"),
                        ("Microsoft", "CallingPlan"),
                        ("Webex Calling", "Extension"),
                        ("Webex Calling", ""),
                        ("", ""),
                    ]
                ),
                label="vendor",
            )
            where = data.draw(st.none() | st.sampled_from(self.nodes), label="where")
            observed.append(
                Observation(
                    number,
                    vendor=vendor,
                    internal_number_type=number_type,
                    # Only a Webex Calling number is reported inactive (SPEC 20).
                    active=data.draw(st.booleans(), label="active") or vendor == "Microsoft",
                    hierarchy=where,
                )
            )
            event("reached: an observation without a consumer")
        ok, report = self.perform(
            f"audit({len(observed)} observations, at={scope}, fix={fix}, "
            f"add_missing={add_missing})",
            "audit",
            lambda: self.inventory.audit(observed, at=scope, fix=fix, add_missing=add_missing),
            lambda tx: self.model.audit(tx, observed, at=scope, fix=fix, add_missing=add_missing),
            view=_outcome,
        )
        if ok:
            event("reached: an audit")
            if isinstance(report, AuditReport) and report.changes and fix:
                event("reached: an audit that fixed something")

    # -- rules: settings, time, the journal ----------------------------------------------------

    @rule(data=st.data(), settings=strategies.node_settings())
    def configure(self, data: st.DataObject, settings: dict[str, Any]) -> None:
        self.configure_node(data.draw(st.sampled_from(self.nodes), label="at"), settings)

    def configure_node(self, node: str, settings: dict[str, Any]) -> None:
        self.perform(
            f"configure({node}, {settings})",
            "configure",
            lambda: self.inventory.configure(node, **settings),
            lambda tx: self.model.configure(tx, node, **settings),
        )

    @rule(
        hours=st.integers(-72, 96).filter(bool),
        actor=st.sampled_from([None, "ops@acme", "sync job"]),
    )
    def time_passes(self, hours: int, actor: str | None) -> None:
        """The clock moves on, or is set back (a host's clock corrected); who acts may change.

        Reads follow the clock both ways; releases already stored stay stored.
        """
        self.actor = actor
        if hours < 0:
            event("reached: the clock back")
        self.clock(self.now + timedelta(hours=hours), f"the clock moves {hours:+} h, {actor} acts")

    @precondition(
        lambda self: any(r["release_date"] is not None for r in self.model.records.values())
    )
    @rule(
        data=st.data(),
        offset=st.sampled_from(
            [
                timedelta(0),
                timedelta(microseconds=-1),
                timedelta(microseconds=1),
                timedelta(hours=1),
            ]
        ),
    )
    def a_release_date_comes(self, data: st.DataObject, offset: timedelta) -> None:
        """The clock reaches a release date exactly, or just before or after it (`due`)."""
        dates = sorted(
            {r["release_date"] for r in self.model.records.values() if r["release_date"]}
        )
        when = data.draw(st.sampled_from(dates), label="release date")
        self.clock(when + offset, f"the clock reaches a release date (offset {offset})")

    def clock(self, now: datetime, why: str) -> None:
        self.now = self.model.now = now
        note(f"{why}: {now.isoformat()}")
        self.verify(why, [])

    @precondition(lambda self: self.model.journal)
    @rule(data=st.data())
    def prune_history(self, data: st.DataObject) -> None:
        times = sorted({change.at for change in self.model.journal})
        before = data.draw(
            st.sampled_from(times).map(lambda t: t)
            | st.sampled_from(times).map(lambda t: t + timedelta(microseconds=1)),
            label="before",
        )
        # The oldest changes, in seq order, while older than `before` (a prefix: no hole).
        expected = next(
            (n for n, change in enumerate(self.model.journal) if change.at >= before),
            len(self.model.journal),
        )
        # Replay from here on: what is stored now, and the changes after the last one.
        self.base = {key: as_record(record) for key, record in self.model.records.items()}
        self.base_seq = self.seq
        ok, _ = self.perform(
            f"prune_history({before.isoformat()})",
            "prune",
            lambda: self.inventory.prune_history(before),
            lambda tx: expected,
        )
        if ok:
            self.model.journal = self.model.journal[expected:]
            event("reached: a prune")

    # -- rules: reads -----------------------------------------------------------------------

    @rule(data=st.data(), read=st.integers(0, 6))
    def a_read(self, data: st.DataObject, read: int) -> None:
        """One of the reads, with filters, cursors and limits (the plain ones run every step)."""
        [
            self.look_up,
            self.search,
            self.available,
            self.history,
            self.changes,
            self.numbers_of,
            self.settings_and_utilization_at,
        ][read](data)

    # -- the reads ----------------------------------------------------------------------------

    def look_up(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(self.universe()), label="number")
        node = data.draw(st.sampled_from(self.nodes), label="at")
        self.perform(
            f"get({number}, {node})",
            "read",
            lambda: self.inventory.get(number, node),
            lambda tx: self.model.get(number, node),
        )
        self.read(
            f"find({number}, {node})",
            lambda: self.inventory.find(number, node),
            self.model.find(number, node),
        )

    def search(self, data: st.DataObject) -> None:
        def maybe(values: Sequence[Any], label: str) -> Any:
            return data.draw(st.none() | st.sampled_from(values), label=label)

        at = maybe(self.nodes, "at")
        options: dict[str, Any] = {
            "at": at,
            "below": data.draw(st.booleans(), label="below"),
            "status": maybe(list(Status), "status"),
            "usage": maybe([Usage.DEVICE, Usage.USER, Usage.HUNT_PILOT], "usage"),
            "vendor": maybe(["", "Cisco", "Microsoft", "AudioCodes"], "vendor"),
            "prefix": maybe(["1", "10", "+44", "0"], "prefix"),
            "tag": maybe(["pool", "vip", ""], "tag"),
            "limit": maybe([0, 1, 2, 4], "limit"),
            "after": data.draw(
                st.none()
                | st.sampled_from(self.universe())
                | st.tuples(st.sampled_from(self.universe()), st.sampled_from(self.nodes)),
                label="after",
            ),
        }
        expected = self.model.search(
            **{("below_" if k == "below" else k): v for k, v in options.items()}
        )
        bound = len(self.model.records) + 5
        self.read(
            f"search({ {k: v for k, v in options.items() if v is not None} })",
            lambda: list(islice(self.inventory.search(**options), bound)),
            expected,
        )

    def available(self, data: st.DataObject) -> None:
        node = data.draw(st.sampled_from(self.nodes), label="at")
        prefix = data.draw(st.none() | st.sampled_from(["1", "10", "+44"]), label="prefix")
        limit = data.draw(st.none() | st.integers(0, 3), label="limit")
        self.read(
            f"available({node}, prefix={prefix}, limit={limit})",
            lambda: list(self.inventory.available(node, prefix=prefix, limit=limit)),
            self.model.available(node, prefix=prefix, limit=limit),
        )

    def history(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(self.universe()), label="number")
        at = data.draw(st.none() | st.sampled_from(self.nodes), label="at")
        limit = data.draw(st.none() | st.integers(1, 3), label="limit")
        self.read(
            f"history({number}, at={at}, limit={limit})",
            lambda: self.inventory.history(number, at=at, limit=limit),
            self.model.history(number, at=at, limit=limit),
        )

    def changes(self, data: st.DataObject) -> None:
        after = data.draw(st.integers(0, self.seq + 2), label="after")
        limit = data.draw(st.integers(1, 20), label="limit")
        self.read(
            f"changes(after={after}, limit={limit})",
            lambda: self.inventory.changes(after=after, limit=limit),
            self.model.changes(after=after, limit=limit),
        )

    def numbers_of(self, data: st.DataObject) -> None:
        at = data.draw(st.none() | st.sampled_from(self.nodes), label="at")
        who = data.draw(st.sampled_from([*self.names, *self.consumer_ids]), label="who")
        self.read(
            f"numbers_of({who!r}, at={at})",
            lambda: self.inventory.numbers_of(who, at=at),
            self.model.numbers_of(who, at=at),
        )

    def settings_and_utilization_at(self, data: st.DataObject) -> None:
        node = data.draw(st.sampled_from(self.nodes), label="at")
        threshold = data.draw(st.none() | st.sampled_from([0.0, 0.5, 1.0]), label="below")
        self.read(
            f"settings_at({node})",
            lambda: self.inventory.settings_at(node),
            self.model.settings_at(node),
        )
        options: dict[str, Any] = {} if threshold is None else {"below": threshold}
        self.read(
            f"utilization({node}, {options})",
            lambda: {
                name: (dict(found.counts), found.low, found.threshold)
                for name, found in self.inventory.utilization(node, **options).items()
            },
            self.model.utilization(node, below_=threshold),
        )

    # -- rules: the store misbehaves -----------------------------------------------------------

    @precondition(lambda self: self.any_with(Status.AVAILABLE))
    @rule(data=st.data())
    def another_writer_wins_a_race(self, data: st.DataObject) -> None:
        """The store reports a lost race once: a single-number call runs again and succeeds."""
        record = self.pick(data, lambda r: r["status"] is Status.AVAILABLE)
        number, node = record["number"], record["hierarchy"]
        retried = self.inventory.retried
        self.store.arm(1, race=True)
        try:
            ok, _ = self.perform(
                f"reserve({number}, {node}) while another writer wins the first try",
                "reserve",
                lambda: self.inventory.reserve(number, node, tag="raced"),
                lambda tx: self.model.reserve(tx, number, node, tag="raced"),
            )
        finally:
            self.store.arm(None)
        assert self.inventory.retried == retried + (1 if ok else 0), "the lost race was not retried"
        event("reached: a lost race retried")

    @precondition(lambda self: self.model.records)
    @rule(data=st.data(), step=st.integers(1, 8), call=st.integers(0, 3))
    def the_store_fails_part_way(self, data: st.DataObject, step: int, call: int) -> None:
        """A write fails at its `step`-th record: nothing of the call is left (SPEC 12)."""
        node, first, count = self.run_at(data)
        calls: list[tuple[str, str, Callable[[], Any], Callable[[Tx], Any]]] = [
            (
                "update_range",
                "update",
                lambda: self.inventory.update_range(node, first, count=count, extra8="x"),
                lambda tx: self.model.update_range(tx, node, first, count=count, extra8="x"),
            ),
            (
                "add_range",
                "add",
                lambda: self.inventory.add_range(node, "150", count=count),
                lambda tx: self.model.add_range(tx, node, "150", count=count),
            ),
            (
                "delete_range",
                "delete",
                lambda: self.inventory.delete_range(
                    node, first, count=count, skip_unavailable=True
                ),
                lambda tx: self.model.delete_range(
                    tx, node, first, count=count, skip_unavailable=True
                ),
            ),
            (
                "move_range",
                "move",
                lambda: self.inventory.move_range(node, first, count=count, to="sys.c2"),
                lambda tx: self.model.move_range(tx, node, first, count=count, to="sys.c2"),
            ),
        ]
        name, operation, run, expect = calls[call]
        self.store.arm(step)
        try:
            self.perform(
                f"{name}({node}, {first}, count={count}) failing at write step {step}",
                operation,
                run,
                expect,
                view=lambda result: (
                    (int(result), result.skipped)
                    if name == "delete_range" and isinstance(result, RangeResult)
                    else int(result)
                ),
                fault=True,
            )
        finally:
            self.store.arm(None)

    def leaves(self) -> list[str]:
        """The nodes with no node below them: `available` from each covers every node above."""
        return [
            node for node in self.nodes if not any(o.startswith(node + ".") for o in self.nodes)
        ]

    # -- helpers -------------------------------------------------------------------------------

    def universe(self) -> list[str]:
        return sorted(
            {*self.numbers, *(r["number"] for r in self.model.records.values())}
            | {number for _, first, count in self.estate for number in _run(first, count)}
        )


class _Feed:
    """The inventory's change feed as a reader of changes, for the bounded paging helper."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def changes(self, after: int, limit: int) -> list[Change]:
        return self.inventory.changes(after=after, limit=limit)


def _often(value: bool, times: int) -> st.SearchStrategy[bool]:
    """`value`, `times` times out of `times + 1` (Hypothesis prefers a range's first values,
    so `integers(0, n) == 0` would not be one in n + 1)."""
    return st.sampled_from([value] * times + [not value])


def _state_of(record: Record) -> tuple[Any, ...]:
    """What makes a record interesting to a rule: its status and what holds it back."""
    return (
        str(record["status"]),
        record["reserved_for"] is not None,
        record["cooling_use"] is not None,
        record["service_type"] is not None,
        len(record["uses"]) > 1,
    )


def _fields_differ(
    one: NumberRecord | None, other: NumberRecord | None, first: str, second: str
) -> str:
    """The fields in which two records differ, one line each."""
    if one is None or other is None:
        return f"\n  {first}: {one}\n  {second}: {other}"
    lines = [
        f"\n  {name}: {first} {getattr(one, name)!r}, {second} {getattr(other, name)!r}"
        for name in (field.name for field in attrs.fields(NumberRecord))
        if getattr(one, name) != getattr(other, name)
    ]
    return f"{one.number} at {one.hierarchy}" + "".join(lines)


def _changes_differ(found: list[tuple[Any, ...]], wanted: list[tuple[Any, ...]]) -> str:
    """Journal changes only in the journal, and only in the model, paired where they can be."""
    lines = []
    for index in range(max(len(found), len(wanted))):
        one = found[index] if index < len(found) else None
        other = wanted[index] if index < len(wanted) else None
        if one is not None and other is not None and one[0] == other[0]:
            lines.append(f"  {one[0]}:")
            for position, part in ((1, "before"), (2, "after")):
                if one[position] != other[position]:
                    lines.append(
                        f"    {part}: "
                        + _fields_differ(one[position], other[position], "journal", "model")
                    )
            for position, part in ((3, "at"), (4, "actor")):
                if one[position] != other[position]:
                    lines.append(f"    {part}: journal {one[position]}, model {other[position]}")
        else:
            lines.append(f"  only in the journal: {_change_line(one)}")
            lines.append(f"  only in the model:   {_change_line(other)}")
    return "\n".join(lines)


def _change_line(change: tuple[Any, ...] | None) -> str:
    """One journal change in a line: operation, record, versions and what it changed."""
    if change is None:
        return "-"
    operation, before, after, at, actor = change
    record = after or before
    versions = f"v{before.version if before else '-'} -> v{after.version if after else '-'}"
    changed = (
        [
            name
            for name in (field.name for field in attrs.fields(NumberRecord))
            if name != "version" and getattr(before, name) != getattr(after, name)
        ]
        if before is not None and after is not None
        else []
    )
    what = (
        f" changing {', '.join(changed)}"
        if changed
        else (" changing nothing" if before and after else "")
    )
    return f"{operation} of {record.number} at {record.hierarchy} {versions}{what} ({at}, {actor})"


def _run(first: str, count: int) -> list[str]:
    plus = "+" if first.startswith("+") else ""
    digits = first[len(plus) :]
    return [f"{plus}{value:0{len(digits)}d}" for value in range(int(digits), int(digits) + count)]


def _display(record: NumberRecord) -> str:
    """SPEC 7: the E.164 column, worked out independently."""
    if not record.e164:
        return ""
    shown = record.primary_e164 or record.e164[0]
    text = f"{shown} (P)" if record.primary_e164 else shown
    return f"{text} [+{len(record.e164) - 1}]" if len(record.e164) > 1 else text


def _type_for(number_type: str, vendor: str) -> str:
    from numinv.testing.model import type_shown

    return type_shown(number_type, vendor)


def _outcome(report: Any) -> Any:
    if not isinstance(report, AuditReport):
        return report
    return AuditOutcome(
        tuple(sorted((c.number, c.hierarchy, str(c.reason)) for c in report.changes)),
        tuple(sorted((c.number, c.hierarchy) for c in report.conflicts)),
        tuple(report.unknown),
    )
