"""The schema of `PostgresRepository`: its migrations, and how a schema of numinv's is
told from another application's."""

from __future__ import annotations

from typing import Final

# Each migration is frozen once released: a later schema is a new entry, never
# an edit. `{s}` stands for the quoted schema name.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """
        CREATE TABLE {s}.records (
            number text COLLATE "C" NOT NULL,
            hierarchy text COLLATE "C" NOT NULL,
            status text COLLATE "C" NOT NULL,
            usage text NOT NULL,
            uses text NOT NULL,
            vendor text NOT NULL,
            internal_number_type text NOT NULL,
            release_date timestamptz,
            reserved_for text COLLATE "C",
            e164 text NOT NULL,
            primary_e164 text COLLATE "C",
            tag text NOT NULL,
            description text NOT NULL,
            reservation_notes text NOT NULL,
            extra1 text NOT NULL,
            extra2 text NOT NULL,
            extra3 text NOT NULL,
            extra4 text NOT NULL,
            extra5 text NOT NULL,
            extra6 text NOT NULL,
            extra7 text NOT NULL,
            extra8 text NOT NULL,
            extra9 text NOT NULL,
            admin_vendor text NOT NULL,
            service_type text,
            cooling_use text,
            tag_before_cooling text,
            version bigint NOT NULL,
            admin_number_type text NOT NULL,
            PRIMARY KEY (hierarchy, number)
        )
        """,
        "CREATE INDEX records_by_number ON {s}.records (number)",
        "CREATE INDEX records_by_status ON {s}.records (hierarchy, status, number)",
        """
        CREATE INDEX records_by_release_date ON {s}.records (release_date, number, hierarchy)
        WHERE release_date IS NOT NULL
        """,
        """
        CREATE TABLE {s}.e164 (
            e164 text COLLATE "C" NOT NULL,
            number text COLLATE "C" NOT NULL,
            hierarchy text COLLATE "C" NOT NULL,
            PRIMARY KEY (e164, number, hierarchy)
        )
        """,
        """
        CREATE TABLE {s}.holders (
            who text COLLATE "C" NOT NULL,
            number text COLLATE "C" NOT NULL,
            hierarchy text COLLATE "C" NOT NULL,
            PRIMARY KEY (who, number, hierarchy)
        )
        """,
        """
        CREATE TABLE {s}.node_counts (
            hierarchy text COLLATE "C" NOT NULL,
            status text COLLATE "C" NOT NULL,
            total bigint NOT NULL,
            PRIMARY KEY (hierarchy, status)
        )
        """,
        """
        CREATE TABLE {s}.retired (
            hierarchy text COLLATE "C" NOT NULL,
            number text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            PRIMARY KEY (hierarchy, number)
        )
        """,
        """
        CREATE TABLE {s}.node_settings (
            hierarchy text COLLATE "C" NOT NULL PRIMARY KEY,
            auto_cooling boolean,
            cooling_days integer,
            audiocodes_cooling_days integer,
            prevent_duplicates boolean,
            exhaustion_threshold double precision
        )
        """,
        """
        CREATE TABLE {s}.journal (
            seq bigint PRIMARY KEY,
            span integer NOT NULL,
            operation text NOT NULL,
            number text COLLATE "C" NOT NULL,
            last text COLLATE "C",
            block text COLLATE "C",
            hierarchy text COLLATE "C" NOT NULL,
            at timestamptz NOT NULL,
            actor text,
            before text,
            after text
        )
        """,
        "CREATE INDEX journal_by_number ON {s}.journal (number) WHERE last IS NULL",
        "CREATE INDEX journal_by_block ON {s}.journal (block) WHERE last IS NOT NULL",
        "CREATE INDEX journal_by_time ON {s}.journal (at)",
        """
        CREATE TABLE {s}.journal_seq (
            id integer PRIMARY KEY CHECK (id = 1),
            last bigint NOT NULL
        )
        """,
        "INSERT INTO {s}.journal_seq (id, last) VALUES (1, 0)",
    ),
    # 2: a version of the node settings, raised by any change of them, however made,
    # so that a process may keep settings it read for as long as the version stands.
    (
        """
        CREATE TABLE {s}.settings_version (
            id integer PRIMARY KEY CHECK (id = 1),
            version bigint NOT NULL
        )
        """,
        "INSERT INTO {s}.settings_version (id, version) VALUES (1, 0)",
        """
        CREATE FUNCTION {s}.settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {s}.settings_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON {s}.node_settings FOR EACH STATEMENT EXECUTE FUNCTION {s}.settings_changed()
        """,
    ),
    # 3: the trigger raises the version of its own schema, whatever the schema is called:
    # a schema renamed, or restored from a dump under another name, kept raising the
    # version of the schema it was made in.
    (
        """
        CREATE OR REPLACE FUNCTION {s}.settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format(
                'UPDATE %I.settings_version SET version = version + 1 WHERE id = 1',
                TG_TABLE_SCHEMA
            );
            RETURN NULL;
        END
        $$
        """,
    ),
    # 4: the held-back records of a node by release date: a scan for the due ones
    # (`Query.due_by`) finds a few among many without walking them all. The index by
    # number in byte order by its own operators (`~<~`): one the planner could use for
    # `number >= %s` or `ORDER BY number` walked every number of the table, in order,
    # for a page of one node's (see `_Sql._scan`). The table is locked first, whole: locked
    # part way (an index built, then one dropped), a writer between the two deadlocked.
    (
        "LOCK TABLE {s}.records IN ACCESS EXCLUSIVE MODE",
        """
        CREATE INDEX records_due_by_status ON {s}.records (hierarchy, status, release_date)
        WHERE release_date IS NOT NULL
        """,
        "DROP INDEX {s}.records_by_number",
        "CREATE INDEX records_by_number ON {s}.records (number text_pattern_ops)",
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)

# The advisory lock class of numinv's migrations (the second key is the schema's).
_LOCK_CLASS: Final = 0x6E756D69  # "numi"


# What a schema holds, `schema_version` first: any relation (a table, a view, a
# sequence...), function, or type of its own. Numinv writes only into a schema of its
# own or an empty one (a DBA's, made for it).
_HELD: Final = (
    "SELECT name FROM (SELECT c.relname AS name FROM pg_class AS c JOIN pg_namespace AS n "
    "ON n.oid = c.relnamespace WHERE n.nspname = %s "
    "UNION ALL SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n "
    "ON n.oid = p.pronamespace WHERE n.nspname = %s "
    "UNION ALL SELECT t.typname FROM pg_type AS t JOIN pg_namespace AS n "
    "ON n.oid = t.typnamespace WHERE n.nspname = %s AND t.typtype IN ('d', 'e', 'r', 'm')) "
    "AS held ORDER BY name = 'schema_version' DESC LIMIT 1"
)
# The tables every version of numinv's schema has, beside `schema_version`: a look-alike
# `schema_version` of another application's has not got them.
_OUR_TABLES: Final = ("records", "journal", "journal_seq", "node_counts")
_OURS: Final = (
    "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    f"WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname IN {_OUR_TABLES!r}"
)
