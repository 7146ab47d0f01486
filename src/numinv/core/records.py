"""The frozen records of the inventory and the values they hold (SPEC 4 and 5)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from numinv.core import checks
from numinv.core.hierarchy import parse_path
from numinv.core.vendor_names import may_be_inactive
from numinv.errors import InvalidInput

__all__ = [
    "EXTRA_FIELDS",
    "FREE_TEXT_FIELDS",
    "Change",
    "Consumer",
    "Event",
    "NumberRecord",
    "Observation",
    "ServiceType",
    "Status",
    "Usage",
    "Use",
]


class Status(StrEnum):
    AVAILABLE = "Available"
    USED = "Used"
    USED_UTILITY = "Used-Utility"
    COOLING = "Cooling"
    RESERVED = "Reserved"
    INACTIVE = "Inactive"


class Usage(StrEnum):
    DEVICE = "Device"
    USER = "User"
    HUNT_PILOT = "Hunt_Pilot"
    PICKUP_GROUP_PILOT = "Pickup_Group_Pilot"
    CALL_HANDLER_PILOT = "Call_Handler_Pilot"
    VOICEMAIL_PILOT = "Voicemail_Pilot"
    MEET_ME = "Meet_Me"
    CTI_ROUTE_POINT = "CTI_RoutePoint"
    CALL_PARK = "Call_Park"
    DIRECTED_CALL_PARK = "Directed_Call_Park"
    VOSS_PHONE = "VOSS_Phone"


class ServiceType(StrEnum):
    CISCO_MS_HYBRID = "Cisco-MS-Hybrid"
    CISCO_ONLY = "Cisco-Only"
    CISCO_NO_SERVICES = "Cisco-No-Services"
    MS_ONLY_ENTVOICE = "MS-Only-Entvoice"
    MS_ONLY_HYBRID = "MS-Only-Hybrid"
    MS_ONLY_NO_ENTVOICE = "MS-Only-No-Entvoice"
    NO_HYBRID_SERVICE = "No-Hybrid-Service"


EXTRA_FIELDS = tuple(f"extra{index}" for index in range(1, 10))
FREE_TEXT_FIELDS = ("tag", "description", "reservation_notes", *EXTRA_FIELDS)


def _plain(value: str) -> str:
    """A host's `str` subclass kept as `str`, as every store reads it back; anything
    but text is left for the validator to refuse."""
    return checks.plain(value) if isinstance(value, str) else value


def _plain_or_none(value: str | None) -> str | None:
    return checks.plain(value) if isinstance(value, str) else value


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    checks.text(value, f"{type(instance).__name__}.{attribute.name}")


def _holder(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    checks.name(value, f"{type(instance).__name__}.{attribute.name}")


def _name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    _text(instance, attribute, value)
    if not str(value).strip():
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must not be blank, not {value!r}",
            value=value,
        )


def _path(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    parse_path(value)


@attrs.frozen
class Consumer:
    """Who uses a number: a phone line, a hunt pilot, a Teams user, ...

    Identified by (kind, id); lives at a hierarchy node. `vendor` is read
    only for kinds whose vendor comes from the consumer (VOSS phones).
    `owner` names the user a device belongs to (Alice's phone has owner
    `alice`), so that a number reserved for Alice may be taken by her phone.
    """

    kind: str = attrs.field(converter=_plain, validator=_name)
    id: str = attrs.field(converter=_plain, validator=[_name, _holder])
    hierarchy: str = attrs.field(converter=_plain, validator=_path)
    vendor: str = attrs.field(converter=_plain, default="", validator=_text)
    owner: str = attrs.field(converter=_plain, default="", validator=_holder)

    @property
    def names(self) -> tuple[str, ...]:
        """Who this consumer acts for: its id, and its owner when it has one."""
        return (self.id, self.owner) if self.owner and self.owner != self.id else (self.id,)


def _optional_path(instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        parse_path(value)


@attrs.frozen
class Observation:
    """A fact from a sync: this consumer really uses this number.

    Without a consumer, the UC application holds the number unassigned: a
    Microsoft tenant number (`vendor`, `internal_number_type` say which) or
    a Webex Calling number, `active=False` when it is not yet active.
    `hierarchy` may say where the application holds it (for `add_missing`
    when the audit has no `at`).
    """

    number: str = attrs.field(converter=_plain, validator=_text)
    consumer: Consumer | None = attrs.field(default=None)
    vendor: str = attrs.field(converter=_plain, default="", validator=_text, kw_only=True)
    internal_number_type: str = attrs.field(
        converter=_plain, default="", validator=_text, kw_only=True
    )
    active: bool = attrs.field(default=True, kw_only=True)
    hierarchy: str | None = attrs.field(
        converter=_plain_or_none, default=None, validator=_optional_path, kw_only=True
    )

    @consumer.validator
    def _consumer(self, attribute: attrs.Attribute[Consumer | None], value: object) -> None:
        if value is not None and not isinstance(value, Consumer):
            raise InvalidInput(
                f"Observation.consumer must be a Consumer or None, not {value!r}", value=value
            )

    @active.validator
    def _active(self, attribute: attrs.Attribute[bool], value: object) -> None:
        checks.flag(value, "Observation.active")
        if value:
            return
        # SPEC 20: only a Webex Calling number held unassigned is reported inactive.
        if self.consumer is not None:
            raise InvalidInput(
                f"Observation of {self.number}: a number somebody uses is not inactive "
                "(active=False is for a Webex Calling number nobody uses)",
                value=self.number,
            )
        if not may_be_inactive(self.vendor):
            raise InvalidInput(
                f"Observation of {self.number}: only a Webex Calling number is inactive, "
                f"not one of vendor {self.vendor!r}",
                value=self.vendor,
            )


@attrs.frozen
class Use:
    """One consumer's use of a number, as the Usage tab lists it.

    `status`, `usage` and `vendor` are what the consumer's kind triggered
    when the use was added; `vendor` is blank for Cisco.
    """

    kind: str
    consumer_id: str
    usage: Usage
    vendor: str = ""
    status: Status = Status.USED
    hierarchy: str = ""
    owner: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.consumer_id)


@attrs.frozen
class NumberRecord:
    """One directory number at one hierarchy node.

    Managed fields change only through the lifecycle; free-text fields are
    the administrator's. `admin_vendor` is the vendor set on loading or
    updating, shown as `vendor` while the number is not in use;
    `admin_number_type` is the internal number type set, shown as
    `internal_number_type` while it agrees with the vendor shown (SPEC 22);
    `service_type` is the hybrid service type applied (SPEC 8);
    `cooling_use` and `tag_before_cooling` remember what a cooling that may
    be undone by a returning consumer has to restore.
    """

    number: str
    hierarchy: str
    status: Status = Status.AVAILABLE
    usage: tuple[Usage, ...] = ()
    uses: tuple[Use, ...] = ()
    vendor: str = ""
    internal_number_type: str = ""
    release_date: datetime | None = None
    reserved_for: str | None = None
    e164: tuple[str, ...] = ()
    primary_e164: str | None = None
    tag: str = ""
    description: str = ""
    reservation_notes: str = ""
    extra1: str = ""
    extra2: str = ""
    extra3: str = ""
    extra4: str = ""
    extra5: str = ""
    extra6: str = ""
    extra7: str = ""
    extra8: str = ""
    extra9: str = ""
    admin_vendor: str = ""
    service_type: str | None = None
    cooling_use: Use | None = None
    tag_before_cooling: str | None = None
    version: int = 1
    admin_number_type: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.number, self.hierarchy)

    @property
    def in_use(self) -> bool:
        return bool(self.uses)

    @property
    def holders(self) -> frozenset[str]:
        """Who holds the number (SPEC 18): its users' ids and owners, and the person
        it is reserved for; what `numbers_of(who)` answers by, on every store."""
        names = {use.consumer_id for use in self.uses}
        names.update(use.owner for use in self.uses if use.owner)
        if self.reserved_for is not None:
            names.add(self.reserved_for)
        return frozenset(names)

    @property
    def e164_display(self) -> str:
        """The E.164 column: primary (or first), ` (P)` if primary, ` [+N]` for N others."""
        if not self.e164:
            return ""
        shown = self.primary_e164 or self.e164[0]
        text = f"{shown} (P)" if self.primary_e164 else shown
        others = len(self.e164) - 1
        return f"{text} [+{others}]" if others else text


@attrs.frozen
class Change:
    """One entry of the journal: a committed change of one record (SPEC 15).

    `before` is None for an added number, `after` None for a deleted one; a
    moved record's `before` is at its old node. `at` is the inventory's time
    of the operation, `actor` who acted (the host's `actor` hook), and `seq`
    the entry's place in commit order.
    """

    seq: int
    operation: str
    number: str
    hierarchy: str
    before: NumberRecord | None
    after: NumberRecord | None
    at: datetime
    actor: str | None = None

    @property
    def record(self) -> NumberRecord:
        """The record as the change left it (or as it was, when deleted)."""
        result = self.after or self.before
        assert result is not None
        return result


@attrs.frozen
class Event:
    """One stored change, delivered to subscribers after it is committed, in `seq` order.

    `before` is None for an added number, `after` None for a deleted one;
    `seq` is the change's journal entry.
    """

    operation: str
    before: NumberRecord | None
    after: NumberRecord | None
    at: datetime
    # Where the change stands in the journal and who made it: not part of what changed.
    seq: int | None = attrs.field(default=None, eq=False)
    actor: str | None = attrs.field(default=None, eq=False)

    @property
    def record(self) -> NumberRecord:
        """The record as it is now (or was, when deleted)."""
        result = self.after or self.before
        assert result is not None
        return result
