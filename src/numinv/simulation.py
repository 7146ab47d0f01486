"""A seeded what-if simulation of a provider's number estate, on the public API only.

`simulate` builds a provider hierarchy (customers, each with a shared pool
and some sites), loads numbers, then runs one step per simulated day: users
join and leave (Cisco phones and Teams users), hunt pilots come and go,
AudioCodes devices go offline and come back, and numbers are reserved for
new starters, whose phones take them (some never come, and the reservation
lapses); a leaver is offboarded (what is held for them is unreserved).
Customers differ in their cooling (set per node); one site's numbers are
Webex Calling numbers that arrive inactive and are activated a few a day;
and when a site first runs out, numbers of its customer's pool that nobody
uses are moved to it. The inventory's clock is the simulated one, so cooling
and reservations end as they would in real time. The same configuration and
seed always give the same result.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from numinv import (
    Change,
    Consumer,
    InvalidInput,
    InvalidTransition,
    Inventory,
    NotFound,
    NumInvError,
    Repository,
    Settings,
    Status,
    Utilization,
)

__all__ = [
    "DayCount",
    "NodeSummary",
    "SimulationConfig",
    "SimulationResult",
    "simulate",
]

PHONE = "device/cucm/Phone"
TEAMS = "device/msteamsonline/CsOnlineUser"
HUNT_PILOT = "device/cucm/HuntPilot"
AUDIOCODES = "device/audiocodes"
PROVIDER = "sys.sim"
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

# Behaviour of the simulated estate, per site and day unless said otherwise.
_INITIAL_OCCUPANCY = 0.6  # share of a site's numbers in use on day 0
_DEVICES = 3  # AudioCodes devices per site
_HUNT_PILOTS = 2  # hunt pilots per site on day 0
_GROWTH = (-0.03, 0.12)  # a site's joiners a day beyond replacing leavers, drawn per site
_EXPANSION = 0.35  # the growth of the one site (drawn by the seed) that takes on a new team
_LEAVE_CHANCE = 0.003  # chance a given user leaves on a given day
_TEAMS_SHARE = 0.4  # share of joiners who are Teams users
_HUNT_CHANCE = 0.02  # a new hunt pilot; the same chance that one is removed
_OFFLINE_CHANCE = 0.03  # chance an online device goes offline on a given day
_LATE_SHARE = 0.2  # share of offline devices that stay away past their cooling
_RESERVE_CHANCE = 0.05  # a number reserved for a new starter
_CLAIM_SHARE = 0.7  # share of reservations claimed before they lapse
_RESERVE_DAYS = 14
_INACTIVE_SHARE = 0.3  # of the Webex site's numbers, loaded inactive
_ACTIVATIONS = 2  # inactive numbers activated a day
_MOVE = 10  # pool numbers moved to a site running low
_LOW = 3  # a site with fewer numbers of its own Available is running low
# Cooling per customer, by customer number modulo 3: the provider's default,
# none, or a short one (SPEC 19: Inherit / No / Yes with its own days).
_CUSTOMER_COOLING: tuple[dict[str, Any], ...] = (
    {},
    {"auto_cooling": False},
    {"auto_cooling": True, "cooling_days": 7},
)


@attrs.frozen(kw_only=True)
class SimulationConfig:
    """The shape of the simulated estate and how long it runs."""

    customers: int = 3
    sites: int = 4
    numbers_per_site: int = 150
    pool: int = 40
    days: int = 365
    seed: int = 1

    def __attrs_post_init__(self) -> None:
        for name in ("customers", "sites", "numbers_per_site", "days"):
            _check_count(name, getattr(self, name), smallest=1)
        _check_count("pool", self.pool, smallest=0)
        _check_count("seed", self.seed, smallest=0)
        if self.customers > 999 or self.sites > 999:
            raise InvalidInput("a simulation has at most 999 customers and 999 sites a customer")
        if max(self.numbers_per_site, self.pool) > 10**8:
            raise InvalidInput("a simulation loads at most 100,000,000 numbers a node")


def _check_count(name: str, value: object, *, smallest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise InvalidInput(f"{name} must be a whole number >= {smallest}, not {value!r}")


@attrs.frozen
class DayCount:
    """One node's numbers by status at the end of one day, and its failed assignments."""

    day: int
    date: date
    node: str
    counts: Mapping[Status, int]
    failed: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@attrs.frozen
