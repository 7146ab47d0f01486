"""What `PostgresRepository` adds to the contract: errors, text, locks, batches and the journal."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from numinv import ConcurrentUpdate, InvalidInput, NumberRecord, Status, StorageError, Usage, Use
from numinv.core.journal import Entry
from numinv.core.numbers import number_range
from numinv.storage.protocol import Query

NODE = "sys.acme.uk"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SQL = Callable[..., list[tuple[Any, ...]]]


def record(number: str, hierarchy: str = NODE, **fields: Any) -> NumberRecord:
    return NumberRecord(number=number, hierarchy=hierarchy, **fields)


def store(repository: Any, *records: NumberRecord) -> None:
    with repository.transaction() as tx:
        tx.insert(records)


# -- text PostgreSQL cannot keep -------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        record("1000", tag="a\x00b"),
        record("1000", "sys.a\x00b"),
        record("1000", e164=("+44\x00",)),
        record("1000", reserved_for="al\x00ice"),
        record("1000", uses=(Use("device/cucm/Phone", "SEP\x001", Usage.DEVICE),)),
        record("1000", extra9="lone \ud800 surrogate"),
    ],
    ids=["tag", "hierarchy", "e164", "reserved_for", "use", "surrogate"],
)
def test_a_record_with_text_postgres_cannot_keep_is_invalid_input(
    repository: Any, bad: NumberRecord
) -> None:
    for write in (
        lambda tx: tx.insert([bad]),
        lambda tx: tx.insert([bad, record("1001")]),
        lambda tx: tx.insert_range(number_range("1000", count=3), bad),
    ):
        with pytest.raises(InvalidInput), repository.transaction() as tx:
            write(tx)
    assert repository.nodes() == []


def test_a_replacement_holding_nul_is_invalid_input_and_changes_nothing(repository: Any) -> None:
    store(repository, record("1000"))
    with pytest.raises(InvalidInput), repository.transaction() as tx:
        tx.replace([(record("1000"), record("1000", description="x\x00", version=2))])
    assert repository.get("1000", NODE) == record("1000")


def test_a_name_too_long_for_an_index_entry_is_invalid_input_and_changes_nothing(
    repository: Any,
) -> None:
    """The inventory refuses such names (`checks.MAX_NAME`); a host writing to the store
    itself hears the same refusal from PostgreSQL's index size limit."""
    store(repository, record("1000"))
    # 3,000 bytes that do not compress: over a btree entry's 2,704
    huge = "".join(chr(0x4E00 + index * 7919 % 20000) for index in range(1000))
    with pytest.raises(InvalidInput, match="too long"), repository.transaction() as tx:
        tx.insert([record("1001", status=Status.RESERVED, reserved_for=huge)])
    assert repository.get("1001", NODE) is None
    assert repository.held_by(huge) == []


@pytest.mark.parametrize("bad", ["nul\x00", "lone \ud800"], ids=["nul", "surrogate"])
def test_a_read_for_text_no_record_can_hold_finds_nothing(repository: Any, bad: str) -> None:
    store(repository, record("1000"))
    assert repository.get("1000", bad) is None
    assert repository.held_by(bad) == []
    assert repository.nodes(bad) == []
    with repository.transaction() as tx:
        assert tx.holding(bad) == []
        tx.insert([record("1001")])
    assert repository.get("1001", NODE) == record("1001")


def test_a_journal_entry_with_nul_in_its_actor_is_invalid_input(repository: Any) -> None:
    def add(tx: Any) -> None:
        tx.insert([record("1000")])
        tx.journal([Entry("add", None, record("1000"), NOW, "ad\x00min")])

    with pytest.raises(InvalidInput), repository.transaction() as tx:
        add(tx)
    assert repository.changes(0, 10) == []


# -- errors ---------------------------------------------------------------------------


def test_a_serialization_failure_is_a_concurrent_update(repository: Any) -> None:
    forced = "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END $$"
    with pytest.raises(ConcurrentUpdate), repository.transaction() as tx:
        tx._execute(forced)


