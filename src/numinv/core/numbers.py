"""Directory numbers, E.164 numbers and number ranges (SPEC 2 and 7)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from numinv.errors import InvalidInput, InvalidNumber

__all__ = [
    "NumberRange",
    "cucm_form",
    "number_range",
    "parse_e164",
    "parse_number",
    "parse_prefix",
    "runs_without",
]

_NUMBER = re.compile(r"(?:\\?(\+))?([0-9]{1,32})")
_PREFIX = re.compile(r"(?:\\?(\+))?([0-9]{0,32})")
_E164 = re.compile(r"\+[0-9]{1,15}")


def parse_number(value: object) -> str:
    """Return the canonical form of a directory number (`\\+` becomes `+`)."""
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value)
        if match:
            plus, digits = match.groups()
            return f"+{digits}" if plus else digits
    raise InvalidNumber(
        f"{value!r} is not a directory number: 1 to 32 digits, optionally after '+' or '\\+'",
        value=value,
    )


def parse_prefix(value: object) -> str:
    """Return the canonical form of the start of a number, for prefix filters."""
    if isinstance(value, str):
        match = _PREFIX.fullmatch(value)
        if match and value:
            plus, digits = match.groups()
            return f"+{digits}" if plus else digits
    raise InvalidNumber(
        f"{value!r} is not a number prefix: digits, optionally after '+' or '\\+'", value=value
    )


def parse_e164(value: object) -> str:
    """Return an E.164 number: `+` and 1 to 15 digits (`\\+` accepted)."""
    if isinstance(value, str):
        canonical = value[1:] if value.startswith("\\+") else value
        if _E164.fullmatch(canonical):
            return canonical
    raise InvalidNumber(f"{value!r} is not an E.164 number: '+' and 1 to 15 digits", value=value)


def cucm_form(number: str) -> str:
    """Render a number the way CUCM spells it: `+` as `\\+`."""
    canonical = parse_number(number)
    return "\\" + canonical if canonical.startswith("+") else canonical


@attrs.frozen
class NumberRange:
    """Consecutive numbers of one width and one `+` prefix, first to last inclusive.

    Built by `number_range`, which checks the rules; iterating yields the
    canonical numbers in ascending order without materialising them all.
    """

    plus: str
    width: int
    start: int
    stop: int

    @property
    def first(self) -> str:
        return self.format(self.start)

    @property
    def last(self) -> str:
        return self.format(self.stop)

    def format(self, value: int) -> str:
        return f"{self.plus}{value:0{self.width}d}"

    def __len__(self) -> int:
        return self.stop - self.start + 1

    def __iter__(self) -> Iterator[str]:
        template = f"{self.plus}{{:0{self.width}d}}".format
        return map(template, range(self.start, self.stop + 1))

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, str) or len(number) != len(self.plus) + self.width:
            return False
        if not number.startswith(self.plus):
            return False
        digits = number[len(self.plus) :]
        return digits.isdigit() and self.start <= int(digits) <= self.stop

    def __str__(self) -> str:
        return self.first if self.start == self.stop else f"{self.first}..{self.last}"


def number_range(
    first: object, last: object = None, *, count: object = None, max_size: int | None = None
) -> NumberRange:
    """Check and build a range from its first and last number, or first and count.

    Both ends have the same width and `+` prefix, last >= first, and a
    leading zero of the first number is kept by every number of the range
    (`0998..1001` is refused, `0098..0101` is not; a lone `0` is a digit
    like any other, so `0..9` holds ten numbers).
    """
    start_text = parse_number(first)
    plus = "+" if start_text.startswith("+") else ""
    digits = start_text[len(plus) :]
    width, start = len(digits), int(digits)
    if last is not None and count is not None:
        raise InvalidInput(f"give last ({last!r}) or count ({count!r}), not both", value=count)
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInput(f"count must be a whole number >= 1, not {count!r}", value=count)
        stop = start + count - 1
        if len(str(stop)) > width:
            raise InvalidNumber(
                f"{count} numbers from {start_text} overflow its width of {width} digits",
                value=count,
            )
        end_text = f"{plus}{stop:0{width}d}"
    else:
        end_text = start_text if last is None else parse_number(last)
        end_plus = "+" if end_text.startswith("+") else ""
        if end_plus != plus or len(end_text) != len(start_text):
            raise InvalidNumber(
                f"range {start_text}..{end_text}: both ends need the same width and '+' prefix",
                value=end_text,
            )
        stop = int(end_text[len(plus) :])
        if stop < start:
            raise InvalidNumber(
                f"range {start_text}..{end_text}: the last number is below the first",
                value=end_text,
            )
    if width > 1 and digits[0] == "0" and end_text[len(plus)] != "0":
        raise InvalidNumber(
            f"range {start_text}..{end_text} would lose the leading zero of {start_text} "
            f"(a range's numbers all keep it, and {end_text} has none)",
            value=end_text,
        )
    size = stop - start + 1
    if max_size is not None and size > max_size:
        raise InvalidInput(
            f"range {start_text}..{end_text} holds {size} numbers, more than the "
            f"maximum of {max_size} (Settings.max_range_size)",
            value=size,
        )
    return NumberRange(plus=plus, width=width, start=start, stop=stop)


def runs_without(numbers: NumberRange, present: set[str]) -> Iterator[NumberRange]:
    """The maximal sub-ranges of `numbers` holding none of `present`."""
    if not present:
        yield numbers
        return
    start = None
    for value in range(numbers.start, numbers.stop + 1):
        if numbers.format(value) in present:
            if start is not None:
                yield NumberRange(numbers.plus, numbers.width, start, value - 1)
                start = None
        elif start is None:
            start = value
    if start is not None:
        yield NumberRange(numbers.plus, numbers.width, start, numbers.stop)
