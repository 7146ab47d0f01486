"""Vendors shown and internal number types (SPEC 8)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from numinv.core.records import Usage, Use
from numinv.core.vendor_names import CISCO, WEBEX, admin_vendor, may_be_inactive, vendor_named
from numinv.errors import InvalidInput

__all__ = [
    "CISCO",
    "INTERNAL_NUMBER_TYPES",
    "WEBEX",
    "admin_vendor",
    "check_internal_number_type",
    "may_be_inactive",
    "shown_number_type",
    "shown_vendor",
    "usage_of",
    "vendor_named",
]

# Per vendor, the internal number types it knows, with the API spellings accepted.
INTERNAL_NUMBER_TYPES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "Microsoft": MappingProxyType(
            {
                "Direct Routing": "Direct Routing",
                "DirectRouting": "Direct Routing",
                "Calling Plan": "Calling Plan",
                "CallingPlan": "Calling Plan",
                "Operator Connect": "Operator Connect",
                "OperatorConnect": "Operator Connect",
            }
        ),
        "Webex Calling": MappingProxyType(
            {"Phone Number": "Phone Number", "Extension": "Extension"}
        ),
    }
)


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def shown_vendor(uses: Iterable[Use]) -> str:
    """The vendor of a number in use: its uses' vendors, Cisco blank unless mixed."""
    vendors = _distinct(use.vendor or CISCO for use in uses)
    return "" if vendors in ((), (CISCO,)) else ", ".join(vendors)


def usage_of(uses: Iterable[Use]) -> tuple[Usage, ...]:
    """Usage values of the uses, de-duplicated in order of first addition.

    The tuples are shared: a million numbers used by phones hold one `(Device,)`.
    """
    usage = tuple(use.usage for use in uses)
    shared = _USAGE.get(usage)
    if shared is None:
        shared = tuple(dict.fromkeys(usage))
        if len(_USAGE) < 4096:
            _USAGE[usage] = shared
    return shared


_USAGE: dict[tuple[Usage, ...], tuple[Usage, ...]] = {}


def shown_number_type(number_type: str, vendor: str) -> str:
    """The internal number type shown beside `vendor`: the one set, while it agrees (SPEC 22).

    A Microsoft Calling Plan number taken by a Cisco phone shows no type
    ("if Vendor = Cisco, then blank"); the type comes back with a vendor it
    belongs to.
    """
    if not number_type:
        return ""
    for name in vendor.split(", "):
        if number_type in INTERNAL_NUMBER_TYPES.get(name, {}):
            return number_type
    return ""


def check_internal_number_type(value: object, *vendors: str) -> str:
    """Return the stored spelling of an internal number type valid for the vendors.

    Blank is always valid; otherwise the type must belong to one of the
    vendors named (a vendor text such as `Cisco, Microsoft` names several).
    """
    if not isinstance(value, str):
        raise InvalidInput(f"internal_number_type must be text, not {value!r}", value=value)
    if not value:
        return ""
    named = {name for text in vendors for name in text.split(", ") if name}
    for vendor in named:
        spelling = INTERNAL_NUMBER_TYPES.get(vendor, {}).get(value)
        if spelling:
            return spelling
    allowed = sorted(
        {
            spelling
            for vendor in named
            for spelling in INTERNAL_NUMBER_TYPES.get(vendor, {}).values()
        }
    )
    shown = ", ".join(sorted(named)) or "Cisco (blank)"
    raise InvalidInput(
        f"internal number type {value!r} is not valid for vendor {shown}; "
        f"allowed: {', '.join(map(repr, allowed)) or 'blank only'}",
        value=value,
    )
