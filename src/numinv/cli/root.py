"""The root group: the database, the host's settings, lazy commands, and one-line errors.

Settings are the host's, not the database's, so they are options with
environment defaults (`NUMINV_AUTO_COOLING`, ...). They and `--db` are
accepted before the command name and after it (the later one wins). The
database opens on first use, so `--help` and usage errors never touch it, and
a command's module is imported only when that command runs: `numinv --help`
imports click and this module, not rich nor the commands.
"""

from __future__ import annotations

import getpass
import importlib
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from numinv import __version__
from numinv.cli.errors import Failure, words

if TYPE_CHECKING:
    import sqlite3

    from numinv import Inventory, Repository, Settings

__all__ = [
    "COMMANDS",
    "Command",
    "Session",
    "command",
    "open_repository",
    "pass_session",
    "root",
]

F = TypeVar("F", bound=Callable[..., Any])
if TYPE_CHECKING:
    ParamType = click.ParamType[Any]  # generic only in newer click
else:
    ParamType = click.ParamType
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# `host=db dbname=x`: libpq's keyword form, which would otherwise name a new SQLite file.
_KEYWORDS = re.compile(r"\s*[A-Za-z_]+\s*=\s*\S*(\s+[A-Za-z_]+\s*=|\s*$)")

# name -> (module, attribute, one line of help). The help is here so that
# `numinv --help` imports no command; a test checks it is each command's own.
COMMANDS: Mapping[str, tuple[str, str, str]] = {
    "range": ("numinv.cli.ranges", "range_group", "Load, change or remove a range of numbers."),
    "list": ("numinv.cli.lookups", "list_numbers", "List numbers as a table, JSON or CSV."),
    "show": ("numinv.cli.lookups", "show", "Show one number's fields and its uses."),
    "report": ("numinv.cli.lookups", "report", "Utilization per node; low nodes flagged."),
    "assign": ("numinv.cli.lifecycle", "assign", "Give NUMBER to a consumer."),
    "assign-next": (
        "numinv.cli.lifecycle",
        "assign_next",
        "Give a consumer its reserved number, or the first Available one it can see.",
    ),
    "unassign": ("numinv.cli.lifecycle", "unassign", "Take NUMBER from a consumer."),
    "reserve": ("numinv.cli.lifecycle", "reserve", "Hold NUMBER back, for some days or someone."),
    "unreserve": (
        "numinv.cli.lifecycle",
        "unreserve",
        "Remove the reservation of NUMBER and who it is held for.",
    ),
    "reserve-next": (
        "numinv.cli.lifecycle",
        "reserve_next",
        "Reserve the first Available number seen from a node, in one step.",
    ),
    "numbers-of": (
        "numinv.cli.lifecycle",
        "numbers_of",
        "List the numbers PERSON (a consumer id or owner) uses or has reserved.",
    ),
    "activate": (
        "numinv.cli.lifecycle",
        "activate",
        "Make an Inactive (Webex Calling) NUMBER Available.",
    ),
    "deactivate": (
        "numinv.cli.lifecycle",
        "deactivate",
        "Make an Available NUMBER Inactive: a Webex Calling number not yet active.",
    ),
    "cool": ("numinv.cli.lifecycle", "cool", "Cool NUMBER, or move its release date."),
    "release": ("numinv.cli.lifecycle", "release", "End the cooling of NUMBER now."),
    "sweep": ("numinv.cli.lifecycle", "sweep", "Release every cooling and reservation now due."),
    "e164": ("numinv.cli.lifecycle", "e164", "Add or remove E.164 numbers of a number."),
    "service": ("numinv.cli.lifecycle", "service", "Apply a subscriber's service type."),
    "audit": ("numinv.cli.files", "audit", "Reconcile with what the UC applications use."),
    "export": ("numinv.cli.files", "export", "Write records as CSV, JSON or JSON Lines."),
    "import": ("numinv.cli.files", "import_records", "Store the records of an export."),
    "simulate": ("numinv.cli.simulate", "simulate_command", "Simulate a number estate."),
    "configure": (
        "numinv.cli.settings",
        "configure",
        "Show or set the settings in force at a node (cooling, duplicates, threshold).",
    ),
    "history": (
        "numinv.cli.journal",
        "history",
        "Show every change of NUMBER, oldest first: who had it, and when.",
    ),
    "changes": (
        "numinv.cli.journal",
        "changes",
        "Print the change feed: every committed change after SEQ, in commit order.",
    ),
}

