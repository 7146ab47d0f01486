"""Audit: reconcile recorded uses with what the UC applications really use (SPEC 10, 20).

The audit streams the observations once, keeping those made in scope by
number, then walks the records in scope once, node by node in number order,
matching each record with the observations made at or below its node: by
uniqueness in a line of descent, that record is the one those consumers see.
Observations left over are unknown numbers. Each record's fix is a chain of
lifecycle steps (recompute, record observed uses, remove unobserved uses
through the unassign rule, record a number held unassigned), so the audit
obeys the same rules as every other operation.

Reading is done outside any transaction and never writes (a dry run is
exactly this part). The fixes are then written in one transaction: a record
another writer changed meanwhile has its fix worked out again from the
record as it is now, and a number `add_missing` adds is checked for
uniqueness inside that transaction, so an audit neither undoes a concurrent
change nor starves behind a busy writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import StrEnum

import attrs

from numinv.core.hierarchy import is_at_or_below, related
from numinv.core.kinds import use_of
from numinv.core.lifecycle import (
    IN_USE,
    Observe,
    ObserveUnassigned,
    Recompute,
    Rules,
    Unassign,
    as_of,
    loaded,
    transition,
)
from numinv.core.numbers import number_range, parse_number
from numinv.core.records import Consumer, NumberRecord, Observation, Status, Use
from numinv.core.uniqueness import clashing
from numinv.core.vendors import (
    admin_vendor,
    check_internal_number_type,
    shown_number_type,
    shown_vendor,
    usage_of,
)
from numinv.errors import InvalidInput
from numinv.reading import pages, visible
from numinv.storage.protocol import Query, Repository
from numinv.work import UnitOfWork

__all__ = ["Audit", "AuditChange", "AuditConflict", "AuditReport", "Reason"]

_PAGE = 1024
_REPORTED = 20


class Reason(StrEnum):
    """Why an audit changed a record."""

    RECOMPUTED = "status recomputed"
    USE_RECORDED = "use recorded"
    USE_REMOVED = "use removed"
    NUMBER_ADDED = "number added"
    HELD_UNASSIGNED = "held unassigned"


@attrs.frozen
class AuditChange:
    """One step of an audit's fix: the record before and after it, and why."""

    number: str
    hierarchy: str
    before: NumberRecord | None
    after: NumberRecord
    reason: Reason


@attrs.frozen
class AuditConflict:
    """An observation that contradicts the inventory: the number was held back, or taken."""

    number: str
    hierarchy: str
    status: Status | None
    consumer: Consumer | None
    reason: str


@attrs.frozen
class AuditReport:
    """What an audit found and (with `fixed`) wrote."""

    changes: tuple[AuditChange, ...]
    unknown: tuple[Observation, ...]
    conflicts: tuple[AuditConflict, ...]
    counts: Mapping[str, int]
    fixed: bool
    scope: str | None = None
    examined: int = 0

    @property
    def changed(self) -> int:
        """How many records the audit changed (or would change)."""
        return len({(change.number, change.hierarchy) for change in self.changes})

    def __str__(self) -> str:
        where = self.scope or "the whole inventory"
        mode = "fixed" if self.fixed else "dry run, nothing written"
        lines = [
            f"Audit of {where} ({mode}): {_count(self.examined, 'record')} examined, "
            f"{self.changed} changed, {_count(len(self.unknown), 'unknown observation')}, "
            f"{_count(len(self.conflicts), 'conflict')}"
        ]
        lines += [
            f"  {reason}: {count}"
            for reason, count in sorted(self.counts.items())
            if count and reason in Reason._value2member_map_
        ]
        if self.conflicts:
            lines.append("Conflicts:")
            lines += [
                f"  {c.number} at {c.hierarchy} ({c.status or 'not added'}): {c.reason}"
                for c in self.conflicts[:_REPORTED]
            ]
        if self.unknown:
            lines.append("Unknown:")
            lines += [f"  {_described(o)}" for o in self.unknown[:_REPORTED]]
        hidden = max(len(self.conflicts), len(self.unknown)) - _REPORTED
        if hidden > 0:
            lines.append(f"(the first {_REPORTED} of each are shown; see .conflicts and .unknown)")
        return "\n".join(lines)


