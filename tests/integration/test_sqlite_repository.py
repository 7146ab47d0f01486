"""What only the SQLite store does: schema and migrations, files, indexes, driver errors."""

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, strategies as st

import numinv.storage.rows as rows_module
import numinv.storage.sqlite.connections as sqlite_module
from numinv import (
    ConcurrentUpdate,
    Consumer,
    InMemoryRepository,
    InvalidInput,
    Inventory,
    NumberRecord,
    Observation,
    ServiceType,
    Status,
    StorageError,
)
from numinv.core.numbers import number_range
from numinv.core.records import Usage, Use
from numinv.serialization import converter
from numinv.storage.protocol import Query, Repository
from numinv.storage.sqlite import SCHEMA_VERSION, SqliteRepository
from numinv.testing.contract import everything_set

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SITE = "sys.acme.uk.london"
POOL = "sys.acme.uk"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "numbers.db"


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection to look at the file behind the repository's back."""
    return sqlite3.connect(path, isolation_level=None)


def populated(repository: Repository) -> Inventory:
    """An inventory with numbers in every status and most fields set."""
    inventory = Inventory(repository, clock=lambda: NOW)
    inventory.add_range(POOL, "+442071230000", count=20, vendor="Microsoft")
    inventory.add_range(SITE, "1000", "1049", tag="site", extra3="floor 2")
    inventory.add_range("sys.acme.fr", "1000", count=5)
    inventory.assign("1000", Consumer("device/cucm/Phone", "SEP1", SITE))
    inventory.assign("1000", Consumer("device/cucm/HuntPilot", "hp", SITE), shared=True)
    inventory.assign("1001", Consumer("device/audiocodes", "gw", SITE, vendor="AudioCodes"))
    inventory.unassign("1001", Consumer("device/audiocodes", "gw", SITE, vendor="AudioCodes"))
    inventory.reserve("1002", SITE, tag="ceo", notes="keep", days=4, reserved_for="u1")
    inventory.cool_range(SITE, "1010", "1014", days=9)
    inventory.associate_e164("1003", SITE, "+442071239999", primary=True)
    inventory.associate_e164("1003", SITE, "+442071239998")
    inventory.assign("1004", Consumer("device/msteamsonline/CsOnlineUser", "u4", SITE))
    inventory.apply_service("1004", SITE, "u4", ServiceType.CISCO_MS_HYBRID)
    inventory.audit([Observation("1005", Consumer("device/cucm/Phone", "SEP5", SITE))], at=SITE)
    return inventory


# -- schema and migrations ------------------------------------------------------------


def test_a_new_file_is_created_at_the_current_schema_version(path: Path) -> None:
    SqliteRepository(path).close()
    with raw(path) as connection:
        versions = connection.execute("SELECT version FROM schema_version").fetchall()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert versions == [(version,) for version in range(1, SCHEMA_VERSION + 1)]
    assert {"records", "e164", "nodes", "schema_version"} <= tables


def test_reopening_a_current_file_applies_no_migration(path: Path) -> None:
    SqliteRepository(path).close()
    SqliteRepository(path).close()
    with raw(path) as connection:
        (applied,) = connection.execute("SELECT count(*) FROM schema_version").fetchone()
    assert applied == SCHEMA_VERSION


