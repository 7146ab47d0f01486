"""SPEC 22: the number type agrees with the vendor, host service types, the duplicate guard,
reads that never write; SPEC 16: bounded retries of a lost race."""

from __future__ import annotations

from pathlib import Path

import pytest

from numinv import (
    ConcurrentUpdate,
    Consumer,
    DuplicateNumber,
    Event,
    InvalidInput,
    Inventory,
    NotFound,
    Observation,
    Settings,
    SqliteRepository,
    Status,
)
from numinv.core.hybrid import ServiceRow
from numinv.storage.protocol import Query
from tests.behaviour.conftest import MakeInventory
from tests.clock import Clock

SITE = "sys.acme.uk.london"
OTHER = "sys.acme.fr.paris"
CISCO_PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)
TEAMS = Consumer("device/msteamsonline/CsOnlineUser", "alice", SITE)


def test_a_cisco_phone_on_a_calling_plan_number_shows_no_number_type(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(
        SITE, "+442071230000", vendor="Microsoft", internal_number_type="Calling Plan"
    )

    used = inventory.assign("+442071230000", CISCO_PHONE)

    assert (used.vendor, used.internal_number_type) == ("", "")
    shared = inventory.assign("+442071230000", TEAMS, shared=True)
    assert (shared.vendor, shared.internal_number_type) == ("Cisco, Microsoft", "Calling Plan")
    freed = inventory.unassign("+442071230000", CISCO_PHONE)
    freed = inventory.unassign("+442071230000", TEAMS)
    assert (freed.vendor, freed.internal_number_type) == ("Microsoft", "Calling Plan")


def test_a_host_adds_a_service_type_as_a_row(make: MakeInventory) -> None:
    row = ServiceRow("Webex-Only", ("device/spark/Number",), "Webex-Only", True)
    inventory = make(service_types=[row])
    inventory.add_range(SITE, "2000")

    record = inventory.apply_service("2000", SITE, "carol", "Webex-Only")

    assert (record.status, record.vendor, record.extra2, record.extra4) == (
        Status.USED,
        "Webex Calling",
        "Webex-Only",
        "+888002000",
    )
    assert inventory.apply_service("2000", SITE, "carol", "No-Hybrid-Service").status is (
        Status.AVAILABLE
    )


def test_a_service_type_naming_an_unknown_kind_is_refused(make: MakeInventory) -> None:
    with pytest.raises(InvalidInput, match="unknown consumer kinds"):
        make(service_types=[ServiceRow("Odd", ("device/odd",), "Odd", False)])


def test_a_service_type_naming_a_kind_twice_is_refused() -> None:
    """Applied, it gave the subscriber two uses as one consumer: a record no file of the
    inventory's could be read back from."""
    with pytest.raises(InvalidInput, match="names each kind once, not device/cucm/Phone twice"):
        ServiceRow("Twice", ("device/cucm/Phone", "device/cucm/Phone"), "", False)


def test_an_unknown_service_type_is_refused_naming_it(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    with pytest.raises(InvalidInput, match="'Cisco-Maybe'"):
        inventory.apply_service("2000", SITE, "carol", "Cisco-Maybe")


def test_with_prevent_duplicates_a_duplicate_is_never_handed_out(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    inventory.add_range(OTHER, "2000")  # loaded before the setting was turned on
    inventory.configure("sys", prevent_duplicates=True)

    assert [r.number for r in inventory.available(SITE)] == ["2001", "2002"]
    assert inventory.assign_next(CISCO_PHONE).number == "2001"
    with pytest.raises(DuplicateNumber) as refusal:
        inventory.assign("2000", TEAMS)
    assert refusal.value.conflicts == (("2000", OTHER),)


def test_with_prevent_duplicates_a_service_type_never_hands_out_a_duplicate(
    make: MakeInventory,
) -> None:
    """`apply_service` gives the number to a subscriber as `assign` does: refused alike.
    A service type that holds no number, or one the subscriber already holds, is not a
    hand-out and goes on."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.apply_service("2001", SITE, "sub1", "Cisco-Only")  # before the setting
    inventory.add_range(OTHER, "2000", count=2)
    inventory.configure("sys", prevent_duplicates=True)
    before = inventory.changes()

    with pytest.raises(DuplicateNumber) as refusal:
        inventory.apply_service("2000", SITE, "sub1", "Cisco-Only")
    assert refusal.value.conflicts == (("2000", OTHER),)
    assert inventory.get("2000", SITE).status is Status.AVAILABLE
    assert inventory.changes() == before
    assert inventory.apply_service("2001", SITE, "sub1", "Cisco-Only").status is Status.USED


def test_the_global_prevent_duplicates_setting_guards_assignment_too(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.add_range(OTHER, "2000")
    strict = make(settings=Settings(prevent_duplicates=True))
    assert strict.assign_next(CISCO_PHONE).number == "2001"


def test_a_read_shows_a_lapsed_cooling_released_and_writes_nothing(
    make: MakeInventory, clock: Clock
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.cool("2000", SITE, days=1)
    events: list[Event] = []
    inventory.subscribe(events.append)
    clock.advance(days=2)
    journaled = inventory.changes()

    assert inventory.get("2000", SITE).status is Status.AVAILABLE
    assert [r.number for r in inventory.search(status="Available")] == ["2000", "2001"]
    assert list(inventory.search(status="Cooling")) == []
    assert [r.number for r in inventory.available(SITE)] == ["2000", "2001"]
    assert inventory.utilization()[SITE].available == 2
    inventory.audit([], fix=False)

    assert events == []
    assert inventory.changes() == journaled
    stored = inventory.repository.get("2000", SITE)
    assert stored is not None
    assert stored.status is Status.COOLING


def test_the_next_write_stores_the_release_it_showed(make: MakeInventory, clock: Clock) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000")
    inventory.cool("2000", SITE, days=1)
    clock.advance(days=2)
    shown = inventory.get("2000", SITE)

    inventory.update("2000", SITE, tag="x")

    released, updated = inventory.history("2000")[-2:]
    assert (released.operation, released.after) == ("release_due", shown)
    assert updated.before == shown


def test_a_read_only_database_answers_reads_with_numbers_due(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "numbers.db"
    with SqliteRepository(path) as repository:
        writer = Inventory(repository, clock=clock)
        writer.add_range(SITE, "2000", count=3)
        writer.cool("2001", SITE, days=1)
    clock.advance(days=3)

    with SqliteRepository(path, read_only=True) as repository:
        reader = Inventory(repository, clock=clock)
        assert reader.get("2001", SITE).status is Status.AVAILABLE
        assert len(list(reader.search(status="Available"))) == 3
        assert reader.history("2001")[-1].operation == "cool"
        with pytest.raises(Exception, match="reading only"):
            reader.release_due()


def test_a_lost_race_is_tried_again_a_bounded_number_of_times(
    make: MakeInventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run again at once after one loss, then after a random wait that doubles its bound
    with each further loss: loads colliding on PostgreSQL met again at every retry."""
    import numinv.inventory

    waits: list[float] = []
    monkeypatch.setattr(numinv.inventory.time, "sleep", waits.append)
    inventory = make(settings=Settings(retries=4))
    inventory.add_range(SITE, "2000")
    repository = inventory.repository
    real = repository.transaction
    races = [0]

    class Racing:
        def __init__(self) -> None:
            self.context = real()

        def __enter__(self) -> object:
            tx = self.context.__enter__()
            races[0] += 1

            def replace(changes: object) -> None:
                raise ConcurrentUpdate("another writer won", number="2000", hierarchy=SITE)

            tx.replace = replace  # type: ignore[method-assign]
            return tx

        def __exit__(self, *info: object) -> object:
            return self.context.__exit__(*info)  # type: ignore[arg-type]

    repository.transaction = Racing  # type: ignore[method-assign]
    try:
        with pytest.raises(ConcurrentUpdate):
            inventory.reserve("2000", SITE)
    finally:
        repository.transaction = real  # type: ignore[method-assign]

    assert races[0] == 5
    assert inventory.retried == 4
    assert inventory.get("2000", SITE).status is Status.AVAILABLE
    assert len(waits) == 3  # none after the first loss, none after the last
    for wait, bound in zip(waits, (0.002, 0.004, 0.008), strict=True):
        assert 0 <= wait <= bound


def test_assign_next_claims_its_number_in_the_transaction_that_takes_it(
    make: MakeInventory,
) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    repository = inventory.repository
    real = repository.transaction
    claims: list[Query] = []

    class Watching:
        def __init__(self) -> None:
            self.context = real()

        def __enter__(self) -> object:
            tx = self.context.__enter__()
            claim = tx.claim

            def watched(query: Query) -> object:
                claims.append(query)
                return claim(query)

            tx.claim = watched  # type: ignore[method-assign]
            return tx

        def __exit__(self, *info: object) -> object:
            return self.context.__exit__(*info)  # type: ignore[arg-type]

    repository.transaction = Watching  # type: ignore[method-assign]
    try:
        record = inventory.assign_next(CISCO_PHONE)
    finally:
        repository.transaction = real  # type: ignore[method-assign]

    assert record.number == "2000"
    assert [(q.hierarchy, q.status, q.limit) for q in claims] == [(SITE, Status.AVAILABLE, 1)]


def test_assign_next_with_nothing_left_names_the_node(make: MakeInventory) -> None:
    inventory = make()
    with pytest.raises(NotFound, match=SITE):
        inventory.assign_next(CISCO_PHONE)


def test_assign_next_with_only_duplicates_left_says_they_were_passed_over(
    make: MakeInventory,
) -> None:
    """Numbers Available but duplicates are not handed out (SPEC 22); the refusal says
    so, or an administrator would load more numbers to no avail."""
    inventory = make()
    inventory.add_range(SITE, "2000", count=2)
    inventory.add_range(OTHER, "2000", count=2)
    inventory.configure("sys", prevent_duplicates=True)

    with pytest.raises(NotFound) as refusal:
        inventory.assign_next(CISCO_PHONE)
    assert str(refusal.value) == (
        f"no Available number is visible from {SITE} (2 Available numbers passed over: "
        "each also exists at another node, and prevent-duplicates is on)"
    )


def test_a_refusal_says_why_in_words_a_program_can_test(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(SITE, "2000", count=3)
    inventory.assign("2000", CISCO_PHONE)
    inventory.reserve("2001", SITE, reserved_for="bob")
    inventory.cool("2002", SITE, days=3)
    from numinv import InvalidTransition

    reasons = []
    for call in (
        lambda: inventory.assign("2000", TEAMS),
        lambda: inventory.assign("2001", TEAMS),
        lambda: inventory.assign("2001", TEAMS, claim=True),
        lambda: inventory.assign("2002", TEAMS),
        lambda: inventory.release("2000", SITE),
        lambda: inventory.delete_range(SITE, "2000"),
    ):
        with pytest.raises(InvalidTransition) as refusal:
            call()
        reasons.append(refusal.value.reason)

    assert reasons == [
        "in use", "reserved", "reserved for", "cooling", "not allowed", "not available"
    ]  # fmt: skip
    assert inventory.nodes() == [SITE]


def test_a_type_that_outlived_its_vendor_stays_hidden_and_blocks_nothing(
    make: MakeInventory,
) -> None:
    """Decision 66: the type set is kept apart and shows while the vendor shown is one it
    belongs to. A Calling Plan number given to Webex while a Teams user held it, or seen
    held by Webex in an audit, keeps the type hidden: later changes of other fields, and
    an export read back in, used to be refused over a type nobody could see."""
    inventory = make()
    inventory.add_range(
        SITE, "1000", count=2, vendor="Microsoft", internal_number_type="Calling Plan"
    )
    inventory.assign("1000", TEAMS)
    inventory.update("1000", SITE, vendor="Webex Calling")  # the type agrees with Teams
    inventory.unassign("1000", TEAMS)
    inventory.audit([Observation("1001", vendor="Webex Calling")], at=SITE)

    for number in ("1000", "1001"):
        record = inventory.update(number, SITE, tag="moved to Webex")
        assert (record.vendor, record.internal_number_type) == ("Webex Calling", "")
    assert inventory.update_range(SITE, "1000", "1001", description="ok") == 2
    copy = Inventory()  # an export read back in elsewhere
    assert copy.import_records(inventory.search()) == 2
    assert copy.get("1000", SITE).admin_number_type == "Calling Plan"
    inventory.update("1000", SITE, vendor="Microsoft")  # the type shows again
    assert inventory.get("1000", SITE).internal_number_type == "Calling Plan"


def test_a_known_vendor_is_named_in_any_case_and_spacing(make: MakeInventory) -> None:
    """`cisco` was stored as a vendor of its own (Cisco is the blank vendor), `Microsoft `
    kept its space, and a search for `microsoft` found nothing."""
    inventory = make()
    inventory.add_range(SITE, "2000", vendor="cisco")
    inventory.add_range(SITE, "2001", vendor=" microsoft ", internal_number_type="Calling Plan")
    inventory.add_range(SITE, "2002", vendor="Yealink")  # no vendor numinv knows: as given
    assert [inventory.get(n, SITE).vendor for n in ("2000", "2001", "2002")] == [
        "",
        "Microsoft",
        "Yealink",
    ]
    assert [r.number for r in inventory.search(vendor="MICROSOFT")] == ["2001"]
    assert [r.number for r in inventory.search(vendor="cisco")] == ["2000"]
    assert inventory.update("2002", SITE, vendor="webex calling").vendor == "Webex Calling"


def test_the_describe_hook_describes_numbers_a_service_type_or_an_audit_hands_out(
    make: MakeInventory,
) -> None:
    """SPEC 13: the hook fills the description on assignment. It ran for `assign` and
    `assign_next` only: a subscriber given a number by its service type, or a user an
    audit found, kept the old description, and lost it when the number was freed."""
    inventory = make(describe=lambda consumer, record: f"for {consumer.id}")
    inventory.add_range(SITE, "2000", count=3, description="spare")

    found = Observation("2001", Consumer("device/cucm/Phone", "SEP7", SITE))
    (change,) = inventory.audit([found], at=SITE).changes
    assert (change.number, change.after.description) == ("2001", "for SEP7")
    assert inventory.get("2001", SITE).description == "for SEP7"
    served = inventory.apply_service("2000", SITE, "carol", "Cisco-Only")
    assert served.description == "for carol"
    again = inventory.apply_service("2000", SITE, "carol", "Cisco-MS-Hybrid")
    assert again.description == "for carol"  # already its number: described once
    assert inventory.get("2002", SITE).description == "spare"  # handed out to nobody
