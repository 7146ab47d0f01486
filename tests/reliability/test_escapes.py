"""Every refusal is a `NumInvError`, changes nothing, and is the same on both stores (#13 item 6).

A hand-picked table of bad values for each argument of every public entry
point of `Inventory`, the repositories, serialization and the value types
(`Consumer`, `Observation`, `Settings`); then a Hypothesis fuzz of calls with
arbitrary values. Each call runs on an in-memory and an SQLite inventory
holding the same records: a refusal must be a `NumInvError` (never a bare
`TypeError`, `OverflowError`, `RecursionError`, `UnicodeEncodeError`...),
leave every read as it was, and be the same error with the same message on
both stores.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from numinv import (
    Consumer,
    InvalidInput,
    Inventory,
    NumberRecord,
    NumInvError,
    Observation,
    Settings,
)
from numinv.serialization import from_dict, from_json, read_csv, read_json
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Repository
from numinv.storage.sqlite import SqliteRepository
from numinv.testing.contract import state
from tests.examples import examples

SITE = "sys.acme.uk.london"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = Consumer("device/cucm/Phone", "SEP1", SITE)
NUMBERS = [str(n) for n in range(1000, 1010)]

NOT_TEXT: list[Any] = [None, 5, 1.5, b"tag", ["x"], "\x00", "\ud800", "x" * 70_000]
NOT_NUMBER: list[Any] = [
    None,
    1000,
    "",
    "abc",
    "1" * 33,
    "\ud800",
    "+",
    "\\+",
    " 1000",
    "1000\n",
    "\u0661\u0660\u0660\u0660",  # Arabic-Indic digits
    "10-00",
]
NOT_PATH: list[Any] = [
    None,
    5,
    "",
    ".",
    "a..b",
    " sys",
    "sys ",
    "sys.\n",
    "sys.\ud800",
    "s" * 600,
    ".".join(["s"] * 40),
    ["sys"],
]
NOT_DAYS: list[Any] = [0, -1, 1000, True, 1.5, "3", 2**64, float("nan"), float("inf")]
NOT_TIME: list[Any] = [
    datetime(2026, 3, 2),
    datetime.max.replace(tzinfo=UTC),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
    "2026-03-02T00:00+00:00",
    5,
]
NOT_FLAG: list[Any] = [None, 1, 0, "yes"]
NOT_LIMIT: list[Any] = [-1, True, 1.5, "5", float("inf")]
NOT_CONSUMER: list[Any] = [None, "SEP1", 5, ("device/cucm/Phone", "SEP1", SITE)]
NOT_E164: list[Any] = [None, "123", "+", "+1234567890123456", "\ud800", "+44 20"]
NOT_SHARE: list[Any] = [-0.1, 1.1, float("nan"), True, "0.5"]
NOT_RECORDS: list[Any] = [
    None,
    "records",
    [None],
    [{"number": "1000"}],
    [NumberRecord("1000", SITE, version=2**63)],
    [NumberRecord("1000", SITE, version=0)],
    [NumberRecord("1000", SITE, tag="\ud800")],
    [NumberRecord("1000", "sys.\ud800")],
    [NumberRecord("1" * 40, SITE)],
    [NumberRecord("1000", SITE, release_date=datetime.max.replace(tzinfo=UTC))],
]
NOT_OBSERVED: list[Any] = [None, "1000", [None], [("1000", PHONE)], [Observation("1000")] * 0 + [5]]


def _calls() -> Iterator[tuple[str, Callable[[Inventory], object]]]:
    """(name, call) for every bad value of every argument of every entry point."""

    def each(name: str, values: list[Any], call: Callable[[Inventory, Any], object]) -> None:
        for index, value in enumerate(values):
            table.append((f"{name}[{index}]", lambda inv, v=value: call(inv, v)))

    table: list[tuple[str, Callable[[Inventory], object]]] = []
    each("get number", NOT_NUMBER, lambda inv, v: inv.get(v, SITE))
    each("get at", NOT_PATH, lambda inv, v: inv.get("1000", v))
    each("find at", NOT_PATH, lambda inv, v: inv.find("1000", v))
    each("search at", NOT_PATH[1:], lambda inv, v: list(inv.search(at=v)))
    each("search status", [5, "Free", "available "], lambda inv, v: list(inv.search(status=v)))
    each("search usage", [5, "Phone"], lambda inv, v: list(inv.search(usage=v)))
    each("search vendor", NOT_TEXT[1:], lambda inv, v: list(inv.search(vendor=v)))
    each("search prefix", ["a", "\ud800", 5, "1" * 40], lambda inv, v: list(inv.search(prefix=v)))
    each("search tag", NOT_TEXT[1:], lambda inv, v: list(inv.search(tag=v)))
    each("search limit", NOT_LIMIT, lambda inv, v: list(inv.search(limit=v)))
    each("search after", [*NOT_NUMBER[1:], ("1000", "")], lambda inv, v: list(inv.search(after=v)))
    each("search below", NOT_FLAG, lambda inv, v: list(inv.search(below=v)))
    each("available at", NOT_PATH, lambda inv, v: list(inv.available(v)))
    each("available limit", NOT_LIMIT, lambda inv, v: list(inv.available(SITE, limit=v)))
    each("numbers_of who", [*NOT_TEXT, "", " "], lambda inv, v: inv.numbers_of(v))
    each("numbers_of at", NOT_PATH[1:], lambda inv, v: inv.numbers_of("SEP1", at=v))
    each("utilization at", NOT_PATH[1:], lambda inv, v: inv.utilization(v))
    each("utilization below", NOT_SHARE, lambda inv, v: inv.utilization(below=v))
    each("settings_at", NOT_PATH, lambda inv, v: inv.settings_at(v))
    each("history number", NOT_NUMBER, lambda inv, v: inv.history(v))
    each("history limit", NOT_LIMIT, lambda inv, v: inv.history("1000", limit=v))
    each("changes after", [-1, 2**63, True, "0", 1.0], lambda inv, v: inv.changes(after=v))
    each("changes limit", [0, -1, 10**7, True], lambda inv, v: inv.changes(limit=v))
    each("prune_history", [None, *NOT_TIME], lambda inv, v: inv.prune_history(v))
    each("configure at", NOT_PATH, lambda inv, v: inv.configure(v, cooling_days=3))
    each("configure days", NOT_DAYS, lambda inv, v: inv.configure(SITE, cooling_days=v))
    each("configure flag", NOT_FLAG[1:], lambda inv, v: inv.configure(SITE, auto_cooling=v))
    each("configure share", NOT_SHARE, lambda inv, v: inv.configure(SITE, exhaustion_threshold=v))
    each("add_range at", NOT_PATH, lambda inv, v: inv.add_range(v, "2000"))
    each("add_range first", NOT_NUMBER, lambda inv, v: inv.add_range(SITE, v))
    each(
        "add_range last",
        ["1999", "20000", "+2001", "abc", 2001, "9" * 33],
        lambda inv, v: inv.add_range(SITE, "2000", v),
    )
    each(
        "add_range count",
        [0, -1, True, 1.5, "5", 2**64, 10**7],
        lambda inv, v: inv.add_range(SITE, "2000", count=v),
    )
    each("add_range tag", NOT_TEXT, lambda inv, v: inv.add_range(SITE, "2000", tag=v))
    each("add_range extra", NOT_TEXT, lambda inv, v: inv.add_range(SITE, "2000", extra1=v))
    each(
        "add_range vendor type",
        ["Nokia", "\ud800", 5],
        lambda inv, v: inv.add_range(SITE, "2000", internal_number_type=v),
    )
    each("add_range flag", NOT_FLAG, lambda inv, v: inv.add_range(SITE, "2000", skip_existing=v))
    each("update_range field", NOT_TEXT, lambda inv, v: inv.update_range(SITE, "1000", tag=v))
    each("delete_range at", NOT_PATH, lambda inv, v: inv.delete_range(v, "1000"))
    each(
        "delete_range flag",
        NOT_FLAG,
        lambda inv, v: inv.delete_range(SITE, "1000", skip_unavailable=v),
    )
    each("reserve_range days", NOT_DAYS, lambda inv, v: inv.reserve_range(SITE, "1000", days=v))
    each(
        "reserve_range for",
        [*NOT_TEXT[1:], "", "  "],
        lambda inv, v: inv.reserve_range(SITE, "1000", reserved_for=v),
    )
    each("cool_range days", NOT_DAYS, lambda inv, v: inv.cool_range(SITE, "1000", days=v))
    each("cool_range until", NOT_TIME, lambda inv, v: inv.cool_range(SITE, "1000", until=v))
    each("release_range first", NOT_NUMBER, lambda inv, v: inv.release_range(SITE, v))
    each("unreserve_range at", NOT_PATH, lambda inv, v: inv.unreserve_range(v, "1000"))
    each("move_range to", [*NOT_PATH, SITE], lambda inv, v: inv.move_range(SITE, "1000", to=v))
    each("import_records", NOT_RECORDS, lambda inv, v: inv.import_records(v))
    each("assign number", NOT_NUMBER, lambda inv, v: inv.assign(v, PHONE))
    each("assign consumer", NOT_CONSUMER, lambda inv, v: inv.assign("1000", v))
    each("assign shared", NOT_FLAG, lambda inv, v: inv.assign("1000", PHONE, shared=v))
    each("assign claim", NOT_FLAG, lambda inv, v: inv.assign("1000", PHONE, claim=v))
    each("assign_next consumer", NOT_CONSUMER, lambda inv, v: inv.assign_next(v))
    each("assign_next prefix", ["a", 5, "\ud800"], lambda inv, v: inv.assign_next(PHONE, prefix=v))
    each("reserve_next at", NOT_PATH, lambda inv, v: inv.reserve_next(v))
    each("reserve_next days", NOT_DAYS, lambda inv, v: inv.reserve_next(SITE, days=v))
    each("unassign consumer", NOT_CONSUMER, lambda inv, v: inv.unassign("1001", v))
    each("reserve tag", NOT_TEXT, lambda inv, v: inv.reserve("1000", SITE, tag=v))
    each("reserve notes", NOT_TEXT, lambda inv, v: inv.reserve("1000", SITE, notes=v))
    each("reserve days", NOT_DAYS, lambda inv, v: inv.reserve("1000", SITE, days=v))
    each("unreserve number", NOT_NUMBER, lambda inv, v: inv.unreserve(v, SITE))
    each("cool days", NOT_DAYS, lambda inv, v: inv.cool("1000", SITE, days=v))
    each("cool until", NOT_TIME, lambda inv, v: inv.cool("1000", SITE, until=v))
    each("release at", NOT_PATH, lambda inv, v: inv.release("1002", v))
    each("activate at", NOT_PATH, lambda inv, v: inv.activate("1000", v))
    each("deactivate number", NOT_NUMBER, lambda inv, v: inv.deactivate(v, SITE))
    each("update field", NOT_TEXT, lambda inv, v: inv.update("1000", SITE, description=v))
    each(
        "update name",
        ["status", "version", "extra10", "hierarchy"],
        lambda inv, v: inv.update("1000", SITE, **{v: "x"}),
    )
    each("associate e164", NOT_E164, lambda inv, v: inv.associate_e164("1000", SITE, v))
    each(
        "associate primary",
        NOT_FLAG,
        lambda inv, v: inv.associate_e164("1000", SITE, "+442071234567", primary=v),
    )
    each("dissociate e164", NOT_E164, lambda inv, v: inv.dissociate_e164("1000", SITE, v))
    each(
        "apply_service subscriber",
        [*NOT_TEXT, "", " "],
        lambda inv, v: inv.apply_service("1000", SITE, v, "Cisco-Only"),
    )
    each(
        "apply_service type",
        [None, 5, "Teams", "cisco-only"],
        lambda inv, v: inv.apply_service("1000", SITE, "jane", v),
    )
    each("audit observed", NOT_OBSERVED, lambda inv, v: inv.audit(v))
    each("audit at", NOT_PATH[1:], lambda inv, v: inv.audit([], at=v))
    each("audit fix", NOT_FLAG, lambda inv, v: inv.audit([], fix=v))
    each("audit add_missing", NOT_FLAG, lambda inv, v: inv.audit([], add_missing=v))
    each("subscribe", [None, 5, "print"], lambda inv, v: inv.subscribe(v))
    each(
        "inventory settings",
        [None, {}, "Settings"],
        lambda inv, v: Inventory(inv.repository, settings=v),
    )
    each("inventory clock", [5, "now"], lambda inv, v: Inventory(inv.repository, clock=v))
    each(
        "inventory clock's time",
        [None, datetime(2026, 1, 1), datetime(9999, 12, 1, tzinfo=UTC), "2026-01-01"],
        lambda inv, v: Inventory(inv.repository, clock=lambda: v).cool("1000", SITE, days=30),
    )
    each(
        "inventory actor's name",
        [5, "\ud800", "x" * 70_000],
        lambda inv, v: Inventory(inv.repository, actor=lambda: v).update("1000", SITE, tag="a"),
    )
    each(
        "inventory describe's text",
        [5, None, "\x00"],
        lambda inv, v: Inventory(inv.repository, describe=lambda c, r: v).assign("1000", PHONE),
    )
    each("inventory repository", [5, "memory", object()], lambda inv, v: Inventory(v))
    each("Consumer id", [*NOT_TEXT, "", " "], lambda inv, v: Consumer("device/cucm/Phone", v, SITE))
    each("Consumer at", NOT_PATH, lambda inv, v: Consumer("device/cucm/Phone", "SEP1", v))
    each("Consumer kind", [*NOT_TEXT, ""], lambda inv, v: Consumer(v, "SEP1", SITE))
    each("Observation number", [None, 5, b"1000"], lambda inv, v: Observation(v, PHONE))
    each("Observation consumer", [5, "SEP1"], lambda inv, v: Observation("1000", v))
    each("Settings days", NOT_DAYS, lambda inv, v: Settings(cooling_days=v))
    each("Settings share", NOT_SHARE, lambda inv, v: Settings(exhaustion_threshold=v))
    each("Settings size", [0, -1, True, 1.5, 2**70], lambda inv, v: Settings(max_range_size=v))
    each("Settings teluri", ["888", "+", 5, "+1" * 20], lambda inv, v: Settings(teluri_prefix=v))
    each(
        "SqliteRepository timeout",
        [float("nan"), float("inf"), -1, "30", True, 10**9],
        lambda inv, v: SqliteRepository(":memory:", timeout=v),
    )
    each(
        "SqliteRepository path",
        [None, 5, "a\x00b", b"x.db"],
        lambda inv, v: SqliteRepository(v),
    )
    each(
        "SqliteRepository read_only",
        [None, 1, "yes"],
        lambda inv, v: SqliteRepository(":memory:", read_only=v),
    )
    each(
        "from_dict",
        [
            None,
            [],
            {"number": "1000"},
            {"number": "1000", "hierarchy": SITE, "version": 2**63},
            {"number": "1000", "hierarchy": SITE, "version": float("inf")},
            {"number": "1000", "hierarchy": SITE, "version": 1.5},
            {"number": "1000", "hierarchy": SITE, "version": "3"},
            {"number": "1000", "hierarchy": SITE, "version": True},
            {"number": "1000", "hierarchy": SITE, "status": "Free"},
            {"number": "1000", "hierarchy": SITE, "uses": [{"kind": 5}]},
            {"number": "1000", "hierarchy": SITE, "release_date": "9999-12-31T23:59:59+00:00"},
            {"number": "1000", "hierarchy": SITE, "release_date": "0001-01-01T00:00:00+14:00"},
            {"number": "1000", "hierarchy": SITE, "tag": "\ud800"},
        ],
        lambda inv, v: from_dict(v),
    )
    each(
        "from_json",
        [
            "",
            "{",
            "[" * 100_000,
            '{"a":' * 100_000,
            b"\xff\xfe",
            '{"number":"1000","hierarchy":"sys.a","version":' + "9" * 5000 + "}",
            5,
        ],
        lambda inv, v: from_json(v),
    )
    each(
        "read_json",
        ["", "{}", "[" * 100_000, "[1]", '[{"number": 5}]'],
        lambda inv, v: list(read_json(io.StringIO(v))),
    )
    each(
        "read_csv",
        [
            "",
            "a,b\n1,2\n",
            "number,hierarchy,version\n1000,sys.a,²\n",
            "number,hierarchy,version\n1000,sys.a,\u0663\n",
            "number,hierarchy,version\n1000,sys.a," + "9" * 5000 + "\n",
            "number,hierarchy,uses\n1000,sys.a," + "[" * 100_000 + "\n",
            'number,hierarchy\n"1000,sys.a\n',
            "number,hierarchy,release_date\n1000,sys.a,9999-12-31T23:59:59-14:00\n",
        ],
        lambda inv, v: list(read_csv(io.StringIO(v))),
    )
    return iter(table)


CALLS = dict(_calls())


def loaded(repository: Repository) -> Inventory:
    inventory = Inventory(repository, clock=lambda: NOW)
    inventory.add_range(SITE, "1000", "1009")
    inventory.assign("1001", PHONE)
    inventory.cool("1002", SITE, days=3)
    return inventory


@pytest.fixture(scope="module")
def stores() -> Iterator[tuple[Inventory, Inventory]]:
    with SqliteRepository(":memory:") as sqlite:
        yield loaded(InMemoryRepository()), loaded(sqlite)


def outcome(inventory: Inventory, call: Callable[[Inventory], object]) -> tuple[str, str]:
    try:
        call(inventory)
    except NumInvError as error:
        return type(error).__name__, str(error)
    except BaseException as error:
        return "ESCAPE " + type(error).__name__, str(error)[:200]
    return "accepted", ""


def seen(inventory: Inventory) -> dict[str, Any]:
    return {"search": list(inventory.search()), **state(inventory.repository, NUMBERS)}


@pytest.fixture(scope="module")
def postgres_store(postgres_url: str) -> Iterator[Inventory]:
    import psycopg

    from numinv.storage.postgres import PostgresRepository

    schema = f"numinv_escapes_{uuid.uuid4().hex[:12]}"
    try:
        with PostgresRepository(postgres_url, schema=schema) as repository:
            yield loaded(repository)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.slow
@pytest.mark.parametrize("name", CALLS)
def test_a_bad_value_is_refused_alike_on_postgresql_and_changes_nothing(
    stores: tuple[Inventory, Inventory], postgres_store: Inventory, name: str
) -> None:
    memory, _ = stores
    before = seen(postgres_store)
    assert outcome(postgres_store, CALLS[name]) == outcome(memory, CALLS[name])
    assert seen(postgres_store) == before


@pytest.mark.parametrize("name", CALLS)
def test_a_bad_value_is_refused_with_a_numinv_error_that_changes_nothing_on_either_store(
    stores: tuple[Inventory, Inventory], name: str
) -> None:
    memory, sqlite = stores
    before = seen(memory)
    found = [outcome(inventory, CALLS[name]) for inventory in (memory, sqlite)]
    assert found[0][0] != "accepted", "a bad value was accepted"
    assert not found[0][0].startswith("ESCAPE"), found[0]
    assert found[1] == found[0], "the stores disagree"
    assert seen(memory) == before
    assert seen(sqlite) == before


# -- the fuzz ---------------------------------------------------------------------

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None), max_size=8),
    st.binary(max_size=8),
    st.sampled_from(["1000", "1001", "+1000", SITE, "sys", "Available", "Cooling", "", "1"]),
    st.datetimes(timezones=st.timezones() | st.none()),
    st.lists(st.text(max_size=5), max_size=3),
)

FUZZED: dict[str, Callable[..., object]] = {
    "get": lambda inv, a, b: inv.get(a, b),
    "find": lambda inv, a, b: inv.find(a, b),
    "search": lambda inv, a, b: list(inv.search(at=a, status=b)),
    "search after": lambda inv, a, b: list(inv.search(after=a, limit=b)),
    "available": lambda inv, a, b: list(inv.available(a, prefix=b)),
    "numbers_of": lambda inv, a, b: inv.numbers_of(a, at=b),
    "add_range": lambda inv, a, b: inv.add_range(a, b),
    "add_range count": lambda inv, a, b: inv.add_range(SITE, a, count=b),
    "update": lambda inv, a, b: inv.update(a, SITE, tag=b),
    "reserve": lambda inv, a, b: inv.reserve(a, SITE, days=b),
    "cool": lambda inv, a, b: inv.cool("1003", SITE, until=a, days=b),
    "assign": lambda inv, a, b: inv.assign(
        a, Consumer("device/cucm/Phone", "SEPf", SITE), shared=b
    ),
    "history": lambda inv, a, b: inv.history(a, limit=b),
    "changes": lambda inv, a, b: inv.changes(after=a, limit=b),
    "utilization": lambda inv, a, b: inv.utilization(a, below=b),
    "configure": lambda inv, a, b: inv.configure(SITE, cooling_days=a, exhaustion_threshold=b),
    "delete_range": lambda inv, a, b: inv.delete_range(a, b),
    "move_range": lambda inv, a, b: inv.move_range(SITE, a, to=b),
    "import": lambda inv, a, b: inv.import_records([NumberRecord(a, b)]),
    "from_dict": lambda inv, a, b: from_dict({"number": "1000", "hierarchy": a, "version": b}),
    "from_dict uses": lambda inv, a, b: from_dict(
        {"number": "1000", "hierarchy": SITE, "uses": [a], "tag": b}
    ),
}


@settings(max_examples=examples(400))
@given(name=st.sampled_from(sorted(FUZZED)), first=ANYTHING, second=ANYTHING)
def test_fuzzed_calls_raise_nothing_but_numinv_errors_and_the_stores_agree(
    name: str, first: object, second: object
) -> None:
    with SqliteRepository(":memory:") as sqlite:
        memory, other = loaded(InMemoryRepository()), loaded(sqlite)
        call = FUZZED[name]
        found = [outcome(inv, lambda i: call(i, first, second)) for inv in (memory, other)]
        assert not found[0][0].startswith("ESCAPE"), found[0]
        assert found[1] == found[0], "the stores disagree"
        assert seen(memory) == seen(other)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_repository_read_of_text_no_store_can_hold_finds_nothing(store: str) -> None:
    repository = InMemoryRepository() if store == "memory" else SqliteRepository(":memory:")
    loaded(repository)
    assert repository.get("\ud800", SITE) is None
    assert repository.get("1000", "sys.\ud800") is None
    assert repository.holding("\ud800") == []
    assert repository.with_e164("+44\ud800") == []
    assert repository.held_by("\ud800") == []


def test_an_sqlite_write_of_a_lone_surrogate_is_refused_as_invalid_input() -> None:
    with SqliteRepository(":memory:") as repository:
        with pytest.raises(InvalidInput, match="lone surrogate"), repository.transaction() as tx:
            tx.insert([NumberRecord("1000", SITE, tag="\ud800")])
        assert repository.holding("1000") == []


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (NumberRecord("1001", SITE, tag="a\x00b"), "tag"),
        (NumberRecord("1001", "sys.a\x00b"), "hierarchy"),
        (NumberRecord("1001", SITE, e164=("+44\x00",)), "e164"),
        (NumberRecord("1001", SITE, extra3="lone \ud800"), "extra3"),
    ],
    ids=["nul", "nul-in-key", "nul-in-e164", "surrogate"],
)
def test_every_store_refuses_a_write_of_text_no_store_keeps_alike(
    store: str, bad: NumberRecord, field: str
) -> None:
    """SPEC 17: what PostgreSQL cannot store is refused on every store, naming the field
    (the PostgreSQL store: tests/integration/postgres/test_postgres_repository.py)."""
    from numinv.core.numbers import number_range

    repository = InMemoryRepository() if store == "memory" else SqliteRepository(":memory:")
    with repository.transaction() as tx:
        tx.insert([NumberRecord("1000", SITE)])
    stored = repository.get("1000", SITE)
    assert stored is not None
    writes = [
        lambda tx: tx.insert([NumberRecord("1002", SITE), bad]),
        lambda tx: tx.insert_range(number_range("1001", count=2), bad),
        lambda tx: tx.replace(
            [(stored, attrs.evolve(bad, number="1000", hierarchy=SITE, version=2))]
        ),
    ]
    for write in writes[:2] if field == "hierarchy" else writes:
        with pytest.raises(InvalidInput, match=field), repository.transaction() as tx:
            write(tx)
    assert repository.holding("1001") == repository.holding("1002") == []
    assert repository.get("1000", SITE) == stored
