"""A transaction's statements, sent in one pipeline on libpq (`psycopg.pq`), and a read.

psycopg's cursors spend most of a short transaction's client time on their
own machinery: about 70 us a statement and as much again a pipeline, against
about 15 us to send, wait for and read the same statements through the
`psycopg.pq` connection underneath. A transaction's statements go that way;
values are still dumped and loaded by psycopg's own adapters (`Transformer`),
and failures are psycopg's own errors (`error_from_result`), so that
`_Database.translated` reads them as before. A read outside transactions
goes the same way, a pipeline of one statement; COPY keeps psycopg's cursor.

Each statement is prepared on its connection at its first use, in the
pipeline that first runs it, just before it: a new worker's first
transaction costs no round trip a statement. A statement counts as prepared
once the server answered its preparation: in a pipeline that an earlier
statement made fail, it was never prepared, and is prepared again at its
next use. A connection keeps at most `_PREPARED`: the least recently run one
is deallocated at the end of the pipeline that prepares another (a process
meets many rare shapes of statement, the lock patterns of large checks among
them, and the statements it runs all the time must stay prepared). At the
end, since SQL's `DEALLOCATE` (libpq before 17 has no message to close one)
fails in a transaction that failed, and the pipeline may be the `ROLLBACK`
that ends it; skipped, the statement stays prepared.
"""

from __future__ import annotations

import functools
import re
import select
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from typing import Any, Final

import psycopg
from psycopg import errors as pg, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import ExecStatus

from numinv.storage.postgres.statements import _PREPARED

_PLACEHOLDER: Final = re.compile(r"%%|%s")
_SQL: Final[dict[str, str]] = {}  # psycopg's `%s` placeholders as libpq's `$1`
_PREPARE: Final[Any] = object()  # in place of a statement's values: its preparation
_DEALLOCATE: Final[Any] = object()  # in place of a statement's values: its deallocation
# A statement is deallocated by the protocol's own message where libpq has it (17): a
# pooler keeping prepared statements (PgBouncer) knows it, not SQL's `DEALLOCATE`.
_CLOSE: Final = pq.version() >= 170000


def _numbered(sql: str) -> str:
    found = _SQL.get(sql)
    if found is None:
        count = 0

        def number(match: re.Match[str]) -> str:
            nonlocal count
            if match.group() == "%%":
                return "%"
            count += 1
            return f"${count}"

        found = _PLACEHOLDER.sub(number, sql)
        if len(_SQL) < 4096:
            _SQL[sql] = found
    return found