def test_a_deadlock_is_a_concurrent_update_for_one_writer(repository: Any) -> None:
    store(repository, record("1000"), record("1001"))
    both_hold = threading.Barrier(2)
    outcomes: list[str] = []

    def write(first: str, second: str) -> None:
        try:
            with repository.transaction() as tx:
                tx.replace([(record(first), record(first, tag="mine", version=2))])
                both_hold.wait(10)
                tx.replace([(record(second), record(second, tag="mine", version=2))])
            outcomes.append("stored")
        except ConcurrentUpdate:
            outcomes.append("lost")
        except BaseException as error:
            outcomes.append(repr(error))

    writers = [
        threading.Thread(target=write, args=("1000", "1001")),
        threading.Thread(target=write, args=("1001", "1000")),
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert sorted(outcomes) == ["lost", "stored"]


def test_a_row_lock_held_too_long_is_a_storage_error(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema, lock_timeout=0.2) as repository:
        store(repository, record("1000"))
        import psycopg

        with psycopg.connect(postgres_url) as holder:
            holder.execute(f'SELECT * FROM "{schema}".records FOR UPDATE')
            with pytest.raises(StorageError, match="lock"), repository.transaction() as tx:
                tx.replace([(record("1000"), record("1000", version=2))])
            holder.rollback()
        assert repository.get("1000", NODE) == record("1000")


def test_a_statement_the_server_cancels_is_a_storage_error_saying_so(
    postgres_url: str, schema: str
) -> None:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from numinv.storage.postgres import PostgresRepository

    hasty = make_conninfo(postgres_url, options="-c statement_timeout=200")
    with PostgresRepository(hasty, schema=schema, lock_timeout=30) as repository:
        store(repository, record("1000"))
        with psycopg.connect(postgres_url) as holder:
            holder.execute(f'SELECT * FROM "{schema}".records FOR UPDATE')
            with pytest.raises(StorageError) as refused, repository.transaction() as tx:
                tx.replace([(record("1000"), record("1000", version=2))])
            holder.rollback()
        assert "cancelled a statement" in str(refused.value)
        assert "statement timeout" in str(refused.value)
        assert "lock another" not in str(refused.value)  # not the lock wait it did not run out of
        assert repository.get("1000", NODE) == record("1000")


def test_a_range_loaded_by_another_writer_meanwhile_is_a_concurrent_update(
    repository: Any,
) -> None:
    first_loaded = threading.Event()
    second_started = threading.Event()
    outcomes: list[str] = []

    def first() -> None:
        with repository.transaction() as tx:
            tx.insert_range(number_range("1000", count=50), record("0"))
            first_loaded.set()
            second_started.wait(10)

    def second() -> None:
        first_loaded.wait(10)
        try:
            with repository.transaction() as tx:
                second_started.set()  # its COPY now waits for the first to commit
                tx.insert_range(number_range("1040", count=20), record("0"))
            outcomes.append("stored")
        except ConcurrentUpdate:
            outcomes.append("lost")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["lost"]
    assert len(repository.within(number_range("1000", count=60))) == 50


def test_a_transaction_whose_statement_failed_refuses_to_commit(repository: Any) -> None:
    forced = "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40P01'; END $$"

    def add_and_lose(tx: Any) -> None:
        tx.insert([record("1000")])
        with pytest.raises(ConcurrentUpdate):
            tx._execute(forced)

    with pytest.raises(StorageError, match="rolled it back"), repository.transaction() as tx:
        add_and_lose(tx)  # the caller swallowed the error and left the block cleanly
    assert repository.get("1000", NODE) is None


def test_a_connection_stays_usable_after_a_statement_fails_again_and_again(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    """A statement that fails in a pipeline skips those queued after it; psycopg must not
    be left believing one of those was prepared (every later use would fail)."""
    from numinv import Consumer, Inventory
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema, pool_size=1) as repository:
        inventory = Inventory(repository)
        inventory.add_range(NODE, "1000", count=20)
        sql(
            f'CREATE FUNCTION "{schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$ '
            "BEGIN RAISE EXCEPTION 'refused'; END $$"
        )
        sql(
            f'CREATE TRIGGER refuse BEFORE INSERT ON "{schema}".holders FOR EACH ROW '
            f"WHEN (NEW.who = 'refused') EXECUTE FUNCTION \"{schema}\".refuse()"
        )
        refused = Consumer("device/cucm/Phone", "refused", NODE)
        for attempt in range(8):  # past psycopg's threshold for preparing a statement
            with pytest.raises(StorageError, match="refused"):
                inventory.assign(f"10{attempt:02d}", refused)
        for attempt in range(8):
            phone = Consumer("device/cucm/Phone", f"SEP{attempt}", NODE)
            assert inventory.assign(f"10{attempt:02d}", phone).status is Status.USED
        assert repository.counts(NODE)[NODE][Status.USED] == 8


def test_an_unreachable_server_is_a_storage_error(schema: str) -> None:
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(StorageError, match="cannot connect"):
        PostgresRepository("postgresql://numinv:secret@127.0.0.1:1/nowhere", timeout=2)


def test_a_silent_server_is_given_up_after_the_urls_connect_timeout(schema: str) -> None:
    import socket
    import time

    from numinv.storage.postgres import PostgresRepository

    with socket.socket() as silent:  # takes connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StorageError, match="cannot connect"):
            PostgresRepository(
                f"postgresql://numinv@127.0.0.1:{port}/x?connect_timeout=2", timeout=60
            )
        assert time.monotonic() - started < 30  # the URL's 2 s, not the 60 s of `timeout`


def test_a_storage_error_never_shows_the_password(schema: str) -> None:
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(StorageError) as refused:
        PostgresRepository("postgresql://numinv:secret@127.0.0.1:1/nowhere", timeout=2)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    ("conninfo", "secret"),
    [
        ("postgresql://app:hunter%zz2@127.0.0.1:1/x", "hunter"),
        ("postgresql://app@127.0.0.1:1/x?password=s3cr%zzet", "s3cr"),
        ("host=127.0.0.1 password=top secret", "secret"),
    ],
)
def test_a_connection_string_libpq_cannot_parse_is_refused_without_its_password(
    conninfo: str, secret: str
) -> None:
    """libpq quotes the token it cannot parse, which may be the password itself."""
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(InvalidInput, match="not a PostgreSQL connection string") as refused:
        PostgresRepository(conninfo, timeout=1)
    assert secret not in str(refused.value)
    assert refused.value.__cause__ is None  # the driver's own message stays out too


def test_a_malformed_connection_string_is_invalid_input() -> None:
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(InvalidInput):
        PostgresRepository("no_such_option=1")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://numinv:secret@127.0.0.1:abc/db",
        "postgresql://numinv:secret@127.0.0.1:5432/db?sslmode=bogus",
        "postgresql://numinv:secret@127.0.0.1:5432/db?target_session_attrs=whichever",
    ],
)
def test_a_malformed_option_in_the_url_is_invalid_input_not_a_storage_error(url: str) -> None:
    """A port of letters is the host's typing, not a server that cannot be reached."""
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(InvalidInput, match="not a PostgreSQL connection string") as refused:
        PostgresRepository(url, timeout=2)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    "name",
    ["", "x" * 64, 42, "nul\x00", "100%", "a%sb", "pg_mine", "pg_temp", "a{rows}b", "$$", "a$$b"],
)
def test_a_schema_that_is_not_a_name_is_invalid_input(postgres_url: str, name: Any) -> None:
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(InvalidInput):
        PostgresRepository(postgres_url, schema=name)


def test_a_closed_repository_is_a_storage_error(postgres_url: str, schema: str) -> None:
    from numinv.storage.postgres import PostgresRepository

    repository = PostgresRepository(postgres_url, schema=schema)
    repository.close()
    with pytest.raises(StorageError, match="closed"):
        repository.get("1000", NODE)
    with pytest.raises(StorageError, match="closed"), repository.transaction():
        pass


# -- transactions and locks ------------------------------------------------------------


def test_a_read_on_the_thread_holding_a_transaction_reads_inside_it(repository: Any) -> None:
    seen_elsewhere: list[NumberRecord | None] = []
    with repository.transaction() as tx:
        tx.insert([record("1000")])
        assert repository.get("1000", NODE) == record("1000")
        assert repository.counts() == {
            NODE: {status: int(status is Status.AVAILABLE) for status in Status}
        }
        reader = threading.Thread(
            target=lambda: seen_elsewhere.append(repository.get("1000", NODE))
        )
        reader.start()
        reader.join(10)
    assert seen_elsewhere == [None]


