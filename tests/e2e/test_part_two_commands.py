"""The commands of part two: person reservations, owners, Inactive numbers, moves, node settings."""

from __future__ import annotations

import json

from tests.e2e.conftest import CUSTOMER, SITE, Numinv


def test_reserve_next_holds_the_first_available_number_for_a_person(loaded: Numinv) -> None:
    out = loaded.ok("reserve-next", "--at", SITE, "--for", "alice", "--tag", "new starter")
    assert out == f"4420790000 at {SITE}: Reserved, reserved for alice\n"


def test_a_phone_with_an_owner_takes_the_number_held_for_its_owner(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420790007", "--at", SITE, "--for", "alice")
    phone = ("--kind", "Phone", "--id", "SEP00AA", "--at", SITE, "--owner", "alice")

    out = loaded.ok("assign-next", *phone)

    assert out.startswith("4420790007 at")
    assert loaded.fails("assign", "4420790007", "--kind", "Phone", "--id", "SEPBB", "--at", SITE,
                        "--shared")  # fmt: skip


def test_numbers_of_lists_what_a_person_uses_and_holds(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420790003", "--at", SITE, "--for", "alice")
    loaded.ok("assign", "4420790001", "--kind", "CsOnlineUser", "--id", "alice", "--at", SITE)

    lines = loaded.ok("numbers-of", "alice").splitlines()

    assert [line.split()[0] for line in lines] == ["4420790001", "4420790003"]
    rows = [json.loads(line) for line in loaded.ok("numbers-of", "alice", "--jsonl").splitlines()]
    assert [row["status"] for row in rows] == ["Used", "Reserved"]


def test_unreserve_drops_the_person_from_a_used_number(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420790003", "--at", SITE, "--for", "alice")
    loaded.ok("assign", "4420790003", "--kind", "CsOnlineUser", "--id", "alice", "--at", SITE,
              "--claim")  # fmt: skip
    assert loaded.ok("unreserve", "4420790003", "--at", SITE) == (
        f"4420790003 at {SITE}: Used (User), vendor Microsoft\n"
    )


def test_deactivate_and_activate_a_webex_number(loaded: Numinv) -> None:
    assert loaded.ok("deactivate", "4420790009", "--at", SITE) == (
        f"4420790009 at {SITE}: Inactive, vendor Webex Calling\n"
    )
    assert "Available" in loaded.ok("activate", "4420790009", "--at", SITE)


def test_range_move_takes_numbers_and_their_history_to_another_node(loaded: Numinv) -> None:
    loaded.ok("reserve", "4420799001", "--at", CUSTOMER)

    out = loaded.ok("range", "move", "4420799000", "--count", "3", "--at", CUSTOMER, "--to", SITE)

    assert out == f"moved 3 numbers from {CUSTOMER} to {SITE}\n"
    assert loaded.record("4420799001")["status"] == "Reserved"
    history = loaded.json("history", "4420799001", "--at", SITE, "--json")
    assert [change["operation"] for change in history] == ["add", "reserve", "move"]


def test_range_move_to_a_node_outside_every_root_is_refused(loaded: Numinv) -> None:
    message = loaded.fails("range", "move", "4420799000", "--at", CUSTOMER, "--to", "acme.uk")
    assert "outside every existing root" in message
    # range move has no --new-root: it points to the command that has one
    assert message.endswith("Start a new tree with 'numinv range add --new-root' first.")


def test_configure_sets_cooling_for_a_customer_and_shows_what_is_in_force(
    loaded: Numinv,
) -> None:
    out = loaded.ok("configure", CUSTOMER, "--cooling", "on", "--days", "45")
    assert out.startswith(f"{CUSTOMER}: auto cooling on, cooling 45 days")
    assert loaded.json("configure", SITE, "--json")["cooling_days"] == 45

    loaded.ok("assign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE)
    assert "Cooling" in loaded.ok(
        "unassign", "4420790001", "--kind", "Phone", "--id", "SEP1", "--at", SITE
    )
    loaded.ok("configure", CUSTOMER, "--cooling", "inherit")
    assert loaded.json("configure", SITE, "--json")["auto_cooling"] is False
    assert loaded.json("configure", SITE, "--json")["cooling_days"] == 45


def test_configure_refuses_a_bad_value_as_a_usage_error(loaded: Numinv) -> None:
    assert "days" in loaded.misused("configure", CUSTOMER, "--days", "0")
    assert "no node" in loaded.fails("configure", "sys.acme.ukk", "--cooling", "on")


def test_refusals_name_the_commands_words_not_the_librarys(loaded: Numinv) -> None:
    """`move_range: ...` and `who must ...` named the library's call and argument."""
    shown = loaded.fails("range", "move", "4420790001", "--at", SITE, "--to", SITE)
    assert shown == f"4420790001 is at {SITE} already"
    assert loaded.fails("numbers-of", "").startswith("PERSON must name a consumer id or owner")