def test_a_later_migration_is_applied_on_first_open_and_keeps_the_records(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SqliteRepository(path) as repository:
        before = list(populated(repository).search())
    later = (*sqlite_module._MIGRATIONS, ("CREATE INDEX records_by_tag ON records (tag)",))
    monkeypatch.setattr(sqlite_module, "_MIGRATIONS", later)
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", len(later))
    with SqliteRepository(path) as repository:
        assert list(Inventory(repository, clock=lambda: NOW).search()) == before
    with raw(path) as connection:
        versions = connection.execute("SELECT version FROM schema_version").fetchall()
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(records)")}
    assert versions == [(version,) for version in range(1, len(later) + 1)]
    assert "records_by_tag" in indexes


def test_a_file_of_version_2_gains_the_due_index_and_keeps_its_records(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files made before `records_due_by_status` are upgraded when opened."""
    with monkeypatch.context() as older:
        older.setattr(sqlite_module, "_MIGRATIONS", sqlite_module._MIGRATIONS[:2])
        older.setattr(sqlite_module, "SCHEMA_VERSION", 2)
        with SqliteRepository(path) as repository:
            before = list(populated(repository).search())
    with SqliteRepository(path) as repository:
        inventory = Inventory(repository, clock=lambda: LATER)
        assert [r.number for r in inventory.search()] == [r.number for r in before]
        due = repository.scan(Query(SITE, Status.COOLING, due_by=LATER))
        assert [record.number for record in due] == ["1001", "1010", "1011", "1012", "1013", "1014"]
    with raw(path) as connection:
        versions = connection.execute("SELECT version FROM schema_version").fetchall()
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(records)")}
    assert versions == [(1,), (2,), (3,)]
    assert "records_due_by_status" in indexes


def test_a_file_from_a_newer_numinv_is_refused_naming_both_versions(path: Path) -> None:
    SqliteRepository(path).close()
    with raw(path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, '2099-01-01')")
    with pytest.raises(InvalidInput, match=rf"schema version 99.*version {SCHEMA_VERSION}"):
        SqliteRepository(path)


def test_a_file_that_is_not_a_database_is_refused_naming_it(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite database, " * 100)
    with pytest.raises(InvalidInput, match=r"numbers\.db"):
        SqliteRepository(path)


def test_the_records_table_has_a_column_per_record_field(path: Path) -> None:
    SqliteRepository(path).close()
    with raw(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(records)")]
    assert columns == [field.name for field in attrs.fields(NumberRecord)]


def test_release_dates_are_stored_as_utc_text_that_sorts_as_time(path: Path) -> None:
    with SqliteRepository(path) as repository, repository.transaction() as tx:
        tx.insert([everything_set("1000")])
    with raw(path) as connection:
        (stored,) = connection.execute("SELECT release_date FROM records").fetchone()
    assert stored == "2026-03-03T12:00:00.000007+00:00"


# -- files -----------------------------------------------------------------------


def test_a_file_uses_write_ahead_logging(path: Path) -> None:
    with SqliteRepository(path) as repository:
        (mode,) = repository._db.connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_reopening_a_file_gives_back_identical_records(path: Path) -> None:
    with SqliteRepository(path) as repository:
        inventory = populated(repository)
        before = list(inventory.search())
        counts, due = repository.counts(), repository.due(datetime.max.replace(tzinfo=UTC), 999)
    with SqliteRepository(path) as repository:
        inventory = Inventory(repository, clock=lambda: NOW)
        assert list(inventory.search()) == before
        assert repository.counts() == counts
        assert repository.due(datetime.max.replace(tzinfo=UTC), 999) == due


def test_a_file_holds_the_same_records_as_the_memory_store(path: Path) -> None:
    with SqliteRepository(path) as repository:
        assert list(populated(repository).search()) == list(
            populated(InMemoryRepository()).search()
        )


def test_two_repositories_on_one_file_see_each_others_commits(path: Path) -> None:
    with SqliteRepository(path) as first, SqliteRepository(path) as second:
        Inventory(first).add_range(SITE, "1000", count=3)
        assert [record.number for record in second.scan(Query(SITE))] == ["1000", "1001", "1002"]


def test_compare_and_set_holds_across_connections(path: Path) -> None:
    with SqliteRepository(path) as first, SqliteRepository(path) as second:
        Inventory(first).add_range(SITE, "1000", count=1)
        seen = second.get("1000", SITE)
        assert seen is not None
        Inventory(first).reserve("1000", SITE, tag="first")
        with pytest.raises(ConcurrentUpdate), second.transaction() as tx:
            tx.replace([(seen, attrs.evolve(seen, tag="second", version=2))])
        assert first.get("1000", SITE) == second.get("1000", SITE)


def test_repr_names_the_path(path: Path) -> None:
    with SqliteRepository(path) as repository:
        assert repr(repository) == f"SqliteRepository({str(path)!r})"
    assert repr(SqliteRepository(":memory:")) == "SqliteRepository(':memory:')"


# -- driver errors -------------------------------------------------------------------


def test_a_writer_locked_out_too_long_gets_a_storage_error_naming_the_file(path: Path) -> None:
    with SqliteRepository(path) as holder, SqliteRepository(path, timeout=0.1) as waiter:
        with holder.transaction(), pytest.raises(StorageError, match="locked"):
            begin_and_commit(waiter)
        with waiter.transaction() as tx:  # usable again once the lock is free
            tx.insert([everything_set("1000")])


def begin_and_commit(repository: Repository) -> None:
    with repository.transaction():
        pass


def test_a_closed_repository_raises_storage_error(path: Path) -> None:
    repository = SqliteRepository(path)
    repository.close()
    with pytest.raises(StorageError, match="closed"):
        repository.get("1000", SITE)


_AFTER_CLOSE: dict[str, Callable[[Inventory], object]] = {
    "get": lambda inventory: inventory.get("1000", SITE),
    "update": lambda inventory: inventory.update("1000", SITE, tag="x"),
    "add_range": lambda inventory: inventory.add_range(SITE, "2000"),
    "assign_next": lambda inventory: inventory.assign_next(
        Consumer("device/cucm/Phone", "SEP1", SITE)
    ),
    "configure": lambda inventory: inventory.configure(SITE, cooling_days=3),
    "settings_at": lambda inventory: inventory.settings_at(SITE),
    "release_due": lambda inventory: inventory.release_due(),
    "prune_history": lambda inventory: inventory.prune_history(datetime(2026, 1, 1, tzinfo=UTC)),
    "changes": lambda inventory: inventory.changes(),
    "audit": lambda inventory: inventory.audit([]),
}


@pytest.mark.parametrize("memory", [False, True], ids=["file", "memory"])
@pytest.mark.parametrize("call", list(_AFTER_CLOSE), ids=list(_AFTER_CLOSE))
def test_every_call_on_a_closed_repository_says_it_is_closed(
    path: Path, memory: bool, call: str
) -> None:
    """Reads said so; a write, `settings_at` or an audit raised sqlite3's own error."""
    repository = SqliteRepository(":memory:" if memory else path)
    inventory = Inventory(repository)
    inventory.add_range(SITE, "1000")
    repository.close()
    with pytest.raises(StorageError, match="is closed"):
        _AFTER_CLOSE[call](inventory)


def test_a_path_sqlite_cannot_open_is_refused_naming_it(tmp_path: Path) -> None:
    """A lone surrogate (a file name not in UTF-8) raised UnicodeEncodeError."""
    for bad in (f"{tmp_path}/\udcff.db", f"file:{tmp_path}/\ud800.db"):
        with pytest.raises(InvalidInput, match="not a file path SQLite can open") as refused:
            SqliteRepository(bad)
        assert repr(bad) in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_naive_release_date_is_refused_naming_it() -> None:
    record = attrs.evolve(everything_set("1000"), release_date=datetime(2026, 3, 1))
    with SqliteRepository(":memory:") as repository:
        with pytest.raises(InvalidInput, match="2026, 3, 1"), repository.transaction() as tx:
            tx.insert([record])
        assert repository.get("1000", record.hierarchy) is None


@pytest.mark.parametrize("bad", [None, 42, b"x.db"])
def test_a_path_that_is_not_a_path_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInput):
        SqliteRepository(bad)


# -- every read has an index behind it -------------------------------------------------------


def traced(repository: SqliteRepository, read: Callable[[], object]) -> list[str]:
    """The SELECT statements a read runs."""
    statements: list[str] = []
    connections = {repository._db.connection, repository._db.reader}
    for connection in connections:
        connection.set_trace_callback(statements.append)
    try:
        read()
    finally:
        for connection in connections:
            connection.set_trace_callback(None)
    return [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]


READS: dict[str, Callable[[SqliteRepository], object]] = {
    "get": lambda r: r.get("1000", SITE),
    "holding": lambda r: r.holding("1000"),
    "within one node": lambda r: r.within(number_range("1000", "1049"), SITE),
    "within every node": lambda r: r.within(number_range("1000", "1049")),
    "scan": lambda r: r.scan(Query(SITE)),
    "scan after": lambda r: r.scan(Query(SITE, after="1010")),
    "scan prefix": lambda r: r.scan(Query(SITE, prefix="10")),
    "scan prefix after": lambda r: r.scan(Query(SITE, prefix="10", after="1010")),
    "scan status": lambda r: r.scan(Query(SITE, status=Status.AVAILABLE)),
    "scan status after": lambda r: r.scan(Query(SITE, status=Status.USED, after="1010")),
    "scan status prefix after": lambda r: r.scan(
        Query(SITE, status=Status.COOLING, prefix="10", after="1010")
    ),
    "due": lambda r: r.due(NOW, 10),
    "scan due": lambda r: r.scan(Query(SITE, Status.COOLING, due_by=LATER)),
    "scan due prefix after": lambda r: r.scan(
        Query(SITE, Status.RESERVED, prefix="10", after="1001", due_by=LATER)
    ),
    "with_e164": lambda r: r.with_e164("+442071239999"),
    "counts under": lambda r: r.counts(POOL),
    "nodes under": lambda r: r.nodes(POOL),
    "insert_range's check": lambda r: _load(r),
}


LATER = NOW + timedelta(days=30)  # every cooling and timed reservation of `populated` is due


def _load(repository: SqliteRepository) -> None:
    with repository.transaction() as tx:
        tx.insert_range(number_range("5000", count=10), everything_set("0", SITE))


@pytest.fixture
def indexed(path: Path) -> Iterator[SqliteRepository]:
    with SqliteRepository(path) as repository:
        populated(repository)
        yield repository


@pytest.mark.parametrize("read", READS)
def test_every_read_is_answered_by_an_index(indexed: SqliteRepository, read: str) -> None:
    statements = traced(indexed, lambda: READS[read](indexed))
    assert statements
    for sql in statements:
        plan = [row[3] for row in indexed._db.connection.execute(f"EXPLAIN QUERY PLAN {sql}")]
        scans = [
            step
            for step in plan
            if step.startswith("SCAN") and "INDEX" not in step and "(subquery" not in step
        ]
        assert scans == [], f"{read}: {sql}\n{plan}"
        assert any("USING" in step for step in plan), f"{read}: {sql}\n{plan}"


def test_listing_every_node_reads_the_node_table_not_the_records(
    indexed: SqliteRepository,
) -> None:
    for sql in traced(indexed, lambda: (indexed.nodes(), indexed.counts())):
        plan = " ".join(
            row[3] for row in indexed._db.connection.execute(f"EXPLAIN QUERY PLAN {sql}")
        )
        assert "records" not in plan
        assert "nodes" in plan


# -- threads ---------------------------------------------------------------------


def test_threads_sharing_one_repository_read_while_others_write(path: Path) -> None:
    with SqliteRepository(path) as repository:
        inventory = Inventory(repository)
        inventory.add_range(SITE, "1000", count=200)
        failures: list[BaseException] = []

        def read() -> None:
            try:
                for _ in range(50):
                    counts = repository.counts()[SITE]
                    assert sum(counts.values()) == 200
            except BaseException as error:
                failures.append(error)

        def write(worker: int) -> None:
            try:
                for n in range(25):
                    inventory.assign_next(Consumer("device/cucm/Phone", f"{worker}-{n}", SITE))
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=read) for _ in range(2)]
        threads += [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        assert repository.counts()[SITE][Status.USED] == 100


USES = st.builds(
    Use,
    kind=st.text(),
    consumer_id=st.text(),
    usage=st.sampled_from(Usage),
    vendor=st.text(),
    status=st.sampled_from(Status),
    hierarchy=st.text(),
)


class TestStoredUses:
    """Uses are written by hand for speed; they must stay what cattrs would write."""

    @given(st.lists(USES, max_size=3).map(tuple))
    def test_stored_uses_are_the_converters_form(self, uses: tuple[Use, ...]) -> None:
        text = rows_module._uses_text(uses)
        assert json.loads(text) == converter.unstructure(uses)
        assert converter.structure(json.loads(text), tuple[Use, ...]) == uses
        assert rows_module._uses_of(text) == uses

    @given(USES)
    def test_the_cooling_use_is_the_converters_form(self, use: Use) -> None:
        text = rows_module._use_text(use)
        assert text is not None
        assert json.loads(text) == converter.unstructure(use)
        assert rows_module._use_of(text) == use


@pytest.mark.parametrize(
    ("column", "value"), [("status", "Bogus"), ("uses", "not json"), ("usage", '["Nope"]')]
)
def test_a_row_edited_by_hand_into_no_record_is_a_storage_error_naming_it(
    tmp_path: Path, column: str, value: str
) -> None:
    """A raw KeyError or JSONDecodeError escaped, and the command line said `error: 'Bogus'`."""
    path = tmp_path / "edited.db"
    with SqliteRepository(str(path)) as repository:
        Inventory(repository).add_range("sys.a", "1000", count=2)
    with sqlite3.connect(path) as side:
        side.execute(f"UPDATE records SET {column} = ? WHERE number = ?", (value, "1001"))
    with SqliteRepository(str(path)) as repository:
        inventory = Inventory(repository)
        with pytest.raises(StorageError, match=r"the stored row of '1001' at 'sys\.a' is not"):
            inventory.get("1001", "sys.a")
        assert inventory.get("1000", "sys.a").number == "1000"


def test_settings_read_while_another_thread_configures_are_not_kept_for_good() -> None:
    """A private in-memory database shared by threads: settings read just before another
    thread's `configure` committed, and cached just after, were served from then on (the
    cache's version of them never moved), in write transactions too."""
    from numinv import DuplicateNumber, Inventory
    from numinv.storage.sqlite.statements import _ALL_SETTINGS

    repository = SqliteRepository(":memory:")
    inventory = Inventory(repository)
    db = repository._db
    real = db.rows
    configured: list[bool] = []

    def rows(sql: str, parameters: object) -> object:
        answer = real(sql, parameters)
        if sql == _ALL_SETTINGS and not configured:
            configured.append(True)
            other = threading.Thread(
                target=lambda: inventory.configure("sys", prevent_duplicates=True)
            )
            other.start()
            other.join(10)
        return answer

    db.rows = rows  # type: ignore[method-assign]
    assert repository.node_settings(None) == {}  # read before the configure committed
    db.rows = real  # type: ignore[method-assign]
    assert configured == [True]
    assert repository.node_settings(None) != {}
    inventory.add_range("sys.a", "1000")
    with pytest.raises(DuplicateNumber):
        inventory.add_range("sys.b", "1000")