def test_claims_of_two_transactions_skip_each_others_rows(repository: Any) -> None:
    with repository.transaction() as tx:
        tx.insert_range(number_range("1000", count=5), record("0"))
    first_claimed = threading.Event()
    done = threading.Event()
    claims: list[list[str]] = []

    def claim_and_hold() -> None:
        with repository.transaction() as tx:
            claims.append(
                [found.number for found in tx.claim(Query(NODE, Status.AVAILABLE, limit=2))]
            )
            first_claimed.set()
            done.wait(10)

    holder = threading.Thread(target=claim_and_hold)
    holder.start()
    first_claimed.wait(10)
    with repository.transaction() as tx:
        claims.append([found.number for found in tx.claim(Query(NODE, Status.AVAILABLE, limit=2))])
    done.set()
    holder.join(10)
    assert claims == [["1000", "1001"], ["1002", "1003"]]


def test_a_claimed_row_changed_in_its_transaction_reads_back_there_and_after(
    repository: Any,
) -> None:
    store(repository, record("1000"), record("1001"))
    with repository.transaction() as tx:
        (claimed,) = tx.claim(Query(NODE, Status.AVAILABLE, limit=1))
        taken = attrs.evolve(claimed, status=Status.RESERVED, version=2)
        tx.replace([(claimed, taken)])  # locked: sent with the next statement
        assert tx.get("1000", NODE) == taken
        again = attrs.evolve(taken, tag="twice", version=3)
        tx.replace([(taken, again)])
    assert repository.get("1000", NODE) == again
    assert repository.counts()[NODE][Status.RESERVED] == 1


def test_a_stale_replace_of_a_row_not_locked_is_refused_at_once(repository: Any) -> None:
    store(repository, record("1000", version=2))
    with repository.transaction() as tx:
        with pytest.raises(ConcurrentUpdate):
            tx.replace([(record("1000"), record("1000", tag="late", version=2))])
        tx.insert([record("1001")])  # the refusal left the transaction usable
    assert repository.get("1000", NODE) == record("1000", version=2)
    assert repository.get("1001", NODE) == record("1001")


def test_a_row_changed_in_a_refused_batch_is_changed_again_from_what_is_stored(
    repository: Any,
) -> None:
    store(repository, record("1000"), record("1001", version=5))
    with repository.transaction() as tx:
        held = tx.get("1000", NODE)  # locked at version 1
        batch = [
            (held, record("1000", tag="a", version=2)),
            (record("1000", tag="a", version=2), record("1000", tag="b", version=3)),
            (record("1001", version=4), record("1001", version=5)),  # stale
        ]
        with pytest.raises(ConcurrentUpdate):
            tx.replace(batch)
        # The batch was taken back: 1000 is at version 1 again, and changes from there.
        with pytest.raises(ConcurrentUpdate):
            tx.replace([(record("1000", tag="b", version=3), record("1000", version=4))])
        tx.replace([(held, record("1000", tag="c", version=2))])
    assert repository.get("1000", NODE) == record("1000", tag="c", version=2)


def test_a_held_row_found_changed_is_a_storage_error_and_nothing_is_stored(
    repository: Any,
) -> None:
    store(repository, record("1000"))

    def lose_track() -> None:
        with repository.transaction() as tx:
            tx.get("1000", NODE)
            tx._open.mine[("1000", NODE)] = 7  # as if it had lost track of the version
            tx.replace([(record("1000", version=7), record("1000", tag="x", version=8))])
            tx.insert([record("1001")])

    with pytest.raises(StorageError, match="holds locked"):
        lose_track()
    assert repository.get("1000", NODE) == record("1000")
    assert repository.get("1001", NODE) is None


def test_a_locked_row_and_its_index_entries_change_in_one_statement(repository: Any) -> None:
    phone = Use("device/cucm/Phone", "SEP1", Usage.DEVICE, owner="alice")
    old = record("1000", e164=("+441", "+442"), uses=(phone,), status=Status.USED)
    store(repository, old)
    moved = Use("device/cucm/Phone", "SEP2", Usage.DEVICE, owner="alice")
    new = attrs.evolve(old, e164=("+442", "+443"), uses=(moved,), version=2)
    with repository.transaction() as tx:
        assert tx.get("1000", NODE) == old  # locked: its replace goes with the next statement
        tx.replace([(old, new)])
        assert tx.held_by("SEP2") == [new]
    assert repository.with_e164("+443") == [new]
    assert repository.with_e164("+442") == [new]
    assert repository.with_e164("+441") == []
    assert repository.held_by("SEP1") == []
    assert repository.held_by("SEP2") == [new]
    assert repository.held_by("alice") == [new]


def test_a_held_row_found_changed_takes_its_index_entries_with_it(repository: Any) -> None:
    store(repository, record("1000", e164=("+441",)))

    def lose_track() -> None:
        with repository.transaction() as tx:
            tx.get("1000", NODE)
            tx._open.mine[("1000", NODE)] = 7  # as if it had lost track of the version
            taken = record("1000", reserved_for="bob", e164=("+442",), version=8)
            tx.replace([(record("1000", e164=("+441",), version=7), taken)])
            tx.insert([record("1001")])

    with pytest.raises(StorageError, match="holds locked"):
        lose_track()
    assert repository.held_by("bob") == []
    assert repository.with_e164("+442") == []
    assert [r.key for r in repository.with_e164("+441")] == [("1000", NODE)]


def test_the_earliest_release_read_with_begin_is_forgotten_at_the_first_write(
    repository: Any,
) -> None:
    later, sooner = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    store(repository, record("1000", status=Status.COOLING, release_date=later))
    with repository.transaction() as tx:
        assert tx.next_release() == later
        tx.insert([record("1001", status=Status.COOLING, release_date=sooner)])
        assert tx.next_release() == sooner
    with repository.transaction() as tx:
        tx.insert([record("1002")])  # a write before any read
        assert tx.next_release() == sooner


