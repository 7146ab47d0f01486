"""The Cisco-Microsoft hybrid service-type table (SPEC 8, 22), as data a host may extend.

Each service type names the uses it gives its subscriber's number (in the
order that makes usage read `Device, User`), the Extra2 value it writes,
and whether Extra4 carries a generated TelURI while no E.164 is associated.
Status, vendor and usage then follow from those uses by the ordinary rules.
A host adds or overrides rows with `Inventory(service_types=...)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from numinv.core import checks
from numinv.core.records import NumberRecord, ServiceType
from numinv.errors import InvalidInput

__all__ = [
    "BUILTIN_SERVICE_TYPES",
    "CISCO_LINE",
    "TEAMS_USER",
    "ServiceRow",
    "extra4_for",
    "service_table",
]

CISCO_LINE = "device/cucm/Phone"
TEAMS_USER = "device/msteamsonline/CsOnlineUser"


def _name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    checks.text(value, "a service type's name")
    if not str(value).strip():
        raise InvalidInput(f"a service type needs a name, not {value!r}", value=value)


def _kinds(instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(kind, str) and kind for kind in value):
        raise InvalidInput(f"a service type's kinds must be a tuple of kind names, not {value!r}")
    twice = sorted({kind for kind in value if value.count(kind) > 1})
    if twice:  # one subscriber would use the number twice as one consumer
        raise InvalidInput(
            f"a service type names each kind once, not {', '.join(twice)} twice", value=value
        )


def _extra2(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    checks.text(value, "a service type's extra2")  # written into the records it is given to


def _teluri(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    checks.flag(value, "a service type's teluri")


@attrs.frozen
class ServiceRow:
    """What one service type does to its subscriber's number."""

    service_type: str = attrs.field(validator=_name)
    kinds: tuple[str, ...] = attrs.field(validator=_kinds)  # empty: holds no number
    extra2: str = attrs.field(validator=_extra2)
    teluri: bool = attrs.field(validator=_teluri)

    @property
    def holds_number(self) -> bool:
        return bool(self.kinds)


BUILTIN_SERVICE_TYPES: Mapping[str, ServiceRow] = MappingProxyType(
    {
        row.service_type: row
        for row in (
            ServiceRow(
                ServiceType.CISCO_MS_HYBRID, (CISCO_LINE, TEAMS_USER), "Cisco-MS-Hybrid", True
            ),
            ServiceRow(ServiceType.CISCO_ONLY, (CISCO_LINE,), "", False),
            ServiceRow(ServiceType.MS_ONLY_ENTVOICE, (TEAMS_USER,), "MS-Only-Entvoice", True),
            ServiceRow(ServiceType.MS_ONLY_HYBRID, (TEAMS_USER,), "MS-Only-Hybrid", True),
            ServiceRow(ServiceType.CISCO_NO_SERVICES, (), "", False),
            ServiceRow(ServiceType.MS_ONLY_NO_ENTVOICE, (), "", False),
            ServiceRow(ServiceType.NO_HYBRID_SERVICE, (), "", False),
        )
    }
)


def service_table(
    extra: Iterable[ServiceRow] | Mapping[str, ServiceRow] | None,
    kinds: Mapping[str, object],
) -> Mapping[str, ServiceRow]:
    """The built-in table with a host's rows added (or overriding rows of the same name)."""
    if extra is None:
        return BUILTIN_SERVICE_TYPES
    if isinstance(extra, str) or not isinstance(extra, Iterable):
        raise InvalidInput(f"service_types must be ServiceRow rows, not {extra!r}", value=extra)
    rows = extra.values() if isinstance(extra, Mapping) else extra
    table = dict(BUILTIN_SERVICE_TYPES)
    for row in rows:
        if not isinstance(row, ServiceRow):
            raise InvalidInput(f"service_types must be ServiceRow values, not {row!r}", value=row)
        unknown = [kind for kind in row.kinds if kind not in kinds]
        if unknown:
            raise InvalidInput(
                f"service type {row.service_type!r} names unknown consumer kinds {unknown}",
                value=row,
            )
        table[str(row.service_type)] = row
    return MappingProxyType(table)


def extra4_for(
    record: NumberRecord, row: ServiceRow | None, e164: tuple[str, ...], teluri_prefix: str
) -> str:
    """Extra4 under a service type: the generated TelURI while no E.164 is associated."""
    if row is None or not row.teluri or e164:
        return ""
    return teluri_prefix + record.number.removeprefix("+")
