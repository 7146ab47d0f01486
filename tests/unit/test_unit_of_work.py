"""The unit of work reads its nodes' settings inside its transaction, once, when first needed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from numinv import InMemoryRepository, NodeSettings, StorageError
from numinv.core.lifecycle import Rules
from numinv.events import Dispatcher
from numinv.work import UnitOfWork

NODE, SITE = "sys.acme.uk", "sys.acme.uk.london"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Noting:
    """A repository that notes each settings read, and whether a transaction was open."""

    def __init__(self) -> None:
        self.inner = InMemoryRepository()
        self.reads: list[tuple[tuple[str, ...] | None, bool]] = []
        self.open = False
        with self.inner.transaction() as tx:
            tx.configure(NODE, NodeSettings(cooling_days=5))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            self.open = True
            try:
                yield _NotingTransaction(tx, self)
            finally:
                self.open = False


class _NotingTransaction:
    def __init__(self, tx: Any, owner: Noting) -> None:
        self._tx, self._owner = tx, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def node_settings(self, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        asked = None if nodes is None else tuple(nodes)
        self._owner.reads.append((asked, self._owner.open))
        return self._tx.node_settings(asked)


def unit(repository: Noting, nodes: Iterable[str] | None) -> UnitOfWork:
    return UnitOfWork(repository, Dispatcher(), "assign", Rules(NOW), None, nodes)


def test_the_settings_are_read_in_the_transaction_when_the_rules_are_first_asked_for() -> None:
    repository = Noting()
    with unit(repository, ("sys", "sys.acme", NODE, SITE)) as work:
        assert work.tx.get("1000", SITE) is None  # a read that needs no settings: none read
        assert repository.reads == []
        assert work.rules.settings_at(SITE).cooling_days == 5
        assert work.rules.settings_at(NODE).cooling_days == 5
    assert repository.reads == [(("sys", "sys.acme", NODE, SITE), True)]


def test_a_unit_of_no_nodes_reads_no_settings() -> None:
    repository = Noting()
    with unit(repository, ()) as work:
        assert work.rules.nodes == {}
    assert repository.reads == []


def test_a_unit_of_every_node_reads_every_nodes_settings() -> None:
    repository = Noting()
    with unit(repository, None) as work:
        assert work.rules.nodes == {NODE: NodeSettings(cooling_days=5)}
    assert repository.reads == [(None, True)]


def test_settings_that_could_not_be_read_are_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    repository = Noting()
    read = _NotingTransaction.node_settings
    failures = [StorageError("the server went away")]

    def flaky(self: _NotingTransaction, nodes: Iterable[str] | None) -> Mapping[str, NodeSettings]:
        if failures:
            raise failures.pop()
        return read(self, nodes)

    monkeypatch.setattr(_NotingTransaction, "node_settings", flaky)
    with unit(repository, (NODE,)) as work:
        with pytest.raises(StorageError):
            work.rules  # noqa: B018
        assert work.rules.settings_at(NODE).cooling_days == 5