# The settings options: name -> (declarations, environment variable, click options).
_RANGE_DAYS = click.IntRange(1, 999)
_SETTINGS: Mapping[str, tuple[tuple[str, ...], str, dict[str, Any]]] = {
    "auto_cooling": (
        ("--auto-cooling/--no-auto-cooling",),
        "NUMINV_AUTO_COOLING",
        {"help": "Cool a number when its last user or phone lets it go.  [default: off]"},
    ),
    "cooling_days": (
        ("--cooling-days",),
        "NUMINV_COOLING_DAYS",
        {"type": _RANGE_DAYS, "metavar": "DAYS", "help": "How long cooling lasts.  [default: 30]"},
    ),
    "audiocodes_cooling_days": (
        ("--audiocodes-cooling-days",),
        "NUMINV_AUDIOCODES_COOLING_DAYS",
        {
            "type": _RANGE_DAYS,
            "metavar": "DAYS",
            "help": "How long an AudioCodes number cools.  [default: 2]",
        },
    ),
    "teluri_prefix": (
        ("--teluri-prefix",),
        "NUMINV_TELURI_PREFIX",
        {"metavar": "+DIGITS", "help": "TelURI prefix of the hybrid types.  [default: +88800]"},
    ),
    "prevent_duplicates": (
        ("--prevent-duplicates/--allow-duplicates",),
        "NUMINV_PREVENT_DUPLICATES",
        {"help": "A number unique in the whole tree.  [default: allow]"},
    ),
    "max_range_size": (
        ("--max-range-size",),
        "NUMINV_MAX_RANGE_SIZE",
        {
            "type": click.IntRange(1, 10**9),
            "metavar": "N",
            "help": "The largest range one command may touch.  [default: 1000000]",
        },
    ),
}
_GIVEN = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


class Target(ParamType):
    """`--db`: a SQLite file, or a PostgreSQL URL (`postgresql://...`)."""

    name = "target"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if text.startswith(POSTGRES_SCHEMES):
            return text
        if not text:
            self.fail("give a file name or a postgresql:// URL", param, ctx)
        if Path(text).is_dir():
            self.fail(f"{text!r} is a directory, not a database file", param, ctx)
        if _KEYWORDS.match(text) and not Path(text).exists():
            self.fail(
                f"{text!r} looks like a PostgreSQL keyword connection string; give it as a "
                "URL (postgresql://user@host:5432/dbname?schema=numinv), or a file name",
                param,
                ctx,
            )
        return text


class Session:
    """What every command shares: the database, the settings given, the open inventory."""

    def __init__(self, db: str, db_given: bool, given: dict[str, Any]) -> None:
        self.db = db
        self.db_given = db_given  # on the command line (not only NUMINV_DB)
        self.given = given  # the settings given on the command line or in the environment
        self.failed = False
        self._inventory: Inventory | None = None

    def set_db(self, db: str) -> None:
        self.db, self.db_given = db, True

    def settings(self, **defaults: Any) -> Settings:
        """The settings: the library's defaults, then `defaults`, then those given."""
        from numinv import Settings

        return Settings(**{**defaults, **self.given})

    @property
    def is_url(self) -> bool:
        return self.db.startswith(POSTGRES_SCHEMES)

    @property
    def shown(self) -> str:
        """The database as messages name it: a file, or a URL without its password."""
        return (
            f"PostgreSQL {without_password(self.db)}" if self.is_url else f"SQLite file {self.db}"
        )

    def inventory(self, *, existing: bool = False) -> Inventory:
        """The inventory on the database; with `existing`, refuse a file not yet made."""
        if self._inventory is None:
            from numinv import Inventory, NotFound

            _refuse_memory(self.db)
            new = not self.is_url and not Path(self.db).exists()
            # An empty file is no database yet either: a command that only reads leaves it so.
            if existing and (new or (not self.is_url and _empty(self.db))):
                raise Failure(
                    f"no database at {self.db} (load numbers with 'numinv range add', "
                    "or give --db or NUMINV_DB)"
                )
            ctx = click.get_current_context().find_root()
            if new:  # closed after the repository (last in, first out): then removed
                ctx.call_on_close(self._remove_if_failed)
            try:
                repository = ctx.with_resource(open_repository(self.db, create=not existing))
            except NotFound as error:
                raise Failure(f"{error} (load numbers with 'numinv range add' first)") from error
            self._inventory = Inventory(
                repository, settings=self.settings(), clock=_clock(), actor=_actor()
            )
        return self._inventory

    def _remove_if_failed(self) -> None:
        """A command that made the database file and then failed leaves no file behind,
        unless another program has committed to it or uses it meanwhile."""
        if self.failed:
            _remove_if_unused(self.db)


