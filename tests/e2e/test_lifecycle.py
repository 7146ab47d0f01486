"""Assign, unassign, reserve, cool, release, sweep, E.164 and service types from the command."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.conftest import CUSTOMER, SITE, Numinv, library

PHONE = ("--kind", "Phone", "--id", "SEP00AA", "--at", SITE)


def test_assign_gives_the_number_to_the_consumer(loaded: Numinv) -> None:
    out = loaded.ok("assign", "4420790001", *PHONE)
    assert out == f"4420790001 at {SITE}: Used (Device)\n"
    assert loaded.record("4420790001")["uses"][0]["kind"] == "device/cucm/Phone"


def test_assign_accepts_the_full_kind_name_and_the_consumer_vendor(loaded: Numinv) -> None:
    out = loaded.ok(
        "assign", "4420790001", "--kind", "data/PRS_MultiVendorPhone_DAT", "--id", "voss1",
        "--at", SITE, "--vendor", "Yealink",
    )  # fmt: skip
    assert out == f"4420790001 at {SITE}: Used-Utility (VOSS_Phone), vendor Yealink\n"


def test_a_vendor_for_a_kind_that_takes_none_is_a_usage_error(loaded: Numinv) -> None:
    """A Cisco phone's vendor comes from its kind: `--vendor Yealink` was ignored."""
    message = loaded.misused(
        "assign", "4420790008", "--kind", "Phone", "--id", "x", "--at", SITE, "--vendor", "Yealink"
    )
    assert "device/cucm/Phone takes its vendor from its kind, not from --vendor" in message
    assert "data/PRS_MultiVendorPhone_DAT" in message
    assert loaded.json("show", "4420790008", "--at", SITE, "--json")["status"] == "Available"


def test_assign_refuses_an_unknown_kind_and_names_the_known_ones(loaded: Numinv) -> None:
    message = loaded.misused("assign", "4420790001", "--kind", "Fax", "--id", "f1", "--at", SITE)
    assert "unknown consumer kind 'Fax'; known kinds: CallPark, " in message
    assert "HuntPilot" in message


def test_a_mistyped_kind_is_refused_with_the_closest_kinds(loaded: Numinv) -> None:
    message = loaded.misused("assign", "4420790001", "--kind", "Phon", "--id", "f1", "--at", SITE)
    assert "unknown consumer kind 'Phon'; did you mean Phone?" in message
    assert loaded.json("show", "4420790001", "--at", SITE, "--json")["status"] == "Available"


