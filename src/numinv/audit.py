"""Audit: reconcile recorded uses with what the UC applications really use (SPEC 10).

The audit streams the observations once, keeping those made in scope by
number, then walks the records in scope once, node by node in number order,
matching each record with the observations made at or below its node: by
uniqueness in a line of descent, that record is the one those consumers see.
Observations left over are unknown numbers. Each record's fix is a chain of
lifecycle steps (recompute, record observed uses, remove unobserved uses
through the unassign rule), so the audit obeys the same rules as every other
operation. All fixes are written in one transaction, compare-and-set against
the records read: if another writer changed one of them meanwhile, the audit
raises `ConcurrentUpdate` and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from enum import StrEnum

import attrs

from numinv.core.hierarchy import is_at_or_below, related
from numinv.core.kinds import use_of
from numinv.core.lifecycle import Observe, Recompute, Rules, Unassign, loaded, transition
from numinv.core.numbers import parse_number
from numinv.core.records import Consumer, NumberRecord, Observation, Status
from numinv.errors import InvalidInput
from numinv.reading import pages, visible
from numinv.storage.protocol import Query, Repository
from numinv.units import Unit

__all__ = ["AuditChange", "AuditConflict", "AuditReport", "Reason", "reconcile"]

_PAGE = 1024


class Reason(StrEnum):
    """Why an audit changed a record."""

    RECOMPUTED = "status recomputed"
    USE_RECORDED = "use recorded"
    USE_REMOVED = "use removed"
    NUMBER_ADDED = "number added"


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
    consumer: Consumer
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
                for c in self.conflicts[:20]
            ]
        if self.unknown:
            lines.append("Unknown:")
            lines += [
                f"  {o.number} used by {o.consumer.kind} {o.consumer.id!r} "
                f"at {o.consumer.hierarchy}"
                for o in self.unknown[:20]
            ]
        hidden = max(len(self.conflicts), len(self.unknown)) - 20
        if hidden > 0:
            lines.append("(the first 20 of each are shown; see .conflicts and .unknown)")
        return "\n".join(lines)


@attrs.define
class _Audit:
    repository: Repository
    rules: Rules
    at: str | None
    # One observation per number, or a list when several consumers use it.
    observed: dict[str, Observation | list[Observation]] = attrs.Factory(dict)
    unknown: list[Observation] = attrs.Factory(list)
    changes: list[AuditChange] = attrs.Factory(list)
    conflicts: list[AuditConflict] = attrs.Factory(list)
    pending: list[tuple[NumberRecord, NumberRecord]] = attrs.Factory(list)
    added: list[NumberRecord] = attrs.Factory(list)
    examined: int = 0

    def in_scope(self, hierarchy: str) -> bool:
        return self.at is None or is_at_or_below(hierarchy, self.at)

    def observe(self, observation: object) -> None:
        if not isinstance(observation, Observation):
            raise InvalidInput(f"expected an Observation, not {observation!r}", value=observation)
        number = parse_number(observation.number)
        use_of(observation.consumer, self.rules.kinds)
        if not self.in_scope(observation.consumer.hierarchy):
            return  # only a record outside the scope can be visible from there
        if number != observation.number:
            observation = attrs.evolve(observation, number=number)
        held = self.observed.setdefault(number, observation)
        if isinstance(held, list):
            held.append(observation)
        elif held is not observation:
            self.observed[number] = [held, observation]

    def users(self, record: NumberRecord) -> dict[tuple[str, str], Consumer]:
        """Take the observations of the record's number made at or below its node."""
        held = self.observed.get(record.number)
        if held is None:
            return {}
        mine: list[Observation] = []
        rest: list[Observation] = []
        for observation in held if isinstance(held, list) else (held,):
            below = is_at_or_below(observation.consumer.hierarchy, record.hierarchy)
            (mine if below else rest).append(observation)
        if not rest:
            del self.observed[record.number]
        elif mine:
            self.observed[record.number] = rest
        return {(o.consumer.kind, o.consumer.id): o.consumer for o in mine}

    def leftovers(self) -> None:
        """Report the observations no record matched whose number nobody in reach holds."""
        for number, held in self.observed.items():
            observations = held if isinstance(held, list) else [held]
            if self.at is not None:
                # Held above the scope, where the walk did not look, is not unknown.
                records = self.repository.holding(number)
                observations = [
                    o for o in observations if visible(records, o.consumer.hierarchy) is None
                ]
            self.unknown += observations
        self.observed.clear()

    def step(self, record: NumberRecord, action: Observe | Unassign | Recompute) -> NumberRecord:
        after = transition(record, action, self.rules)
        if after is not record:
            reason = {
                Observe: Reason.USE_RECORDED,
                Unassign: Reason.USE_REMOVED,
                Recompute: Reason.RECOMPUTED,
            }[type(action)]
            self.changes.append(AuditChange(record.number, record.hierarchy, record, after, reason))
        return after

    def reconcile(self, original: NumberRecord) -> None:
        self.examined += 1
        consumers = self.users(original)
        record = recomputed = self.step(original, Recompute())
        for key, consumer in consumers.items():
            if not any(use.key == key for use in record.uses):
                self.conflict(record, consumer)
                record = self.step(record, Observe(consumer))
        for use in original.uses:
            if use.key not in consumers:
                gone = Consumer(use.kind, use.consumer_id, use.hierarchy or record.hierarchy)
                record = self.step(record, Unassign(gone))
        if record is not recomputed:  # Recompute is idempotent: once is enough otherwise
            record = self.step(record, Recompute())
        if record is not original:
            self.pending.append((original, record))

    def conflict(self, record: NumberRecord, consumer: Consumer) -> None:
        returning = record.cooling_use is not None and record.cooling_use.key == (
            consumer.kind,
            consumer.id,
        )
        if record.status is Status.RESERVED or (record.status is Status.COOLING and not returning):
            self.conflicts.append(
                AuditConflict(
                    record.number,
                    record.hierarchy,
                    record.status,
                    consumer,
                    f"{record.status} but used by {consumer.kind} {consumer.id!r}; use recorded",
                )
            )

    def add_missing(self) -> None:
        """Create the numbers of unknown observations, where uniqueness allows."""
        targets: dict[tuple[str, str], list[Observation]] = {}
        for observation in self.unknown:
            home = observation.consumer.hierarchy
            node = self.at if self.at is not None and is_at_or_below(home, self.at) else home
            targets.setdefault((observation.number, node), []).append(observation)
        taken = {record.key for record in self.added}
        for (number, node), observations in targets.items():
            clash = [
                record
                for record in self.repository.holding(number)
                if self.rules.settings.prevent_duplicates or related(record.hierarchy, node)
            ]
            if clash or (number, node) in taken:
                for observation in observations:
                    where = clash[0].hierarchy if clash else node
                    self.conflicts.append(
                        AuditConflict(
                            number,
                            node,
                            None,
                            observation.consumer,
                            f"cannot add it at {node}: it exists at {where}",
                        )
                    )
                continue
            record = loaded(number, node, {})
            self.changes.append(AuditChange(number, node, None, record, Reason.NUMBER_ADDED))
            for observation in observations:
                record = self.step(record, Observe(observation.consumer))
            self.added.append(record)
            taken.add(record.key)
        self.unknown = [o for o in self.unknown if (o.number, _target(o, self.at)) not in taken]

    def records(self) -> Iterable[NumberRecord]:
        for node in self.repository.nodes(self.at):
            yield from pages(self.repository, Query(node), _PAGE)


