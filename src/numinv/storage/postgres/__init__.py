"""`PostgresRepository`: the repository in PostgreSQL, for several service instances at once.

Layout (docs/storage.md, docs/deploying.md): the tables of `SqliteRepository`
in a schema the host names, created and migrated by the library under an
advisory lock. `records` has a column per `NumberRecord` field
(`numinv.storage.rows`), keyed by (hierarchy, number); every text key is
`COLLATE "C"`, so keys compare in byte order whatever the database's
collation; release dates are `timestamptz`. `e164` and `holders` index
records by E.164 number and by consumer id, owner and reserved-for name;
`node_counts` keeps per-node, per-status counts; `retired` the last version
of deleted records; `node_settings` what administrators set per node, and
`settings_version` a number a trigger raises at every change of them (so
that each process may keep settings it read while the number stands); the
`journal` its entries, numbered from the single row of `journal_seq`.

Connections come from a `psycopg_pool.ConnectionPool`. A transaction holds
one connection from `BEGIN ISOLATION LEVEL READ COMMITTED` to its commit; a
read made on the thread that holds an open transaction reads inside it, and
other reads take a pool connection in autocommit (committed state). Every
write is a compare-and-set on `version` or an insert that refuses a taken
key, so READ COMMITTED is enough: a conditional `UPDATE` that meets a row
another transaction changed waits for it, re-reads it, and finds the version
moved on. `claim` locks the rows it returns and skips rows other
transactions hold (`FOR UPDATE SKIP LOCKED`).

The journal's sequence is allocated by the transaction's last write
(`journal`, called just before commit, or `journal_at_commit`, sent with
the `COMMIT` itself) on the single row of `journal_seq`, whose row lock is
held until commit, so seq order is commit order. Count changes are
collected in memory and written at that same moment, sorted, so that
writers lock the shared rows in one order.

Every driver error is translated in one place, `_Database.translated`.

The modules, each with one job: `schema` (migrations, and how a schema of
numinv's is told from another), `statements` (the SQL of one schema, batches,
COPY lines and the journal's rows), `locks` (the advisory locks of uniqueness
checks), `held` (one open transaction's state), `wire` (a transaction's
statements on libpq), `connections` (the pool and the translation of errors),
`reads`, `transaction` (the writes) and `repository` (`PostgresRepository`).
"""

from __future__ import annotations

try:
    import psycopg  # noqa: F401  (the submodules use it)
    import psycopg_pool  # noqa: F401
except ImportError as missing:  # a bare "No module named 'psycopg'" named no remedy
    raise ImportError(
        "numinv's PostgreSQL store needs psycopg 3 and psycopg_pool (numinv's postgres "
        f"extra): python3 -m pip install 'psycopg[binary]' psycopg-pool ({missing})"
    ) from missing

from numinv.storage.postgres.repository import PostgresRepository
from numinv.storage.postgres.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "PostgresRepository"]