class NodeSummary:
    """One node at the end of the run; `exhausted_on` is the first day an assignment failed."""

    node: str
    role: str  # "site" or "pool"
    counts: Mapping[Status, int]
    failed: int
    exhausted_on: int | None

    @property
    def loaded(self) -> int:
        return sum(self.counts.values())


@attrs.frozen
class SimulationResult:
    """The daily series (day 0 is the loaded estate), the final summary and activity counts."""

    config: SimulationConfig
    settings: Settings
    series: tuple[DayCount, ...]
    summary: tuple[NodeSummary, ...]
    activity: Mapping[str, int]
    history: tuple[Change, ...] = ()  # of the number asked for, oldest first

    def date_of(self, day: int) -> date:
        return (START + timedelta(days=day)).date()


@attrs.define
class _Clock:
    day: int = 0

    def __call__(self) -> datetime:
        return START + timedelta(days=self.day)


@attrs.define
class _Site:
    """What the simulation remembers of one site's consumers."""

    node: str
    join_rate: float
    first: str
    pool: str | None = None
    moved: bool = False
    inactive: list[str] = attrs.Factory(list)  # Webex numbers waiting to be activated
    users: dict[Consumer, str] = attrs.Factory(dict)
    pilots: dict[Consumer, str] = attrs.Factory(dict)
    online: dict[Consumer, str] = attrs.Factory(dict)
    offline: list[tuple[int, Consumer, str]] = attrs.Factory(list)
    reserved: list[tuple[int, str]] = attrs.Factory(list)  # claim day, starter
    serial: int = 0
    failed: int = 0
    exhausted_on: int | None = None

    def consumer(self, kind: str, prefix: str, owner: str = "") -> Consumer:
        self.serial += 1
        place = self.node.removeprefix(PROVIDER + ".").replace(".", "-")
        return Consumer(kind, f"{prefix}-{place}-{self.serial:05d}", self.node, owner=owner)