def _count(amount: int, noun: str) -> str:
    return f"{amount} {noun}" if amount == 1 else f"{amount} {noun}s"


def _target(observation: Observation, at: str | None) -> str:
    home = observation.consumer.hierarchy
    return at if at is not None and is_at_or_below(home, at) else home


def reconcile(
    repository: Repository,
    observed: Iterable[Observation],
    *,
    rules: Rules,
    at: str | None,
    fix: bool,
    add_missing: bool,
    unit: Callable[[], AbstractContextManager[Unit]],
) -> AuditReport:
    """Run an audit over `repository`; write its fixes only when `fix` is true."""
    audit = _Audit(repository, rules, at)
    for observation in observed:
        audit.observe(observation)
    for record in audit.records():
        audit.reconcile(record)
    audit.leftovers()
    if add_missing:
        audit.add_missing()
    if fix and (audit.pending or audit.added):
        with unit() as work:
            if audit.pending:
                work.replace_all(audit.pending)
            if audit.added:
                work.insert(audit.added)
    counts = Counter(str(change.reason) for change in audit.changes)
    counts["unknown"] = len(audit.unknown)
    counts["conflict"] = len(audit.conflicts)
    return AuditReport(
        changes=tuple(audit.changes),
        unknown=tuple(audit.unknown),
        conflicts=tuple(audit.conflicts),
        counts=dict(counts),
        fixed=fix,
        scope=at,
        examined=audit.examined,
    )
