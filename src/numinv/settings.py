"""Settings of an inventory (the platform's "Global Settings") and of one hierarchy node.

`Settings` is what the host gives `Inventory`. `NodeSettings` is what an
administrator sets at one node (`Inventory.configure`): each field left
None inherits from the nearest ancestor that sets it, then from `Settings`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from numinv.core import checks
from numinv.errors import InvalidInput

__all__ = ["NodeSettings", "Settings"]

_TELURI_PREFIX = re.compile(r"\+[0-9]{1,15}")


def _whole(upper: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        checks.whole(value, f"{type(instance).__name__}.{attribute.name}", 1, upper)

    return check


def _optional_whole(upper: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int | None], value: object) -> None:
        if value is not None:
            checks.whole(value, f"{type(instance).__name__}.{attribute.name}", 1, upper)

    return check


def _flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None or isinstance(instance, Settings):
        checks.flag(value, f"{type(instance).__name__}.{attribute.name}")


def _share(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None or isinstance(instance, Settings):
        checks.share(value, f"{type(instance).__name__}.{attribute.name}")


def _as_share(value: float) -> float:
    """A share given as a whole number (0 or 1) kept as the float it means, as every store
    reads it back; anything else is left for `_share` to judge."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return value


def _as_share_or_none(value: float | None) -> float | None:
    return None if value is None else _as_share(value)


def _teluri_prefix(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _TELURI_PREFIX.fullmatch(value):
        raise InvalidInput(
            f"Settings.teluri_prefix must be '+' and 1 to 15 digits, not {value!r}", value=value
        )


@attrs.frozen(kw_only=True)
class Settings:
    """How an inventory cools, releases and guards its numbers.

    `cooling_days` and `audiocodes_cooling_days` are the durations the
    consumer-kind table refers to by name. `exhaustion_threshold` is the
    share Available under which a node's pool is reported low. `retries` is
    how many times a single-number operation is tried again when another
    writer changed its record first (`ConcurrentUpdate`).
    """

    auto_cooling: bool = attrs.field(default=False, validator=_flag)
    cooling_days: int = attrs.field(default=30, validator=_whole(checks.MAX_DAYS))
    audiocodes_cooling_days: int = attrs.field(default=2, validator=_whole(checks.MAX_DAYS))
    teluri_prefix: str = attrs.field(default="+88800", validator=_teluri_prefix)
    max_range_size: int = attrs.field(default=1_000_000, validator=_whole(10**9))
    prevent_duplicates: bool = attrs.field(default=False, validator=_flag)
    exhaustion_threshold: float = attrs.field(default=0.10, converter=_as_share, validator=_share)
    retries: int = attrs.field(default=5, validator=_whole(1000))


@attrs.frozen(kw_only=True)
class NodeSettings:
    """The settings an administrator set at one node; None means *Inherit*."""

    auto_cooling: bool | None = attrs.field(default=None, validator=_flag)
    cooling_days: int | None = attrs.field(default=None, validator=_optional_whole(checks.MAX_DAYS))
    audiocodes_cooling_days: int | None = attrs.field(
        default=None, validator=_optional_whole(checks.MAX_DAYS)
    )
    prevent_duplicates: bool | None = attrs.field(default=None, validator=_flag)
    exhaustion_threshold: float | None = attrs.field(
        default=None, converter=_as_share_or_none, validator=_share
    )

    @property
    def empty(self) -> bool:
        """Whether every setting inherits (the node sets nothing)."""
        return all(getattr(self, field.name) is None for field in attrs.fields(NodeSettings))

    def over(self, settings: Settings) -> Settings:
        """`settings` with the values this node sets put over it."""
        values: dict[str, Any] = {
            field.name: value
            for field in attrs.fields(NodeSettings)
            if (value := getattr(self, field.name)) is not None
        }
        return attrs.evolve(settings, **values) if values else settings


NODE_SETTINGS = tuple(field.name for field in attrs.fields(NodeSettings))


def in_force(settings: Settings, chain: Iterable[NodeSettings]) -> Settings:
    """The settings in force at a node, given what its line of descent sets, nearest first."""
    values: dict[str, Any] = {}
    for node in chain:
        for name in NODE_SETTINGS:
            if name not in values and (value := getattr(node, name)) is not None:
                values[name] = value
    return attrs.evolve(settings, **values) if values else settings