def _described(observation: Observation) -> str:
    who = observation.consumer
    if who is None:
        where = f" at {observation.hierarchy}" if observation.hierarchy else ""
        state = "held unassigned" if observation.active else "held inactive"
        vendor = f" by {observation.vendor}" if observation.vendor else ""
        return f"{observation.number} {state}{vendor}{where}"
    return f"{observation.number} used by {who.kind} {who.id!r} at {who.hierarchy}"


def _count(amount: int, noun: str) -> str:
    return f"{amount} {noun}" if amount == 1 else f"{amount} {noun}s"


@attrs.define
class _Fix:
    """One record's fix: the record read, its observations, the steps, what they make of it."""

    original: NumberRecord
    observations: list[Observation]
    fixed: NumberRecord
    steps: list[AuditChange]
    conflicts: list[AuditConflict]


# The fixes and additions planned, by key, and the conflicts found.
_Plan = tuple[dict[tuple[str, str], _Fix], dict[tuple[str, str], _Fix], list[AuditConflict]]


class ReadMeanwhile(Exception):  # not an error a host sees: the audit reads again
    """A record the plan was read from left its node before the plan was written.

    The audit reads node by node. A record moved from a node read to one not
    yet read is read twice, and the observation its first reading took is
    gone from its second: a fix planned so takes a consumer's use away. The
    plan is read again (`Inventory.audit`).
    """

    def __init__(self, number: str, node: str, *, joined: bool) -> None:
        super().__init__(
            f"{number} left {node} while the audit read the records; run the audit again"
        )
        self.number, self.node, self.joined = number, node, joined