def test_a_journal_waits_for_an_earlier_journal_to_commit(repository: Any) -> None:
    journaled = threading.Event()
    release = threading.Event()
    later: list[int] = []

    def first() -> None:
        with repository.transaction() as tx:
            tx.insert([record("1000")])
            tx.journal([Entry("add", None, record("1000"), NOW)])
            journaled.set()
            release.wait(10)

    def second() -> None:
        journaled.wait(10)
        with repository.transaction() as tx:
            tx.insert([record("1001")])
            later.append(tx.journal([Entry("add", None, record("1001"), NOW)]))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    journaled.wait(10)
    threads[1].join(0.5)
    # The second writer cannot take a seq while the first holds its journal open.
    assert later == []
    assert repository.changes(0, 10) == []
    release.set()
    for thread in threads:
        thread.join(10)
    assert later == [2]
    assert [change.number for change in repository.changes(0, 10)] == ["1000", "1001"]


def add_journaled_at_commit(repository: Any, added: NumberRecord, actor: str | None = None) -> None:
    with repository.transaction() as tx:
        tx.insert([added])
        tx.journal_at_commit([Entry("add", None, added, NOW, actor)])


def test_a_journal_kept_for_the_commit_takes_its_seq_at_the_commit(repository: Any) -> None:
    kept = threading.Event()
    release = threading.Event()

    def first() -> None:
        with repository.transaction() as tx:
            tx.insert([record("1000")])
            tx.journal_at_commit([Entry("add", None, record("1000"), NOW)])
            kept.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    assert kept.wait(10)
    # Nothing of the first writer's journal is sent yet, so nothing waits for it.
    with repository.transaction() as tx:
        tx.insert([record("1001")])
        assert tx.journal([Entry("add", None, record("1001"), NOW)]) == 1
    release.set()
    thread.join(10)
    assert [(c.seq, c.number) for c in repository.changes(0, 10)] == [(1, "1001"), (2, "1000")]


def test_a_journal_that_cannot_be_written_at_the_commit_fails_it(
    postgres_url: str, schema: str
) -> None:
    import psycopg

    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema, lock_timeout=0.2) as repository:
        with psycopg.connect(postgres_url) as holder:
            holder.execute(f'UPDATE "{schema}".journal_seq SET last = last')  # its row locked
            with pytest.raises(StorageError, match="lock"):
                add_journaled_at_commit(repository, record("1000"))
            holder.rollback()
        assert repository.get("1000", NODE) is None
        assert repository.changes(0, 10) == []
        add_journaled_at_commit(repository, record("1000"))  # the connection given back works
        assert [c.number for c in repository.changes(0, 10)] == ["1000"]


def test_a_journal_for_the_commit_with_text_postgres_cannot_keep_is_refused_at_once(
    repository: Any,
) -> None:
    with pytest.raises(InvalidInput, match="actor"):
        add_journaled_at_commit(repository, record("1000"), actor="a\x00b")
    assert repository.get("1000", NODE) is None


def test_a_large_journal_for_the_commit_goes_in_by_copy(repository: Any) -> None:
    from numinv.storage.postgres.statements import _COPY_AT

    entries = [Entry("add", None, record(f"{n:05d}"), NOW) for n in range(_COPY_AT + 1)]
    with repository.transaction() as tx:
        tx.journal([Entry("add", None, record("99999"), NOW)])
        tx.journal_at_commit(entries)
    changes = repository.changes(1, _COPY_AT + 10)
    assert [c.seq for c in changes] == list(range(2, _COPY_AT + 3))
    assert [c.number for c in changes] == [entry.after.number for entry in entries]


def test_a_large_batch_goes_in_by_copy_and_reads_back(repository: Any) -> None:
    loaded = [
        record(str(n), tag="tab\there", description="line\nbreak \\ back", e164=(f"+44{n}",))
        for n in range(10_000, 11_200)
    ]
    store(repository, *loaded)
    assert repository.scan(Query(NODE, limit=2000)) == loaded
    assert repository.with_e164("+4410500") == [loaded[500]]


def test_a_large_batch_holding_a_taken_key_is_refused_and_changes_nothing(
    repository: Any,
) -> None:
    store(repository, record("10600"))
    with pytest.raises(ConcurrentUpdate) as refused, repository.transaction() as tx:
        tx.insert([record(str(n)) for n in range(10_000, 11_200)])
    assert refused.value.number == "10600"
    assert repository.counts() == {
        NODE: {status: int(status is Status.AVAILABLE) for status in Status}
    }


def test_a_large_replacement_and_deletion_go_in_one_statement_each(repository: Any) -> None:
    loaded = [record(str(n)) for n in range(10_000, 10_700)]
    store(repository, *loaded)
    with repository.transaction() as tx:
        tx.replace([(old, attrs.evolve(old, status=Status.RESERVED, version=2)) for old in loaded])
    reserved = repository.scan(Query(NODE, Status.RESERVED, limit=1000))
    assert len(reserved) == 700
    with repository.transaction() as tx:
        tx.delete(reserved[:600])
    assert len(repository.scan(Query(NODE, limit=1000))) == 100
    assert repository.retired(number_range("10000", count=700), NODE)["10599"] == 2


def test_a_large_journal_batch_goes_in_by_copy(repository: Any) -> None:
    loaded = [record(str(n)) for n in range(10_000, 10_600)]
    with repository.transaction() as tx:
        tx.insert(loaded)
        first = tx.journal([Entry("add", None, found, NOW, "bulk") for found in loaded])
    assert first == 1
    changes = repository.changes(0, 1000)
    assert [change.after for change in changes] == loaded
    assert {change.actor for change in changes} == {"bulk"}


# -- the package ---------------------------------------------------------------------


def test_numinv_exports_the_postgres_repository() -> None:
    import numinv
    from numinv.storage.postgres import PostgresRepository

    assert numinv.PostgresRepository is PostgresRepository


def test_importing_numinv_does_not_import_psycopg() -> None:
    script = "import sys, numinv; print('psycopg' in sys.modules, 'psycopg_pool' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("subscribed", [False, True], ids=["at the commit", "answered"])
