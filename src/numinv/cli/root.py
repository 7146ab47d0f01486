"""The root group: the database, the host's settings, and one-line errors.

Settings are the host's, not the database's, so they are root options with
environment defaults (`NUMINV_AUTO_COOLING`, ...). The database opens on
first use, so `--help` and usage errors never touch it.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs
import click
from click.core import ParameterSource

from numinv import Consumer, Inventory, NotFound, NumInvError, Settings, __version__

if TYPE_CHECKING:
    from numinv.storage.sqlite import SqliteRepository

__all__ = ["Failure", "Session", "pass_session", "root"]

_DEFAULTS = Settings()
_SETTINGS = (
    "auto_cooling",
    "cooling_days",
    "audiocodes_cooling_days",
    "teluri_prefix",
    "prevent_duplicates",
    "max_range_size",
)


class Failure(click.ClickException):
    """A refusal shown as one line, `numinv: error: <message>`, exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"numinv: error: {self.format_message()}", err=True, file=file)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    if isinstance(error, UnicodeDecodeError):
        return f"the input is not UTF-8 text ({error.reason} at byte {error.start})"
    return " ".join(str(error).split()) or type(error).__name__


class Root(click.Group):
    """The `numinv` group: every expected failure of a command becomes one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise  # click quiets a closed pipe itself
        except (NumInvError, OSError, sqlite3.Error, csv.Error, UnicodeError) as error:
            raise Failure(_reason(error)) from error


@attrs.define
class Session:
    """What every command shares: the database path, the settings, the open inventory."""

    db: Path
    db_given: bool
    settings: Settings
    explicit: Mapping[str, object]  # the settings given on the command line or environment
    _inventory: Inventory | None = None

    def inventory(self, *, existing: bool = False) -> Inventory:
        """The inventory on the database; with `existing`, refuse a database file not yet made."""
        if self._inventory is None:
            if existing and not self.db.exists():
                raise NotFound(
                    f"no database at {self.db} (load numbers with 'numinv range add', "
                    "or give --db or NUMINV_DB)"
                )
            repository = click.get_current_context().with_resource(open_repository(self.db))
            self._inventory = Inventory(repository, settings=self.settings)
        return self._inventory

    def consumer(self, kind: str, consumer_id: str, at: str, vendor: str = "") -> Consumer:
        """A consumer; `kind` may be a kind's full name or, when unique, its last part."""
        return Consumer(resolve_kind(self.inventory().kinds, kind), consumer_id, at, vendor)


def open_repository(path: Path) -> SqliteRepository:
    """A SQLite repository on `path` (imported here: only commands that need it pay for it)."""
    try:
        from numinv.storage.sqlite import SqliteRepository
    except ImportError as error:
        raise Failure(f"the SQLite store is not available in this installation: {error}") from error
    return SqliteRepository(path)


def resolve_kind(kinds: Mapping[str, object], text: str) -> str:
    """The kind named by `text`: itself, or the one kind whose last part it is (any case)."""
    if text in kinds:
        return text
    wanted = text.lower()
    matches = [name for name in kinds if wanted in (name.lower(), name.rsplit("/", 1)[-1].lower())]
    return matches[0] if len(matches) == 1 else text  # else the inventory names the known kinds


pass_session = click.make_pass_decorator(Session)


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="numinv")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default="numinv.db",
    envvar="NUMINV_DB",
    show_default=True,
    show_envvar=True,
    help="The SQLite database file.",
)
@click.option(
    "--auto-cooling/--no-auto-cooling",
    default=_DEFAULTS.auto_cooling,
    envvar="NUMINV_AUTO_COOLING",
    show_default=True,
    show_envvar=True,
    help="Cool a number when its last user or phone lets it go.",
)
@click.option(
    "--cooling-days",
    type=click.IntRange(1, 999),
    default=_DEFAULTS.cooling_days,
    envvar="NUMINV_COOLING_DAYS",
    show_default=True,
    show_envvar=True,
    help="How long automatic and manual cooling last.",
)
@click.option(
    "--audiocodes-cooling-days",
    type=click.IntRange(1, 999),
    default=_DEFAULTS.audiocodes_cooling_days,
    envvar="NUMINV_AUDIOCODES_COOLING_DAYS",
    show_default=True,
    show_envvar=True,
    help="How long an AudioCodes number cools (its device may come back).",
)
@click.option(
    "--teluri-prefix",
    default=_DEFAULTS.teluri_prefix,
    envvar="NUMINV_TELURI_PREFIX",
    show_default=True,
    show_envvar=True,
    help="Prefix of the TelURI set in extra4 by the hybrid service types.",
)
@click.option(
    "--prevent-duplicates/--allow-duplicates",
    default=_DEFAULTS.prevent_duplicates,
    envvar="NUMINV_PREVENT_DUPLICATES",
    show_default=True,
    show_envvar=True,
    help="Make a number unique in the whole tree, not only in its line of descent.",
)
@click.option(
    "--max-range-size",
    type=click.IntRange(1, 10**9),
    default=_DEFAULTS.max_range_size,
    envvar="NUMINV_MAX_RANGE_SIZE",
    show_default=True,
    show_envvar=True,
    help="The largest range one command may load or change.",
)
@click.pass_context
def root(ctx: click.Context, /, db: Path, **settings: Any) -> None:
    """A telephone number inventory on a SQLite file.

    Numbers are loaded at hierarchy nodes (sys.acme.uk.london) and looked up
    from a node by walking up the tree. Every refusal is one line on stderr
    and exit status 1; usage errors exit with status 2.
    """
    given = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    explicit = {
        name: settings[name] for name in _SETTINGS if ctx.get_parameter_source(name) in given
    }
    ctx.obj = Session(
        db=db,
        db_given=ctx.get_parameter_source("db") is ParameterSource.COMMANDLINE,
        settings=Settings(**{name: settings[name] for name in _SETTINGS}),
        explicit=explicit,
    )