class Audit:
    """One audit: observations read, records matched, fixes planned, then written."""

    def __init__(
        self,
        repository: Repository,
        rules: Rules,
        at: str | None,
        *,
        describe: Callable[[Consumer, NumberRecord], str | None] | None = None,
    ) -> None:
        self.repository = repository
        self.rules = rules
        self.at = at
        # The host's description of a number a consumer is seen to take (SPEC 13).
        self.describe = describe
        # One observation per number, or a list when several consumers use it.
        self.observed: dict[str, list[Observation]] = {}
        self.unknown: list[Observation] = []
        self.conflicts: list[AuditConflict] = []
        self.fixes: dict[tuple[str, str], _Fix] = {}
        self.added: dict[tuple[str, str], _Fix] = {}
        self.examined = 0
        # Observations of numbers held unassigned with no node: every record of the
        # number in scope takes them; those that matched none are unknown.
        self.anywhere: dict[str, list[Observation]] = {}
        self.matched: set[int] = set()
        # The node each observed number was first read at, and the nodes of those read
        # again at another (`ReadMeanwhile`).
        self.read_at: dict[str, str] = {}
        self.read_again: dict[str, list[str]] = {}
        # The plan as `write` first found it: a write run again after a lost race starts
        # from it, not from what the failed run left.
        self.planned: _Plan | None = None

    # -- reading ----------------------------------------------------------------

    def in_scope(self, hierarchy: str) -> bool:
        return self.at is None or is_at_or_below(hierarchy, self.at)

    def read(self, observations: Iterable[object]) -> None:
        """Take the observations, then match them with every record in scope."""
        for observation in observations:
            self.observe(observation)
        for record in self.records():
            self.examined += 1
            self.reconcile(record)
        self.leftovers()

    def observe(self, observation: object) -> None:
        if not isinstance(observation, Observation):
            raise InvalidInput(f"expected an Observation, not {observation!r}", value=observation)
        number = parse_number(observation.number)
        consumer = observation.consumer
        home: str | None
        if consumer is not None:
            if consumer.kind not in self.rules.kinds:
                use_of(consumer, self.rules.kinds)  # refuses the unknown kind, naming it
            home = consumer.hierarchy
        else:
            vendor = admin_vendor(observation.vendor)
            check_internal_number_type(observation.internal_number_type, vendor)
            home = observation.hierarchy
        if home is not None and not self.in_scope(home):
            return  # only a record outside the scope can be visible from there
        if number != observation.number:
            observation = attrs.evolve(observation, number=number)
        if home is None:
            self.anywhere.setdefault(number, []).append(observation)
        else:
            self.observed.setdefault(number, []).append(observation)

    def records(self) -> Iterator[NumberRecord]:
        for node in self.repository.nodes(self.at):
            yield from pages(self.repository, Query(node), _PAGE)

    def mine(self, record: NumberRecord) -> list[Observation]:
        """Take the observations of the record's number made at or below its node."""
        number, at = record.number, record.hierarchy
        anywhere = self.anywhere.get(number, [])
        self.matched.update(map(id, anywhere))
        held = self.observed.get(number)
        first = self.read_at.setdefault(number, at) if held else self.read_at.get(number)
        if first is not None and first != at:  # an observed number read at another node
            self.read_again.setdefault(number, [first]).append(at)
        if not held:
            return list(anywhere)
        mine: list[Observation] = []
        rest: list[Observation] = []
        for observation in held:
            below = is_at_or_below(_home(observation) or "", record.hierarchy)
            (mine if below else rest).append(observation)
        if rest:
            self.observed[record.number] = rest
        else:
            del self.observed[record.number]
        return [*mine, *anywhere]

    def reconcile(self, original: NumberRecord) -> None:
        observations = self.mine(original)
        if self.agrees(original, observations):
            return  # the usual case: nothing differs, nothing to work out
        fix = self.fix(original, observations)
        if fix.fixed is not original or fix.conflicts:
            self.fixes[original.key] = fix

    def agrees(self, record: NumberRecord, observations: list[Observation]) -> bool:
        """Whether the record already says what the observations say (a cheap check)."""
        if record.release_date is not None and record.release_date <= self.rules.now:
            return False  # a release is due
        uses = record.uses
        if len(observations) != len(uses):
            return False
        for observation, use in zip(observations, uses, strict=True):
            who = observation.consumer
            if who is None or (who.kind, who.id) != use.key:
                return False
        if not uses:
            return (
                record.status not in IN_USE
                and record.vendor == record.admin_vendor
                and (
                    record.internal_number_type
                    == shown_number_type(record.admin_number_type, record.admin_vendor)
                )
            )
        vendor = shown_vendor(uses)
        return (
            record.status is uses[-1].status
            and record.usage == usage_of(uses)
            and record.vendor == vendor
            and record.internal_number_type == shown_number_type(record.admin_number_type, vendor)
        )

    def fix(self, original: NumberRecord, observations: list[Observation]) -> _Fix:
        """The chain of lifecycle steps that makes a record agree with its observations."""
        users = {
            (o.consumer.kind, o.consumer.id): use_of(o.consumer, self.rules.kinds)
            for o in observations
            if o.consumer is not None
        }
        unassigned = [o for o in observations if o.consumer is None]
        steps: list[AuditChange] = []
        conflicts: list[AuditConflict] = []
        record = as_of(original, self.rules)
        record = recomputed = self.step(record, Recompute(), steps)
        consumers = {
            (o.consumer.kind, o.consumer.id): o.consumer
            for o in observations
            if o.consumer is not None
        }
        for key, use in users.items():
            if not any(held.key == key for held in record.uses):
                conflicts += self.conflict(record, use, consumers[key])
                describe = None if record.in_use else self.describe
                described = None if describe is None else describe(consumers[key], record)
                record = self.step(record, Observe(use, described), steps)
        for held in original.uses:
            if held.key not in users:
                node = held.hierarchy or record.hierarchy
                record = self.step(record, Unassign(held.kind, held.consumer_id, node), steps)
        if record is not recomputed:  # Recompute is idempotent: once is enough otherwise
            record = self.step(record, Recompute(), steps)
        if unassigned and not users:
            latest = unassigned[-1]
            vendor = admin_vendor(latest.vendor)
            number_type = check_internal_number_type(latest.internal_number_type, vendor)
            action = ObserveUnassigned(vendor, number_type, latest.active)
            record = self.step(record, action, steps)
        return _Fix(original, observations, record, steps, conflicts)

    def step(self, record: NumberRecord, action: object, steps: list[AuditChange]) -> NumberRecord:
        assert isinstance(action, Observe | Unassign | Recompute | ObserveUnassigned)
        after = transition(record, action, self.rules)
        if after is not record:
            reason = {
                Observe: Reason.USE_RECORDED,
                Unassign: Reason.USE_REMOVED,
                Recompute: Reason.RECOMPUTED,
                ObserveUnassigned: Reason.HELD_UNASSIGNED,
            }[type(action)]
            steps.append(AuditChange(record.number, record.hierarchy, record, after, reason))
        return after

    def conflict(self, record: NumberRecord, use: Use, consumer: Consumer) -> list[AuditConflict]:
        """The conflict `consumer`'s use makes, naming the consumer as it was observed."""
        returning = record.cooling_use is not None and record.cooling_use.key == use.key
        held_for = record.reserved_for
        held_back = record.status in (Status.RESERVED, Status.INACTIVE)  # not assignable
        if held_back or (record.status is Status.COOLING and not returning):
            why = f"{record.status} but used by {use.kind} {use.consumer_id!r}; use recorded"
        elif held_for is not None and held_for not in (use.consumer_id, use.owner):
            why = f"reserved for {held_for!r} but used by {use.kind} {use.consumer_id!r}"
        else:
            return []
        return [AuditConflict(record.number, record.hierarchy, record.status, consumer, why)]

    def leftovers(self) -> None:
        """Report the observations no record matched whose number nobody in reach holds."""
        for number, observations in self.observed.items():
            if self.at is not None:
                # Held above the scope, where the walk did not look, is not unknown.
                records = self.repository.holding(number)
                observations = [o for o in observations if visible(records, _home(o) or "") is None]
            self.unknown += observations
        self.observed.clear()
        for number, held in self.anywhere.items():
            missed = [o for o in held if id(o) not in self.matched]
            if (
                missed
                and self.at is not None
                and visible(self.repository.holding(number), self.at) is not None
            ):
                continue  # held above the scope: not unknown
            self.unknown += missed
        self.anywhere.clear()

    # -- add_missing -------------------------------------------------------------

    def plan_additions(self) -> None:
        """Plan the numbers of unknown observations, where they can be placed."""
        targets: dict[tuple[str, str], list[Observation]] = {}
        placeless: list[Observation] = []
        for observation in self.unknown:
            node = self.target(observation)
            if node is None:
                placeless.append(observation)
            else:
                targets.setdefault((observation.number, node), []).append(observation)
        for (number, node), observations in targets.items():
            record = loaded(number, node, {})
            fix = self.fix(record, observations)
            fix.steps.insert(0, AuditChange(number, node, None, record, Reason.NUMBER_ADDED))
            self.added[(number, node)] = fix
        self.unknown = placeless

    def target(self, observation: Observation) -> str | None:
        """Where `add_missing` adds a number: at `at` when the consumer sees it, else its node;
        without a consumer, where the application holds it (its `hierarchy`), else at `at`."""
        home = _home(observation)
        if home is None:
            return self.at
        if observation.consumer is None:
            return home
        return self.at if self.at is not None and is_at_or_below(home, self.at) else home

    # -- writing -------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        return any(fix.fixed is not fix.original for fix in self.fixes.values()) or bool(self.added)

    def write(self, unit: UnitOfWork) -> None:
        """Store every fix in the unit's transaction, worked out again where a record moved on.

        The numbers to add are checked first, in number order, before any record
        to fix is read: a store that locks what a check reads (PostgreSQL) then
        takes those locks before any row, as every other writer does. Checked
        with rows held, an audit deadlocked with a writer holding the locks and
        waiting for one of those rows.

        Run again after a lost race, it starts from the plan as it was before the
        first run: what that run found was rolled back with it.
        """
        if self.planned is None:
            self.planned = (dict(self.fixes), dict(self.added), list(self.conflicts))
        fixes, added, conflicts = self.planned
        self.fixes, self.added, self.conflicts = dict(fixes), dict(added), list(conflicts)
        self.rules = unit.rules
        adding = self.checked(unit)
        for key, fix in list(self.fixes.items()):
            self.still_where_read(unit, *key)
            stored = unit.tx.get(*key)
            if stored is None:
                del self.fixes[key]  # deleted meanwhile: nothing left to fix
                continue
            if stored != fix.original:
                fix = self.fix(stored, fix.observations)
                self.fixes[key] = fix
            if fix.fixed is fix.original:
                continue
            current = unit.current(stored)  # a due release is stored as a change of its own
            fixed = _versioned(fix.fixed, current.version)
            if fixed != current:
                unit.replace(current, _versioned(fixed, current.version + 1))
        if adding:
            unit.insert(adding)

    def still_where_read(self, unit: UnitOfWork, number: str, node: str) -> None:
        """Refuse the plan when a record of the number read at a node above or below has
        left it.

        A number is held once in a line of descent, so one read at two related
        nodes was read on both sides of a move, and its observations went to
        the first reading. Sibling sites' records take none of each other's
        observations, and are not read again.
        """
        for other in self.read_again.get(number, ()):
            if other != node and related(other, node) and unit.tx.get(number, other) is None:
                raise ReadMeanwhile(number, other, joined=unit.joined)

    def checked(self, unit: UnitOfWork) -> list[NumberRecord]:
        """The records to add that clash with nothing; those that do become conflicts."""
        prevents = lambda node: unit.rules.settings_at(node).prevent_duplicates  # noqa: E731
        records: list[NumberRecord] = []
        # Read in number order (a store's check locks are taken in that order), then
        # decided in the plan's order: the first observation of a number adds it.
        held = {number: unit.tx.holding(number) for number in sorted({n for n, _ in self.added})}
        for (number, node), fix in list(self.added.items()):
            clash = clashing(held[number], node, prevents)
            clash += [r for r in records if r.number == number and clashing([r], node, prevents)]
            if clash:
                del self.added[(number, node)]
                for observation in fix.observations:
                    self.conflicts.append(
                        AuditConflict(
                            number,
                            node,
                            None,
                            observation.consumer,
                            f"cannot add it at {node}: it exists at {clash[0].hierarchy}",
                        )
                    )
                continue
            retired = unit.tx.retired(number_range(number), node).get(number, 0)
            records.append(_versioned(fix.fixed, max(fix.fixed.version, retired + 1)))
        return records

    # -- the report -----------------------------------------------------------------

    def report(self, *, fixed: bool) -> AuditReport:
        changes = [step for fix in self.fixes.values() for step in fix.steps]
        changes += [step for fix in self.added.values() for step in fix.steps]
        conflicts = [c for fix in self.fixes.values() for c in fix.conflicts]
        conflicts += [c for fix in self.added.values() for c in fix.conflicts]
        conflicts += self.conflicts
        counts = Counter(str(change.reason) for change in changes)
        counts["unknown"] = len(self.unknown)
        counts["conflict"] = len(conflicts)
        return AuditReport(
            changes=tuple(changes),
            unknown=tuple(self.unknown),
            conflicts=tuple(conflicts),
            counts=dict(counts),
            fixed=fixed,
            scope=self.at,
            examined=self.examined,
        )


def _home(observation: Observation) -> str | None:
    return (
        observation.consumer.hierarchy
        if observation.consumer is not None
        else observation.hierarchy
    )


def _versioned(record: NumberRecord, version: int) -> NumberRecord:
    return record if record.version == version else attrs.evolve(record, version=version)