@pytest.mark.parametrize("count", [1, 3000], ids=["one", "by copy"])
def test_a_change_without_the_journals_sequence_row_is_refused_not_left_unjournaled(
    postgres_url: str, schema: str, sql: Any, subscribed: bool, count: int
) -> None:
    """An operator's `TRUNCATE journal, journal_seq` left the update that numbers entries
    matching nothing: changes committed with no entry (or a raw ValueError escaped)."""
    from numinv import Consumer, Inventory
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        inventory = Inventory(repository)
        inventory.add_range("sys.a", "1000", count=5)
        if subscribed:
            inventory.subscribe(lambda event: None)
        sql(f'TRUNCATE "{schema}".journal, "{schema}".journal_seq')
        with pytest.raises(StorageError, match=r"journal's sequence row .* is missing"):
            inventory.add_range("sys.b", "2000", count=count)
        with pytest.raises(StorageError, match=r"journal's sequence row .* is missing"):
            inventory.assign_next(Consumer("device/cucm/Phone", "SEP1", "sys.a"))
        assert [r.status for r in inventory.search()] == [Status.AVAILABLE] * 5
    with pytest.raises(StorageError, match=r"journal's sequence row .* is missing"):
        PostgresRepository(postgres_url, schema=schema)


def _named(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def _terminate(sql: Any, name: str) -> list[int]:
    """End the backends named `name`; the pids told to end."""
    return [
        pid
        for pid, _ in sql(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s",
            name,
        )
    ]


def _terminated(sql: Any, name: str) -> int:
    """`_terminate`, then wait until those backends are gone: a backend told to end may
    still answer a moment (a pool's check then finds its connection alive). Only the
    pids ended are waited for: the pool may open new connections of the same name
    meanwhile, as it replaces broken ones in the background."""
    import time

    ended = _terminate(sql, name)
    deadline = time.monotonic() + 10
    while sql("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", ended):
        assert time.monotonic() < deadline, f"the backends {ended} did not end"
        time.sleep(0.01)
    return len(ended)


def _settled(repository: Any) -> None:
    """Wait until every connection of the pool is in it, idle: none in use, none being
    opened in the background (the pool replaces a broken one so; one opened after a
    `_terminate` would survive it)."""
    import time

    deadline = time.monotonic() + 10
    while (stats := repository._db.pool.get_stats())["pool_size"] != stats["pool_available"]:
        assert time.monotonic() < deadline, f"the pool did not settle: {stats}"
        time.sleep(0.01)


def _killer_at_the_trigger(sql: Any, name: str) -> threading.Thread:
    """A thread ending the backends named `name` once one of them sleeps in the slow
    trigger, that is, inside its `COMMIT` (a fixed delay ended them too early on a
    loaded machine, before the commit was sent)."""
    import time

    def kill() -> None:
        deadline = time.monotonic() + 20
        while not sql(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND wait_event = 'PgSleep'",
            name,
        ):
            if time.monotonic() > deadline:
                return  # the test then fails on its own assertion
            time.sleep(0.01)
        _terminate(sql, name)

    return threading.Thread(target=kill)


def test_after_the_servers_connections_end_one_call_fails_and_reads_go_on(
    postgres_url: str, schema: str, sql: Any
) -> None:
    """A restart or an idle timeout ends every pooled connection: each used to fail one
    call in turn (six connections, six failures). A read is asked again on a fresh
    connection; the pool drops every broken connection at the first failure."""
    from numinv import Consumer, Inventory
    from numinv.storage.postgres import PostgresRepository

    name = f"numinv-{schema}"[:60]
    with PostgresRepository(_named(postgres_url, name), schema=schema, pool_size=3) as repo:
        inventory = Inventory(repo)
        inventory.add_range("sys.a", "1000", count=10)
        ready, go = threading.Barrier(4), threading.Event()

        def hold(number: str) -> None:
            with repo.transaction() as tx:
                tx.get(number, "sys.a")
                ready.wait(10)
                go.wait(10)

        holders = [threading.Thread(target=hold, args=(f"100{n}",)) for n in range(3)]
        for holder in holders:
            holder.start()
        ready.wait(10)  # three connections in use at once: three in the pool afterwards
        go.set()
        for holder in holders:
            holder.join(10)
        _settled(repo)
        assert _terminated(sql, name) == 3

        assert [inventory.get("1000", "sys.a").number for _ in range(3)] == ["1000"] * 3
        _settled(repo)
        assert _terminated(sql, name) >= 1
        outcomes = []
        for n in range(3):
            try:
                inventory.assign_next(Consumer("device/cucm/Phone", f"SEP{n}", "sys.a"))
                outcomes.append("assigned")
            except StorageError:
                outcomes.append("failed")
        assert outcomes.count("failed") <= 1
        assert outcomes[-1] == "assigned"


def test_a_pool_with_every_connection_in_use_says_so(postgres_url: str, schema: str) -> None:
    """The pool's own error names no cause; a full pool is told from a refusing server."""
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema, pool_size=1, timeout=0.5) as repo:
        held, done = threading.Event(), threading.Event()

        def hold() -> None:
            with repo.transaction() as tx:
                tx.get("1000", NODE)
                held.set()
                done.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(10)
            with pytest.raises(StorageError) as refused:
                repo.get("1000", NODE)
        finally:
            done.set()
            holder.join(10)
        assert "no connection within 0.5 s: all 1 connections of the pool are in use" in str(
            refused.value
        )
        assert repo.get("1000", NODE) is None  # the connection is back


def test_a_connection_slower_to_open_than_the_timeout_says_so(
    postgres_url: str, schema: str
) -> None:
    """With no connection in use, the pool that could not open one within `timeout` was
    said to have every connection in use, and the advice was a larger pool."""
    from numinv.storage.postgres import PostgresRepository

    PostgresRepository(postgres_url, schema=schema).close()  # the schema, made
    threads = set(threading.enumerate())
    with pytest.raises(StorageError) as refused:
        PostgresRepository(postgres_url, schema=schema, timeout=0.0001)
    said = str(refused.value)
    assert "opening a connection takes longer than that" in said, said
    assert "give a longer timeout" in said
    assert "in use" not in said
    # The pool that could not open is closed: none of its threads go on trying.
    assert [thread.name for thread in set(threading.enumerate()) - threads] == []