# numinv's own bookkeeping, which a new file holds before anything is committed.
_BOOKKEEPING = ("schema_version", "journal_seq")
_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"


def _remove_if_unused(path: str) -> None:
    """Remove a SQLite file (and its -wal, -shm, -journal) that holds nothing committed and
    that no other connection has open, decided under SQLite's own lock; else keep it.

    Leaving write-ahead logging is refused while another connection has the file
    open, and `BEGIN EXCLUSIVE` then keeps every other connection out from the
    check to the removal: a command that started on the file meanwhile (and may
    have committed) keeps it. Locked, gone or unreadable: the file is kept.
    """
    import sqlite3

    try:
        uri = Path(path).absolute().as_uri() + "?mode=rw"  # never creates the file
        connection = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
    except (sqlite3.Error, ValueError):
        return
    try:
        if not _holds_nothing(connection):  # checked first, so a kept file is left as it was
            return
        if connection.execute("PRAGMA journal_mode = DELETE").fetchone() != ("delete",):
            return
        connection.execute("BEGIN EXCLUSIVE")
        if _holds_nothing(connection):
            for suffix in ("", "-wal", "-shm", "-journal"):
                with suppress(OSError):
                    os.remove(path + suffix)
    except sqlite3.Error:  # locked by another connection, or not a database: kept
        return
    finally:
        connection.close()


def _holds_nothing(connection: sqlite3.Connection) -> bool:
    """Whether no table has a row, besides numinv's bookkeeping (no journaled change yet)."""
    tables = [name for (name,) in connection.execute(_TABLES).fetchall()]
    for table in tables:
        if table == "journal_seq":
            if connection.execute("SELECT 1 FROM journal_seq WHERE last != 0").fetchone():
                return False
        elif table not in _BOOKKEEPING:
            quoted = table.replace('"', '""')
            if connection.execute(f'SELECT 1 FROM "{quoted}" LIMIT 1').fetchone():
                return False
    return True


def _empty(path: str) -> bool:
    try:
        return Path(path).is_file() and Path(path).stat().st_size == 0
    except OSError:
        return False


def without_password(url: str) -> str:
    """A PostgreSQL URL as it may be shown: its password (`user:secret@`) left out."""
    scheme, _, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:
        authority = f"{user.split(':', 1)[0]}@{host}"
    # A password may also be given as a query parameter.
    base, question, query = tail.partition("?")
    if question:
        kept = [item for item in query.split("&") if item.split("=", 1)[0] != "password"]
        tail = f"{base}?{'&'.join(kept)}" if kept else base
    return f"{scheme}://{authority}{slash}{tail}"


def _actor() -> Callable[[], str | None]:
    """Who the journal says made a change: NUMINV_ACTOR (a portal's user, a job's name),
    else the login name of whoever runs the command, else nobody."""
    name = os.environ.get("NUMINV_ACTOR", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):  # no login name (a container without a user entry)
            name = ""
    who = name or None
    return lambda: who


def _clock() -> Callable[[], datetime] | None:
    """A fixed time from NUMINV_NOW (ISO, UTC), for reproducible transcripts; else None."""
    text = os.environ.get("NUMINV_NOW")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date and time", param_hint="NUMINV_NOW"
        ) from None
    fixed = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return lambda: fixed


def open_repository(target: str, *, create: bool = True) -> Any:
    """The one place a `--db` target becomes a repository: a SQLite file, or PostgreSQL.

    A PostgreSQL URL may name numinv's schema with `schema=NAME` among its
    query parameters (default `numinv`); the rest goes to the driver as is.
    Without `create`, a schema numinv has not made is `NotFound`.
    """
    if target.startswith(POSTGRES_SCHEMES):
        try:
            from numinv.storage.postgres import PostgresRepository
        except ImportError as error:
            raise Failure(f"{target.split('://', 1)[0]}:// databases: {error}") from error
        conninfo, schema = _schema_of(target)
        # The command says what went wrong in one line of its own: not the pool's
        # warnings of each connection it drops after a server restart.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        return PostgresRepository(conninfo, schema=schema, pool_size=2, create=create)
    _refuse_memory(target)
    from numinv.storage.sqlite import SqliteRepository

    repository: Repository = SqliteRepository(target)
    return repository


