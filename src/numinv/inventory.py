"""`Inventory`: the service hosts call. It checks input, locates records and runs the lifecycle.

The rules live in `numinv.core` (the transition table, uniqueness, checks);
this class orchestrates: every public method checks its input first (a
`NumInvError` naming the bad value, before anything is written), then reads
and writes through one `UnitOfWork`: one transaction per call, so a
multi-record call is all or nothing, journaled in that transaction and
announced once it has committed. Reads never write: a number whose release
date has passed is shown released, and stored so by the next write that
touches it. A call that loses a race to another writer (`ConcurrentUpdate`)
is tried again, up to `Settings.retries` times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from heapq import merge
from itertools import islice
from typing import TypeVar

import attrs

from numinv import audit as _audit
from numinv.core import checks
from numinv.core.hierarchy import is_at_or_below, lineage, parse_path, related
from numinv.core.hybrid import ServiceRow, service_table
from numinv.core.kinds import ConsumerKind, kind_table, use_of
from numinv.core.lifecycle import (
    Action,
    Activate,
    ApplyService,
    Assign,
    AssociateE164,
    Cool,
    Deactivate,
    Delete,
    DissociateE164,
    Lapse,
    Move,
    Release,
    Reserve,
    Rules,
    Unassign,
    Unreserve,
    Update,
    as_of,
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
    Change,
    Consumer,
    Event,
    NumberRecord,
    Observation,
    ServiceType,
    Status,
    Usage,
)
from numinv.core.uniqueness import Placement, clashes, clashing, duplicate_number, e164_taken
from numinv.core.vendors import vendor_named
from numinv.errors import (
    ConcurrentUpdate,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NumberBusy,
    StorageError,
)
from numinv.events import Dispatcher
from numinv.reading import (
    Cursor,
    has_vendor,
    in_line_of_descent,
    listed,
    may_be_due,
    pages,
    past,
    visible_from,
)
from numinv.settings import NodeSettings, Settings
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Reader, Repository
from numinv.utilization import Utilization, utilization
from numinv.work import UnitOfWork

__all__ = ["Inventory", "RangeResult"]

Describe = Callable[[Consumer, NumberRecord], str]
Actor = Callable[[], str | None]
T = TypeVar("T")
_SWEEP = 512
# Seconds: a call that lost a race twice waits up to this, doubled at each further loss, at
# random, before it runs again; writers colliding again and again then part.
_BACKOFF = 0.001
# A report of a subtree of at most this many nodes reads its own due records, node by node.
_NODE_DUE_READS = 16


class _InForce:
    """The default of `utilization(below=...)`: each node's own exhaustion threshold."""

    def __repr__(self) -> str:
        return "IN_FORCE"


