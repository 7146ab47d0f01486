"""Global settings of an inventory (the platform's "Global Settings")."""

from __future__ import annotations

import re
from typing import Any

import attrs

from numinv.errors import InvalidInput

__all__ = ["Settings"]

_TELURI_PREFIX = re.compile(r"\+[0-9]{1,15}")


def _positive_int(upper: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
            raise InvalidInput(
                f"Settings.{attribute.name} must be a whole number from 1 to {upper}, "
                f"not {value!r}",
                value=value,
            )

    return check


def _flag(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(f"Settings.{attribute.name} must be True or False, not {value!r}")


def _teluri_prefix(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _TELURI_PREFIX.fullmatch(value):
        raise InvalidInput(
            f"Settings.teluri_prefix must be '+' and 1 to 15 digits, not {value!r}", value=value
        )


@attrs.frozen(kw_only=True)
class Settings:
    """How an inventory cools, releases and guards its numbers.

    `cooling_days` and `audiocodes_cooling_days` are the durations the
    consumer-kind table refers to by name.
    """

    auto_cooling: bool = attrs.field(default=False, validator=_flag)
    cooling_days: int = attrs.field(default=30, validator=_positive_int(999))
    audiocodes_cooling_days: int = attrs.field(default=2, validator=_positive_int(999))
    teluri_prefix: str = attrs.field(default="+88800", validator=_teluri_prefix)
    max_range_size: int = attrs.field(default=1_000_000, validator=_positive_int(10**9))
    prevent_duplicates: bool = attrs.field(default=False, validator=_flag)