def _refuse_memory(target: str) -> None:
    if target == ":memory:":  # SQLite's name for a database gone when the command ends
        raise Failure(
            "--db :memory: keeps nothing from one command to the next: give a file "
            "(simulate runs in memory without --db)"
        )


def _schema_of(url: str) -> tuple[str, str]:
    """The URL without its `schema=` query parameter, and that schema (default `numinv`).

    Only that parameter is taken out; every other character of the URL goes
    to the driver as it was written (`postgresql:///db?host=/run/pg`, a
    `%20` in `options`), since libpq reads URLs its own way.
    """
    from urllib.parse import unquote

    base, question, query = url.partition("?")
    kept: list[str] = []
    schemas: list[str] = []
    for item in query.split("&") if question else ():
        name, _, value = item.partition("=")
        if unquote(name) == "schema":
            schemas.append(unquote(value))
        elif item:
            kept.append(item)
    if len(schemas) > 1:
        raise click.BadParameter(
            f"names {len(schemas)} schemas ({', '.join(map(repr, schemas))}); name one",
            param_hint="--db",
        )
    conninfo = f"{base}?{'&'.join(kept)}" if kept else base
    return conninfo, schemas[0] if schemas else "numinv"


pass_session = click.make_pass_decorator(Session)


# -- options typed before or after the command name ---------------------------------


class GlobalOption(click.Option):
    """An option of the root that a command also takes; shown apart in its help."""


