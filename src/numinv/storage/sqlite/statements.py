"""The statements of `SqliteRepository`, and the journal's rows."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Final

import attrs

from numinv.core.journal import Entry
from numinv.settings import NodeSettings
from numinv.storage.rows import COLUMNS, DATETIME_AS_TEXT, journal_entry, journal_rows

_LIST = ", ".join(COLUMNS)
_SELECT = f"SELECT {_LIST} FROM records"
_INSERT = f"INSERT INTO records ({_LIST}) VALUES ({', '.join('?' * len(COLUMNS))})"
_DELETE = "DELETE FROM records WHERE number = ? AND hierarchy = ? AND version = ?"


@functools.lru_cache(maxsize=256)
def _update_of(columns: tuple[int, ...]) -> str:
    """The compare-and-set `UPDATE` of these columns (positions in `COLUMNS`)."""
    if not columns:
        return _UPDATE_NOTHING
    assignments = ", ".join(f"{COLUMNS[index]} = ?" for index in columns)
    return f"UPDATE records SET {assignments} WHERE number = ? AND hierarchy = ? AND version = ?"


# A record equal to the one stored but for nothing: still compare its version.
_UPDATE_NOTHING = (
    "UPDATE records SET version = version WHERE number = ? AND hierarchy = ? AND version = ?"
)
_VERSION_OF = "SELECT version FROM records WHERE hierarchy = ? AND number = ?"

_GET = f"{_SELECT} WHERE hierarchy = ? AND number = ?"
_HOLDING = f"{_SELECT} WHERE number = ? ORDER BY hierarchy"
# Text order of numbers of one width and `+` prefix is their numeric order;
# the length test drops numbers of other widths that sort in between.
_WITHIN = (
    f"{_SELECT} WHERE number BETWEEN ? AND ? AND length(number) = ? ORDER BY number, hierarchy"
)
_WITHIN_NODE = (
    f"{_SELECT} WHERE hierarchy = ? AND number BETWEEN ? AND ? AND length(number) = ? "
    "ORDER BY number"
)
_TAKEN = (
    "SELECT number FROM records "
    "WHERE hierarchy = ? AND number BETWEEN ? AND ? AND length(number) = ? LIMIT 1"
)
_DUE = f"{_SELECT} WHERE release_date <= ? ORDER BY release_date, number, hierarchy LIMIT ?"
_NEXT_RELEASE = (
    "SELECT release_date FROM records WHERE release_date IS NOT NULL ORDER BY release_date LIMIT 1"
)
_WITH_E164 = (
    f"SELECT {', '.join('r.' + name for name in COLUMNS)} "
    "FROM e164 AS a JOIN records AS r ON r.hierarchy = a.hierarchy AND r.number = a.number "
    "WHERE a.e164 = ? ORDER BY r.number, r.hierarchy"
)
_HELD_BY = (
    f"SELECT {', '.join('r.' + name for name in COLUMNS)} "
    "FROM holders AS h JOIN records AS r ON r.hierarchy = h.hierarchy AND r.number = h.number "
    "WHERE h.who = ? ORDER BY r.number, r.hierarchy"
)
# Every path at or below `p` lies in [p, p + "/"): "/" follows "." in text order.
_NODE_COUNTS = (
    "SELECT hierarchy, status, total FROM nodes WHERE hierarchy >= ? AND hierarchy < ? "
    "AND total > 0 ORDER BY hierarchy"
)
_ALL_NODE_COUNTS = "SELECT hierarchy, status, total FROM nodes WHERE total > 0 ORDER BY hierarchy"
_ADD_COUNT = (
    "INSERT INTO nodes (hierarchy, status, total) VALUES (?, ?, ?) "
    "ON CONFLICT (hierarchy, status) DO UPDATE SET total = total + excluded.total"
)
_DROP_COUNT = "DELETE FROM nodes WHERE hierarchy = ? AND status = ? AND total = 0"
_ASSOCIATE = "INSERT OR IGNORE INTO e164 (e164, number, hierarchy) VALUES (?, ?, ?)"
_DISSOCIATE = "DELETE FROM e164 WHERE e164 = ? AND number = ? AND hierarchy = ?"
_HOLD = "INSERT OR IGNORE INTO holders (who, number, hierarchy) VALUES (?, ?, ?)"
_UNHOLD = "DELETE FROM holders WHERE who = ? AND number = ? AND hierarchy = ?"
_RETIRE = (
    "INSERT INTO retired (hierarchy, number, version) VALUES (?, ?, ?) "
    "ON CONFLICT (hierarchy, number) DO UPDATE SET version = max(version, excluded.version)"
)
_RETIRED = (
    "SELECT number, version FROM retired "
    "WHERE hierarchy = ? AND number BETWEEN ? AND ? AND length(number) = ?"
)
_SETTINGS_FIELDS: Final = tuple(field.name for field in attrs.fields(NodeSettings))
_ALL_SETTINGS = f"SELECT hierarchy, {', '.join(_SETTINGS_FIELDS)} FROM node_settings"
_CONFIGURE = (
    f"INSERT OR REPLACE INTO node_settings (hierarchy, {', '.join(_SETTINGS_FIELDS)}) "
    f"VALUES ({', '.join('?' * (len(_SETTINGS_FIELDS) + 1))})"
)
_UNCONFIGURE = "DELETE FROM node_settings WHERE hierarchy = ?"
_NEXT_SEQ = "UPDATE journal_seq SET last = last + ? WHERE id = 1 RETURNING last"
_JOURNAL_COLUMNS = "seq, span, operation, number, last, block, hierarchy, at, actor, before, after"
_WRITE_JOURNAL = f"INSERT INTO journal ({_JOURNAL_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_ENTRY_AT = f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq <= ? ORDER BY seq DESC LIMIT 1"
_ENTRIES_AFTER = f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
_HISTORY = (
    f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE number = ? AND last IS NULL "
    f"UNION ALL SELECT {_JOURNAL_COLUMNS} FROM journal WHERE block = ? AND last IS NOT NULL "
    "AND number <= ? AND last >= ? AND length(number) = ? ORDER BY seq"
)
# The oldest entries while older than the time (`Repository.prune`): those before the
# first entry that is not.
_PRUNED = (
    "FROM journal WHERE at < ? AND seq < "
    "coalesce((SELECT min(seq) FROM journal WHERE at >= ?), 9223372036854775807)"
)
_PRUNE_COUNT = f"SELECT coalesce(sum(span), 0) {_PRUNED}"
_PRUNE = f"DELETE {_PRUNED}"

# Numbers hold only '+' and digits, which all sort below ':'.
_AFTER_DIGITS = ":"


def _scan_sql(status: bool, prefix: bool, after: bool, due: bool) -> str:
    """The page query of `scan` for the filters given."""
    where = ["hierarchy = ?"]
    if status:
        where.append("status = ?")
    if prefix:
        where.append("number >= ? AND number < ?")
    if after:
        where.append("number > ?")
    if due:
        where.append("release_date <= ?")
    # Name the index: a planner left to guess may walk a node's every number
    # in key order and filter on status, slower the fuller the node.
    source = "records INDEXED BY records_by_status" if status else "records"
    return f"SELECT {_LIST} FROM {source} WHERE {' AND '.join(where)} ORDER BY number LIMIT ?"


# A scan for due records (`Query.due_by`) reads them by release date and sorts them when
# a node's status has at most this many due (`_DUE_COUNT`), rather than walk every record
# of the status in number order: open-ended reservations, or a few due among many
# cooling, are not walked at every read. More than this: the walk finds them soon.
_GATHERED: Final = 1024
_DUE_INDEX = "records INDEXED BY records_due_by_status"
_DUE_WHERE = "hierarchy = ? AND status = ? AND release_date <= ?"
_DUE_COUNT: Final = (
    f"SELECT count(*) FROM (SELECT 1 FROM {_DUE_INDEX} WHERE {_DUE_WHERE} LIMIT {_GATHERED + 1})"
)


def _gather_sql(prefix: bool, after: bool) -> str:
    where = [_DUE_WHERE]
    if prefix:
        where.append("number >= ? AND number < ?")
    if after:
        where.append("number > ?")
    return f"SELECT {_LIST} FROM {_DUE_INDEX} WHERE {' AND '.join(where)} ORDER BY number LIMIT ?"


_GATHERS: Final = {
    (prefix, after): _gather_sql(prefix, after)
    for prefix in (False, True)
    for after in (False, True)
}

_SCANS: Final = {
    (status, prefix, after, due): _scan_sql(status, prefix, after, due)
    for status in (False, True)
    for prefix in (False, True)
    for after in (False, True)
    for due in (False, True)
}


# -- the journal's rows -------------------------------------------------------------


def _entry_rows(seq: int, entry: Entry) -> Iterator[tuple[Any, ...]]:
    """The journal rows of an entry whose first change is `seq`, its time as text."""
    return journal_rows(seq, entry, DATETIME_AS_TEXT)


def _entry_of(row: tuple[Any, ...]) -> tuple[int, Entry]:
    return journal_entry(row, DATETIME_AS_TEXT)
