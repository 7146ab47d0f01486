"""The Cisco-Microsoft hybrid service-type table (SPEC 8), as data.

Each service type names the uses it gives its subscriber's number (in the
order that makes usage read `Device, User`), the Extra2 value it writes,
and whether Extra4 carries a generated TelURI while no E.164 is associated.
Status, vendor and usage then follow from those uses by the ordinary rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from numinv.core.records import NumberRecord, ServiceType
from numinv.settings import Settings

__all__ = ["CISCO_LINE", "SERVICE_KINDS", "SERVICE_TYPES", "ServiceRow", "extra4_for"]

CISCO_LINE = "device/cucm/Phone"
TEAMS_USER = "device/msteamsonline/CsOnlineUser"


@attrs.frozen
class ServiceRow:
    """What one service type does to its subscriber's number."""

    service_type: ServiceType
    kinds: tuple[str, ...]  # empty: the service type holds no number
    extra2: str
    teluri: bool

    @property
    def holds_number(self) -> bool:
        return bool(self.kinds)


SERVICE_TYPES: Mapping[ServiceType, ServiceRow] = MappingProxyType(
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

SERVICE_KINDS = frozenset(kind for row in SERVICE_TYPES.values() for kind in row.kinds)


def extra4_for(record: NumberRecord, service_type: ServiceType | None, settings: Settings) -> str:
    """Extra4 under a service type: the generated TelURI while no E.164 is associated."""
    if service_type is None:
        return ""
    row = SERVICE_TYPES[service_type]
    if not row.teluri or record.e164:
        return ""
    return settings.teluri_prefix + record.number.removeprefix("+")
