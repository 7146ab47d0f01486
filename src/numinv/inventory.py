"""`Inventory`: the service hosts call. It validates, locates, and runs the lifecycle.

Every public method checks its input first (raising a `NumInvError` that
names the bad value, before anything is written), releases whatever cooling
or timed reservation is due, then reads and writes through the repository:
one transaction per call, so a multi-record call is all or nothing, and one
event per stored change after the transaction commits.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from itertools import islice

from numinv import arguments
from numinv import audit as _audit
from numinv.core.hierarchy import lineage, parse_path, related
from numinv.core.integrity import consistent
from numinv.core.kinds import ConsumerKind, kind_table, use_of
from numinv.core.lifecycle import (
    Action,
    ApplyService,
    Assign,
    AssociateE164,
    Cool,
    DissociateE164,
    Lapse,
    Release,
    Reserve,
    Rules,
    Unassign,
    Unreserve,
    Update,
    check_days,
    check_fields,
    is_due,
    loaded,
    transition,
)
from numinv.core.numbers import (
    NumberRange,
    number_range,
    parse_e164,
    parse_number,
    parse_prefix,
    runs_without,
)
from numinv.core.records import (
    EXTRA_FIELDS,
    Consumer,
    Event,
    NumberRecord,
    Observation,
    ServiceType,
    Status,
    Usage,
)
from numinv.errors import (
    ConcurrentUpdate,
    Conflict,
    DuplicateNumber,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from numinv.reading import (
    has_vendor,
    in_line_of_descent,
    pages,
    scan_cursor,
    visible_from,
)
from numinv.settings import Settings
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Reader, Repository
from numinv.units import Listeners, Unit
from numinv.utilization import Utilization, utilization

__all__ = ["Inventory", "RangeResult"]

Describe = Callable[[Consumer, NumberRecord], str]
_SWEEP = 512


class RangeResult(int):
    """How many records a range operation changed; `skipped` names the numbers it left."""

    skipped: tuple[str, ...]

    def __new__(cls, count: int, skipped: Iterable[str] = ()) -> RangeResult:
        result = super().__new__(cls, count)
        result.skipped = tuple(skipped)
        return result


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Inventory:
    """A telephone number inventory over a repository (in memory by default).

    Args:
        repository: where records live; a new `InMemoryRepository` if None.
        settings: cooling, TelURI and uniqueness settings.
        clock: returns the current time as an aware datetime (UTC is used).
        kinds: consumer kinds added to, or overriding, the built-in table.
        describe: fills a number's description when it is assigned.
    """

    def __init__(
        self,
        repository: Repository | None = None,
        *,
        settings: Settings = Settings(),  # noqa: B008 - frozen, shared safely
        clock: Callable[[], datetime] | None = None,
        kinds: Mapping[str, ConsumerKind] | Iterable[ConsumerKind] | None = None,
        describe: Describe | None = None,
    ) -> None:
        if repository is not None and not isinstance(repository, Repository):
            raise InvalidInput(f"{repository!r} does not implement the Repository protocol")
        if not isinstance(settings, Settings):
            raise InvalidInput(f"settings must be a Settings, not {settings!r}", value=settings)
        if clock is not None and not callable(clock):
            raise InvalidInput(f"clock must be callable, not {clock!r}", value=clock)
        if describe is not None and not callable(describe):
            raise InvalidInput(f"describe must be callable, not {describe!r}", value=describe)
        self._repository: Repository = (
            repository if repository is not None else InMemoryRepository()
        )
        self._settings = settings
        self._clock = clock or _utc_now
        self._kinds = kind_table(kinds)
        self._describe = describe
        self._listeners = Listeners()

    @property
    def repository(self) -> Repository:
        return self._repository

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def kinds(self) -> Mapping[str, ConsumerKind]:
        return self._kinds

    # -- plumbing -----------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInput(f"the clock must return an aware datetime, not {now!r}", value=now)
        return now.astimezone(UTC)

    def _rules(self, now: datetime) -> Rules:
        return Rules(now, self._settings, self._kinds, self._describe is not None)

    def _begin(self) -> Rules:
        """The rules of this call, after releasing what is due."""
        rules = self._rules(self._now())
        self._sweep(rules)
        return rules

    def _sweep(self, rules: Rules) -> list[NumberRecord]:
        released: list[NumberRecord] = []
        while due := self._repository.due(rules.now, _SWEEP):
            with self._listeners.unit(self._repository, Lapse.operation, rules.now) as unit:
                for record in due:
                    current = unit.tx.get(record.number, record.hierarchy)
                    if current is None or not is_due(current, rules.now):
                        continue
                    after = transition(current, Lapse(), rules)
                    unit.replace(current, after)
                    released.append(after)
            if not unit.count:
                break  # what is left is not ours to release (another writer's, or corrupt)
        return released

    def _unit(self, operation: str, rules: Rules) -> AbstractContextManager[Unit]:
        return self._listeners.unit(self._repository, operation, rules.now)

    def _locate(self, reader: Reader, number: str, at: str) -> NumberRecord:
        record = visible_from(reader, number, at)
        if record is None:
            raise NotFound(f"{number} is not visible from {at}", number=number, hierarchy=at)
        return record

    def _change(self, number: str, at: str, action: Action, rules: Rules) -> NumberRecord:
        with self._unit(action.operation, rules) as unit:
            record = self._locate(unit.tx, number, at)
            return self._apply(unit, record, action, rules)

    @staticmethod
    def _apply(unit: Unit, record: NumberRecord, action: Action, rules: Rules) -> NumberRecord:
        after = transition(record, action, rules)
        if after is not record:
            unit.replace(record, after)
        return after

    # -- ranges ---------------------------------------------------------------

    def _range(self, first: object, last: object, count: object) -> NumberRange:
        return number_range(first, last, count=count, max_size=self._settings.max_range_size)

    def _at_node(self, reader: Reader, numbers: NumberRange, at: str) -> list[NumberRecord]:
        records = reader.within(numbers, at)
        if len(records) != len(numbers):
            held = {record.number for record in records}
            missing = [number for number in numbers if number not in held]
            raise NotFound(
                f"{len(missing)} numbers of {numbers} are not at {at}: "
                f"{arguments.listing(missing)}",
                number=missing[0],
                hierarchy=at,
            )
        return records

    def _each(self, at: object, numbers: NumberRange, action: Action, rules: Rules) -> RangeResult:
        node = parse_path(at)
        with self._unit(action.operation, rules) as unit:
            records = self._at_node(unit.tx, numbers, node)
            pairs = [(record, transition(record, action, rules)) for record in records]
            unit.replace_all([(old, new) for old, new in pairs if new is not old])
        return RangeResult(unit.count)

    def add_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        tag: str = "",
        description: str = "",
        vendor: str = "",
        internal_number_type: str = "",
        skip_existing: bool = False,
        **extras: str,
    ) -> int:
        """Load every number of a range at one node, or none of them.

        Raises:
            DuplicateNumber: a number of the range already exists in the line of
                descent of `at` (anywhere, with `prevent_duplicates`); with
                `skip_existing`, numbers already at `at` itself are left alone.
        """
        node = parse_path(at)
        unknown = sorted(set(extras) - set(EXTRA_FIELDS))
        if unknown:
            raise InvalidInput(
                f"add_range has no field {unknown[0]!r}; extra fields are extra1..extra9",
                value=unknown[0],
            )
        fields = check_fields(
            {
                "tag": tag,
                "description": description,
                "vendor": vendor,
                "internal_number_type": internal_number_type,
                **extras,
            }
        )
        numbers = self._range(first, last, count)
        template = loaded(numbers.first, node, fields)
        rules = self._begin()
        with self._unit("add", rules) as unit:
            if self._settings.prevent_duplicates:
                existing = unit.tx.within(numbers)
            else:
                existing = in_line_of_descent(unit.tx, numbers, node)
            here = {r.number for r in existing if r.hierarchy == node} if skip_existing else set()
            clash = [
                r for r in existing if r.number not in here and self._clashes(r.hierarchy, node)
            ]
            if clash:
                where = arguments.listing([f"{r.number} at {r.hierarchy}" for r in clash])
                raise DuplicateNumber(
                    f"{len(clash)} numbers of {numbers} already exist in the line of descent "
                    f"of {node}: {where}",
                    conflicts=[record.key for record in clash],
                    number=clash[0].number,
                    hierarchy=clash[0].hierarchy,
                    operation="add",
                )
            for run in runs_without(numbers, here):
                unit.insert_range(run, template)
        return unit.count

    def update_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        **fields: str,
    ) -> int:
        """Set free-text fields, vendor or internal number type on every number of the range."""
        if not fields:
            raise InvalidInput("update_range needs at least one field to set")
        action = Update(check_fields(fields))
        numbers = self._range(first, last, count)
        return self._each(at, numbers, action, self._begin())

    def delete_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        skip_unavailable: bool = False,
    ) -> int:
        """Remove the numbers of a range at one node; only Available numbers may go.

        Returns a `RangeResult`: the count deleted, with `skipped` naming the
        numbers left because they were not Available (`skip_unavailable`).
        """
        node = parse_path(at)
        numbers = self._range(first, last, count)
        rules = self._begin()
        with self._unit("delete", rules) as unit:
            records = self._at_node(unit.tx, numbers, node)
            busy = [record for record in records if record.status is not Status.AVAILABLE]
            if busy and not skip_unavailable:
                raise InvalidTransition(
                    f"cannot delete {numbers} at {node}: {len(busy)} numbers are not Available: "
                    f"{arguments.listing([f'{r.number} ({r.status})' for r in busy])}",
                    number=busy[0].number,
                    hierarchy=node,
                    status=busy[0].status,
                    operation="delete",
                )
            unit.delete([record for record in records if record.status is Status.AVAILABLE])
        return RangeResult(unit.count, (record.number for record in busy))

    def reserve_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        tag: str = "",
        notes: str = "",
        days: int | None = None,
    ) -> int:
        action = _reservation(tag, notes, days)
        return self._each(at, self._range(first, last, count), action, self._begin())

    def unreserve_range(
        self, at: str, first: str, last: str | None = None, *, count: int | None = None
    ) -> int:
        return self._each(at, self._range(first, last, count), Unreserve(), self._begin())

    def cool_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        days: int | None = None,
        until: datetime | None = None,
    ) -> int:
        action = self._cool_action(days, until)
        return self._each(at, self._range(first, last, count), action, self._begin())

    def release_range(
        self, at: str, first: str, last: str | None = None, *, count: int | None = None
    ) -> int:
        return self._each(at, self._range(first, last, count), Release(), self._begin())

    def import_records(self, records: Iterable[NumberRecord]) -> int:
        """Store whole records (an export read back), all or none of them.

        Each record keeps its state as exported. Uniqueness holds as for
        `add_range`, across the import and what is stored already.

        Raises:
            DuplicateNumber: a number would exist twice in a line of descent.
            Conflict: an E.164 number would point to two numbers in a line of descent.
        """
        batch = [consistent(record) for record in arguments.iterable(records, "records")]
        rules = self._begin()
        with self._unit("import", rules) as unit:
            clash: list[tuple[str, str]] = []
            e164_clash: list[tuple[str, str, str]] = []
            placed: dict[str, list[str]] = {}
            pointed: dict[str, list[str]] = {}
            for record in batch:
                nodes = placed.setdefault(record.number, [])
                if not nodes:
                    nodes += [other.hierarchy for other in unit.tx.holding(record.number)]
                if any(self._clashes(node, record.hierarchy) for node in nodes):
                    clash.append(record.key)
                nodes.append(record.hierarchy)
                for e164 in record.e164:
                    holders = pointed.setdefault(e164, [])
                    if not holders:
                        holders += [other.hierarchy for other in unit.tx.with_e164(e164)]
                    if any(self._clashes(node, record.hierarchy) for node in holders):
                        e164_clash.append((e164, *record.key))
                    holders.append(record.hierarchy)
            if clash:
                raise DuplicateNumber(
                    f"{len(clash)} imported numbers already exist in their line of descent: "
                    f"{arguments.listing([f'{number} at {node}' for number, node in clash])}",
                    conflicts=clash,
                    number=clash[0][0],
                    hierarchy=clash[0][1],
                    operation="import",
                )
            if e164_clash:
                e164, number, node = e164_clash[0]
                raise Conflict(
                    f"{len(e164_clash)} imported E.164 associations clash in a line of "
                    f"descent, first {e164} on {number} at {node}",
                    number=number,
                    hierarchy=node,
                    operation="import",
                    value=e164,
                )
            unit.insert(batch)
        return unit.count

    def _clashes(self, node: str, other: str) -> bool:
        return self._settings.prevent_duplicates or related(node, other)

    # -- look-ups -----------------------------------------------------------

    def get(self, number: str, at: str) -> NumberRecord:
        """The record of `number` visible from `at` (walking up the hierarchy).

        Raises:
            NotFound: neither `at` nor any ancestor holds the number.
        """
        number, node = parse_number(number), parse_path(at)
        self._begin()
        return self._locate(self._repository, number, node)

    def find(self, number: str, at: str) -> NumberRecord | None:
        """Like `get`, but None when the number is not visible from `at`."""
        number, node = parse_number(number), parse_path(at)
        self._begin()
        return visible_from(self._repository, number, node)

    def search(
        self,
        *,
        at: str | None = None,
        below: bool = True,
        status: Status | str | None = None,
        usage: Usage | str | None = None,
        vendor: str | None = None,
        prefix: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        after: str | tuple[str, str] | None = None,
    ) -> Iterator[NumberRecord]:
        """Records matching every filter given, sorted by (number, hierarchy).

        `at=None` searches everything; otherwise `at` and its subtree, or
        `at` only with `below=False`. `after` resumes after a number, or after
        a (number, hierarchy) key, for paging.
        """
        node = None if at is None else parse_path(at)
        wanted_status = None if status is None else arguments.member(Status, status)
        wanted_usage = None if usage is None else arguments.member(Usage, usage)
        wanted_vendor = None if vendor is None else arguments.text(vendor, "vendor")
        wanted_tag = None if tag is None else arguments.text(tag, "tag")
        start = None if prefix is None else parse_prefix(prefix)
        cursor = arguments.cursor(after)
        most = arguments.limit(limit)
        self._begin()
        if node is None:
            nodes = self._repository.nodes()
        else:
            nodes = self._repository.nodes(node) if below else [node]

        def matches(record: NumberRecord) -> bool:
            return (
                (wanted_usage is None or wanted_usage in record.usage)
                and (wanted_vendor is None or has_vendor(record.vendor, wanted_vendor))
                and (wanted_tag is None or record.tag == wanted_tag)
                and (cursor is None or record.key > cursor)
            )

        after_number = None if cursor is None else scan_cursor(cursor[0])
        streams = [
            pages(self._repository, Query(name, wanted_status, start, after_number), most)
            for name in nodes
        ]
        found = filter(matches, heapq.merge(*streams, key=lambda record: record.key))
        return islice(found, most)

    def available(
        self, at: str, *, prefix: str | None = None, limit: int | None = None
    ) -> Iterator[NumberRecord]:
        """Available numbers visible from `at`: its own first, then each ancestor's."""
        node = parse_path(at)
        start = None if prefix is None else parse_prefix(prefix)
        most = arguments.limit(limit)
        self._begin()
        offered = (
            record
            for name in lineage(node)
            for record in pages(self._repository, Query(name, Status.AVAILABLE, start), most)
        )
        return islice(offered, most)

    def utilization(self, at: str | None = None, *, below: float = 0.10) -> Utilization:
        """Per node at or below `at`, the count in each status and the share Available.

        Nodes whose share Available is under `below` are flagged `low`.
        """
        node = None if at is None else parse_path(at)
        self._begin()
        return utilization(self._repository.counts(node), below)

    # -- lifecycle -------------------------------------------------------------

    def assign(
        self, number: str, consumer: Consumer, *, shared: bool = False, claim: bool = False
    ) -> NumberRecord:
        """Give a number to a consumer (sharing or claiming a reservation when allowed).

        Raises:
            NotFound: the number is not visible from the consumer's node.
            InvalidTransition: it is in use (not `shared`), reserved (not
                `claim`ed, or for someone else) or cooling.
        """
        number, who = parse_number(number), arguments.consumer(consumer)
        use_of(who, self._kinds)
        rules = self._begin()
        with self._unit(Assign.operation, rules) as unit:
            record = self._locate(unit.tx, number, who.hierarchy)
            action = Assign(who, bool(shared), bool(claim), self._description(who, record))
            return self._apply(unit, record, action, rules)

    def assign_next(self, consumer: Consumer, *, prefix: str | None = None) -> NumberRecord:
        """Assign the first number `available` offers the consumer.

        A candidate another writer takes first is skipped (its compare-and-set
        fails) and the next one is tried, so concurrent callers get distinct
        numbers.

        Raises:
            NotFound: no Available number is visible from the consumer's node.
        """
        who = arguments.consumer(consumer)
        use_of(who, self._kinds)
        rules = self._rules(self._now())
        for candidate in self.available(who.hierarchy, prefix=prefix):
            action = Assign(who, description=self._description(who, candidate))
            try:
                with self._unit(Assign.operation, rules) as unit:
                    return self._apply(unit, candidate, action, rules)
            except ConcurrentUpdate:
                continue  # another writer took it since we read it: try the next
        raise NotFound(
            f"no Available number is visible from {who.hierarchy}"
            + (f" with prefix {prefix}" if prefix else ""),
            hierarchy=who.hierarchy,
        )

    def unassign(self, number: str, consumer: Consumer) -> NumberRecord:
        """Remove a consumer's use; the last use leaves the number Available or Cooling."""
        number, who = parse_number(number), arguments.consumer(consumer)
        use_of(who, self._kinds)
        return self._change(number, who.hierarchy, Unassign(who), self._begin())

    def reserve(
        self,
        number: str,
        at: str,
        *,
        tag: str = "",
        notes: str = "",
        days: int | None = None,
        reserved_for: str | None = None,
    ) -> NumberRecord:
        """Hold an Available number back (or update a reservation), optionally for `days`."""
        action = _reservation(tag, notes, days, reserved_for)
        return self._change(parse_number(number), parse_path(at), action, self._begin())

    def unreserve(self, number: str, at: str) -> NumberRecord:
        return self._change(parse_number(number), parse_path(at), Unreserve(), self._begin())

    def cool(
        self, number: str, at: str, *, days: int | None = None, until: datetime | None = None
    ) -> NumberRecord:
        """Put a number into cooling (or move its release date): `days` or `until`."""
        action = self._cool_action(days, until)
        return self._change(parse_number(number), parse_path(at), action, self._begin())

    def release(self, number: str, at: str) -> NumberRecord:
        """End a cooling now, whatever its release date."""
        return self._change(parse_number(number), parse_path(at), Release(), self._begin())

    def release_due(self) -> list[NumberRecord]:
        """Release every cooling and timed reservation whose date is reached; return them."""
        return self._sweep(self._rules(self._now()))

    def update(self, number: str, at: str, **fields: str) -> NumberRecord:
        """Set free-text fields, vendor or internal number type of one number."""
        if not fields:
            raise InvalidInput("update needs at least one field to set")
        action = Update(check_fields(fields))
        return self._change(parse_number(number), parse_path(at), action, self._begin())

    def associate_e164(
        self, number: str, at: str, e164: str, *, primary: bool = False
    ) -> NumberRecord:
        """Point an E.164 number at this directory number (optionally as its primary).

        Raises:
            Conflict: the E.164 number already points elsewhere in the line of descent.
        """
        number, node, e164 = parse_number(number), parse_path(at), parse_e164(e164)
        rules = self._begin()
        with self._unit(AssociateE164.operation, rules) as unit:
            record = self._locate(unit.tx, number, node)
            for other in unit.tx.with_e164(e164):
                if other.key != record.key and self._clashes(other.hierarchy, record.hierarchy):
                    raise Conflict(
                        f"{e164} already points to {other.number} at {other.hierarchy}",
                        number=other.number,
                        hierarchy=other.hierarchy,
                        operation=AssociateE164.operation,
                        value=e164,
                    )
            return self._apply(unit, record, AssociateE164(e164, bool(primary)), rules)

    def dissociate_e164(self, number: str, at: str, e164: str) -> NumberRecord:
        action = DissociateE164(parse_e164(e164))
        return self._change(parse_number(number), parse_path(at), action, self._begin())

    def apply_service(
        self, number: str, at: str, subscriber: str, service_type: ServiceType | str
    ) -> NumberRecord:
        """Apply a subscriber's multi-vendor service type to its number (SPEC 8)."""
        if not isinstance(subscriber, str) or not subscriber.strip():
            raise InvalidInput(f"subscriber must be an id, not {subscriber!r}", value=subscriber)
        node = parse_path(at)
        action = ApplyService(subscriber, arguments.member(ServiceType, service_type), node)
        return self._change(parse_number(number), node, action, self._begin())

    def audit(
        self,
        observed: Iterable[Observation],
        *,
        at: str | None = None,
        fix: bool = True,
        add_missing: bool = False,
    ) -> _audit.AuditReport:
        """Reconcile the inventory with what the UC applications really use (SPEC 10)."""
        node = None if at is None else parse_path(at)
        rules = self._begin()
        return _audit.reconcile(
            self._repository,
            arguments.iterable(observed, "observed"),
            rules=rules,
            at=node,
            fix=fix,
            add_missing=add_missing,
            unit=lambda: self._unit("audit", rules),
        )

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener(event)` after every committed change; returns an unsubscribe."""
        if not callable(listener):
            raise InvalidInput(f"listener must be callable, not {listener!r}", value=listener)
        return self._listeners.subscribe(listener)

    # -- helpers ---------------------------------------------------------------

    def _description(self, consumer: Consumer, record: NumberRecord) -> str | None:
        if self._describe is None:
            return None
        text = self._describe(consumer, record)
        return arguments.text(text, "the description from describe()")

    def _cool_action(self, days: object, until: object) -> Cool:
        if days is not None and until is not None:
            raise InvalidInput("give days or until, not both", value=until)
        return Cool(check_days(days, "days"), arguments.aware(until, "until"))


def _reservation(tag: object, notes: object, days: object, reserved_for: object = None) -> Reserve:
    if reserved_for is not None and (not isinstance(reserved_for, str) or not reserved_for):
        raise InvalidInput(
            f"reserved_for must be a consumer id, not {reserved_for!r}", value=reserved_for
        )
    return Reserve(
        arguments.text(tag, "tag"),
        arguments.text(notes, "notes"),
        check_days(days, "days"),
        reserved_for,
    )