class Answer:
    """What one statement answered: its rows (as a cursor's `fetchall`) and `rowcount`."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount


class Wire:
    """One pool connection's libpq side: its prepared statements and adapters."""

    __slots__ = ("encoding", "named", "pgconn", "poller", "prepared", "transformer")

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.pgconn = connection.pgconn
        self.encoding = connection.info.encoding
        self.transformer = Transformer(connection)
        # Each statement's name, once the server has it, the least recently run first.
        self.prepared: OrderedDict[str, bytes] = OrderedDict()
        self.named = 0  # names given, the unanswered ones too: a name is never given twice
        self.poller = _Poller()

    def run(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Answer]:
        """Send the statements in one pipeline and wait for every answer; the first
        failure is raised once all have come back (the later ones were skipped)."""
        pgconn, transformer, encoding = self.pgconn, self.transformer, self.encoding
        prepared = self.prepared
        preparing: dict[str, bytes] = {}  # statements prepared in this pipeline
        # (name, b"" if unnamed; text; values; the statement a (de)allocation is of)
        sent: list[tuple[bytes, bytes, Sequence[Any] | None, str]] = []
        evicted: list[tuple[bytes, bytes, Sequence[Any] | None, str]] = []  # sent last
        # Every value dumped first: one that cannot be (text the connection's encoding
        # lacks) fails the call before any statement is named or evicted.
        dumped = [
            transformer.dump_sequence(parameters, _text_formats(len(parameters)))
            if parameters
            else None
            for _, parameters in statements
        ]
        for (sql, _), values in zip(statements, dumped, strict=True):
            name = prepared.get(sql)
            if name is not None:
                prepared.move_to_end(sql)
            else:
                name = preparing.get(sql) or b""
            text = b""
            if not name:
                text = _numbered(sql).encode(encoding)
                while len(prepared) + len(preparing) >= _PREPARED and prepared:
                    old, gone = prepared.popitem(last=False)  # back if not deallocated
                    evicted.append((gone, b"DEALLOCATE " + gone, _DEALLOCATE, old))
                if len(prepared) + len(preparing) < _PREPARED:
                    name = preparing[sql] = f"numinv_{self.named}".encode()
                    self.named += 1
                    sent.append((name, text, _PREPARE, sql))
            sent.append((name, text, values, ""))
        sent += evicted
        pgconn.enter_pipeline_mode()
        try:
            for name, text, values, _ in sent:
                if values is _PREPARE:
                    pgconn.send_prepare(name, text)
                elif values is _DEALLOCATE and _CLOSE:
                    pgconn.send_close_prepared(name)
                elif values is _DEALLOCATE:
                    pgconn.send_query_params(text, None)
                elif name:
                    pgconn.send_query_prepared(name, values)
                else:
                    pgconn.send_query_params(text, values)
            pgconn.pipeline_sync()
            self._flush()
            answers: list[Answer] = []
            failure: psycopg.Error | None = None
            expected = iter(sent)
            while True:
                result = self._result()
                status = result.status
                if status == ExecStatus.PIPELINE_SYNC:
                    break
                name, _, values, sql = next(expected)
                if values is _PREPARE or values is _DEALLOCATE:
                    if status == ExecStatus.COMMAND_OK:
                        if values is _PREPARE:
                            prepared[sql] = preparing[sql]
                        continue
                    if values is _DEALLOCATE:  # still prepared: kept, least recent
                        prepared[sql] = name
                        prepared.move_to_end(sql, last=False)
                    if status != ExecStatus.PIPELINE_ABORTED and failure is None:
                        failure = _error(result, encoding)
                elif status == ExecStatus.TUPLES_OK:
                    transformer.set_pgresult(result)
                    rows = transformer.load_rows(0, result.ntuples, tuple)
                    answers.append(Answer(rows, result.ntuples))
                elif status == ExecStatus.COMMAND_OK:
                    answers.append(Answer([], _tuples(result.command_tuples)))
                elif status == ExecStatus.PIPELINE_ABORTED:
                    answers.append(Answer([], -1))
                elif failure is None:
                    failure = _error(result, encoding)
        finally:
            transformer.set_pgresult(None)  # a large answer's memory goes with its read
            if pgconn.pipeline_status:  # still busy: closed by whoever rolls back
                with suppress(psycopg.OperationalError):
                    pgconn.exit_pipeline_mode()
        if failure is not None:
            raise failure
        return answers

    def _flush(self) -> None:
        pgconn = self.pgconn
        while pgconn.flush():
            self.poller.wait(pgconn.socket, select.POLLIN | select.POLLOUT)
            pgconn.consume_input()

    def _result(self) -> Any:
        """The next result of the pipeline (skipping the end of each statement's)."""
        pgconn = self.pgconn
        while True:
            while pgconn.is_busy():
                self.poller.wait(pgconn.socket, select.POLLIN)
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is not None:
                return result
            if pgconn.status != 0:  # CONNECTION_OK
                raise psycopg.OperationalError(
                    pgconn.get_error_message(self.encoding) or "the connection was lost"
                )


class _Poller:
    """Waits until the connection's socket is ready (`poll`: `select` fails on descriptors
    past 1,023, which a busy host's connections may have); made once a connection."""

    __slots__ = ("events", "poll", "socket")

    def __init__(self) -> None:
        self.poll = select.poll()
        self.socket = -1
        self.events = 0

    def wait(self, socket: int, events: int) -> None:
        if (socket, events) != (self.socket, self.events):
            if self.socket >= 0:
                self.poll.unregister(self.socket)
            self.poll.register(socket, events)
            self.socket, self.events = socket, events
        self.poll.poll()


@functools.cache
def _text_formats(count: int) -> list[PyFormat]:
    """Every value of a statement with `count` parameters dumped as text (kept, not made
    at every statement: `dump_sequence` only reads it)."""
    return [PyFormat.TEXT] * count


def _error(result: Any, encoding: str) -> psycopg.Error:
    """The failure a result reports, as psycopg raises it: the server's by its SQLSTATE;
    one of libpq's own, without (the connection was lost), `OperationalError`."""
    error = pg.error_from_result(result, encoding=encoding)
    if error.sqlstate is None:
        return psycopg.OperationalError(str(error))
    return error


def _tuples(count: int | None) -> int:
    return -1 if count is None else count