def test_assign_needs_shared_to_share_a_number_in_use(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    pilot = ("--kind", "HuntPilot", "--id", "sales", "--at", SITE)
    assert "it is in use; give --shared to share it" in loaded.fails("assign", "4420790001", *pilot)
    out = loaded.ok("assign", "4420790001", *pilot, "--shared")
    assert out == f"4420790001 at {SITE}: Used-Utility (Device, Hunt_Pilot)\n"


def test_assign_refuses_a_number_not_visible_from_the_consumer(loaded: Numinv) -> None:
    loaded.ok("range", "add", "4420791000", "--at", "sys.acme.za")
    message = loaded.fails(
        "assign", "4420790001", "--kind", "Phone", "--id", "x", "--at", "sys.acme.za"
    )
    assert message == "4420790001 is not visible from sys.acme.za"


def test_assign_refuses_a_bad_number_and_a_blank_id(loaded: Numinv) -> None:
    assert "'44-20' is not a directory number" in loaded.fails("assign", "44-20", *PHONE)
    assert "must not be blank" in loaded.fails(
        "assign", "4420790001", "--kind", "Phone", "--id", " ", "--at", SITE
    )


def test_assign_next_takes_the_site_numbers_before_the_pool(loaded: Numinv) -> None:
    for n in range(20):
        loaded.ok("assign-next", "--kind", "CsOnlineUser", "--id", f"u{n}", "--at", SITE)
    out = loaded.ok("assign-next", "--kind", "CsOnlineUser", "--id", "u20", "--at", SITE)
    assert out == f"4420799000 at {CUSTOMER}: Used (User), vendor Microsoft\n"


def test_assign_next_with_nothing_left_is_refused(numinv: Numinv) -> None:
    numinv.ok("range", "add", "1000", "--at", SITE)
    numinv.ok("assign-next", *PHONE)
    message = numinv.fails("assign-next", "--kind", "Phone", "--id", "other", "--at", SITE)
    assert message == f"no Available number is visible from {SITE}"


def test_assign_next_honours_a_prefix(loaded: Numinv) -> None:
    out = loaded.ok("assign-next", *PHONE, "--prefix", "442079900")
    assert out.startswith(f"4420799000 at {CUSTOMER}")


def test_unassign_leaves_the_number_available_without_auto_cooling(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    assert loaded.ok("unassign", "4420790001", *PHONE) == f"4420790001 at {SITE}: Available\n"


def test_unassign_cools_the_number_with_auto_cooling_on_the_command_line(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    out = loaded.ok("--auto-cooling", "--cooling-days", "5", "unassign", "4420790001", *PHONE)
    assert out.startswith(f"4420790001 at {SITE}: Cooling, until ")
    released = datetime.fromisoformat(loaded.record("4420790001")["release_date"])
    assert 4.9 < (released - datetime.now(UTC)).total_seconds() / 86400 <= 5


def test_unassign_cools_the_number_with_auto_cooling_from_the_environment(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", *PHONE)
    out = loaded.ok("unassign", "4420790001", *PHONE, env={"NUMINV_AUTO_COOLING": "true"})
    assert ": Cooling, until " in out


def test_unassign_of_a_consumer_not_using_the_number_is_refused(loaded: Numinv) -> None:
    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "other", "--at", SITE)
    message = loaded.fails("unassign", "4420790001", *PHONE)
    assert message.endswith("device/cucm/Phone 'SEP00AA' does not use it")


def test_an_audiocodes_device_coming_back_while_cooling_gets_its_number_again(
    loaded: Numinv,
) -> None:
    device = ("--kind", "audiocodes", "--id", "gw1", "--at", SITE)
    loaded.ok("assign", "4420790003", *device)
    cooling = loaded.ok("unassign", "4420790003", *device)
    assert ": Cooling, until " in cooling
    assert loaded.record("4420790003")["tag"].startswith("Cooling: released in 2 days")
    assert loaded.ok("assign", "4420790003", *device) == (
        f"4420790003 at {SITE}: Used (Device), vendor AudioCodes\n"
    )
    assert loaded.record("4420790003")["tag"] == "london"


def test_reserve_for_a_consumer_then_only_that_consumer_claims_it(loaded: Numinv) -> None:
    out = loaded.ok(
        "reserve", "4420790002", "--at", SITE, "--days", "14", "--for", "bob", "--notes", "1 May"
    )
    assert out.startswith(f"4420790002 at {SITE}: Reserved, until ")
    assert out.endswith(", reserved for bob\n")
    assert "it is reserved; give --claim to claim it" in loaded.fails(
        "assign", "4420790002", *PHONE
    )
    other = ("--kind", "Phone", "--id", "eve", "--at", SITE, "--claim")
    assert "reserved for 'bob'" in loaded.fails("assign", "4420790002", *other)
    out = loaded.ok(
        "assign", "4420790002", "--kind", "Phone", "--id", "bob", "--at", SITE, "--claim"
    )
    # The *Reserved for* flag stays on through the claim (SPEC 18).
    assert out == f"4420790002 at {SITE}: Used (Device), reserved for bob\n"


def test_unreserve_makes_the_number_available(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420790002", "--at", SITE, "--tag", "vip")
    assert (
        loaded.ok("unreserve", "4420790002", "--at", SITE) == f"4420790002 at {SITE}: Available\n"
    )
    assert "not allowed while Available" in loaded.fails("unreserve", "4420790002", "--at", SITE)


def test_reserve_refuses_days_out_of_range(loaded: Numinv) -> None:
    assert "--days" in loaded.misused("reserve", "4420790002", "--at", SITE, "--days", "1000")


def test_cool_with_days_or_until_then_release(loaded: Numinv) -> None:
    assert ": Cooling, until " in loaded.ok("cool", "4420790004", "--at", SITE, "--days", "3")
    out = loaded.ok("cool", "4420790004", "--at", SITE, "--until", "2099-03-01T12:00")
    assert out == f"4420790004 at {SITE}: Cooling, until 2099-03-01 12:00 UTC\n"
    assert loaded.ok("release", "4420790004", "--at", SITE) == f"4420790004 at {SITE}: Available\n"


def test_cool_refuses_a_date_in_the_past_and_both_days_and_until(loaded: Numinv) -> None:
    assert "is not in the future" in loaded.fails(
        "cool", "4420790004", "--at", SITE, "--until", "2001-01-01"
    )
    assert "Error: give --days or --until, not both" in loaded.misused(
        "cool", "4420790004", "--at", SITE, "--days", "2", "--until", "2099-01-01"
    )
    assert "not an ISO date" in loaded.misused(
        "cool", "4420790004", "--at", SITE, "--until", "soon"
    )


def test_release_of_a_number_not_cooling_is_refused(loaded: Numinv) -> None:
    message = loaded.fails("release", "4420790004", "--at", SITE)
    assert (
        message
        == f"cannot release 4420790004 at {SITE} (status Available): not allowed while Available"
    )


def test_sweep_releases_what_is_due(loaded: Numinv) -> None:
    past = datetime(2020, 1, 1, tzinfo=UTC)
    with library(loaded.db, clock=lambda: past) as inventory:
        inventory.cool("4420790005", SITE, days=1)
        inventory.reserve("4420790006", SITE, days=2)
    assert loaded.ok("sweep") == (
        f"4420790005 at {SITE}: Available\n4420790006 at {SITE}: Available\nreleased 2 numbers\n"
    )
    assert loaded.ok("sweep") == "released 0 numbers\n"


def test_e164_add_and_remove_update_the_display(loaded: Numinv) -> None:
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE)
    out = loaded.ok("e164", "add", "4420790001", "+442079000002", "--at", SITE, "--primary")
    assert out.endswith("; E.164 +442079000002 (P) [+1]\n")
    out = loaded.ok("e164", "remove", "4420790001", "+442079000002", "--at", SITE)
    assert out.endswith("; E.164 +442079000001\n")


def test_e164_refuses_a_bad_number_and_a_second_owner(loaded: Numinv) -> None:
    assert "not an E.164 number" in loaded.fails(
        "e164", "add", "4420790001", "442079", "--at", SITE
    )
    loaded.ok("e164", "add", "4420790001", "+442079000001", "--at", SITE)
    message = loaded.fails("e164", "add", "4420790002", "+442079000001", "--at", SITE)
    assert message == f"+442079000001 already points to 4420790001 at {SITE}"
    assert "+442079000001" in loaded.fails(
        "e164", "remove", "4420790002", "+442079000001", "--at", SITE
    )


def test_service_applies_the_hybrid_rule_with_the_teluri_prefix_setting(loaded: Numinv) -> None:
    out = loaded.ok(
        "--teluri-prefix", "+99", "service", "4420790007", "--at", SITE,
        "--subscriber", "carol", "--type", "cisco-ms-hybrid",
    )  # fmt: skip
    assert out == (
        f"4420790007 at {SITE}: Used (Device, User), vendor Cisco, Microsoft, "
        "extra2 'Cisco-MS-Hybrid', extra4 '+994420790007'\n"
    )


def test_service_refuses_an_unknown_type_and_a_bad_teluri_prefix(loaded: Numinv) -> None:
    args = ("service", "4420790007", "--at", SITE, "--subscriber", "carol", "--type")
    assert "'Teams-Only' is not one of" in loaded.misused(*args, "Teams-Only")
    message = loaded.misused("--teluri-prefix", "88800", *args, "Cisco-Only")
    assert "'88800' is not '+' and 1 to 15 digits" in message