def test_a_server_refusing_new_connections_says_why(
    postgres_url: str, schema: str, sql: Any
) -> None:
    """After the connections end, the pool cannot make new ones: the reason the server
    gives (here: the role may no longer log in) reaches the caller, not only a log."""
    from psycopg.conninfo import make_conninfo

    from numinv.storage.postgres import PostgresRepository

    role = f"numinv_{schema}"[:60]
    sql(f"CREATE ROLE {role} LOGIN PASSWORD 'very-secret'")
    sql(
        f"DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO {role}', "
        "current_database()); END $$"
    )
    url = make_conninfo(postgres_url, user=role, password="very-secret")
    try:
        with PostgresRepository(url, schema=schema, pool_size=1, timeout=1) as repo:
            assert repo.get("1000", NODE) is None
            sql(f"ALTER ROLE {role} NOLOGIN")
            sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", role)
            with pytest.raises(StorageError) as refused:
                repo.get("1000", NODE)
        message = str(refused.value)
        assert "the server refuses new connections" in message
        assert "not permitted to log in" in message
        assert "very-secret" not in message
    finally:
        sql(f"DROP OWNED BY {role} CASCADE")
        sql(f"DROP ROLE {role}")


@pytest.mark.slow
def test_a_server_back_after_an_outage_is_used_again_within_seconds(
    postgres_url: str, schema: str, sql: Any
) -> None:
    """psycopg_pool doubles its wait between attempts to connect, up to a minute: after a
    16 s outage, a server back was not asked again for 15 s, and every call in between
    was told that all connections of the pool were in use (none was)."""
    import time

    from psycopg.conninfo import make_conninfo

    from numinv.storage.postgres import PostgresRepository

    role = f"numinv_o_{schema}"[:60]
    sql(f"CREATE ROLE {role} LOGIN")
    sql(
        f"DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO {role}', "
        "current_database()); END $$"
    )
    told: list[str] = []
    try:
        url = make_conninfo(postgres_url, user=role)
        with PostgresRepository(url, schema=schema, pool_size=1, timeout=1) as repo:
            assert repo.get("1000", NODE) is None
            sql(f"ALTER ROLE {role} NOLOGIN")  # the outage: no connection can be opened
            sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", role)
            back = time.monotonic() + 16
            while time.monotonic() < back:
                with pytest.raises(StorageError) as refused:
                    repo.get("1000", NODE)
                told.append(str(refused.value))
            sql(f"ALTER ROLE {role} LOGIN")

            for _ in range(6):  # each waits a second for a connection
                try:
                    assert repo.get("1000", NODE) is None
                    break
                except StorageError as error:
                    told.append(str(error))
            else:
                pytest.fail(f"no call succeeded in 6 s after the outage: {told[-1]}")
    finally:
        sql(f"DROP OWNED BY {role} CASCADE")
        sql(f"DROP ROLE {role}")
    assert all("the server refuses new connections" in said for said in told[:5]), told[:5]
    assert not [said for said in told if "connections of the pool are in use" in said]


def test_a_connection_lost_while_committing_says_the_outcome_is_unknown(
    postgres_url: str, schema: str, sql: Any
) -> None:
    """A retry after such a failure may do the change twice: the message must not say
    'nothing was stored'."""
    from numinv import Consumer, Inventory
    from numinv.storage.postgres import PostgresRepository

    name = f"numinv-c-{schema}"[:60]
    with PostgresRepository(_named(postgres_url, name), schema=schema) as repo:
        inventory = Inventory(repo)
        inventory.add_range("sys.a", "1000", count=2)
        sql(  # the commit waits here, as it would for a standby or a slow disk
            f'CREATE FUNCTION "{schema}".slow() RETURNS trigger LANGUAGE plpgsql AS '
            "$$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$"
        )
        sql(
            f'CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON "{schema}".records '
            f'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".slow()'
        )
        killer = _killer_at_the_trigger(sql, name)
        killer.start()
        try:
            with pytest.raises(StorageError, match="may or may not be stored") as refused:
                inventory.assign_next(Consumer("device/cucm/Phone", "SEP1", "sys.a"))
        finally:
            killer.join()
        assert "nothing was stored" not in str(refused.value)


def test_which_failures_of_a_commit_leave_its_outcome_unknown() -> None:
    """Killed while the answers to a pipelined `COMMIT` came back, psycopg raised "cannot
    exit pipeline mode while busy" before the connection showed itself broken: the
    change had committed, and the error said nothing of it (a retry took a second
    number)."""
    import psycopg
    from psycopg import errors as pg

    from numinv.storage.postgres.connections import _lost_in_flight

    assert _lost_in_flight(psycopg.OperationalError("cannot exit pipeline mode while busy"))
    assert _lost_in_flight(pg.AdminShutdown())
    assert _lost_in_flight(pg.lookup("08006")())  # connection failure
    assert not _lost_in_flight(pg.QueryCanceled())  # a cancelled statement never commits
    assert not _lost_in_flight(pg.LockNotAvailable())
    assert not _lost_in_flight(pg.UniqueViolation())
    assert not _lost_in_flight(None)


@pytest.mark.parametrize(
    ("column", "value"), [("status", "Bogus"), ("uses", "not json"), ("usage", '["Nope"]')]
)
def test_a_row_edited_by_hand_into_no_record_is_a_storage_error_naming_it(
    repository: Any, schema: str, sql: Any, column: str, value: str
) -> None:
    """A raw KeyError or JSONDecodeError escaped, and the command line said `error: 'Bogus'`."""
    from numinv import Inventory

    Inventory(repository).add_range("sys.a", "1000", count=2)
    sql(f'UPDATE "{schema}".records SET {column} = %s WHERE number = %s', value, "1001")
    with pytest.raises(StorageError, match=r"the stored row of '1001' at 'sys\.a' is not a record"):
        Inventory(repository).get("1001", "sys.a")
    with pytest.raises(StorageError, match=r"'1001' at 'sys\.a'"):
        list(Inventory(repository).search())
    assert Inventory(repository).get("1000", "sys.a").number == "1000"


def test_an_empty_journal_call_without_the_sequence_row_is_a_storage_error(
    repository: Any, schema: str, sql: Any
) -> None:
    sql(f'DELETE FROM "{schema}".journal_seq')
    with (
        pytest.raises(StorageError, match="journal's sequence row"),
        repository.transaction() as tx,
    ):
        tx.journal([])