IN_FORCE = _InForce()


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
        settings: cooling, TelURI, uniqueness and retry settings (per-node
            settings set with `configure` override them below a node).
        clock: returns the current time as an aware datetime (UTC is used).
        kinds: consumer kinds added to, or overriding, the built-in table.
        describe: fills a number's description when it is assigned.
        actor: names who acts (read from the host's request context); every
            journal entry and event carries it.
        service_types: hybrid service types added to, or overriding, the
            built-in table.
    """

    def __init__(
        self,
        repository: Repository | None = None,
        *,
        settings: Settings = Settings(),  # noqa: B008 - frozen, shared safely
        clock: Callable[[], datetime] | None = None,
        kinds: Mapping[str, ConsumerKind] | Iterable[ConsumerKind] | None = None,
        describe: Describe | None = None,
        actor: Actor | None = None,
        service_types: Mapping[str, ServiceRow] | Iterable[ServiceRow] | None = None,
    ) -> None:
        if repository is not None and not isinstance(repository, Repository):
            raise InvalidInput(f"{repository!r} does not implement the Repository protocol")
        if not isinstance(settings, Settings):
            raise InvalidInput(f"settings must be a Settings, not {settings!r}", value=settings)
        for name, hook in (("clock", clock), ("describe", describe), ("actor", actor)):
            if hook is not None and not callable(hook):
                raise InvalidInput(f"{name} must be callable, not {hook!r}", value=hook)
        self._repository: Repository = (
            repository if repository is not None else InMemoryRepository()
        )
        self._settings = settings
        self._clock = clock or _utc_now
        self._kinds = kind_table(kinds)
        self._services = service_table(service_types, self._kinds)
        self._describe = describe
        self._actor = actor
        self._dispatcher = Dispatcher()
        self._retried = 0

    @property
    def repository(self) -> Repository:
        return self._repository

    @property
    def retried(self) -> int:
        """How many times a call was run again after losing a race (`ConcurrentUpdate`)."""
        return self._retried

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def kinds(self) -> Mapping[str, ConsumerKind]:
        return self._kinds

    @property
    def service_types(self) -> Mapping[str, ServiceRow]:
        return self._services

    # -- plumbing -----------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if type(now) is datetime and now.tzinfo is UTC and now <= checks.LATEST:
            return now  # the common case, checked cheaply
        moment = checks.aware(now, "the clock's time")
        if moment is None:
            raise InvalidInput("the clock returned None, not an aware datetime")
        return moment

    def _rules(self, nodes: Mapping[str, NodeSettings] | None = None) -> Rules:
        return Rules(
            self._now(),
            self._settings,
            self._kinds,
            self._services,
            self._describe is not None,
            nodes or {},
        )

    def _who(self) -> str | None:
        if self._actor is None:
            return None
        name = self._actor()
        return None if name is None else checks.text(name, "the actor hook's name")

    def _run(
        self,
        operation: str,
        body: Callable[[UnitOfWork], T],
        *,
        nodes: Iterable[str] = (),
        every_node: bool = False,
    ) -> T:
        """Run `body` in one unit of work; a lost race runs it again (bounded)."""
        actor = self._who()
        attempts = self._settings.retries + 1
        wanted = None if every_node else _lineages(nodes) if nodes else ()
        for attempt in range(attempts):
            rules = self._rules()
            unit = UnitOfWork(self._repository, self._dispatcher, operation, rules, actor, wanted)
            try:
                with unit:
                    return body(unit)
            except ConcurrentUpdate as lost:
                # A unit joined to a host's transaction cannot run again inside it (on
                # PostgreSQL the lost race ended it): the host retries its transaction.
                if attempt == attempts - 1 or unit.joined:
                    raise
                self._retried += 1
                if lost.wait is not None:  # the store can tell when the winner is done
                    lost.wait()
                elif attempt:  # lost twice: let the other writers go first a moment
                    time.sleep(random.random() * _BACKOFF * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_rules(self, nodes: Iterable[str] = ()) -> Rules:
        nodes = list(nodes)
        found = self._repository.node_settings(_lineages(nodes)) if nodes else None
        return self._rules(found)

    def _as_of(self, record: NumberRecord) -> NumberRecord:
        """The record as it stands now (rules built only when a release date may have passed)."""
        if record.release_date is None:
            return record
        return as_of(record, self._rules())

    @staticmethod
    def _locate(reader: Reader, number: str, at: str) -> NumberRecord:
        record = visible_from(reader, number, at)
        if record is None:
            raise NotFound(f"{number} is not visible from {at}", number=number, hierarchy=at)
        return record

    def _change(
        self, number: str, at: str, action: Action, *, nodes: Iterable[str] = ()
    ) -> NumberRecord:
        def change(unit: UnitOfWork) -> NumberRecord:
            record = unit.current(self._locate(unit.tx, number, at))
            return unit.apply(record, action)

        return self._run(action.operation, change, nodes=nodes)

    # -- ranges ---------------------------------------------------------------

    def _range(self, first: object, last: object, count: object) -> NumberRange:
        return number_range(first, last, count=count, max_size=self._settings.max_range_size)

    @staticmethod
    def _at_node(unit: UnitOfWork, numbers: NumberRange, at: str) -> list[NumberRecord]:
        records = unit.tx.within(numbers, at)
        if len(records) != len(numbers):
            held = {record.number for record in records}
            missing = [number for number in numbers if number not in held]
            raise NotFound(
                f"{checks.counted(len(missing), 'number')} of {numbers} "
                f"{'is' if len(missing) == 1 else 'are'} not at {at}: {checks.listing(missing)}",
                number=missing[0],
                hierarchy=at,
            )
        return [unit.current(record) for record in records]

    def _each(
        self, at: object, numbers: NumberRange, action: Action, *, settings: bool = False
    ) -> RangeResult:
        node = parse_path(at)

        def each(unit: UnitOfWork) -> RangeResult:
            records = self._at_node(unit, numbers, node)
            pairs = [(record, transition(record, action, unit.rules)) for record in records]
            changed = [(old, new) for old, new in pairs if new is not old]
            if changed:
                unit.replace_all(changed)
            return RangeResult(len(changed))

        return self._run(action.operation, each, nodes=[node] if settings else ())

    def _prevents(self, unit: UnitOfWork) -> Callable[[str], bool]:
        rules = unit.rules
        return lambda node: rules.settings_at(node).prevent_duplicates

    @staticmethod
    def _anywhere(unit: UnitOfWork) -> bool:
        """Whether prevent-duplicates is on anywhere (then a number is checked tree-wide)."""
        return _prevented_anywhere(unit.rules)

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
    ) -> RangeResult:
        """Load every number of a range at one node, or none of them.

        Raises:
            DuplicateNumber: a number of the range already exists in the line of
                descent of `at` (anywhere, where prevent-duplicates is on); with
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
        skip = checks.flag(skip_existing, "skip_existing")

        def add(unit: UnitOfWork) -> RangeResult:
            if self._anywhere(unit):
                existing = unit.tx.within(numbers)
            else:
                existing = in_line_of_descent(unit.tx, numbers, node)
            here = {r.number for r in existing if r.hierarchy == node} if skip else set()
            clash = clashing(
                existing, node, self._prevents(unit), ignore=lambda r: r.number in here
            )
            if clash:
                head = (
                    f"{checks.counted(len(clash), 'number')} of {numbers} already "
                    f"{'exists' if len(clash) == 1 else 'exist'} in the line of descent "
                    f"of {node}"
                )
                raise duplicate_number([r.key for r in clash], head, "add")
            self._load(unit, numbers, template, here)
            return RangeResult(unit.count)

        return self._run("add", add, every_node=True)  # a lost race: loaded, or the clash told

    @staticmethod
    def _load(
        unit: UnitOfWork, numbers: NumberRange, template: NumberRecord, here: set[str]
    ) -> None:
        """Store the numbers not `here`; those deleted before continue above their last version."""
        retired = unit.tx.retired(numbers, template.hierarchy)
        for run in runs_without(numbers, here | set(retired)):
            unit.insert_range(run, template)
        again = [
            attrs.evolve(template, number=number, version=retired[number] + 1)
            for number in sorted(retired)
            if number not in here
        ]
        if again:
            unit.insert(again)

    def update_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        **fields: str,
    ) -> RangeResult:
        """Set free-text fields, vendor or internal number type on every number of the range."""
        if not fields:
            raise InvalidInput("update_range needs at least one field to set")
        action = Update(check_fields(fields))
        return self._each(at, self._range(first, last, count), action)

    def delete_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        skip_unavailable: bool = False,
    ) -> RangeResult:
        """Remove the numbers of a range at one node; only Available numbers may go.

        Returns a `RangeResult`: the count deleted, with `skipped` naming the
        numbers left because they were not Available (`skip_unavailable`).
        """
        node = parse_path(at)
        numbers = self._range(first, last, count)
        skip = checks.flag(skip_unavailable, "skip_unavailable")

        def delete(unit: UnitOfWork) -> RangeResult:
            records = self._at_node(unit, numbers, node)
            gone, busy = [], []
            for record in records:
                try:
                    transition(record, Delete(), unit.rules)
                except InvalidTransition:
                    busy.append(record)
                else:
                    gone.append(record)
            if busy and not skip:
                raise _busy(numbers, node, busy)
            if gone:
                unit.delete(gone)
            return RangeResult(len(gone), (record.number for record in busy))

        return self._run("delete", delete)

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
        reserved_for: str | None = None,
    ) -> RangeResult:
        action = _reservation(tag, notes, days, reserved_for)
        return self._each(at, self._range(first, last, count), action)

    def unreserve_range(
        self, at: str, first: str, last: str | None = None, *, count: int | None = None
    ) -> RangeResult:
        return self._each(at, self._range(first, last, count), Unreserve())

    def cool_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        days: int | None = None,
        until: datetime | None = None,
    ) -> RangeResult:
        action = _cooling(days, until)
        return self._each(at, self._range(first, last, count), action, settings=True)

    def release_range(
        self, at: str, first: str, last: str | None = None, *, count: int | None = None
    ) -> RangeResult:
        return self._each(at, self._range(first, last, count), Release())

    def move_range(
        self,
        at: str,
        first: str,
        last: str | None = None,
        *,
        count: int | None = None,
        to: str,
    ) -> RangeResult:
        """Move records to another node with every field, use, E.164 and their history.

        Raises:
            DuplicateNumber: a number would exist twice in the line of descent of `to`.
            Conflict: an E.164 number would point to two numbers in a line of descent.
            InvalidTransition: a current user of a number could not see it from `to`.
        """
        node, target = parse_path(at), parse_path(to)
        numbers = self._range(first, last, count)
        if node == target:
            raise InvalidInput(f"move_range: {numbers} is at {node} already", value=to)

        def move(unit: UnitOfWork) -> RangeResult:
            records = self._at_node(unit, numbers, node)
            moved = [transition(record, Move(target), unit.rules) for record in records]
            prevents = self._prevents(unit)
            if self._anywhere(unit):
                existing = unit.tx.within(numbers)
            else:
                existing = in_line_of_descent(unit.tx, numbers, target)
            clash = clashing(existing, target, prevents, ignore=lambda r: r.hierarchy == node)
            if clash:
                head = (
                    f"cannot move {numbers} to {target}: {checks.counted(len(clash), 'number')} "
                    f"already {'exists' if len(clash) == 1 else 'exist'} in its line of descent"
                )
                raise duplicate_number([r.key for r in clash], head, "move")
            moving = {record.key for record in records}
            for record in moved:
                for e164 in record.e164:
                    for other in unit.tx.with_e164(e164):
                        if other.key not in moving and clashes(
                            record.hierarchy, other.hierarchy, prevents
                        ):
                            raise e164_taken(e164, other, "move")
            retired = unit.tx.retired(numbers, target)
            for old, new in zip(records, moved, strict=True):
                version = max(new.version, retired.get(new.number, 0) + 1)
                unit.move(old, _with_version(new, version))
            return RangeResult(len(moved))

        return self._run("move", move, every_node=True)

    def import_records(self, records: Iterable[NumberRecord]) -> RangeResult:
        """Store whole records (an export read back), all or none of them.

        Each record keeps its state as exported (its version raised above any
        of a record deleted at its key). Uniqueness holds as for `add_range`,
        across the import and what is stored already.

        Raises:
            DuplicateNumber: a number would exist twice in a line of descent.
            Conflict: an E.164 number would point to two numbers in a line of descent.
        """
        from numinv.core.integrity import consistent

        batch = [consistent(record) for record in checks.iterable(records, "records")]
        for record in batch:
            self._known_kinds(record)

        def store(unit: UnitOfWork) -> RangeResult:
            prevents = self._prevents(unit)
            numbers, e164s = Placement(prevents), Placement(prevents)
            clash: list[tuple[str, str]] = []
            taken: list[tuple[str, NumberRecord]] = []
            # Numbers, then E.164 numbers, each in order: a store that locks what a check
            # reads takes its locks in one order, and two loads cannot deadlock.
            for record in sorted(batch, key=_number_of):
                if not numbers.known(record.number):
                    held = unit.tx.holding(record.number)
                    numbers.start(record.number, (other.hierarchy for other in held))
                if numbers.clashes(record.number, record.hierarchy):
                    clash.append(record.key)
                numbers.place(record.number, record.hierarchy)
            associations = sorted(
                ((e164, record) for record in batch for e164 in record.e164),
                key=lambda association: association[0],
            )
            for e164, record in associations:
                if not e164s.known(e164):
                    e164s.start(e164, (r.hierarchy for r in unit.tx.with_e164(e164)))
                if e164s.clashes(e164, record.hierarchy):
                    taken.append((e164, record))
                e164s.place(e164, record.hierarchy)
            if clash:
                head = (
                    f"{checks.counted(len(clash), 'imported number')} already "
                    f"{'exists' if len(clash) == 1 else 'exist'} in their line of descent"
                )
                raise duplicate_number(clash, head, "import")
            if taken:
                e164, record = taken[0]
                raise e164_taken(e164, record, "import")
            unit.insert(_above_retired(unit, batch))
            return RangeResult(unit.count)

        return self._run("import", store, every_node=True)

    def _known_kinds(self, record: NumberRecord) -> None:
        """Refuse a record used by a kind this inventory does not know: no call could ever
        take that use away again (SPEC 5: an unknown kind is `InvalidInput`)."""
        uses = [*record.uses, *([record.cooling_use] if record.cooling_use else [])]
        for use in uses:
            if use.kind not in self._kinds:
                raise InvalidInput(
                    f"{record.number} at {record.hierarchy} is used by {use.consumer_id!r} "
                    f"of the unknown consumer kind {use.kind!r}; register it "
                    "(Inventory(kinds=...)) before importing",
                    value=use.kind,
                )

    # -- look-ups -----------------------------------------------------------

    def get(self, number: str, at: str) -> NumberRecord:
        """The record of `number` visible from `at` (walking up the hierarchy), as of now.

        Raises:
            NotFound: neither `at` nor any ancestor holds the number.
        """
        number, node = parse_number(number), parse_path(at)
        return self._as_of(self._locate(self._repository, number, node))

    def find(self, number: str, at: str) -> NumberRecord | None:
        """Like `get`, but None when the number is not visible from `at`."""
        number, node = parse_number(number), parse_path(at)
        record = visible_from(self._repository, number, node)
        return None if record is None else self._as_of(record)

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
        """Records matching every filter given, as of now, sorted by (number, hierarchy).

        `at=None` searches everything; otherwise `at` and its subtree, or
        `at` only with `below=False`. `after` resumes after a number, or after
        a (number, hierarchy) key, for paging.
        """
        node = None if at is None else parse_path(at)
        wanted_status = None if status is None else checks.member(Status, status)
        wanted_usage = None if usage is None else checks.member(Usage, usage)
        # A known vendor in any case and spacing (decision 132), named once for the search.
        wanted_vendor = None if vendor is None else vendor_named(checks.text(vendor, "vendor"))
        wanted_tag = None if tag is None else checks.text(tag, "tag")
        start = None if prefix is None else parse_prefix(prefix)
        cursor = _cursor(after)
        most = checks.limit(limit)
        checks.flag(below, "below")
        repository = self._repository
        rules = self._rules()
        nodes = [node] if node is not None and not below else repository.nodes(node)

        def matches(record: NumberRecord) -> bool:
            return (
                (wanted_usage is None or wanted_usage in record.usage)
                and (wanted_vendor is None or has_vendor(record.vendor, wanted_vendor))
                and (wanted_tag is None or record.tag == wanted_tag)
                and (cursor is None or past(record, cursor))
            )

        # Numbers continue only with digits, which sort above every shorter text, so no
        # number lies between a number less its last digit and the number itself.
        scan_after = None if cursor is None else (cursor[0][:-1] or None)
        due = may_be_due(repository, rules)
        streams = [
            listed(
                repository,
                name,
                rules,
                status=wanted_status,
                prefix=start,
                after=scan_after,
                wanted=most,
                due=due,
            )
            for name in nodes
        ]
        merged = streams[0] if len(streams) == 1 else merge(*streams, key=_key)
        return islice(filter(matches, merged), most)

    def available(
        self, at: str, *, prefix: str | None = None, limit: int | None = None
    ) -> Iterator[NumberRecord]:
        """Available numbers visible from `at`: its own first, then each ancestor's."""
        node = parse_path(at)
        start = None if prefix is None else parse_prefix(prefix)
        most = checks.limit(limit)
        rules = self._read_rules([node])
        repository = self._repository
        due = may_be_due(repository, rules)
        guarded = _prevented_anywhere(rules)
        offered = (
            record
            for name in lineage(node)
            for record in listed(
                repository, name, rules, status=Status.AVAILABLE, prefix=start, wanted=most, due=due
            )
            if not guarded or not _duplicate(repository, record, rules)
        )
        return islice(offered, most)

    def numbers_of(self, who: str, *, at: str | None = None) -> list[NumberRecord]:
        """The numbers a consumer id or owner uses or has reserved for it, as of now.

        With `at`, only records in the line of descent of that node (at it,
        above it or below it). Answered by the repository's index of holders.
        """
        name = checks.text(who, "who")
        if not name.strip():
            raise InvalidInput(f"who must name a consumer id or owner, not {who!r}", value=who)
        checks.name(name, "who")
        node = None if at is None else parse_path(at)
        rules = self._rules()
        found = []
        for record in self._repository.held_by(name):
            if node is not None and not related(record.hierarchy, node):
                continue
            now = as_of(record, rules)
            if name in now.holders:  # a timed reservation that lapsed held it until now
                found.append(now)
        return found

    def utilization(
        self, at: str | None = None, *, below: float | _InForce = IN_FORCE
    ) -> Utilization:
        """Per node at or below `at`, the count in each status and the share Available, as of now.

        A node is flagged `low` when its share Available is under `below`,
        or, when `below` is not given, under the exhaustion threshold in force
        at the node (`configure`, then `Settings.exhaustion_threshold`).
        """
        node = None if at is None else parse_path(at)
        threshold = None if below is IN_FORCE else checks.share(below, "below")
        repository = self._repository
        counts = {name: dict(statuses) for name, statuses in repository.counts(node).items()}
        rules = self._rules(repository.node_settings(None))
        if may_be_due(repository, rules):
            _count_lapses(repository, counts, rules, node)
        # Every node counted and its ancestors: a rollup judges a subtree by its root's.
        judged = {ancestor for name in counts for ancestor in lineage(name)}
        if node is not None:
            judged.add(node)
        thresholds = {
            name: rules.settings_at(name).exhaustion_threshold if threshold is None else threshold
            for name in judged
        }
        if threshold is None:  # the report's: what is in force where it was asked
            threshold = self._settings.exhaustion_threshold if node is None else thresholds[node]
        return utilization(counts, thresholds, threshold)

    def nodes(self, under: str | None = None) -> list[str]:
        """The nodes holding numbers at or below `under` (every node when None), sorted."""
        node = None if under is None else parse_path(under)
        return self._repository.nodes(node)

    def settings_at(self, at: str) -> Settings:
        """The settings in force at a node: what it and its ancestors set, then `settings`."""
        node = parse_path(at)
        return self._read_rules([node]).settings_at(node)

    def history(
        self, number: str, *, at: str | None = None, limit: int | None = None
    ) -> list[Change]:
        """Every change of a number, oldest first (range operations included).

        With `at`, only the changes of the record visible from `at`, followed
        back through its moves: what a consumer there saw happen to the number.
        """
        number = parse_number(number)
        node = None if at is None else parse_path(at)
        most = checks.limit(limit)
        changes = self._repository.history(number)
        if node is not None:
            changes = _seen_from(changes, node)
        return changes if most is None else changes[:most]

    def changes(self, *, after: int = 0, limit: int = 1000) -> list[Change]:
        """The journal's changes with `seq` above `after`, in commit order (a change feed)."""
        cursor = checks.whole(after, "after", 0, checks.MAX_VERSION)
        most = checks.whole(limit, "limit", 1, 1_000_000)
        return self._repository.changes(cursor, most)

    def prune_history(self, before: datetime) -> int:
        """Delete journal changes older than `before` (records stay); return how many went."""
        moment = checks.aware(before, "before")
        if moment is None:
            raise InvalidInput("prune_history needs a time: before=None", value=before)
        return self._repository.prune(moment)

    # -- settings per node ----------------------------------------------------

    def configure(
        self,
        at: str,
        *,
        auto_cooling: bool | None = None,
        cooling_days: int | None = None,
        audiocodes_cooling_days: int | None = None,
        prevent_duplicates: bool | None = None,
        exhaustion_threshold: float | None = None,
    ) -> None:
        """Set (or, with None, inherit again) settings at one node and below it (SPEC 19)."""
        node = parse_path(at)
        settings = NodeSettings(
            auto_cooling=auto_cooling,
            cooling_days=cooling_days,
            audiocodes_cooling_days=audiocodes_cooling_days,
            prevent_duplicates=prevent_duplicates,
            exhaustion_threshold=exhaustion_threshold,
        )
        self._run("configure", lambda unit: unit.tx.configure(node, settings))

    # -- lifecycle -------------------------------------------------------------

    def assign(
        self, number: str, consumer: Consumer, *, shared: bool = False, claim: bool = False
    ) -> NumberRecord:
        """Give a number to a consumer (sharing or claiming a reservation when allowed).

        Raises:
            NotFound: the number is not visible from the consumer's node.
            InvalidTransition: it is in use (not `shared`), reserved (not
                `claim`ed, or for someone else) or cooling.
            DuplicateNumber: prevent-duplicates is on and the number also exists
                at another node.
        """
        number, who = parse_number(number), _consumer(consumer)
        use = use_of(who, self._kinds)
        sharing, claiming = checks.flag(shared, "shared"), checks.flag(claim, "claim")

        def assign(unit: UnitOfWork) -> NumberRecord:
            held = _holders_first(unit, number)
            record = unit.current(self._locate(unit.tx, number, who.hierarchy))
            others = _duplicates(unit.tx, record, unit.rules, held)
            if others:
                head = (
                    f"cannot assign {number} at {record.hierarchy}: prevent-duplicates is on "
                    f"and it also exists elsewhere"
                )
                raise duplicate_number([o.key for o in others], head, "assign")
            action = Assign(use, sharing, claiming, self._description(who, record))
            return unit.apply(record, action)

        return self._run(Assign.operation, assign, nodes=[who.hierarchy])

    def assign_next(self, consumer: Consumer, *, prefix: str | None = None) -> NumberRecord:
        """Assign the consumer's reserved number, else the first number `available` offers.

        The number is picked and taken in one transaction; a store with row
        locks skips numbers other writers are taking, so concurrent callers
        get distinct numbers.

        Raises:
            NotFound: no number is reserved for the consumer and none is
                Available where it can see.
        """
        who = _consumer(consumer)
        use = use_of(who, self._kinds)
        start = None if prefix is None else parse_prefix(prefix)

        def take(unit: UnitOfWork) -> NumberRecord:
            mine = self._reserved_for(unit, who, start)
            if mine is not None:
                action = Assign(use, claim=True, description=self._description(who, mine))
                return unit.apply(mine, action)
            record = self._first_free(unit, who.hierarchy, start)
            action = Assign(use, description=self._description(who, record))
            return unit.apply(record, action)

        return self._run(Assign.operation, take, nodes=[who.hierarchy])

    def reserve_next(
        self,
        at: str,
        *,
        prefix: str | None = None,
        tag: str = "",
        notes: str = "",
        days: int | None = None,
        reserved_for: str | None = None,
    ) -> NumberRecord:
        """Reserve the first number `available(at)` offers, picked and taken in one transaction."""
        node = parse_path(at)
        start = None if prefix is None else parse_prefix(prefix)
        action = _reservation(tag, notes, days, reserved_for)

        def take(unit: UnitOfWork) -> NumberRecord:
            return unit.apply(self._first_free(unit, node, start), action)

        return self._run(Reserve.operation, take, nodes=[node])

    def _reserved_for(
        self, unit: UnitOfWork, who: Consumer, prefix: str | None
    ) -> NumberRecord | None:
        """The first number reserved for the consumer's id or owner that it can see."""
        line = lineage(who.hierarchy)
        place = {node: index for index, node in enumerate(line)}
        found = {
            record.key: record
            for name in who.names
            for record in unit.tx.held_by(name)
            if record.hierarchy in place
            and record.reserved_for in who.names
            and (prefix is None or record.number.startswith(prefix))
        }
        # Duplicates are never handed out while prevent-duplicates is on (SPEC 22). All are
        # checked first, in number order, before any row is taken below: a store that locks
        # what a check reads then takes those locks before rows, as every writer does.
        duplicated = {
            record.key
            for record in sorted(found.values(), key=_number_of)
            if _duplicates(unit.tx, record, unit.rules)
        }
        skipped: list[NumberRecord] = []
        for record in sorted(found.values(), key=lambda r: (place[r.hierarchy], r.number)):
            if record.key in duplicated:
                continue
            if as_of(record, unit.rules).status is not Status.RESERVED:
                unit.current(record)  # a lapse it met is stored (SPEC 22), as by any write
                continue  # in use, cooling until a date still to come, or lapsed
            # Taken as `claim` takes: a store with row locks skips a number another caller
            # for the same person is taking, so concurrent callers take different ones.
            query = Query(record.hierarchy, record.status, record.number, limit=1)
            claimed = unit.tx.claim(query)
            if not claimed or claimed[0].key != record.key:
                skipped.append(record)
                continue
            if (mine := _still_reserved(unit, claimed[0], who)) is not None:
                return mine
        # Each one left was held by another writer: wait for it in turn (one that was not
        # taking it, an update, lets it go still reserved for the person).
        for record in skipped:
            current = unit.tx.get(record.number, record.hierarchy)
            if current is not None and (mine := _still_reserved(unit, current, who)):
                return mine
        return None

    def _first_free(self, unit: UnitOfWork, at: str, prefix: str | None) -> NumberRecord:
        """Claim the first Available number seen from `at` (own node first), as of now.

        A store with row locks skips numbers other writers hold. When those are
        all there is, the first of them is waited for (`get` locks its row), as a
        store with one writer waits: another `assign_next` takes it, a range
        operation lets it go Available. Rows are passed over in number order,
        as a range operation locks them, so the wait cannot close a cycle.
        """
        tx, rules = unit.tx, unit.rules
        due = may_be_due(tx, rules)
        busy: list[NumberBusy] = []  # numbers passed over while another writer changes them
        duplicates: set[str] = set()  # Available numbers passed over as duplicates (SPEC 22)
        for node in lineage(at):
            after: str | None = None
            while True:
                queries = [Query(node, Status.AVAILABLE, prefix, after, 1)]
                if due:
                    queries += [
                        Query(node, status, prefix, after, 1, due_by=rules.now)
                        for status in (Status.COOLING, Status.RESERVED)
                    ]
                candidates = [page[0] for page in map(tx.claim, queries) if page]
                if not candidates:  # none free: are any held by other writers?
                    held = [page[0] for page in map(tx.scan, queries) if page]
                    if not held:
                        break
                    first = min(held, key=_number_of)
                    waited = tx.get(first.number, first.hierarchy)  # until they let it go
                    candidates = [] if waited is None else [waited]
                if candidates:
                    first = min(candidates, key=_number_of)
                    record = unit.current(first)
                    if record.status is Status.AVAILABLE:
                        try:
                            if not _duplicates(tx, record, rules):
                                return record
                            duplicates.add(record.number)
                        except NumberBusy as passed:
                            busy.append(passed)
                after = first.number  # held for somebody, a duplicate or busy: look past it
        if busy:
            raise busy[-1]
        raise NotFound(
            f"no Available number is visible from {at}"
            + (f" with prefix {prefix}" if prefix else "")
            + (
                f" ({checks.counted(len(duplicates), 'Available number')} passed over: each also "
                "exists at another node, and prevent-duplicates is on)"
                if duplicates
                else ""
            ),
            hierarchy=at,
        )

    def unassign(self, number: str, consumer: Consumer) -> NumberRecord:
        """Remove a consumer's use; the last use frees the number or starts its cooling."""
        number, who = parse_number(number), _consumer(consumer)
        use_of(who, self._kinds)
        action = Unassign(who.kind, who.id, who.hierarchy)
        return self._change(number, who.hierarchy, action, nodes=[who.hierarchy])

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
        """Hold an Available number back (or update a reservation), optionally for `days`.

        With `reserved_for`, only a consumer whose id or owner is that name may
        take it, until an administrator unreserves it (SPEC 18).

        Raises:
            Conflict: it is reserved for somebody else.
        """
        action = _reservation(tag, notes, days, reserved_for)
        return self._change(parse_number(number), parse_path(at), action)

    def unreserve(self, number: str, at: str) -> NumberRecord:
        """Remove a reservation and its *Reserved for* flag, whatever the status."""
        return self._change(parse_number(number), parse_path(at), Unreserve())

    def cool(
        self, number: str, at: str, *, days: int | None = None, until: datetime | None = None
    ) -> NumberRecord:
        """Put a number into cooling (or move its release date): `days` or `until`.

        Without either, for the cooling days in force at the number's node.
        """
        node = parse_path(at)
        return self._change(parse_number(number), node, _cooling(days, until), nodes=[node])

    def release(self, number: str, at: str) -> NumberRecord:
        """End a cooling now, whatever its release date."""
        return self._change(parse_number(number), parse_path(at), Release())

    def activate(self, number: str, at: str) -> NumberRecord:
        """Make an Inactive number Available (SPEC 20)."""
        return self._change(parse_number(number), parse_path(at), Activate())

    def deactivate(self, number: str, at: str) -> NumberRecord:
        """Make an Available number Inactive: a Webex Calling number not yet active."""
        return self._change(parse_number(number), parse_path(at), Deactivate())

    def release_due(self) -> list[NumberRecord]:
        """Store the release of every cooling and timed reservation whose date is reached.

        Works in batches that each commit, so a crash part way leaves what was
        released released; calling it again carries on. Returns the records
        released.

        Raises:
            NumInvError: a batch failed; the batches before it stay committed,
                and the error's note says how many records they released.
        """
        released: list[NumberRecord] = []

        def sweep(unit: UnitOfWork) -> list[NumberRecord]:
            batch = []
            for record in unit.tx.due(unit.rules.now, _SWEEP):
                if is_due(record, unit.rules.now):
                    after = transition(record, Lapse(), unit.rules)
                    try:
                        unit.replace(record, after)
                    except ConcurrentUpdate as lost:
                        # Another writer changed it since it was read: stored its release
                        # (another instance's sweep, a call that met it), or took it.
                        _still_usable(unit, record, lost)
                        continue
                    batch.append(after)
            return batch

        try:
            while batch := self._run(Lapse.operation, sweep):
                released += batch  # committed: a batch that fails is not counted
        except BaseException as error:
            if released:
                error.add_note(
                    f"release_due released {len(released)} records in batches that committed "
                    "before this failure; they stay released, and calling it again carries on"
                )
            raise
        return released

    def update(self, number: str, at: str, **fields: str) -> NumberRecord:
        """Set free-text fields, vendor or internal number type of one number."""
        if not fields:
            raise InvalidInput("update needs at least one field to set")
        action = Update(check_fields(fields))
        return self._change(parse_number(number), parse_path(at), action)

    def associate_e164(
        self, number: str, at: str, e164: str, *, primary: bool = False
    ) -> NumberRecord:
        """Point an E.164 number at this directory number (optionally as its primary).

        Raises:
            Conflict: the E.164 number already points elsewhere in the line of descent.
        """
        number, node, e164 = parse_number(number), parse_path(at), parse_e164(e164)
        action = AssociateE164(e164, checks.flag(primary, "primary"))

        def associate(unit: UnitOfWork) -> NumberRecord:
            # Read before the record, so that a store locking what it reads takes the
            # E.164 number's locks before the row (see `_holders_first`).
            pointing = unit.tx.with_e164(e164)
            record = unit.current(self._locate(unit.tx, number, node))
            prevents = self._prevents(unit)
            for other in pointing:
                if other.key != record.key and clashes(record.hierarchy, other.hierarchy, prevents):
                    raise e164_taken(e164, other, action.operation)
            return unit.apply(record, action)

        return self._run(action.operation, associate, every_node=True)

    def dissociate_e164(self, number: str, at: str, e164: str) -> NumberRecord:
        action = DissociateE164(parse_e164(e164))
        return self._change(parse_number(number), parse_path(at), action)

    def apply_service(
        self, number: str, at: str, subscriber: str, service_type: ServiceType | str
    ) -> NumberRecord:
        """Apply a subscriber's multi-vendor service type to its number (SPEC 8)."""
        if not isinstance(subscriber, str) or not subscriber.strip():
            raise InvalidInput(f"subscriber must be an id, not {subscriber!r}", value=subscriber)
        checks.name(subscriber, "subscriber")  # the id of the consumers it makes
        node = parse_path(at)
        if not isinstance(service_type, str) or service_type not in self._services:
            known = ", ".join(self._services)
            raise InvalidInput(
                f"{service_type!r} is not a service type; one of: {known}", value=service_type
            )
        action = ApplyService(subscriber, str(service_type), node)
        wanted = parse_number(number)

        kinds = self._services[action.service_type].kinds

        def apply(unit: UnitOfWork) -> NumberRecord:
            held = _holders_first(unit, wanted) if kinds else None
            record = unit.current(self._locate(unit.tx, wanted, node))
            if not kinds or record.in_use:
                return unit.apply(record, action)
            # Handed out now, as `assign` would: refused as a duplicate (SPEC 22), and
            # described by the host's hook (SPEC 13).
            others = _duplicates(unit.tx, record, unit.rules, held)
            if others:
                head = (
                    f"cannot apply {action.service_type} to {wanted} at {record.hierarchy}: "
                    "prevent-duplicates is on and it also exists elsewhere"
                )
                raise duplicate_number([o.key for o in others], head, action.operation)
            who = Consumer(kinds[0], subscriber, node)
            described = attrs.evolve(action, description=self._description(who, record))
            return unit.apply(record, described)

        # A use taken away cools as its consumer's node says: any node may matter.
        return self._run(action.operation, apply, every_node=True)

    def audit(
        self,
        observed: Iterable[Observation],
        *,
        at: str | None = None,
        fix: bool = True,
        add_missing: bool = False,
    ) -> _audit.AuditReport:
        """Reconcile the inventory with what the UC applications really use (SPEC 10, 20).

        With `fix=False` nothing is written (a dry run). Otherwise every fix
        is written in one transaction, each record's fix worked out again
        inside it when another writer changed the record meanwhile, and every
        number added by `add_missing` checked for uniqueness there. An audit
        that read a number on both sides of a move reads again (decision 147).
        """
        node = None if at is None else parse_path(at)
        fixing = checks.flag(fix, "fix")
        adding = checks.flag(add_missing, "add_missing")
        # Taken one at a time (a bad one is refused as it comes), kept to read again.
        kept: list[object] = []
        observations: Iterable[object] = _keeping(checks.iterable(observed, "observed"), kept)
        for attempt in range(self._settings.retries + 1):
            plan = _audit.Audit(
                self._repository,
                self._rules(self._repository.node_settings(None)),
                node,
                describe=self._description,
            )
            plan.read(observations)
            if adding:
                plan.plan_additions()
            if not fixing or not plan.pending:
                return plan.report(fixed=fixing)

            def write(unit: UnitOfWork, plan: _audit.Audit = plan) -> _audit.AuditReport:
                plan.write(unit)
                return plan.report(fixed=True)

            try:
                return self._run("audit", write, every_node=True)
            except _audit.ReadMeanwhile as moved:  # read again, as a lost race runs again
                if moved.joined or attempt == self._settings.retries:
                    raise ConcurrentUpdate(str(moved), number=moved.number) from None
                self._retried += 1
                observations = kept
        raise AssertionError("unreachable")  # pragma: no cover

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener(event)` after every committed change, in `seq` order.

        Returns an unsubscribe function.
        """
        if not callable(listener):
            raise InvalidInput(f"listener must be callable, not {listener!r}", value=listener)
        return self._dispatcher.subscribe(listener)

    # -- helpers ---------------------------------------------------------------

    def _description(self, consumer: Consumer, record: NumberRecord) -> str | None:
        if self._describe is None:
            return None
        text = self._describe(consumer, record)
        return checks.text(text, "the description from describe()")


# -- argument checks and small reads -----------------------------------------------


def _keeping(items: Iterable[object], kept: list[object]) -> Iterator[object]:
    for item in items:
        kept.append(item)
        yield item


def _consumer(value: object) -> Consumer:
    if not isinstance(value, Consumer):
        raise InvalidInput(f"expected a Consumer, not {value!r}", value=value)
    return value


def _reservation(tag: object, notes: object, days: object, reserved_for: object) -> Reserve:
    if reserved_for is not None:
        reserved_for = checks.text(reserved_for, "reserved_for")
        if not isinstance(reserved_for, str) or not reserved_for.strip():
            raise InvalidInput(
                f"reserved_for must name a consumer id or owner, not {reserved_for!r}",
                value=reserved_for,
            )
        checks.name(reserved_for, "reserved_for")
    return Reserve(
        checks.text(tag, "tag"),
        checks.text(notes, "notes"),
        checks.days(days, "days"),
        reserved_for,
    )


def _cooling(days: object, until: object) -> Cool:
    if days is not None and until is not None:
        raise InvalidInput("give days or until, not both", value=until)
    return Cool(checks.days(days, "days"), checks.aware(until, "until"))


def _cursor(after: object) -> Cursor | None:
    """A search cursor: after a (number, hierarchy) key, or after every record of a number."""
    if after is None:
        return None
    if isinstance(after, tuple) and len(after) == 2:
        return (parse_number(after[0]), parse_path(after[1]))
    return (parse_number(after), None)


def _lineages(nodes: Iterable[str]) -> list[str]:
    """Every node of the given nodes' lines of descent upwards, once each."""
    return list(dict.fromkeys(ancestor for node in nodes for ancestor in lineage(node)))


def _key(record: NumberRecord) -> tuple[str, str]:
    return record.key


def _number_of(record: NumberRecord) -> str:
    return record.number


def _still_usable(unit: UnitOfWork, record: NumberRecord, lost: ConcurrentUpdate) -> None:
    """Go on after a write lost to another writer only while the transaction can: a store
    that ended it (a deadlock on PostgreSQL) fails the next read, and the loss is raised
    for the call to run again."""
    try:
        unit.tx.get(record.number, record.hierarchy)
    except StorageError:
        raise lost from None


def _still_reserved(unit: UnitOfWork, record: NumberRecord, who: Consumer) -> NumberRecord | None:
    """The record as it stands now, if it is still reserved for the consumer's person."""
    record = unit.current(record)
    if record.status is Status.RESERVED and record.reserved_for in who.names:
        return record
    return None


def _duplicates(
    reader: Reader,
    record: NumberRecord,
    rules: Rules,
    held: list[NumberRecord] | None = None,
) -> list[NumberRecord]:
    """Other records of the number, where prevent-duplicates is on at its node (SPEC 22);
    `held`: every record of it, read already (`_holders_first`)."""
    if not rules.settings_at(record.hierarchy).prevent_duplicates:
        return []
    held = reader.holding(record.number) if held is None else held
    return [other for other in held if other.key != record.key]


def _holders_first(unit: UnitOfWork, number: str) -> list[NumberRecord] | None:
    """Every record of `number`, read before the one a call changes, when prevent-duplicates
    is on anywhere (None otherwise).

    A store that locks what a uniqueness check reads (PostgreSQL) then takes
    the number's locks before the record's row, in the order a range
    operation takes them: read after the row, a check of a number waited for
    a range operation that waited for its row, a deadlock.
    """
    return unit.tx.holding(number) if _prevented_anywhere(unit.rules) else None


def _prevented_anywhere(rules: Rules) -> bool:
    """Whether prevent-duplicates is on at any node."""
    return rules.settings.prevent_duplicates or any(
        node.prevent_duplicates for node in rules.nodes.values()
    )


def _duplicate(reader: Reader, record: NumberRecord, rules: Rules) -> bool:
    return bool(_duplicates(reader, record, rules))


def _busy(numbers: NumberRange, node: str, busy: list[NumberRecord]) -> InvalidTransition:
    return InvalidTransition(
        f"cannot delete {numbers} at {node}: {checks.counted(len(busy), 'number', 'are')} "
        "not Available: "
        f"{checks.listing([f'{r.number} ({r.status})' for r in busy])}",
        number=busy[0].number,
        hierarchy=node,
        status=busy[0].status,
        operation="delete",
        reason="not available",
    )


def _with_version(record: NumberRecord, version: int) -> NumberRecord:
    return record if record.version == version else attrs.evolve(record, version=version)


def _above_retired(unit: UnitOfWork, records: list[NumberRecord]) -> list[NumberRecord]:
    """The records, each at a version above any a deleted record at its key had."""
    groups: dict[tuple[str, str, int], list[NumberRecord]] = {}
    for record in records:
        plus = "+" if record.number.startswith("+") else ""
        groups.setdefault((record.hierarchy, plus, len(record.number)), []).append(record)
    retired: dict[tuple[str, str], int] = {}
    for (hierarchy, _, _), members in groups.items():
        numbers = sorted(member.number for member in members)
        span = number_range(numbers[0], numbers[-1], max_size=None)
        for number, version in unit.tx.retired(span, hierarchy).items():
            retired[(number, hierarchy)] = version
    if not retired:
        return records
    return [
        _with_version(record, max(record.version, retired.get(record.key, 0) + 1))
        for record in records
    ]


def _count_lapses(
    reader: Reader, counts: dict[str, dict[Status, int]], rules: Rules, under: str | None
) -> None:
    """Count records whose release date has passed under the status they show now.

    A subtree of a few nodes reads its own due records, node by node; a larger
    one, or the whole estate, reads every due record once."""
    if under is not None and len(counts) <= _NODE_DUE_READS:
        due: Iterable[NumberRecord] = (
            record
            for node in counts
            for status in (Status.COOLING, Status.RESERVED)
            for record in pages(reader, Query(node, status, due_by=rules.now))
        )
    else:
        due = reader.due(rules.now, 1_000_000_000)
    for record in due:
        if under is not None and not is_at_or_below(record.hierarchy, under):
            continue
        shown = as_of(record, rules)
        statuses = counts.get(record.hierarchy)
        if statuses is not None and shown.status is not record.status:
            statuses[record.status] = statuses.get(record.status, 0) - 1
            statuses[shown.status] = statuses.get(shown.status, 0) + 1


def _seen_from(changes: list[Change], node: str) -> list[Change]:
    """The changes of the record visible from `node`, followed back through its moves; a
    move that took it out of `node`'s sight is the last of them."""
    line = set(lineage(node))
    keep: list[Change] = []
    followed: set[str] | None = None  # the nodes of the record being followed back
    for change in reversed(changes):
        if followed is None:
            if change.hierarchy in line:
                followed = {change.hierarchy}
            elif change.before is not None and change.before.hierarchy in line:
                followed = {change.before.hierarchy}  # moved away from the line
            else:
                continue
        if change.hierarchy in followed or (
            change.before is not None and change.before.hierarchy in followed
        ):
            keep.append(change)
            if change.before is not None:
                followed.add(change.before.hierarchy)
    return keep[::-1]
