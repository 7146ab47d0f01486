"""The hierarchy (SPEC 3): paths, visibility walking up, uniqueness in a line of descent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings, strategies as st

from numinv import (
    Conflict,
    DuplicateNumber,
    InvalidHierarchy,
    Inventory,
    NotFound,
    NumberRecord,
    Settings,
)
from numinv.core.hierarchy import is_at_or_below, lineage, parse_path, related
from numinv.testing import strategies
from tests.examples import examples

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _inventory(**options: object) -> Inventory:
    return Inventory(settings=Settings(**options), clock=lambda: NOW)  # type: ignore[arg-type]


def _keys(inv: Inventory) -> list[tuple[str, str]]:
    return [record.key for record in inv.search()]


# -- paths ------------------------------------------------------------------------


@given(strategies.hierarchy_paths())
def test_a_dotted_path_of_plain_segments_is_accepted_as_given(path: str) -> None:
    assert parse_path(path) == path


@pytest.mark.parametrize(
    "path", ["sys.zürich", "sys.東京.渋谷", "sys.São Paulo", "sys.acme-uk_1", "Sys.ACME"]
)
def test_unicode_letters_inner_spaces_and_capitals_are_fine_in_a_segment(path: str) -> None:
    assert parse_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        ".",
        "sys.",
        ".sys",
        "sys..acme",
        " sys",
        "sys ",
        "sys. acme",
        "sys.acme ",
        "sys.\tacme",
        "sys.acme\n",
        "sys.\u00a0acme",  # a no-break space is white space too
        "sys.ac\x00me",
        "sys.ac\x1bme",
        "sys.ac\x7fme",
        "sys.ac\nme",
    ],
)
def test_a_malformed_path_is_refused_naming_it(path: str) -> None:
    with pytest.raises(InvalidHierarchy) as error:
        parse_path(path)
    assert repr(path) in str(error.value)


@pytest.mark.parametrize("value", [None, 1, ["sys", "acme"], ("sys",), b"sys", 1.5])
def test_a_path_that_is_not_text_is_refused_naming_it(value: object) -> None:
    with pytest.raises(InvalidHierarchy) as error:
        parse_path(value)
    assert repr(value) in str(error.value)


@given(strategies.bad_paths())
def test_anything_that_is_not_a_path_is_refused_with_invalid_hierarchy(value: object) -> None:
    with pytest.raises(InvalidHierarchy) as error:
        parse_path(value)
    assert repr(value) in str(error.value)


def test_invalid_hierarchy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"'sys\.\.acme'"):
        parse_path("sys..acme")


def test_the_inventory_refuses_a_malformed_path_naming_it_and_stores_nothing() -> None:
    inv = _inventory()
    with pytest.raises(InvalidHierarchy, match=r"'sys\. acme'"):
        inv.add_range("sys. acme", "1000")
    assert _keys(inv) == []


def test_case_matters_so_paths_differing_in_case_are_different_nodes() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    inv.add_range("sys.ACME", "1000")
    assert _keys(inv) == [("1000", "sys.ACME"), ("1000", "sys.acme")]


def test_a_number_is_not_visible_from_a_node_differing_only_in_case() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    assert inv.find("1000", "sys.Acme.london") is None


# -- hierarchy helpers ---------------------------------------------------------------


def test_the_lineage_of_a_node_is_the_node_then_each_ancestor_up_to_the_root() -> None:
    assert lineage("sys.acme.uk.london") == ("sys.acme.uk.london", "sys.acme.uk", "sys.acme", "sys")


def test_the_root_has_no_ancestor_but_itself() -> None:
    assert (lineage("sys"), lineage("sys.acme.uk")[1]) == (("sys",), "sys.acme")


def test_a_node_whose_name_starts_like_another_is_not_below_it() -> None:
    assert not is_at_or_below("sys.acme2", "sys.acme")


@given(strategies.hierarchy_paths(), strategies.hierarchy_paths())
def test_two_nodes_are_related_exactly_when_one_is_in_the_lineage_of_the_other(
    first: str, second: str
) -> None:
    assert related(first, second) == (first in lineage(second) or second in lineage(first))


# -- visibility ----------------------------------------------------------------------


def test_a_number_is_visible_at_its_own_node() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    assert inv.get("1000", "sys.acme").hierarchy == "sys.acme"


def test_a_number_is_visible_from_every_node_below_its_node() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    for node in ("sys.acme.uk", "sys.acme.uk.london", "sys.acme.us.nyc.floor3"):
        assert inv.get("1000", node).key == ("1000", "sys.acme")


@pytest.mark.parametrize("node", ["sys", "sys.other", "sys.other.uk", "sys.acme2", "other"])
def test_a_number_is_not_visible_above_or_beside_its_node(node: str) -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    with pytest.raises(NotFound):
        inv.get("1000", node)


def test_look_up_from_a_site_finds_the_nearest_record_walking_up() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.london", "1000")
    inv.add_range("sys.acme.paris", "1000")
    assert inv.get("1000", "sys.acme.london.floor2").hierarchy == "sys.acme.london"
    assert inv.get("1000", "sys.acme.paris").hierarchy == "sys.acme.paris"


# -- uniqueness in a line of descent ---------------------------------------------------


@pytest.mark.parametrize(
    ("held_at", "added_at"),
    [
        ("sys.acme", "sys.acme"),
        ("sys", "sys.acme.uk.london"),
        ("sys.acme", "sys.acme.uk"),
        ("sys.acme.uk.london", "sys.acme"),
        ("sys.acme.uk.london", "sys"),
    ],
    ids=["same node", "root above", "parent above", "site below", "deep below"],
)
def test_adding_a_number_held_in_the_line_of_descent_is_refused_naming_where_it_is(
    held_at: str, added_at: str
) -> None:
    inv = _inventory()
    inv.add_range(held_at, "1000")
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range(added_at, "1000")
    assert error.value.conflicts == (("1000", held_at),)
    assert error.value.hierarchy == held_at
    assert f"1000 at {held_at}" in str(error.value)
    assert _keys(inv) == [("1000", held_at)]


def test_duplicate_number_is_a_conflict() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    with pytest.raises(Conflict):
        inv.add_range("sys.acme.uk", "1000")


def test_sibling_sites_may_each_hold_the_same_number() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.london", "1000")
    inv.add_range("sys.acme.paris", "1000")
    assert _keys(inv) == [("1000", "sys.acme.london"), ("1000", "sys.acme.paris")]


def test_a_node_whose_name_starts_like_another_may_hold_the_same_number() -> None:
    inv = _inventory()
    inv.add_range("sys.acme", "1000")
    inv.add_range("sys.acme2", "1000")
    assert len(_keys(inv)) == 2


def test_a_number_held_by_two_siblings_cannot_be_added_at_their_parent() -> None:
    inv = _inventory()
    inv.add_range("sys.acme.london", "1000")
    inv.add_range("sys.acme.paris", "1000")
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme", "1000")
    assert set(error.value.conflicts) == {("1000", "sys.acme.london"), ("1000", "sys.acme.paris")}


@pytest.mark.parametrize("sites", [3, 100], ids=["few sites", "many sites"])
def test_a_parent_with_many_sites_refuses_only_the_numbers_held_below_it(sites: int) -> None:
    # A load reads its line of descent node by node, or the whole range at
    # once when the node has many nodes below it: both must find the clash.
    inv = _inventory()
    for site in range(sites):
        inv.add_range(f"sys.acme.s{site:03d}", f"{2000 + site}")
    inv.add_range("sys.globex", "1000", count=10)
    inv.add_range("sys.acme.s001.floor", "1005")
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme", "1000", count=10)
    assert error.value.conflicts == (("1005", "sys.acme.s001.floor"),)
    assert inv.add_range("sys.acme", "1000", count=5) == 5


def test_a_site_among_many_that_share_a_dial_plan_loads_it_too() -> None:
    inv = _inventory()
    for site in range(100):
        inv.add_range(f"sys.acme.s{site:03d}", "1000", count=20)
    inv.add_range("sys.acme.s050.annex", "3000")
    assert inv.add_range("sys.acme.new", "1000", count=20) == 20
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme.s050", "3000")
    assert error.value.conflicts == (("3000", "sys.acme.s050.annex"),)


def test_prevent_duplicates_refuses_the_same_number_at_a_sibling() -> None:
    inv = _inventory(prevent_duplicates=True)
    inv.add_range("sys.acme.london", "1000")
    with pytest.raises(DuplicateNumber) as error:
        inv.add_range("sys.acme.paris", "1000")
    assert error.value.conflicts == (("1000", "sys.acme.london"),)
    assert _keys(inv) == [("1000", "sys.acme.london")]


def test_prevent_duplicates_refuses_the_same_number_in_another_tree() -> None:
    inv = _inventory(prevent_duplicates=True)
    inv.add_range("sys.acme.london", "1000")
    with pytest.raises(DuplicateNumber):
        inv.add_range("sys.globex", "1000")


def test_prevent_duplicates_is_off_by_default() -> None:
    assert Settings().prevent_duplicates is False


# -- E.164 associations ------------------------------------------------------------------

E164 = "+27726043938"


def _two_numbers(at_first: str, at_second: str, **options: object) -> Inventory:
    inv = _inventory(**options)
    inv.add_range(at_first, "1000")
    inv.add_range(at_second, "2000")
    inv.associate_e164("1000", at_first, E164)
    return inv


@pytest.mark.parametrize(
    ("first", "second"),
    [("sys.acme", "sys.acme"), ("sys.acme", "sys.acme.uk"), ("sys.acme.uk", "sys.acme")],
    ids=["same node", "below", "above"],
)
def test_an_e164_number_pointing_to_another_number_in_the_line_of_descent_is_refused(
    first: str, second: str
) -> None:
    inv = _two_numbers(first, second)
    with pytest.raises(Conflict) as error:
        inv.associate_e164("2000", second, E164)
    assert E164 in str(error.value)
    assert (error.value.number, error.value.hierarchy) == ("1000", first)
    assert inv.get("2000", second).e164 == ()


def test_sibling_sites_may_each_point_the_same_e164_number_to_their_own_number() -> None:
    inv = _two_numbers("sys.acme.london", "sys.acme.paris")
    assert inv.associate_e164("2000", "sys.acme.paris", E164).e164 == (E164,)


def test_prevent_duplicates_refuses_the_same_e164_number_at_a_sibling() -> None:
    inv = _two_numbers("sys.acme.london", "sys.acme.paris", prevent_duplicates=True)
    with pytest.raises(Conflict):
        inv.associate_e164("2000", "sys.acme.paris", E164)


def test_associating_an_e164_number_again_with_its_own_number_is_no_conflict() -> None:
    inv = _two_numbers("sys.acme", "sys.acme")
    assert inv.associate_e164("1000", "sys.acme", E164).e164 == (E164,)


# -- the uniqueness property ----------------------------------------------------------------

NODES = ["sys", "sys.a", "sys.b", "sys.a.x", "sys.a.y", "sys.b.x", "sys.ab"]


@st.composite
def loads(draw: st.DrawFn) -> tuple[str, int, int, bool]:
    return (
        draw(st.sampled_from(NODES)),
        draw(st.integers(min_value=0, max_value=15)),
        draw(st.integers(min_value=1, max_value=5)),
        draw(st.booleans()),
    )


def _snapshot(inv: Inventory) -> list[NumberRecord]:
    return list(inv.search())


def _check_unique(records: list[NumberRecord], whole_tree: bool) -> None:
    for index, record in enumerate(records):
        for other in records[index + 1 :]:
            if other.number == record.number:
                assert not whole_tree, (record.key, other.key)
                assert not related(record.hierarchy, other.hierarchy), (record.key, other.key)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(loads(), max_size=12), st.booleans())
def test_after_any_loads_no_number_exists_twice_in_a_line_of_descent(
    calls: list[tuple[str, int, int, bool]], whole_tree: bool
) -> None:
    inv = _inventory(prevent_duplicates=whole_tree)
    for node, offset, count, skip in calls:
        wanted = [f"{100 + offset + index}" for index in range(count)]
        before = _snapshot(inv)
        held = {(record.number, record.hierarchy) for record in before}
        here = {number for number, at in held if at == node} if skip else set()
        clashing = {
            (number, at)
            for number, at in held
            if number in wanted and number not in here and (whole_tree or related(at, node))
        }
        refusal: DuplicateNumber | None = None
        try:
            added = inv.add_range(node, wanted[0], count=count, skip_existing=skip)
        except DuplicateNumber as error:
            refusal = error
        if refusal is not None:
            assert clashing, "refused without a conflict"
            assert set(refusal.conflicts) == clashing
            assert _snapshot(inv) == before, "a refused load changed the inventory"
        else:
            assert not clashing, f"accepted despite {clashing}"
            new = {(number, node) for number in wanted if number not in here}
            assert added == len(new)
            assert {record.key for record in _snapshot(inv)} == held | new
        _check_unique(_snapshot(inv), whole_tree)
