"""A `replace` pair whose new record is of another key is refused by every shipped store."""

from __future__ import annotations

import attrs
import pytest

from numinv import (
    InvalidInput,
    NumberRecord,
    Status,
    Usage,
    Use,
)
from numinv.storage.protocol import Repository

NODE = "sys.a"


@pytest.fixture
def repository(each_store: Repository) -> Repository:
    return each_store


@pytest.mark.parametrize("moved", [{"number": "1001"}, {"hierarchy": "sys.b"}])
def test_a_replacement_of_another_key_is_refused_and_changes_nothing(
    repository: Repository, moved: dict[str, str]
) -> None:
    old = NumberRecord("1000", NODE)
    with repository.transaction() as tx:
        tx.insert([old])
    new = attrs.evolve(old, version=2, tag="moved", **moved)
    with (
        pytest.raises(InvalidInput, match=r"cannot replace 1000 at sys\.a"),
        repository.transaction() as tx,
    ):
        tx.replace([(old, new)])
    assert repository.holding("1000") == [old]
    assert repository.holding("1001") == []


def test_the_holders_of_a_record_are_its_users_their_owners_and_its_person() -> None:
    use = Use("device/cucm/Phone", "SEP1", Usage.DEVICE, "", Status.USED, NODE, owner="alice")
    shared = Use("device/cucm/Phone", "SEP2", Usage.DEVICE, "", Status.USED, NODE)
    record = NumberRecord("1000", NODE, status=Status.USED, uses=(use, shared), reserved_for="bob")
    assert record.holders == {"SEP1", "alice", "SEP2", "bob"}
    assert NumberRecord("1000", NODE).holders == frozenset()