def test_a_hosts_commit_of_unknown_outcome_announces_nothing_and_stalls_nothing(
    postgres_url: str, schema: str, sql: Any
) -> None:
    """Events of calls in a host's transaction wait for its commit (decision 126); a commit
    whose outcome is unknown counts as not made: nothing is announced, and the events of
    later calls still go out."""
    from numinv import Consumer, Event, Inventory
    from numinv.storage.postgres import PostgresRepository

    name = f"numinv-h-{schema}"[:60]
    with PostgresRepository(_named(postgres_url, name), schema=schema) as repo:
        inventory = Inventory(repo)
        inventory.add_range("sys.a", "1000", count=3)
        heard: list[Event] = []
        inventory.subscribe(heard.append)
        sql(
            f'CREATE FUNCTION "{schema}".slow() RETURNS trigger LANGUAGE plpgsql AS '
            "$$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$"
        )
        sql(
            f'CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON "{schema}".records '
            f'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".slow()'
        )

        def workflow() -> None:
            with repo.transaction():
                inventory.assign_next(Consumer("device/cucm/Phone", "SEP1", "sys.a"))
                inventory.assign_next(Consumer("device/cucm/Phone", "SEP2", "sys.a"))
                assert heard == []  # not before the host's commit

        killer = _killer_at_the_trigger(sql, name)
        killer.start()
        try:
            with pytest.raises(StorageError, match="may or may not be stored"):
                workflow()
        finally:
            killer.join()
        assert heard == []
        sql(f'DROP TRIGGER slow ON "{schema}".records')
        taken = inventory.assign_next(Consumer("device/cucm/Phone", "SEP3", "sys.a"))
        assert [event.after.number for event in heard if event.after] == [taken.number]


# -- the cursors each connection keeps -----------------------------------------------------


def _kept_answers(repository: Any) -> list[int]:
    """The rows each connection's wire still holds from its last answer."""
    return [
        kept.wire.transformer.pgresult.ntuples
        for kept in repository._db.cursors.kept.values()
        if kept.wire.transformer.pgresult is not None
    ]


def test_a_large_answer_is_not_kept_after_its_read(repository: Any) -> None:
    """Each connection keeps its wire between calls, and psycopg's adapters keep the last
    answer they loaded: a search of a large node must not keep its rows' memory for as
    long as the connection lives, inside a transaction or outside one."""
    from numinv import Inventory

    inventory = Inventory(repository)
    inventory.add_range(NODE, "100000", count=3000)
    assert len(repository.scan(Query(hierarchy=NODE, limit=5000))) == 3000
    assert _kept_answers(repository) == []
    with repository.transaction() as tx:
        assert len(tx.scan(Query(hierarchy=NODE, limit=5000))) == 3000
        assert _kept_answers(repository) == []
    assert inventory.get("100001", NODE) is not None


def test_the_cursors_of_connections_the_pool_replaced_are_forgotten(
    postgres_url: str, schema: str, sql: Any
) -> None:
    from numinv.storage.postgres import PostgresRepository

    name = f"numinv-k-{schema}"[:60]
    with PostgresRepository(_named(postgres_url, name), schema=schema, pool_size=2) as repo:
        store(repo, record("1000"))
        for _ in range(5):
            _settled(repo)
            _terminated(sql, name)
            with pytest.raises(StorageError), repo.transaction() as tx:
                tx.get("1000", NODE)
            assert repo.get("1000", NODE) is not None
        assert len(repo._db.cursors.kept) <= 2
        assert all(not connection.closed for connection in repo._db.cursors.kept)


@pytest.mark.parametrize("listening", [False, True], ids=["nobody listens", "a listener"])
def test_a_call_in_a_hosts_open_transaction_keeps_no_other_writer_waiting(
    postgres_url: str, schema: str, listening: bool
) -> None:
    """A call joined to a host's transaction took its seq at once, which locks the journal's
    sequence row until the host commits: every writer of every instance waited for the
    host (or failed after `lock_timeout`). Its entries now go with the host's commit, and
    with a listener in the host's process they are numbered there, for their events."""
    from numinv import Consumer, Event, Inventory
    from numinv.storage.postgres import PostgresRepository

    with (
        PostgresRepository(postgres_url, schema=schema) as host_store,
        PostgresRepository(postgres_url, schema=schema, lock_timeout=2) as other_store,
    ):
        host, other = Inventory(host_store), Inventory(other_store)
        heard: list[Event] = []
        if listening:
            host.subscribe(heard.append)
        host.add_range("sys.a", "1000", count=3)
        other.add_range("sys.b", "2000", count=3)
        before = len(heard)
        with host_store.transaction():
            host.assign("1000", Consumer("device/cucm/Phone", "SEP1", "sys.a"))
            other.update("2000", "sys.b", tag="meanwhile")  # waited 2 s, then failed
            taken = other.assign_next(Consumer("device/cucm/Phone", "SEP2", "sys.b"))
            host.update("1001", "sys.a", tag="later in the host's transaction")
            assert len(heard) == before  # the host's events wait for its commit
        changes = other.changes()
        assert [change.number for change in changes][-4:] == [
            "2000",
            taken.number,
            "1000",
            "1001",
        ]
        if listening:  # the host's own events, after its commit, with the seqs it got
            assert [(e.operation, e.seq) for e in heard[before:]] == [
                (change.operation, change.seq) for change in changes[-2:]
            ]