def _teluri(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        from numinv import InvalidInput, Settings

        try:
            Settings(teluri_prefix=value)
        except InvalidInput as error:
            raise click.BadParameter(f"{value!r} is not '+' and 1 to 15 digits") from error
    return value


def _on_command(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the command name: it overrides the one before."""
    if param.name == "teluri_prefix":
        _teluri(ctx, param, value)
    if value is not None and ctx.get_parameter_source(param.name or "") in _GIVEN:
        session = ctx.find_object(Session)
        if session is not None:
            if param.name == "db":
                session.set_db(value)
            else:
                session.given[param.name or ""] = value
    return value


def _db_option(*, on_root: bool) -> Callable[[F], F]:
    return click.option(
        "--db",
        type=Target(),
        metavar="FILE|URL",
        default="numinv.db" if on_root else None,
        envvar="NUMINV_DB" if on_root else None,
        show_default=on_root,
        show_envvar=on_root,
        help="The SQLite database file, or a postgresql:// URL"
        + (" (or NUMINV_DB)." if not on_root else "."),
        cls=click.Option if on_root else GlobalOption,
        expose_value=on_root,
        callback=None if on_root else _on_command,
    )


def global_options(function: F) -> F:
    """`--db` and the settings, on a command: the same options as the root's."""
    for name, (declarations, envvar, extra) in reversed(list(_SETTINGS.items())):
        function = click.option(
            *declarations,
            name,
            cls=GlobalOption,
            default=None,
            expose_value=False,
            callback=_on_command,
            help=f"{extra['help'].split('  [')[0]} (or {envvar}).",
            **{k: v for k, v in extra.items() if k != "help"},
        )(function)
    return _db_option(on_root=False)(function)


class Command(click.Command):
    """A command whose help lists its own options first, then the global ones."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if isinstance(param, GlobalOption) else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options (before or after the command name)"):
                formatter.write_dl(shared)


def command(
    name: str | None = None, *, group: click.Group | None = None, **kwargs: Any
) -> Callable[[Callable[..., Any]], Command]:
    """`click.command` (or `group.command`) with the global options in their own section."""

    def decorate(function: Callable[..., Any]) -> Command:
        make = click.command if group is None else group.command
        made = make(name, cls=Command, **kwargs)(global_options(function))
        assert isinstance(made, Command)
        return made

    return decorate


# -- the root group ----------------------------------------------------------------


class Root(click.Group):
    """The `numinv` group: commands loaded when used; every failure one line on stderr."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        found = getattr(importlib.import_module(module), attribute)
        assert isinstance(found, click.Command)
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, _, short) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0]) if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            from numinv.cli.errors import suggestion

            hint = suggestion(name, list(COMMANDS))
            ctx.fail(f"No such command {name!r}{hint}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        if sys.stdout is None:  # the shell closed it (`>&-`): refused before anything is done
            raise Failure("standard output is closed")
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that went away shows here, not at exit
            return result
        except BrokenPipeError:
            # The reader stopped reading (`| head`): not a failure of the command, whose
            # change (every change is committed before its output) stands.
            _reader_gone()
            raise click.exceptions.Exit(0) from None
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            self._failed(ctx)
            raise
        except KeyboardInterrupt as interrupt:
            # Ctrl-C, or a SIGTERM (`main`): the command's transaction is rolled back, a
            # database it made is removed, and the shell hears the signal's status.
            self._failed(ctx)
            stopped = isinstance(interrupt, Terminated)
            click.echo(f"numinv: error: {'terminated' if stopped else 'interrupted'}", err=True)
            raise click.exceptions.Exit(128 + (15 if stopped else 2)) from None
        except Exception as error:
            self._failed(ctx)
            raise Failure(_reason(error)) from error

    @staticmethod
    def _failed(ctx: click.Context) -> None:
        if isinstance(ctx.obj, Session) and sys.exc_info()[0] is not click.exceptions.Exit:
            ctx.obj.failed = True


def _reader_gone() -> None:
    """Send what stdout still holds, and anything written later, nowhere: its reader is
    gone (the recipe of the note on SIGPIPE in Python's `signal` documentation)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file: nothing is flushed at exit
        return
    nowhere = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(nowhere, descriptor)
    finally:
        os.close(nowhere)


class Terminated(KeyboardInterrupt):
    """A SIGTERM (`timeout`, `docker stop`, a service manager), stopping the command as
    Ctrl-C does, so that what it was doing is undone instead of cut off."""


def terminate_on_sigterm() -> None:
    """Turn SIGTERM into `Terminated` in this (the main) thread."""

    def stop(signum: int, frame: object) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, stop)


def _reason(error: BaseException) -> str:
    from numinv import NumInvError

    if isinstance(error, NumInvError):
        return words(str(error))
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    if isinstance(error, MemoryError):  # a job too big for the machine, not a bug
        return "out of memory: the job is too large for this machine; make it smaller"
    if isinstance(error, UnicodeDecodeError):
        return f"the input is not UTF-8 text ({error.reason} at byte {error.start})"
    if isinstance(error, OSError | ValueError | LookupError) or _from_a_driver(error):
        return words(str(error)) or type(error).__name__
    # Not an expected refusal: still one line, but say it is ours to fix.
    return (
        f"unexpected {type(error).__name__}: {words(str(error))} "
        "(a bug in numinv: please report it with the command that caused it)"
    )


def _from_a_driver(error: BaseException) -> bool:
    return type(error).__module__.partition(".")[0] in {"sqlite3", "_csv", "csv", "json"}


def _settings_options(function: F) -> F:
    for name, (declarations, envvar, extra) in reversed(list(_SETTINGS.items())):
        function = click.option(
            *declarations,
            name,
            default=None,
            envvar=envvar,
            show_envvar=True,
            callback=_teluri if name == "teluri_prefix" else None,
            **extra,
        )(function)
    return function


@click.group("numinv", cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="numinv")
@_db_option(on_root=True)
@_settings_options
@click.pass_context
def root(ctx: click.Context, /, db: str, **settings: Any) -> None:
    """A telephone number inventory on a SQLite file or a PostgreSQL database.

    Numbers are loaded at hierarchy nodes (sys.acme.uk.london) and looked up
    from a node by walking up the tree. Global options go before or after the
    command name. Every refusal is one line on stderr and exit status 1; usage
    errors exit with status 2. Shell completion: see 'numinv' in docs/cli.md.
    """
    given = {
        name: value
        for name, value in settings.items()
        if value is not None and ctx.get_parameter_source(name) in _GIVEN
    }
    db_given = ctx.get_parameter_source("db") is ParameterSource.COMMANDLINE
    ctx.obj = Session(db, db_given, given)


def commands() -> Iterator[tuple[str, click.Command]]:
    """Every command, loaded (for tests and documentation)."""
    ctx = click.Context(root)
    for name in COMMANDS:
        found = root.get_command(ctx, name)
        assert found is not None
        yield name, found
