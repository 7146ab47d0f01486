"""Vendors by name (SPEC 8): how numinv spells them, and which a number may be stored with.

Nothing here knows records, so that records may check their vendors by it.
"""

from __future__ import annotations

__all__ = ["CISCO", "WEBEX", "admin_vendor", "may_be_inactive", "vendor_named"]

CISCO = "Cisco"
WEBEX = "Webex Calling"
_KNOWN_VENDORS = {name.casefold(): name for name in (CISCO, "Microsoft", WEBEX, "AudioCodes")}


def may_be_inactive(vendor: str) -> bool:
    """Inactive is Webex Calling's status (SPEC 20): a number of no vendor becomes a
    Webex Calling number when deactivated; one of another vendor is not turned into one."""
    return vendor in ("", WEBEX)


def vendor_named(value: str) -> str:
    """A vendor as numinv spells it: a known vendor in any case and spacing (`microsoft `
    is Microsoft), any other (a VOSS phone's maker) as given."""
    return _KNOWN_VENDORS.get(value.strip().casefold(), value)


def admin_vendor(value: str) -> str:
    """A vendor as stored: `Cisco` is the blank vendor (SPEC 8, decision 33)."""
    named = vendor_named(value)
    return "" if named == CISCO else named
