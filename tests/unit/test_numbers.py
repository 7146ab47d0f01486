"""Directory numbers and E.164 numbers (SPEC 2 and 7): what is a number, and its one spelling."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from numinv import DuplicateNumber, InvalidNumber, Inventory, NotFound, cucm_form
from numinv.core.numbers import parse_e164, parse_number
from numinv.testing import strategies

DIGITS = "0123456789"
NUMBER = re.compile(r"\+?[0-9]{1,32}")


def _names(error: pytest.ExceptionInfo[BaseException], value: object) -> bool:
    return repr(value) in str(error.value) or str(value) in str(error.value)


# -- what a number is ----------------------------------------------------------


@given(strategies.numbers())
def test_one_to_32_digits_with_an_optional_plus_are_a_number_kept_as_given(number: str) -> None:
    assert parse_number(number) == number


@pytest.mark.parametrize("number", ["0", "9", "+1", "1" * 32, "+" + "9" * 32, "0000"])
def test_the_shortest_and_longest_numbers_are_accepted(number: str) -> None:
    assert parse_number(number) == number


@given(st.text(DIGITS, min_size=1, max_size=32))
def test_the_cucm_spelling_backslash_plus_is_stored_as_plus(digits: str) -> None:
    assert parse_number("\\+" + digits) == "+" + digits


@given(st.text(DIGITS, min_size=1, max_size=32))
def test_cucm_form_renders_plus_as_backslash_plus(digits: str) -> None:
    assert cucm_form("+" + digits) == "\\+" + digits


@given(st.text(DIGITS, min_size=1, max_size=32))
def test_cucm_form_leaves_a_number_without_plus_as_it_is(digits: str) -> None:
    assert cucm_form(digits) == digits


@given(strategies.numbers())
def test_cucm_form_read_back_gives_the_canonical_number(number: str) -> None:
    assert parse_number(cucm_form(number)) == number


def test_cucm_form_accepts_the_cucm_spelling_itself() -> None:
    assert cucm_form("\\+4420") == "\\+4420"


def test_cucm_form_refuses_what_is_not_a_number() -> None:
    with pytest.raises(InvalidNumber, match="12a"):
        cucm_form("12a")


def test_a_number_with_plus_and_the_same_digits_without_are_different_numbers() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "1000")
    inv.add_range("sys.acme", "+1000")
    assert sorted(record.number for record in inv.search()) == ["+1000", "1000"]


def test_a_number_without_plus_is_not_found_by_its_plus_spelling() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "1000")
    assert inv.find("+1000", "sys.acme") is None


def test_leading_zeros_are_significant_so_0100_and_100_are_different_numbers() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "0100")
    inv.add_range("sys.acme", "100")
    assert sorted(record.number for record in inv.search()) == ["0100", "100"]


def test_100_is_not_found_when_only_0100_is_loaded() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "0100")
    with pytest.raises(NotFound):
        inv.get("100", "sys.acme")


def test_a_range_loaded_in_cucm_spelling_is_stored_with_plus() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "\\+2710", "\\+2712")
    assert [record.number for record in inv.search()] == ["+2710", "+2711", "+2712"]


def test_get_accepts_the_cucm_spelling_and_returns_the_canonical_number() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "+2710")
    assert inv.get("\\+2710", "sys.acme").number == "+2710"


def test_a_number_loaded_in_cucm_spelling_conflicts_with_its_plus_spelling() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "\\+2710")
    with pytest.raises(DuplicateNumber):
        inv.add_range("sys.acme", "+2710")


# -- what is refused ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "+",
        "\\+",
        "12a4",
        "abc",
        "12 34",
        " 1234",
        "1234 ",
        "*1234",
        "#1234",
        "12*",
        "1#",
        "1" * 33,
        "+" + "1" * 33,
        "++1",
        "1+",
        "\\1",
        "\\\\+1",
        "-1",
        "1.0",
        "١٢٣",  # Arabic-Indic digits are not the digits a dial plan holds
    ],
)
def test_a_malformed_number_is_refused_naming_it(value: str) -> None:
    with pytest.raises(InvalidNumber) as error:
        parse_number(value)
    assert repr(value) in str(error.value)


@pytest.mark.parametrize("value", [None, 1000, 10.0, ["1000"], ("1000",), b"1000", True])
def test_a_number_that_is_not_text_is_refused_naming_it(value: object) -> None:
    with pytest.raises(InvalidNumber) as error:
        parse_number(value)
    assert repr(value) in str(error.value)


@given(strategies.bad_numbers())
def test_anything_that_is_not_a_number_is_refused_with_invalid_number(value: object) -> None:
    with pytest.raises(InvalidNumber) as error:
        parse_number(value)
    assert _names(error, value)


@given(st.text(max_size=40))
def test_text_is_a_number_exactly_when_it_is_digits_with_an_optional_plus(text: str) -> None:
    canonical = text[1:] if text.startswith("\\+") else text
    if NUMBER.fullmatch(canonical):
        assert parse_number(text) == canonical
    else:
        with pytest.raises(InvalidNumber):
            parse_number(text)


def test_invalid_number_is_an_invalid_input_and_a_value_error() -> None:
    with pytest.raises(ValueError, match="'12a'"):
        parse_number("12a")


def test_inventory_refuses_a_malformed_number_naming_it() -> None:
    inv = Inventory()
    with pytest.raises(InvalidNumber, match=re.escape("'10*0'")):
        inv.add_range("sys.acme", "10*0")


def test_inventory_look_up_refuses_a_malformed_number_naming_it() -> None:
    inv = Inventory()
    with pytest.raises(InvalidNumber, match=re.escape("'#100'")):
        inv.get("#100", "sys.acme")


# -- E.164 -------------------------------------------------------------------------


@given(strategies.e164_numbers())
def test_plus_and_one_to_15_digits_are_an_e164_number(e164: str) -> None:
    assert parse_e164(e164) == e164


@given(st.text(DIGITS, min_size=1, max_size=15))
def test_an_e164_number_in_cucm_spelling_is_stored_with_plus(digits: str) -> None:
    assert parse_e164("\\+" + digits) == "+" + digits


@pytest.mark.parametrize(
    "value",
    ["", "+", "27726043938", "+" + "1" * 16, "+2772a", "+27 72", "++27", "\\27", None, 27, ["+27"]],
)
def test_a_malformed_e164_number_is_refused_naming_it(value: object) -> None:
    with pytest.raises(InvalidNumber) as error:
        parse_e164(value)
    assert repr(value) in str(error.value)


def test_inventory_associates_an_e164_number_given_in_cucm_spelling_as_plus() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "1000")
    record = inv.associate_e164("1000", "sys.acme", "\\+27726043938")
    assert record.e164 == ("+27726043938",)


def test_inventory_refuses_an_e164_number_of_16_digits_naming_it() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "1000")
    too_long = "+" + "2" * 16
    with pytest.raises(InvalidNumber, match=re.escape(too_long)):
        inv.associate_e164("1000", "sys.acme", too_long)
    assert inv.get("1000", "sys.acme").e164 == ()


def test_inventory_refuses_an_e164_number_without_plus() -> None:
    inv = Inventory()
    inv.add_range("sys.acme", "1000")
    with pytest.raises(InvalidNumber, match="27726043938"):
        inv.associate_e164("1000", "sys.acme", "27726043938")
