"""The schema: created and migrated by the library, versioned, and in byte order whatever the
collation of the database."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from numinv import Consumer, InvalidInput, Inventory, NotFound, NumberRecord
from numinv.core.numbers import number_range
from numinv.storage.protocol import Query

NODE = "sys.acme.uk"
SQL = Callable[..., list[tuple[Any, ...]]]
# Paths a byte-order store keeps in code point order, and a language's
# collation does not: look-alike prefixes, punctuation, case, accents.
PATHS = (
    "sys.acme.uk",
    "sys.acme.uk.london",
    "sys.acme.ukraine",
    "sys.acme.uk-north",
    "sys.acme.UK",
    "sys.acme.ük",
    "sys.acme.ula",
    "sys.acme.Ünïcödé.zürich",
    "sys.acme.日本",
)
NUMBERS = ("10", "100", "1000", "11", "110", "1100", "+100", "+11", "099")


# -- byte order under a language's collation ---------------------------------------------


@pytest.fixture(scope="module")
def icu_url(postgres_url: str) -> Iterator[str]:
    """A database whose default collation is ICU `en-US`, where the server allows one."""
    import psycopg

    name = f"numinv_icu_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        try:
            connection.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        except psycopg.Error as error:
            pytest.skip(f"this server cannot make an ICU database: {error}")
    url = psycopg.conninfo.make_conninfo(postgres_url, dbname=name)
    try:
        yield url
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def icu_repository(icu_url: str) -> Iterator[Any]:
    from numinv.storage.postgres import PostgresRepository

    with PostgresRepository(icu_url, schema=f"numinv_{uuid.uuid4().hex[:8]}") as repository:
        yield repository


def test_the_icu_database_does_not_sort_in_byte_order(icu_url: str) -> None:
    import psycopg

    with psycopg.connect(icu_url) as connection:
        words = [
            row[0]
            for row in connection.execute(
                "SELECT w FROM unnest(%s::text[]) AS w ORDER BY w", (list(PATHS + NUMBERS),)
            )
        ]
    assert words != sorted(PATHS + NUMBERS)  # so the tests below show something


def test_nodes_and_counts_list_paths_in_byte_order(icu_repository: Any) -> None:
    with icu_repository.transaction() as tx:
        tx.insert([NumberRecord("1000", path) for path in PATHS])
    assert icu_repository.nodes() == sorted(PATHS)
    assert list(icu_repository.counts()) == sorted(PATHS)


def test_a_subtree_leaves_out_look_alike_paths_under_a_language_collation(
    icu_repository: Any,
) -> None:
    with icu_repository.transaction() as tx:
        tx.insert([NumberRecord("1000", path) for path in PATHS])
    assert icu_repository.nodes(NODE) == ["sys.acme.uk", "sys.acme.uk.london"]
    assert icu_repository.nodes("sys.acme.Ünïcödé") == ["sys.acme.Ünïcödé.zürich"]


def test_scans_prefixes_and_ranges_follow_byte_order(icu_repository: Any) -> None:
    with icu_repository.transaction() as tx:
        tx.insert([NumberRecord(number, NODE) for number in NUMBERS])
    numbers = [found.number for found in icu_repository.scan(Query(NODE))]
    assert numbers == sorted(NUMBERS)
    prefixed = [found.number for found in icu_repository.scan(Query(NODE, prefix="11"))]
    assert prefixed == ["11", "110", "1100"]
    within = icu_repository.within(number_range("100", "110"))
    assert [found.number for found in within] == ["100", "110"]


def test_an_inventory_offers_numbers_in_byte_order_under_a_language_collation(
    icu_repository: Any,
) -> None:
    inventory = Inventory(icu_repository)
    inventory.add_range("sys.acme.uk", "1098", count=4)
    inventory.add_range("sys.acme.uk", "+4420", count=3)
    inventory.add_range("sys.acme.ük", "0998", count=2)
    offered = [found.number for found in inventory.available("sys.acme.uk.london")]
    assert offered == ["+4420", "+4421", "+4422", "1098", "1099", "1100", "1101"]
    assert [change.number for change in inventory.history("+4421")] == ["+4421"]


# -- versions and migrations ---------------------------------------------------------------


def open_repository(url: str, schema: str) -> Any:
    from numinv.storage.postgres import PostgresRepository

    return PostgresRepository(url, schema=schema)


def test_first_open_creates_the_schema_at_the_current_version(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    from numinv.storage.postgres import SCHEMA_VERSION

    open_repository(postgres_url, schema).close()
    versions = sql(f'SELECT version FROM "{schema}".schema_version ORDER BY version')
    assert versions == [(version,) for version in range(1, SCHEMA_VERSION + 1)]


def test_a_reopened_schema_keeps_its_records(postgres_url: str, schema: str) -> None:
    with open_repository(postgres_url, schema) as repository:
        Inventory(repository).add_range(NODE, "1000", count=3)
    with open_repository(postgres_url, schema) as repository:
        assert len(repository.scan(Query(NODE))) == 3
        assert len(repository.changes(0, 10)) == 3


@pytest.mark.parametrize("words", ['Num "Inv" ü', "WHERE id = 1", "a;b'c"])
def test_a_schema_name_is_quoted_so_any_name_works(
    postgres_url: str, new_schema: Any, words: str
) -> None:
    """Even one that reads as SQL: statements made by replacing their text broke on it."""
    name = new_schema().replace("numinv", words)[:63]
    with open_repository(postgres_url, name) as repository:
        inventory = Inventory(repository)
        inventory.add_range(NODE, "1000", count=2)
        inventory.assign_next(Consumer("device/cucm/Phone", "SEP1", NODE))
        assert repository.schema == name
        assert len(repository.scan(Query(NODE))) == 2
        assert [change.operation for change in inventory.changes()] == ["add", "add", "assign"]
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        quoted = name.replace('"', '""')
        connection.execute(f'DROP SCHEMA "{quoted}" CASCADE')


def test_an_older_schema_is_upgraded_in_place(
    postgres_url: str, schema: str, sql: SQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numinv.storage.postgres import connections

    with open_repository(postgres_url, schema) as repository:
        Inventory(repository).add_range(NODE, "1000", count=3)
    later = (*connections._MIGRATIONS, ("CREATE INDEX records_by_tag ON {s}.records (tag)",))
    monkeypatch.setattr(connections, "_MIGRATIONS", later)
    with open_repository(postgres_url, schema) as repository:
        assert len(repository.scan(Query(NODE))) == 3
    versions = sql(f'SELECT version FROM "{schema}".schema_version ORDER BY version')
    assert versions == [(version,) for version in range(1, len(later) + 1)]
    indexes = sql("SELECT indexname FROM pg_indexes WHERE schemaname = %s", schema)
    assert ("records_by_tag",) in indexes


def test_a_schema_of_version_3_gains_the_due_index_and_the_byte_order_number_index(
    postgres_url: str, schema: str, sql: SQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schemas made before version 4 are upgraded when opened, their records kept."""
    from numinv.storage.postgres import connections

    with monkeypatch.context() as older:
        older.setattr(connections, "_MIGRATIONS", connections._MIGRATIONS[:3])
        with open_repository(postgres_url, schema) as repository:
            Inventory(repository).add_range(NODE, "1000", count=3)
    with open_repository(postgres_url, schema) as repository:
        assert [r.number for r in repository.scan(Query(NODE, prefix="100"))] == [
            "1000",
            "1001",
            "1002",
        ]
        assert [r.number for r in repository.holding("1001")] == ["1001"]
    versions = sql(f'SELECT version FROM "{schema}".schema_version ORDER BY version')
    assert versions == [(1,), (2,), (3,), (4,)]
    indexes = dict(sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", schema))
    assert "records_due_by_status" in indexes
    assert "text_pattern_ops" in indexes["records_by_number"]


def test_a_schema_newer_than_this_numinv_is_refused(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    from numinv.storage.postgres import SCHEMA_VERSION

    open_repository(postgres_url, schema).close()
    sql(f'INSERT INTO "{schema}".schema_version (version) VALUES (%s)', SCHEMA_VERSION + 1)
    with pytest.raises(InvalidInput, match="newer"):
        open_repository(postgres_url, schema)


def test_without_create_only_a_schema_numinv_made_opens(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(NotFound, match=f"no numinv schema '{schema}'"):
        PostgresRepository(postgres_url, schema=schema, create=False)
    assert sql("SELECT 1 FROM pg_namespace WHERE nspname = %s", schema) == []
    sql(f'CREATE SCHEMA "{schema}"')  # empty, as a DBA may make it
    with pytest.raises(NotFound):
        PostgresRepository(postgres_url, schema=schema, create=False)
    open_repository(postgres_url, schema).close()
    PostgresRepository(postgres_url, schema=schema, create=False).close()


@pytest.mark.parametrize("create", [None, 1, "yes"])
def test_create_must_be_true_or_false(postgres_url: str, schema: str, create: Any) -> None:
    from numinv.storage.postgres import PostgresRepository

    with pytest.raises(InvalidInput, match="create must be True or False"):
        PostgresRepository(postgres_url, schema=schema, create=create)


@pytest.mark.parametrize(
    "made",
    [
        "CREATE TABLE {s}.invoices (id integer)",
        "CREATE VIEW {s}.report AS SELECT 1 AS x",  # no table: it was taken for empty
        "CREATE SEQUENCE {s}.order_ids",
        "CREATE MATERIALIZED VIEW {s}.totals AS SELECT 1 AS x",
        "CREATE FUNCTION {s}.settings_changed() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "CREATE TYPE {s}.mood AS ENUM ('happy')",
    ],
)
@pytest.mark.parametrize("create", [True, False])
def test_a_schema_of_another_application_is_refused(
    postgres_url: str, schema: str, sql: SQL, made: str, create: bool
) -> None:
    """Opened to read only (`create=False`, as the command line's reads open it), it was
    said to hold no numinv schema, and the message told the reader to load numbers."""
    from numinv.storage.postgres import PostgresRepository

    sql(f'CREATE SCHEMA "{schema}"')
    sql(made.format(s=f'"{schema}"'))
    with pytest.raises(InvalidInput, match="another application"):
        PostgresRepository(postgres_url, schema=schema, create=create).close()
    assert sql(
        "SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = 'records'",
        schema,
    ) == [(0,)]  # nothing of numinv's was made there


def test_opening_waits_for_a_lock_no_longer_than_lock_timeout(
    postgres_url: str, schema: str
) -> None:
    """A table locked by hand (or held by a long migration) kept an opening instance
    waiting for ever: the connection that checks and migrates set no lock timeout."""
    import time

    import psycopg

    from numinv import StorageError
    from numinv.storage.postgres import PostgresRepository

    open_repository(postgres_url, schema).close()
    with psycopg.connect(postgres_url) as holder:
        holder.execute(f'LOCK TABLE "{schema}".journal_seq IN ACCESS EXCLUSIVE MODE')
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"waited longer than 0\.5 s for a lock"):
            PostgresRepository(postgres_url, schema=schema, timeout=5, lock_timeout=0.5)
        assert time.monotonic() - started < 4
        holder.rollback()
    PostgresRepository(postgres_url, schema=schema, lock_timeout=0.5).close()


def test_a_schema_version_table_of_another_application_is_refused(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    sql(f'CREATE SCHEMA "{schema}"')  # as Flyway leaves it
    sql(f'CREATE TABLE "{schema}".schema_version (version varchar(50), script text)')
    sql(f"INSERT INTO \"{schema}\".schema_version VALUES ('1.0', 'V1__init.sql')")
    with pytest.raises(InvalidInput, match="schema_version table that is not numinv's"):
        open_repository(postgres_url, schema)
    assert sql(f'SELECT version FROM "{schema}".schema_version') == [("1.0",)]


def test_a_look_alike_schema_version_of_another_application_is_refused(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    """Its columns are numinv's, but numinv's tables are not there: it migrated into the
    other application's schema and wrote a row into its `schema_version`."""
    sql(f'CREATE SCHEMA "{schema}"')
    sql(
        f'CREATE TABLE "{schema}".schema_version '
        "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"
    )
    sql(f'INSERT INTO "{schema}".schema_version VALUES (1, now()), (2, now())')
    sql(f'CREATE TABLE "{schema}".records (id serial, payload text)')
    with pytest.raises(InvalidInput, match="schema_version table that is not numinv's"):
        open_repository(postgres_url, schema)
    assert sql(f'SELECT version FROM "{schema}".schema_version ORDER BY 1') == [(1,), (2,)]


# Opens the schema given once it reads "go"; prints the schema's version.
OPENER = """
import sys
from numinv.storage.postgres import PostgresRepository

url, schema = sys.argv[1:3]
print("ready", flush=True)
sys.stdin.readline()
with PostgresRepository(url, schema=schema, pool_size=1) as repository:
    print(len(repository.nodes()), flush=True)
"""


def test_processes_opening_a_new_schema_together_all_succeed(
    postgres_url: str, schema: str, sql: SQL
) -> None:
    from numinv.storage.postgres import SCHEMA_VERSION

    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, postgres_url, schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for opener in openers:
        assert opener.stdout is not None
        assert opener.stdout.readline() == "ready\n"
    for opener in openers:
        assert opener.stdin is not None
        opener.stdin.write("go\n")
        opener.stdin.flush()
    for opener in openers:
        output, errors = opener.communicate(timeout=120)
        assert (opener.returncode, output, errors) == (0, "0\n", "")
    versions = sql(f'SELECT version FROM "{schema}".schema_version ORDER BY version')
    assert versions == [(version,) for version in range(1, SCHEMA_VERSION + 1)]
    assert sql(f'SELECT id, last FROM "{schema}".journal_seq') == [(1, 0)]
