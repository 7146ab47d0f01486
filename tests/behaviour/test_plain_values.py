"""A host's values come back as the plain types API.md names, whichever store kept them.

A probe comparing the stores found the in-memory store giving back the host's
own objects: a `str` subclass (a `StrEnum`, a host's `Tag(str)`) passed as a
node, tag, note or person stayed that object in the record, the journal and
`nodes()`, where SQLite and PostgreSQL gave back `str`; and the hierarchy's
cache of checked paths could hand that object to a later caller passing a
plain `str`. A whole-number exhaustion threshold stayed an `int` where the
others gave `float`.
"""

from __future__ import annotations

from enum import StrEnum

from numinv import Consumer
from tests.behaviour.conftest import MakeInventory


class Label(str):
    """A host's own text type, formatted its own way."""

    def __repr__(self) -> str:
        return f"Label({str.__repr__(self)})"


class Team(StrEnum):
    SALES = "sales"


def _every_text(record: object) -> list[tuple[str, object]]:
    names = ("number", "hierarchy", "tag", "description", "extra1", "reserved_for")
    return [(name, getattr(record, name)) for name in names]


def test_text_of_a_str_subclass_is_kept_as_plain_str(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(
        Label("sys.a"),
        Label("1000"),
        count=2,
        tag=Team.SALES,
        description=Label("d"),
        extra1=Label("x"),
    )
    inventory.reserve(
        Label("1001"), Label("sys.a"), reserved_for=Team.SALES, notes=Label("for sales")
    )
    phone = Consumer(Label("device/cucm/Phone"), Label("SEP1"), Label("sys.a"), owner=Label("bo"))
    (use,) = inventory.assign_next(phone).uses
    assert [type(value) for value in (use.consumer_id, use.hierarchy, use.kind, use.owner)] == [
        str
    ] * 4
    records = [inventory.get("1000", "sys.a"), inventory.get("1001", "sys.a")]
    texts = [pair for record in records for pair in _every_text(record)]
    assert [
        (name, type(value)) for name, value in texts if type(value) not in (str, type(None))
    ] == []
    assert records[1].reserved_for == "sales"
    assert records[0].tag == "sales"
    assert [type(node) for node in inventory.nodes()] == [str]
    for change in inventory.changes():
        assert type(change.hierarchy) is str
        assert change.after is None or type(change.after.tag) is str


def test_a_checked_path_is_not_handed_on_as_another_callers_object(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range(Label("sys.b"), "2000")
    inventory.add_range("sys.b", "2001")  # equal to the Label: the same cache entry
    assert {type(record.hierarchy) for record in inventory.search(at="sys.b")} == {str}
    assert {type(node) for node in inventory.nodes()} == {str}


def test_a_whole_number_threshold_is_kept_as_the_float_it_means(make: MakeInventory) -> None:
    inventory = make()
    inventory.add_range("sys.a", "1000")
    inventory.configure("sys.a", exhaustion_threshold=1)
    shown = inventory.settings_at("sys.a").exhaustion_threshold
    assert (shown, type(shown)) == (1.0, float)
    (node,) = [inventory.utilization().nodes["sys.a"]]
    assert (node.threshold, type(node.threshold)) == (1.0, float)
