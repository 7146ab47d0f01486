"""The consumer-kind table (SPEC 5): what each kind of consumer does to a number.

The table is data. Hosts add or override rows through `Inventory(kinds=...)`
with further `ConsumerKind` values; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

import attrs

from numinv.core import checks
from numinv.core.records import Consumer, Status, Usage, Use
from numinv.core.vendors import admin_vendor
from numinv.errors import InvalidInput
from numinv.settings import Settings

__all__ = ["BUILTIN_KINDS", "ConsumerKind", "Cooling", "kind_table", "use_of"]


class Cooling(StrEnum):
    """Whether removing a kind's last use puts the number into cooling."""

    NEVER = "never"
    AUTO = "auto"  # when Settings.auto_cooling is on
    ALWAYS = "always"


_IN_USE = (Status.USED, Status.USED_UTILITY)
_DURATION_SETTINGS = frozenset(
    field.name
    for field in attrs.fields(Settings)
    if field.name.endswith("_days") and field.type in (int, "int")
)


@attrs.frozen
class ConsumerKind:
    """One row of the consumer-kind table.

    `vendor` is blank for Cisco; `vendor_from_consumer` reads the vendor
    from the consumer instead (VOSS phones). `cooling_days` names the
    `Settings` field holding this kind's cooling duration. A kind that
    `returns_from_cooling` may take its number back while it cools (an
    AudioCodes device that was only offline); `cooling_tag` replaces the
    tag with an information message while the number cools.
    """

    name: str
    status: Status
    usage: Usage
    vendor: str = ""
    vendor_from_consumer: bool = False
    cooling: Cooling = Cooling.NEVER
    cooling_days: str = "cooling_days"
    returns_from_cooling: bool = False
    cooling_tag: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput(f"a consumer kind needs a name, not {self.name!r}", value=self.name)
        checks.name(self.name, "a consumer kind's name")  # a consumer's kind must match it
        what = f"consumer kind {self.name!r}"
        if not isinstance(self.status, Status) or self.status not in _IN_USE:
            raise InvalidInput(
                f"{what}: status must be Status.USED or Status.USED_UTILITY, not {self.status!r}",
                value=self.status,
            )
        if not isinstance(self.usage, Usage):
            raise InvalidInput(f"{what}: {self.usage!r} is not a Usage", value=self.usage)
        checks.text(self.vendor, f"{what}: vendor")
        if not isinstance(self.cooling, Cooling):
            raise InvalidInput(f"{what}: {self.cooling!r} is not a Cooling", value=self.cooling)
        if not isinstance(self.cooling_days, str) or self.cooling_days not in _DURATION_SETTINGS:
            raise InvalidInput(
                f"{what}: cooling_days must name one of "
                f"{sorted(_DURATION_SETTINGS)}, not {self.cooling_days!r}",
                value=self.cooling_days,
            )
        for flag in ("vendor_from_consumer", "returns_from_cooling", "cooling_tag"):
            checks.flag(getattr(self, flag), f"{what}: {flag}")

    def cools(self, settings: Settings) -> bool:
        """Whether removing this kind's last use starts a cooling period."""
        return self.cooling is Cooling.ALWAYS or (
            self.cooling is Cooling.AUTO and settings.auto_cooling
        )

    def cooling_period(self, settings: Settings) -> int:
        days: int = getattr(settings, self.cooling_days)
        return days


_USED, _UTILITY = Status.USED, Status.USED_UTILITY

BUILTIN_KINDS: Mapping[str, ConsumerKind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            ConsumerKind("device/cucm/Phone", _USED, Usage.DEVICE, cooling=Cooling.AUTO),
            ConsumerKind("device/cucm/DeviceProfile", _USED, Usage.DEVICE, cooling=Cooling.AUTO),
            ConsumerKind(
                "device/cucm/RemoteDestinationProfile", _USED, Usage.DEVICE, cooling=Cooling.AUTO
            ),
            ConsumerKind("device/cucm/HuntPilot", _UTILITY, Usage.HUNT_PILOT),
            ConsumerKind("device/cucm/CallPickupGroup", _UTILITY, Usage.PICKUP_GROUP_PILOT),
            ConsumerKind("device/cuc/Callhandler", _UTILITY, Usage.CALL_HANDLER_PILOT),
            ConsumerKind("device/cucm/VoicemailPilot", _UTILITY, Usage.VOICEMAIL_PILOT),
            ConsumerKind("device/cucm/MeetMe", _UTILITY, Usage.MEET_ME),
            ConsumerKind("device/cucm/CtiRoutePoint", _UTILITY, Usage.CTI_ROUTE_POINT),
            ConsumerKind("device/cucm/CallPark", _UTILITY, Usage.CALL_PARK),
            ConsumerKind("device/cucm/DirectedCallPark", _UTILITY, Usage.DIRECTED_CALL_PARK),
            ConsumerKind(
                "data/PRS_MultiVendorPhone_DAT",
                _UTILITY,
                Usage.VOSS_PHONE,
                vendor_from_consumer=True,
            ),
            ConsumerKind(
                "device/msteamsonline/CsOnlineUser",
                _USED,
                Usage.USER,
                vendor="Microsoft",
                cooling=Cooling.AUTO,
            ),
            ConsumerKind(
                "device/spark/Number",
                _USED,
                Usage.USER,
                vendor="Webex Calling",
                cooling=Cooling.AUTO,
            ),
            ConsumerKind(
                "device/audiocodes",
                _USED,
                Usage.DEVICE,
                vendor="AudioCodes",
                cooling=Cooling.ALWAYS,
                cooling_days="audiocodes_cooling_days",
                returns_from_cooling=True,
                cooling_tag=True,
            ),
        )
    }
)


def kind_table(
    extra: Iterable[ConsumerKind] | Mapping[str, ConsumerKind] | None,
) -> Mapping[str, ConsumerKind]:
    """The built-in table with a host's kinds added (or overriding rows of the same name)."""
    if extra is None:
        return BUILTIN_KINDS
    if isinstance(extra, str) or not isinstance(extra, Iterable):
        raise InvalidInput(f"kinds must be ConsumerKind rows, not {extra!r}", value=extra)
    rows = extra.values() if isinstance(extra, Mapping) else extra
    table = dict(BUILTIN_KINDS)
    for row in rows:
        if not isinstance(row, ConsumerKind):
            raise InvalidInput(f"kinds must be ConsumerKind values, not {row!r}", value=row)
        table[row.name] = row
    return MappingProxyType(table)


def use_of(consumer: Consumer, kinds: Mapping[str, ConsumerKind]) -> Use:
    """The use a consumer makes of a number, as its kind's row says."""
    kind = kinds.get(consumer.kind)
    if kind is None:
        raise InvalidInput(
            f"unknown consumer kind {consumer.kind!r}; known kinds: {', '.join(sorted(kinds))}",
            value=consumer.kind,
        )
    vendor = admin_vendor(consumer.vendor if kind.vendor_from_consumer else kind.vendor)
    return Use(
        kind=kind.name,
        consumer_id=consumer.id,
        usage=kind.usage,
        vendor=vendor,
        status=kind.status,
        hierarchy=consumer.hierarchy,
        owner=consumer.owner,
    )
