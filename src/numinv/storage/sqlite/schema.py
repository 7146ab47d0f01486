"""The schema of `SqliteRepository`: its migrations, and how a file of numinv's is
told from another application's."""

from __future__ import annotations

from typing import Final

# Each migration is frozen once released: a later schema is a new entry, never
# an edit, so every file moves through the same steps.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """
        CREATE TABLE records (
            number TEXT NOT NULL,
            hierarchy TEXT NOT NULL,
            status TEXT NOT NULL,
            usage TEXT NOT NULL,
            uses TEXT NOT NULL,
            vendor TEXT NOT NULL,
            internal_number_type TEXT NOT NULL,
            release_date TEXT,
            reserved_for TEXT,
            e164 TEXT NOT NULL,
            primary_e164 TEXT,
            tag TEXT NOT NULL,
            description TEXT NOT NULL,
            reservation_notes TEXT NOT NULL,
            extra1 TEXT NOT NULL,
            extra2 TEXT NOT NULL,
            extra3 TEXT NOT NULL,
            extra4 TEXT NOT NULL,
            extra5 TEXT NOT NULL,
            extra6 TEXT NOT NULL,
            extra7 TEXT NOT NULL,
            extra8 TEXT NOT NULL,
            extra9 TEXT NOT NULL,
            admin_vendor TEXT NOT NULL,
            service_type TEXT,
            cooling_use TEXT,
            tag_before_cooling TEXT,
            version INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, number)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX records_by_number ON records (number)",
        "CREATE INDEX records_by_status ON records (hierarchy, status, number)",
        """
        CREATE INDEX records_by_release_date ON records (release_date, number, hierarchy)
        WHERE release_date IS NOT NULL
        """,
        """
        CREATE TABLE e164 (
            e164 TEXT NOT NULL,
            number TEXT NOT NULL,
            hierarchy TEXT NOT NULL,
            PRIMARY KEY (e164, number, hierarchy)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE nodes (
            hierarchy TEXT NOT NULL,
            status TEXT NOT NULL,
            total INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, status)
        ) WITHOUT ROWID
        """,
    ),
    (
        # The journal, reservations for a person, settings per node (SPEC 15, 18, 19, 22).
        "ALTER TABLE records ADD COLUMN admin_number_type TEXT NOT NULL DEFAULT ''",
        "UPDATE records SET admin_number_type = internal_number_type",
        """
        CREATE TABLE holders (
            who TEXT NOT NULL,
            number TEXT NOT NULL,
            hierarchy TEXT NOT NULL,
            PRIMARY KEY (who, number, hierarchy)
        ) WITHOUT ROWID
        """,
        """
        INSERT OR IGNORE INTO holders (who, number, hierarchy)
        SELECT json_extract(u.value, '$.consumer_id'), r.number, r.hierarchy
        FROM records AS r, json_each(r.uses) AS u
        """,
        """
        INSERT OR IGNORE INTO holders (who, number, hierarchy)
        SELECT reserved_for, number, hierarchy FROM records WHERE reserved_for IS NOT NULL
        """,
        """
        CREATE TABLE retired (
            hierarchy TEXT NOT NULL,
            number TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, number)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE node_settings (
            hierarchy TEXT NOT NULL PRIMARY KEY,
            auto_cooling INTEGER,
            cooling_days INTEGER,
            audiocodes_cooling_days INTEGER,
            prevent_duplicates INTEGER,
            exhaustion_threshold REAL
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY,
            span INTEGER NOT NULL,
            operation TEXT NOT NULL,
            number TEXT NOT NULL,
            last TEXT,
            block TEXT,
            hierarchy TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT,
            before TEXT,
            after TEXT
        )
        """,
        "CREATE INDEX journal_by_number ON journal (number) WHERE last IS NULL",
        "CREATE INDEX journal_by_block ON journal (block) WHERE last IS NOT NULL",
        "CREATE INDEX journal_by_time ON journal (at)",
        """
        CREATE TABLE journal_seq (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last INTEGER NOT NULL
        )
        """,
        "INSERT INTO journal_seq (id, last) VALUES (1, 0)",
    ),
    (
        # The held-back records of a node by release date: a scan for the due ones
        # (`Query.due_by`) finds a few among many without walking them all.
        """
        CREATE INDEX records_due_by_status ON records (hierarchy, status, release_date)
        WHERE release_date IS NOT NULL
        """,
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
# Both questions in one statement, so from one snapshot: another opener's schema,
# committed between "no schema_version" and "some table", made a new file look like
# another application's.
_HAS_SCHEMA = (
    "SELECT EXISTS (SELECT 1 FROM sqlite_master"
    " WHERE type = 'table' AND name = 'schema_version'),"
    " EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')"
)