@attrs.define
class _Run:
    inventory: Inventory
    clock: _Clock
    rng: random.Random
    sites: list[_Site]
    activity: dict[str, int] = attrs.Factory(dict)

    def count(self, what: str) -> None:
        if self.clock.day:  # day 0 is the build: loading the estate is not activity
            self.activity[what] = self.activity.get(what, 0) + 1

    def take(self, site: _Site, consumer: Consumer) -> str | None:
        """Give the consumer its reserved number, or the next one visible from its site."""
        try:
            record = self.inventory.assign_next(consumer)
        except NotFound:
            site.failed += 1
            if site.exhausted_on is None:
                site.exhausted_on = self.clock.day
            return None
        return record.number

    def move_to(self, site: _Site) -> None:
        """Move a run of the customer pool's free numbers to a site running low, once."""
        own = self.inventory.search(at=site.node, below=False, status="Available", limit=_LOW)
        if site.pool is None or site.moved or len(list(own)) >= _LOW:
            return
        site.moved = True
        free = [record.number for record in self.inventory.available(site.pool, limit=_MOVE)]
        if not free:
            return
        run = [free[0]]
        for number in free[1:]:
            if int(number) != int(run[-1]) + 1:
                break
            run.append(number)
        try:
            moved = self.inventory.move_range(site.pool, run[0], run[-1], to=site.node)
        except NumInvError:
            return
        self.activity["numbers moved"] = self.activity.get("numbers moved", 0) + moved

    def populate(self, site: _Site, numbers: int) -> None:
        for _ in range(round(numbers * _INITIAL_OCCUPANCY)):
            self.join(site)
        for _ in range(_HUNT_PILOTS):
            self.add_pilot(site)
        for _ in range(_DEVICES):
            device = site.consumer(AUDIOCODES, "gw")
            if (number := self.take(site, device)) is not None:
                site.online[device] = number

    def join(self, site: _Site) -> None:
        kind, prefix = (TEAMS, "teams") if self.rng.random() < _TEAMS_SHARE else (PHONE, "phone")
        user = site.consumer(kind, prefix)
        if (number := self.take(site, user)) is not None:
            site.users[user] = number
            self.count("joined")

    def offboard(self, user: Consumer, number: str) -> None:
        """A leaver: what is held for the person is unreserved, then the number let go."""
        person = user.owner or user.id
        for record in self.inventory.numbers_of(person):
            if record.reserved_for == person:
                self.inventory.unreserve(record.number, record.hierarchy)
        self.inventory.unassign(number, user)
        self.count("left")

    def activate(self, site: _Site) -> None:
        for number in site.inactive[:_ACTIVATIONS]:
            self.inventory.activate(number, site.node)
            self.count("numbers activated")
        del site.inactive[:_ACTIVATIONS]

    def add_pilot(self, site: _Site) -> None:
        pilot = site.consumer(HUNT_PILOT, "hunt")
        if (number := self.take(site, pilot)) is not None:
            site.pilots[pilot] = number
            self.count("hunt pilots added")

    def day(self, site: _Site) -> None:
        rng, day = self.rng, self.clock.day
        for user in [user for user in site.users if rng.random() < _LEAVE_CHANCE]:
            self.offboard(user, site.users.pop(user))
        self.activate(site)
        self.move_to(site)
        for _ in range(_arrivals(rng, site.join_rate)):
            self.join(site)
        if rng.random() < _HUNT_CHANCE:
            self.add_pilot(site)
        if site.pilots and rng.random() < _HUNT_CHANCE:
            pilot = rng.choice(list(site.pilots))
            self.inventory.unassign(site.pilots.pop(pilot), pilot)
            self.count("hunt pilots removed")
        self.devices(site, day)
        self.reservations(site, day)

    def devices(self, site: _Site, day: int) -> None:
        back = [entry for entry in site.offline if entry[0] == day]
        site.offline = [entry for entry in site.offline if entry[0] != day]
        for _, device, number in back:
            self.reconnect(site, device, number)
        for device in [device for device in site.online if self.rng.random() < _OFFLINE_CHANCE]:
            number = site.online.pop(device)
            self.inventory.unassign(number, device)
            away = self.away()
            site.offline.append((day + away, device, number))
            self.count("devices offline")

    def away(self) -> int:
        """Days an offline device stays away: mostly less than its cooling period."""
        cooling = self.inventory.settings.audiocodes_cooling_days
        if cooling > 1 and self.rng.random() >= _LATE_SHARE:
            return self.rng.randint(1, cooling - 1)
        return cooling + self.rng.randint(0, 3)

    def reconnect(self, site: _Site, device: Consumer, number: str) -> None:
        try:
            before = self.inventory.get(number, site.node).status
            self.inventory.assign(number, device)
        except (InvalidTransition, NotFound):  # taken meanwhile, or released and moved away
            self.count("devices back on a new number")
            if (new := self.take(site, device)) is not None:
                site.online[device] = new
            return
        self.count("devices back, number restored" if before is Status.COOLING else "devices back")
        site.online[device] = number

    def reservations(self, site: _Site, day: int) -> None:
        # A starter's phone comes before the reservation lapses and takes the number
        # held for its owner (assign_next takes a consumer's reserved number first).
        for _, starter in [r for r in site.reserved if r[0] == day]:
            phone = site.consumer(PHONE, "phone", owner=starter)
            if (number := self.take(site, phone)) is not None:
                site.users[phone] = number
                self.count("reservations claimed")
        site.reserved = [r for r in site.reserved if r[0] > day]
        if self.rng.random() >= _RESERVE_CHANCE:
            return
        starter = site.consumer(PHONE, "starter").id
        try:
            self.inventory.reserve_next(
                site.node,
                tag="new starter",
                notes=f"for {starter}",
                days=_RESERVE_DAYS,
                reserved_for=starter,
            )
        except NotFound:
            return
        self.count("reservations made")
        if self.rng.random() < _CLAIM_SHARE:
            site.reserved.append((day + self.rng.randint(1, _RESERVE_DAYS - 1), starter))


def _arrivals(rng: random.Random, rate: float) -> int:
    """A day's joiners: about `rate` on average, never negative."""
    whole = int(rate)
    noise = (rng.random() < 0.1) - (rng.random() < 0.1)
    return max(0, whole + (rng.random() < rate - whole) + noise)


