"""Bad input (SPEC 14): every public entry point refuses it with a `NumInvError`.

The refusal names the offending value and changes nothing. The properties
below give one malformed argument at a time to a call that succeeds with the
good arguments (`test_every_good_call_succeeds` proves that), so the refusal
can only come from the bad one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from numinv import (
    Consumer,
    Event,
    InvalidInput,
    Inventory,
    NumberRecord,
    NumInvError,
    Observation,
    ServiceType,
    Settings,
    Status,
    Usage,
    Use,
)
from numinv.core.checks import MAX_NAME
from numinv.core.kinds import BUILTIN_KINDS, ConsumerKind
from numinv.core.records import FREE_TEXT_FIELDS
from numinv.testing import strategies
from tests.examples import examples

NOW = datetime(2024, 1, 1, tzinfo=UTC)
SITE = "sys.acme.london"
PHONE = "device/cucm/Phone"
USER = Consumer(PHONE, "SEP1", SITE)
NEWCOMER = Consumer(PHONE, "SEP9", SITE)
SETTABLE = frozenset({*FREE_TEXT_FIELDS, "vendor", "internal_number_type"})
NOT_NAMED = object()  # the refusal has no single offending value (e.g. two exclusive options)


def _populated() -> Inventory:
    """Numbers in every status, at a customer and a site, with an E.164 association."""
    inv = Inventory(clock=lambda: NOW)
    inv.add_range("sys.acme", "1000", count=20, tag="pool")
    inv.add_range(SITE, "2000", count=20)
    inv.assign("1000", USER)
    inv.reserve("1001", "sys.acme", days=5)
    inv.cool("1002", "sys.acme")
    inv.reserve_range(SITE, "2010", count=5)
    inv.cool_range(SITE, "2015", count=5)
    inv.associate_e164("2001", SITE, "+27110000001")
    return inv


# Per public method, arguments with which it succeeds on `_populated()`.
GOOD: dict[str, dict[str, Any]] = {
    "add_range": {"at": "sys.acme.paris", "first": "3000", "last": "3004"},
    "update_range": {"at": SITE, "first": "2000", "last": "2004", "tag": "x"},
    "delete_range": {"at": SITE, "first": "2005", "last": "2009"},
    "reserve_range": {"at": SITE, "first": "2005", "last": "2009"},
    "unreserve_range": {"at": SITE, "first": "2010", "count": 5},
    "cool_range": {"at": SITE, "first": "2005", "last": "2009"},
    "release_range": {"at": SITE, "first": "2015", "count": 5},
    "get": {"number": "2000", "at": SITE},
    "find": {"number": "2000", "at": SITE},
    "search": {},
    "available": {"at": SITE},
    "assign": {"number": "2002", "consumer": NEWCOMER},
    "assign_next": {"consumer": NEWCOMER},
    "unassign": {"number": "1000", "consumer": USER},
    "reserve": {"number": "2003", "at": SITE},
    "unreserve": {"number": "1001", "at": "sys.acme"},
    "cool": {"number": "2003", "at": SITE},
    "release": {"number": "1002", "at": "sys.acme"},
    "update": {"number": "2003", "at": SITE, "tag": "x"},
    "associate_e164": {"number": "2003", "at": SITE, "e164": "+27110000002"},
    "dissociate_e164": {"number": "2001", "at": SITE, "e164": "+27110000001"},
    "apply_service": {
        "number": "2004",
        "at": SITE,
        "subscriber": "alice",
        "service_type": "Cisco-Only",
    },
    "audit": {"observed": [Observation("1000", USER)]},
    "subscribe": {"listener": print},
    "import_records": {"records": [NumberRecord("4000", "sys.acme.paris")]},
    "utilization": {},
}


def _call(inv: Inventory, method: str, arguments: dict[str, Any]) -> object:
    result = getattr(inv, method)(**arguments)
    if hasattr(result, "__next__"):
        return list(result)  # search and available are lazy: make them do their work
    return result


def _state(inv: Inventory) -> list[NumberRecord]:
    return list(inv.search())


@pytest.mark.parametrize("method", sorted(GOOD))
def test_every_good_call_succeeds(method: str) -> None:
    _call(_populated(), method, GOOD[method])


# -- malformed values, by what the parameter holds ------------------------------------

_VALID_PREFIX = re.compile(r"(\\?\+)?[0-9]{0,32}")
_VALID_E164 = re.compile(r"(\\?\+)[0-9]{1,15}")
_NOT_TEXT = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.text(max_size=3), max_size=2),
    st.tuples(st.text(max_size=3)),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.binary(max_size=3),
)
_NOT_WHOLE = st.one_of(
    st.floats(allow_nan=False), st.text(max_size=3), st.booleans(), st.lists(st.integers())
)


def _not_none(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return values.filter(lambda value: value is not None)


# `after` may be a (number, hierarchy) key: the refusal names the bad half of it.
_BAD_KEYS = st.one_of(
    strategies.bad_numbers().map(lambda number: ((number, SITE), number)),
    strategies.bad_paths().map(lambda path: (("2000", path), path)),
)

BAD_VALUES: dict[str, st.SearchStrategy[object]] = {
    "number": strategies.bad_numbers(),
    "first": strategies.bad_numbers(),
    "last": _not_none(strategies.bad_numbers()),
    "count": st.one_of(st.integers(max_value=0), _NOT_WHOLE),
    "at": strategies.bad_paths(),
    "optional_at": _not_none(strategies.bad_paths()),
    "text": st.one_of(st.none(), _NOT_TEXT),
    "filter_text": _NOT_TEXT,
    "days": st.one_of(
        st.integers(max_value=0), st.integers(min_value=1000), st.floats(), _NOT_WHOLE
    ),
    "until": st.one_of(
        st.datetimes(),  # naive: no time zone
        st.dates(),
        st.text(max_size=20),
        st.integers(),
    ),
    "limit": st.one_of(st.integers(max_value=-1), _NOT_WHOLE),
    "status": st.one_of(
        st.text(max_size=15).filter(lambda text: text not in Status._value2member_map_),
        st.sampled_from(["available", "USED", "Device", "Free"]),
        st.integers(),
        st.lists(st.sampled_from(list(Status)), min_size=1, max_size=2),
    ),
    "usage": st.one_of(
        st.text(max_size=15).filter(lambda text: text not in Usage._value2member_map_),
        st.sampled_from(["device", "Used", "Hunt Pilot"]),
        st.integers(),
    ),
    "prefix": st.one_of(
        st.just(""),
        st.text(max_size=10).filter(lambda text: not _VALID_PREFIX.fullmatch(text)),
        st.text("0123456789", min_size=33, max_size=36),
        st.integers(),
        st.lists(st.text("0123456789", max_size=3), max_size=2),
    ),
    "after": _not_none(strategies.bad_numbers()),
    "consumer": st.one_of(
        st.none(),
        st.text(max_size=10),
        st.integers(),
        st.tuples(st.just(PHONE), st.just("SEP9"), st.just(SITE)),
        st.builds(dict, kind=st.just(PHONE), id=st.just("SEP9"), hierarchy=st.just(SITE)),
    ),
    "e164": st.one_of(
        st.none(),
        st.text(max_size=20).filter(lambda text: not _VALID_E164.fullmatch(text)),
        st.text("0123456789", min_size=16, max_size=18).map(lambda digits: "+" + digits),
        st.integers(),
    ),
    "reserved_for": st.one_of(st.just(""), _NOT_TEXT),
    "subscriber": st.one_of(st.none(), st.just(""), st.just("   "), _NOT_TEXT),
    "service_type": st.one_of(
        st.none(),
        st.text(max_size=20).filter(lambda text: text not in ServiceType._value2member_map_),
        st.sampled_from(["cisco-only", "Cisco Only", "Used"]),
        st.integers(),
    ),
    "listener": st.one_of(st.none(), st.text(max_size=5), st.integers(), st.lists(st.none())),
    "below": st.one_of(
        st.none(),
        st.floats(max_value=-0.001),
        st.floats(min_value=1.001),
        st.just(float("nan")),
        st.text(max_size=4),
        st.booleans(),
    ),
}

# Per method, what each of its parameters holds.
PARAMETERS: dict[str, dict[str, str]] = {
    "add_range": {"at": "at", "first": "first", "last": "last", "count": "count"}
    | dict.fromkeys(("tag", "description", "vendor", "internal_number_type"), "text"),
    "update_range": {"at": "at", "first": "first", "last": "last", "count": "count"},
    "delete_range": {"at": "at", "first": "first", "last": "last", "count": "count"},
    "reserve_range": {
        "at": "at",
        "first": "first",
        "last": "last",
        "count": "count",
        "tag": "text",
        "notes": "text",
        "days": "days",
    },
    "unreserve_range": {"at": "at", "first": "first", "last": "last", "count": "count"},
    "cool_range": {
        "at": "at",
        "first": "first",
        "last": "last",
        "count": "count",
        "days": "days",
        "until": "until",
    },
    "release_range": {"at": "at", "first": "first", "last": "last", "count": "count"},
    "get": {"number": "number", "at": "at"},
    "find": {"number": "number", "at": "at"},
    "search": {
        "at": "optional_at",
        "status": "status",
        "usage": "usage",
        "vendor": "filter_text",
        "prefix": "prefix",
        "tag": "filter_text",
        "limit": "limit",
        "after": "after",
    },
    "available": {"at": "at", "prefix": "prefix", "limit": "limit"},
    "assign": {"number": "number", "consumer": "consumer"},
    "assign_next": {"consumer": "consumer", "prefix": "prefix"},
    "unassign": {"number": "number", "consumer": "consumer"},
    "reserve": {
        "number": "number",
        "at": "at",
        "tag": "text",
        "notes": "text",
        "days": "days",
        "reserved_for": "reserved_for",
    },
    "unreserve": {"number": "number", "at": "at"},
    "cool": {"number": "number", "at": "at", "days": "days", "until": "until"},
    "release": {"number": "number", "at": "at"},
    "update": {"number": "number", "at": "at"},
    "associate_e164": {"number": "number", "at": "at", "e164": "e164"},
    "dissociate_e164": {"number": "number", "at": "at", "e164": "e164"},
    "apply_service": {
        "number": "number",
        "at": "at",
        "subscriber": "subscriber",
        "service_type": "service_type",
    },
    "audit": {"at": "optional_at"},
    "subscribe": {"listener": "listener"},
    "import_records": {},
    "utilization": {"at": "optional_at", "below": "below"},
}

BadCall = tuple[dict[str, Any], object]  # the arguments that replace good ones, the value named


def _one_bad_argument(method: str) -> st.SearchStrategy[BadCall]:
    choices = [
        BAD_VALUES[holds].map(lambda value, name=name: ({name: value}, value))
        for name, holds in PARAMETERS[method].items()
    ]
    if method == "search":
        choices.append(_BAD_KEYS.map(lambda pair: ({"after": pair[0]}, pair[1])))
    return st.one_of(choices) if choices else st.nothing()


_UNKNOWN_FIELD = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


def _fields(method: str) -> st.SearchStrategy[BadCall]:
    """Unknown field names, and known fields given something other than text."""
    extras = {f"extra{index}" for index in range(1, 10)}
    known = extras if method == "add_range" else SETTABLE
    taken = {*PARAMETERS[method], "skip_existing", *known}
    unknown = _UNKNOWN_FIELD.filter(lambda name: name not in taken).map(
        lambda name: ({name: "x"}, name)
    )
    not_text = st.tuples(st.sampled_from(sorted(known)), st.one_of(st.none(), _NOT_TEXT)).map(
        lambda pair: ({pair[0]: pair[1]}, pair[1])
    )
    return st.one_of(unknown, not_text)


def _internal_number_type() -> st.SearchStrategy[BadCall]:
    """A type no vendor of the (blank-vendor) numbers knows."""
    spelling = st.text(min_size=1, max_size=15)
    return spelling.map(lambda text: ({"internal_number_type": text}, text))


def _observations() -> st.SearchStrategy[BadCall]:
    good = st.sampled_from([Observation("1000", USER), Observation("2005", NEWCOMER)])
    odd = st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=5),
        st.tuples(st.just("1000"), st.just(USER)),
        _record_like(),
    ).map(lambda value: (value, value))
    malformed_number = strategies.bad_numbers().filter(lambda value: isinstance(value, str))
    bad_number = malformed_number.map(lambda number: (Observation(number, USER), number))
    unknown_kind = _unknown_kinds().map(
        lambda kind: (Observation("2005", Consumer(kind, "X1", SITE)), kind)
    )
    bad = st.one_of(odd, bad_number, unknown_kind)
    return st.tuples(st.lists(good, max_size=2), bad, st.lists(good, max_size=2)).map(
        lambda parts: ({"observed": [*parts[0], parts[1][0], *parts[2]]}, parts[1][1])
    )


def _record_like() -> st.SearchStrategy[object]:
    return st.builds(dict, number=st.just("4000"), hierarchy=st.just("sys.acme.paris"))


def _records() -> st.SearchStrategy[BadCall]:
    good = st.just(NumberRecord("4000", "sys.acme.paris"))
    odd = st.one_of(st.none(), st.integers(), st.text(max_size=5), _record_like()).map(
        lambda value: (value, value)
    )
    bad_number = st.one_of(
        st.sampled_from(["\\+4001", "40a1", "", "4001 "]),
        strategies.bad_numbers().filter(lambda value: isinstance(value, str)),
    ).map(lambda number: (NumberRecord(number, "sys.acme.paris"), number))
    bad_path = _not_none(strategies.bad_paths()).map(
        lambda path: (NumberRecord("4001", path), path)  # type: ignore[arg-type]
    )
    bad = st.one_of(odd, bad_number, bad_path)
    return st.tuples(st.lists(good, max_size=1), bad).map(
        lambda parts: ({"records": [*parts[0], parts[1][0]]}, parts[1][1])
    )


def _unknown_kinds() -> st.SearchStrategy[str]:
    return strategies.texts(min_size=1, max_size=20).filter(
        lambda kind: bool(kind.strip()) and kind not in BUILTIN_KINDS
    )


def _consumer_of_unknown_kind() -> st.SearchStrategy[BadCall]:
    return _unknown_kinds().map(lambda kind: ({"consumer": Consumer(kind, "SEP9", SITE)}, kind))


def _exclusive_options(method: str) -> st.SearchStrategy[BadCall]:
    """Two options of which only one may be given: no single value is to blame."""
    if method in ("add_range", "update_range", "delete_range", "reserve_range", "cool_range"):
        return st.integers(1, 5).map(lambda count: ({"count": count}, NOT_NAMED))  # and last
    if method in ("unreserve_range", "release_range"):
        return st.just(({"last": "2014"}, NOT_NAMED))  # and count
    return st.nothing()


def _days_and_until(method: str) -> st.SearchStrategy[BadCall]:
    if method in ("cool", "cool_range"):
        return st.just(({"days": 3, "until": NOW + timedelta(days=3)}, NOT_NAMED))
    return st.nothing()


def bad_calls(method: str) -> st.SearchStrategy[BadCall]:
    options = [_one_bad_argument(method), _exclusive_options(method), _days_and_until(method)]
    if method in ("update", "update_range", "add_range"):
        options.append(_fields(method))
    if method in ("update", "update_range"):
        options.append(_internal_number_type())
    if method in ("assign", "assign_next"):
        options.append(_consumer_of_unknown_kind())
    if method == "audit":
        options.append(_observations())
    if method == "import_records":
        options.append(_records())
    return st.one_of(options)


def _names(message: str, value: object) -> bool:
    return value is NOT_NAMED or repr(value) in message


@pytest.mark.parametrize("method", sorted(GOOD))
@settings(
    max_examples=examples(50),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_bad_input_is_refused_naming_it_and_changes_nothing(
    method: str, data: st.DataObject
) -> None:
    changes, named = data.draw(bad_calls(method), label="bad argument")
    inv = _populated()
    events: list[Event] = []
    inv.subscribe(events.append)
    before = _state(inv)
    with pytest.raises(NumInvError) as error:
        _call(inv, method, {**GOOD[method], **changes})
    assert _names(str(error.value), named), f"{error.value!s} does not name {named!r}"
    assert _state(inv) == before
    assert events == []


# -- the constructor and settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"repository": 1}, 1),
        ({"repository": "memory"}, "memory"),
        ({"settings": {"auto_cooling": True}}, {"auto_cooling": True}),
        ({"clock": "now"}, "now"),
        ({"describe": 3}, 3),
        ({"kinds": [1]}, 1),
        ({"kinds": {"x": "y"}}, "y"),
    ],
)
def test_the_inventory_refuses_bad_options_naming_them(
    options: dict[str, object], named: object
) -> None:
    with pytest.raises(InvalidInput) as error:
        Inventory(**options)  # type: ignore[arg-type]
    assert repr(named) in str(error.value)


def test_the_inventory_refuses_kinds_that_are_not_a_collection() -> None:
    with pytest.raises(InvalidInput):
        Inventory(kinds=5)  # type: ignore[arg-type]


def test_a_clock_that_returns_a_naive_time_is_refused_and_changes_nothing() -> None:
    now: list[datetime] = [NOW]
    inv = Inventory(clock=lambda: now[0])
    inv.add_range("sys.acme", "1000")
    before = _state(inv)
    now[0] = datetime(2024, 1, 2)
    with pytest.raises(InvalidInput, match=re.escape(repr(now[0]))):
        inv.reserve("1000", "sys.acme")
    now[0] = NOW
    assert _state(inv) == before


@pytest.mark.parametrize(
    "options",
    [
        {"auto_cooling": "yes"},
        {"cooling_days": 0},
        {"cooling_days": 1000},
        {"cooling_days": "30"},
        {"audiocodes_cooling_days": True},
        {"teluri_prefix": "88800"},
        {"max_range_size": 0},
        {"prevent_duplicates": 1},
    ],
)
def test_settings_refuse_bad_values_naming_them(options: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as error:
        Settings(**options)  # type: ignore[arg-type]
    (value,) = options.values()
    assert repr(value) in str(error.value)


# -- bugs: bad input that escapes as a built-in error, or is stored -----------------------------


@pytest.mark.parametrize("observed", [None, 42, object()])
def test_audit_refuses_observations_that_are_not_iterable(observed: object) -> None:
    inv = _populated()
    before = _state(inv)
    with pytest.raises(InvalidInput):
        inv.audit(observed)  # type: ignore[arg-type]
    assert _state(inv) == before


@pytest.mark.parametrize("records", [None, 42, object()])
def test_import_records_refuses_records_that_are_not_iterable(records: object) -> None:
    inv = _populated()
    with pytest.raises(InvalidInput):
        inv.import_records(records)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "bogus"),
        ("usage", ("Nope",)),
        ("tag", None),
        ("vendor", 5),
        ("release_date", "tomorrow"),
        ("version", "x"),
        ("e164", None),
        ("primary_e164", "+1999"),
        ("internal_number_type", "Bogus"),
    ],
)
def test_import_records_refuses_a_record_with_a_malformed_field_and_stores_nothing(
    field: str, value: object
) -> None:
    inv = _populated()
    before = _state(inv)
    record = attrs.evolve(NumberRecord("4000", "sys.acme.paris"), **{field: value})
    with pytest.raises(InvalidInput) as error:
        inv.import_records([record])
    assert repr(value) in str(error.value)
    assert _state(inv) == before


PHONE_USE = Use("device/cucm/Phone", "SEP9", Usage.DEVICE, hierarchy="sys.acme.paris")


@pytest.mark.parametrize(
    ("record", "said"),
    [
        (  # one consumer twice: one unassign would take both
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.USED,
                usage=(Usage.DEVICE, Usage.DEVICE),
                uses=(PHONE_USE, PHONE_USE),
            ),
            "uses must be one use per consumer",
        ),
        (  # SPEC 20: Inactive is Webex Calling's
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.INACTIVE,
                vendor="Microsoft",
                admin_vendor="Microsoft",
            ),
            "vendor must be Webex Calling (or blank) while Inactive, not 'Microsoft'",
        ),
        (  # Inactive by the vendor set as well as the one shown: an update showed it
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.INACTIVE,
                admin_vendor="Microsoft",
            ),
            "admin_vendor must be Webex Calling (or blank) while Inactive, not 'Microsoft'",
        ),
        (  # statuses and usages by name, not as Python shows them
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.USED,
                usage=(Usage.USER,),
                uses=(PHONE_USE,),
            ),
            "usage must be ('Device',) (from its uses), not ('User',)",
        ),
        (  # SPEC 8: a Cisco phone's number shows no vendor; "Bogus" stayed through updates
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.USED,
                usage=(Usage.DEVICE,),
                uses=(PHONE_USE,),
                vendor="Bogus",
            ),
            "vendor must be blank (Cisco) (from its uses), not 'Bogus'",
        ),
        (  # not in use: the vendor shown is the one set
            NumberRecord("4000", "sys.acme.paris", vendor="Microsoft", admin_vendor="AudioCodes"),
            "vendor must be 'AudioCodes' (the vendor set), not 'Microsoft'",
        ),
        (  # SPEC 3: a consumer sees numbers at its node and above; this one could never
            # give the number back (NotFound)
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.USED,
                usage=(Usage.DEVICE,),
                uses=(attrs.evolve(PHONE_USE, hierarchy="sys.acme.london"),),
            ),
            "uses.hierarchy must be at or below 'sys.acme.paris' (where the number is seen), "
            "not 'sys.acme.london'",
        ),
        (
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.COOLING,
                release_date=datetime(2026, 4, 1, tzinfo=UTC),
                cooling_use=attrs.evolve(PHONE_USE, hierarchy="sys.acme"),
            ),
            "cooling_use.hierarchy must be at or below 'sys.acme.paris'",
        ),
        (  # its UTC date would be in year 0: SQLite and PostgreSQL raised OverflowError
            NumberRecord(
                "4000",
                "sys.acme.paris",
                status=Status.COOLING,
                release_date=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            ),
            "release_date must be a time from 0001-01-01 UTC on, not 0001-01-01T00:00:00+14:00",
        ),
    ],
)
def test_import_records_refuses_a_record_the_lifecycle_could_not_make(
    record: NumberRecord, said: str
) -> None:
    inv = _populated()
    before = _state(inv)
    with pytest.raises(InvalidInput) as refused:
        inv.import_records([NumberRecord("4001", "sys.acme.paris"), record])
    assert said in str(refused.value)
    assert "<" not in str(refused.value)
    assert _state(inv) == before


@pytest.mark.parametrize("method", ["search", "available"])
def test_a_limit_larger_than_any_inventory_returns_everything(method: str) -> None:
    inv = _populated()
    arguments: dict[str, Any] = {"limit": 10**20} | ({"at": SITE} if method == "available" else {})
    unlimited = {key: value for key, value in arguments.items() if key != "limit"}
    assert _call(inv, method, arguments) == _call(inv, method, unlimited)


@pytest.mark.parametrize("where", ["uses", "cooling_use"])
def test_import_records_refuses_a_use_of_an_unknown_kind_and_stores_nothing(where: str) -> None:
    """No call could ever take such a use away again: unassign refuses its kind."""
    inv = _populated()
    before = _state(inv)
    use = Use("bogus/kind", "SEP9", Usage.DEVICE, hierarchy="sys.acme.paris")
    if where == "uses":
        record = NumberRecord(
            "4000", "sys.acme.paris", status=Status.USED, usage=(Usage.DEVICE,), uses=(use,)
        )
    else:
        record = NumberRecord(
            "4000", "sys.acme.paris", status=Status.COOLING, release_date=NOW, cooling_use=use
        )
    fine = NumberRecord("4001", "sys.acme.paris")
    with pytest.raises(InvalidInput, match="unknown consumer kind 'bogus/kind'") as refused:
        inv.import_records([fine, record])
    assert refused.value.value == "bogus/kind"
    assert _state(inv) == before
    known = ConsumerKind("bogus/kind", Status.USED, Usage.DEVICE)
    assert Inventory(kinds=[known]).import_records([fine, record]) == 2


def test_unassign_refuses_a_consumer_of_an_unknown_kind_as_invalid_input() -> None:
    inv = _populated()
    with pytest.raises(InvalidInput, match="bogus/kind"):
        inv.unassign("1000", Consumer("bogus/kind", "SEP1", SITE))


# -- names of who holds a number: index keys in every store (decision 108) -----------------

LONGEST = "名" * MAX_NAME  # three bytes each in UTF-8


@pytest.mark.parametrize("field", ["id", "owner"])
def test_a_consumer_name_longer_than_a_store_can_index_is_invalid_input(field: str) -> None:
    arguments = {"kind": PHONE, "id": "SEP1", "hierarchy": SITE, field: LONGEST}
    assert getattr(Consumer(**arguments), field) == LONGEST  # the longest name is kept
    with pytest.raises(InvalidInput, match=f"Consumer.{field} is {MAX_NAME + 1} characters"):
        Consumer(**(arguments | {field: LONGEST + "x"}))


def test_a_reservation_for_a_name_too_long_to_index_is_refused_and_changes_nothing() -> None:
    inv = _populated()
    before = _state(inv)
    with pytest.raises(InvalidInput, match="reserved_for is 513 characters"):
        inv.reserve("1001", SITE, reserved_for=LONGEST + "x")
    assert _state(inv) == before
    assert inv.reserve("1001", SITE, reserved_for=LONGEST).reserved_for == LONGEST


@pytest.mark.parametrize(
    "record",
    [
        NumberRecord("4000", "sys.acme.paris", status=Status.RESERVED, reserved_for="x" * 513),
        NumberRecord(
            "4000",
            "sys.acme.paris",
            status=Status.USED,
            usage=(Usage.DEVICE,),
            uses=(Use(PHONE, "x" * 513, Usage.DEVICE, hierarchy="sys.acme.paris"),),
        ),
        NumberRecord(
            "4000",
            "sys.acme.paris",
            status=Status.USED,
            usage=(Usage.DEVICE,),
            uses=(Use(PHONE, "SEP1", Usage.DEVICE, hierarchy="sys.acme.paris", owner="x" * 513),),
        ),
    ],
    ids=["reserved_for", "consumer_id", "owner"],
)
def test_import_records_refuses_a_holder_name_too_long_to_index(record: NumberRecord) -> None:
    inv = _populated()
    before = _state(inv)
    with pytest.raises(
        InvalidInput, match=r"must be at most 512 characters long, not .*\(513 characters\)"
    ):
        inv.import_records([record])
    assert _state(inv) == before


@pytest.mark.parametrize("name", [" alice", "alice ", "\talice", "alice\n"])
def test_a_name_starting_or_ending_with_white_space_is_refused_everywhere(name: str) -> None:
    """`alice ` could never match `alice`: a reservation for it could never be claimed."""
    inv = _populated()
    before = _state(inv)
    with pytest.raises(InvalidInput, match="white space"):
        Consumer(PHONE, name, SITE)
    with pytest.raises(InvalidInput, match="white space"):
        Consumer(PHONE, "SEP1", SITE, owner=name)
    with pytest.raises(InvalidInput, match="white space"):
        inv.reserve("1001", SITE, reserved_for=name)
    with pytest.raises(InvalidInput, match="white space"):
        inv.numbers_of(name)
    assert _state(inv) == before


def test_an_imported_type_in_an_apis_spelling_is_kept_in_numinvs() -> None:
    """`CallingPlan` (as Teams writes it) was imported as is, and kept by every update."""
    inv = _populated()
    record = NumberRecord(
        "4000",
        "sys.acme.paris",
        vendor="Microsoft",
        admin_vendor="Microsoft",
        internal_number_type="CallingPlan",
        admin_number_type="CallingPlan",
    )
    inv.import_records([record])
    stored = inv.get("4000", "sys.acme.paris")
    assert (stored.internal_number_type, stored.admin_number_type) == (
        "Calling Plan",
        "Calling Plan",
    )


def test_a_release_date_the_lifecycle_can_reach_is_imported_and_a_later_one_named() -> None:
    """A reservation of 999 days from the latest clock ends after the latest clock: stored
    by the lifecycle, its export was refused on import ("must be None or an aware
    datetime", of an aware one)."""
    from datetime import UTC, datetime

    from numinv import Settings
    from tests.clock import Clock

    clock = Clock()
    clock.now = datetime(9997, 4, 4, tzinfo=UTC)
    inv = Inventory(clock=clock, settings=Settings())
    inv.add_range("sys.acme.paris", "4000")
    reserved = inv.reserve("4000", "sys.acme.paris", days=999)
    assert Inventory(clock=clock).import_records([reserved]) == 1

    late = attrs.evolve(reserved, release_date=datetime(9999, 12, 31, tzinfo=UTC))
    with pytest.raises(InvalidInput) as refused:
        Inventory(clock=clock).import_records([late])
    assert str(refused.value).endswith(
        "release_date must be no later than 9999-12-30 00:00 UTC, not 9999-12-31T00:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("subscriber", "said"),
    [
        (" u1", "subscriber must not start or end with white space"),
        ("x" * 600, "subscriber is 600"),
    ],
)
def test_apply_service_names_the_subscriber_it_refuses(subscriber: str, said: str) -> None:
    """The refusal named `Consumer.id`, a parameter the caller never gave."""
    inv = _populated()
    before = _state(inv)
    with pytest.raises(InvalidInput, match=said):
        inv.apply_service("1000", SITE, subscriber, ServiceType.CISCO_ONLY)
    assert _state(inv) == before
