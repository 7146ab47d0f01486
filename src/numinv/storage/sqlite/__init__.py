"""`SqliteRepository`: the repository on the standard library's `sqlite3`, a file or `:memory:`.

Layout (docs/storage.md): a `records` table with a column per `NumberRecord`
field (`numinv.storage.rows`), keyed by (hierarchy, number); `e164` and
`holders` tables from E.164 numbers and from consumer ids, owners and
reserved-for names to records; `nodes`, the per-node, per-status counts;
`retired`, the last version of each deleted record; `node_settings`; the
`journal` with its sequence in `journal_seq`; and `schema_version`, the
migrations applied. Every read of the protocol is answered by an index; the
adapter keeps the side tables in step inside each transaction (no triggers).

A file has two connections: one writes, guarded by a re-entrant lock held
for the whole of a transaction, and one reads committed state for the other
threads, so a read never waits behind a write (the write-ahead log lets them
run side by side). A read made on the thread that holds the open transaction
reads inside it. Several processes may share a file: writers take SQLite's
write lock up front (`BEGIN IMMEDIATE`) and wait for it up to `timeout`
seconds. Every driver error is translated in one place, `_Database.translated`.

The modules, each with one job: `schema` (migrations, and how a file of
numinv's is told from another), `statements` (the SQL and the journal's rows),
`connections` (the writer and reader connections and the translation of
errors), `reads`, `transaction` (the writes) and `repository`
(`SqliteRepository`).
"""

from __future__ import annotations

from numinv.storage.sqlite.repository import SqliteRepository
from numinv.storage.sqlite.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "SqliteRepository"]