def _customer_nodes(config: SimulationConfig) -> Iterator[tuple[str, list[str]]]:
    for customer in range(1, config.customers + 1):
        node = f"{PROVIDER}.c{customer:03d}"
        yield node, [f"{node}.s{site:03d}" for site in range(1, config.sites + 1)]


def simulate(
    config: SimulationConfig = SimulationConfig(),
    *,
    settings: Settings = Settings(auto_cooling=True),  # noqa: B008 - frozen, shared safely
    repository: Repository | None = None,
    on_day: Callable[[int], None] | None = None,
    history: str | None = None,
) -> SimulationResult:
    """Run the simulation on `repository` (a new in-memory one by default).

    `on_day(day)` is called after each simulated day (0 is the build), for
    progress reporting; `history` names a number whose history the result
    carries. The repository must not hold numbers of the simulated provider
    already.
    """
    if not isinstance(config, SimulationConfig):
        raise InvalidInput(f"config must be a SimulationConfig, not {config!r}")
    clock = _Clock()
    inventory = Inventory(repository, settings=settings, clock=clock)
    rng = random.Random(config.seed)
    width = len(str(max(config.numbers_per_site, config.pool, 2) - 1))
    run = _Run(inventory, clock, rng, [])
    roles: dict[str, str] = {}
    for customer, (pool, sites) in enumerate(_customer_nodes(config), start=1):
        customer_node = pool
        inventory.configure(customer_node, **_CUSTOMER_COOLING[(customer - 1) % 3])
        if config.pool:
            inventory.add_range(pool, f"+44{customer:03d}000{0:0{width}d}", count=config.pool)
            roles[pool] = "pool"
        for index, node in enumerate(sites, start=1):
            first = f"+44{customer:03d}{index:03d}{0:0{width}d}"
            inventory.add_range(node, first, count=config.numbers_per_site)
            roles[node] = "site"
            occupied = config.numbers_per_site * _INITIAL_OCCUPANCY
            join_rate = max(0.0, occupied * _LEAVE_CHANCE + rng.uniform(*_GROWTH))
            run.sites.append(_Site(node, join_rate, first, pool if config.pool else None))
    rng.choice(run.sites).join_rate += _EXPANSION
    _webex_site(run, rng.choice(run.sites), config.numbers_per_site)
    series: list[DayCount] = []
    for day in range(config.days + 1):
        clock.day = day
        failed_before = {site.node: site.failed for site in run.sites}
        for site in run.sites:
            if day:
                run.day(site)
            else:
                run.populate(site, config.numbers_per_site)
        failed = {site.node: site.failed - failed_before[site.node] for site in run.sites}
        series += _counts(run, roles, failed)
        if on_day is not None:
            on_day(day)
    final = inventory.utilization(PROVIDER)
    by_site = {site.node: site for site in run.sites}
    summary = tuple(
        NodeSummary(
            node,
            roles[node],
            _counted(final, node),
            by_site[node].failed if node in by_site else 0,
            by_site[node].exhausted_on if node in by_site else None,
        )
        for node in sorted(roles)
    )
    changes = () if history is None else tuple(inventory.history(history))
    return SimulationResult(
        config, settings, tuple(series), summary, dict(sorted(run.activity.items())), changes
    )


def _webex_site(run: _Run, site: _Site, numbers: int) -> None:
    """The top of a site's range arrives as Webex Calling numbers not yet active."""
    count = int(numbers * _INACTIVE_SHARE)
    if not count:
        return
    top = int(site.first) + numbers - count
    inactive = [f"+{top + offset}" for offset in range(count)]
    for number in inactive:
        run.inventory.deactivate(number, site.node)
    site.inactive = inactive


def _counts(run: _Run, roles: Mapping[str, str], failed: Mapping[str, int]) -> list[DayCount]:
    day = run.clock.day
    today = run.clock().date()
    usage = run.inventory.utilization(PROVIDER)
    return [
        DayCount(day, today, node, _counted(usage, node), failed.get(node, 0))
        for node in sorted(roles)
    ]


def _counted(usage: Utilization, node: str) -> dict[Status, int]:
    """A node's counts; a node whose numbers all moved away holds none."""
    found = usage.get(node)
    return dict.fromkeys(_STATUSES, 0) if found is None else dict(found.counts)


_STATUSES = tuple(status for status in Status if status is not Status.INACTIVE)