def test_loads_imports_and_deletes_of_the_same_numbers_never_deadlock(
    postgres_url: str, schema: str
) -> None:
    """A load took its numbers' locks in the order of their keys' hashes, an import number
    by number: run together (three instances) they deadlocked, and calls failed after all
    their retries. Every transaction now takes them in the order of the numbers."""
    import time

    from numinv import ConcurrentUpdate, DuplicateNumber, Inventory, NotFound
    from numinv.storage.postgres import PostgresRepository

    node = "sys.a.b"
    records = [record(str(1000 + n), node) for n in range(10)]
    calls: dict[str, Callable[[Inventory], object]] = {
        "add": lambda inv: inv.add_range(node, "1000", count=10, skip_existing=True),
        "import": lambda inv: inv.import_records(records),
        "delete": lambda inv: inv.delete_range(node, "1000", count=10, skip_unavailable=True),
    }
    deadlocks: list[str] = []
    done: list[str] = []
    stop = time.monotonic() + 3

    def instance(role: str) -> None:
        with PostgresRepository(postgres_url, schema=schema, pool_size=1) as repository:
            inventory = Inventory(repository)
            while time.monotonic() < stop:
                try:
                    calls[role](inventory)
                    done.append(role)
                except (DuplicateNumber, NotFound):
                    done.append(role)
                except ConcurrentUpdate as lost:
                    if "40P01" in str(lost):
                        deadlocks.append(f"{role}: {lost}")

    with PostgresRepository(postgres_url, schema=schema):
        pass  # made once, before the instances race to open it
    threads = [threading.Thread(target=instance, args=(role,)) for role in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert deadlocks == []
    assert {"add", "import", "delete"} <= set(done)


def test_a_persons_reservation_held_by_another_writer_is_waited_for_not_passed_over(
    postgres_url: str, schema: str
) -> None:
    """SPEC 18: `assign_next` takes the number reserved for the consumer's person first.
    Claimed skipping locked rows, a reservation an `update` held for a moment was passed
    over, and the person got an Available number instead."""
    import time

    import psycopg

    from numinv import Consumer, Inventory
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        inventory = Inventory(repository)
        inventory.add_range("sys.a", "5000", count=5)
        inventory.reserve("5003", "sys.a", reserved_for="alice")
        held, release = threading.Event(), threading.Event()

        def other_writer() -> None:
            with psycopg.connect(postgres_url) as connection:
                connection.execute(
                    f'SELECT 1 FROM "{schema}".records WHERE number = %s FOR UPDATE', ("5003",)
                )
                held.set()
                release.wait(10)
                time.sleep(0.5)

        holder = threading.Thread(target=other_writer)
        holder.start()
        held.wait(10)
        release.set()
        taken = inventory.assign_next(Consumer("device/cucm/Phone", "SEP1", "sys.a", owner="alice"))
        holder.join(10)
        assert taken.number == "5003"
        assert inventory.get("5000", "sys.a").status is Status.AVAILABLE


def test_a_load_at_a_node_emptied_meanwhile_is_not_run_again(
    postgres_url: str, schema: str
) -> None:
    """A load compared the node list it read with the list after its locks: when a delete
    emptied the node (it left the list) and another load filled it again, the load ran
    again, nearly every call, and some failed after all their retries. Only a node made
    meanwhile below the load's node is one it missed."""
    import time

    from numinv import Inventory, NotFound
    from numinv.storage.postgres import PostgresRepository

    node = "sys.a.b"
    stop = time.monotonic() + 2
    figures: dict[str, tuple[int, int]] = {}

    def instance(role: str) -> None:
        calls = 0
        with PostgresRepository(postgres_url, schema=schema, pool_size=1) as repository:
            inventory = Inventory(repository)
            while time.monotonic() < stop:
                if role.startswith("add"):
                    inventory.add_range(node, "1000", count=10, skip_existing=True)
                else:
                    with contextlib.suppress(NotFound):
                        inventory.delete_range(node, "1000", count=10, skip_unavailable=True)
                calls += 1
            figures[role] = (calls, inventory.retried)

    with PostgresRepository(postgres_url, schema=schema):
        pass
    threads = [threading.Thread(target=instance, args=(r,)) for r in ("add1", "add2", "del")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for role in ("add1", "add2"):
        calls, retried = figures[role]
        assert calls > 0
        assert retried <= calls // 10, figures


def test_two_instances_sweeping_at_once_release_every_due_number_once(
    postgres_url: str, schema: str
) -> None:
    """SPEC 22: `release_due` stores them all. Two instances' sweeps met the same due
    numbers: the one that lost a compare-and-set failed, and run beside `assign_next`
    traffic both failed, leaving numbers unreleased."""
    from datetime import timedelta

    from numinv import Consumer, Inventory
    from numinv.storage.postgres import PostgresRepository

    now = [NOW]
    with (
        PostgresRepository(postgres_url, schema=schema) as first_store,
        PostgresRepository(postgres_url, schema=schema) as second_store,
    ):
        first = Inventory(first_store, clock=lambda: now[0])
        second = Inventory(second_store, clock=lambda: now[0])
        first.add_range(NODE, "100000", count=1_500)
        first.cool_range(NODE, "100000", count=1_500, days=1)
        now[0] += timedelta(days=2)
        released: dict[str, list[str]] = {}
        failures: list[BaseException] = []
        start = threading.Barrier(3)

        def sweep(name: str, inventory: Inventory) -> None:
            start.wait(10)
            try:
                released[name] = [record.number for record in inventory.release_due()]
            except BaseException as failure:
                failures.append(failure)

        def traffic() -> None:
            start.wait(10)
            for n in range(40):
                first.assign_next(Consumer("device/cucm/Phone", f"SEP{n}", NODE))

        threads = [
            threading.Thread(target=sweep, args=("first", first)),
            threading.Thread(target=sweep, args=("second", second)),
            threading.Thread(target=traffic),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        swept = released["first"] + released["second"]
        assert len(swept) == len(set(swept))
        lapsed = [c for c in first.changes(limit=10_000) if c.operation == "release_due"]
        assert len({c.number for c in lapsed}) == len(lapsed) == 1_500
        assert first.release_due() == []


def test_a_range_operation_beside_single_number_writers_of_its_numbers_goes_through(
    postgres_url: str, schema: str
) -> None:
    """A range read its records unlocked, and lost its compare-and-set to any `update` of
    one of its numbers meanwhile: beside three instances updating them, `update_range`
    of twenty numbers failed 99 times in 100. It now locks them as it reads them."""
    import time

    from numinv import ConcurrentUpdate, Inventory
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(postgres_url, schema=schema) as repository:
        Inventory(repository).add_range(NODE, "1000", count=20)
    stop = time.monotonic() + 2
    figures: dict[str, tuple[int, int]] = {}

    def instance(role: int) -> None:
        done = lost = 0
        with PostgresRepository(postgres_url, schema=schema, pool_size=1) as repository:
            inventory = Inventory(repository)
            while time.monotonic() < stop:
                try:
                    if role == 0:
                        inventory.update_range(NODE, "1000", count=20, extra2=f"r{done}")
                    else:
                        number = f"{1000 + (done * 7 + role) % 20}"
                        inventory.update(number, NODE, description=f"d{done}")
                    done += 1
                except ConcurrentUpdate:
                    lost += 1
        figures[f"instance {role}"] = (done, lost)

    threads = [threading.Thread(target=instance, args=(role,)) for role in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ranges_done, ranges_lost = figures["instance 0"]
    assert ranges_lost == 0, figures
    assert ranges_done > 0, figures
