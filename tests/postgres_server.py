"""A PostgreSQL server for the tests: the one `NUMINV_POSTGRES_URL` names, or a throwaway cluster.

The throwaway cluster is made with the machine's own PostgreSQL binaries
(`pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`) in a
temporary folder, listens on a free port of 127.0.0.1 only, and is removed
when the test session ends. `initdb` refuses to run as root, so under root
the cluster belongs to the `postgres` system user and its commands run
through `runuser`. The cluster's default collation is ICU `en-US` where the
binaries have ICU, so that every test shows that keys compare in byte order
whatever the database's collation; durability is off (`fsync=off`), which a
test server does not need.

Run on its own, it starts a server and prints its URL until interrupted:
`python -m tests.postgres_server`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ServerUnavailable", "find_bindir", "server_url", "throwaway_server"]

URL_VARIABLE = "NUMINV_POSTGRES_URL"
REQUIRE_VARIABLE = "NUMINV_REQUIRE_POSTGRES"
SYSTEM_USER = "postgres"

# Settings of a test server: no durability, quick deadlock detection, and room
# for the pools of many repositories and worker processes at once.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "deadlock_timeout": "100ms",
    "shared_buffers": "128MB",
    "max_wal_size": "2GB",
}


class ServerUnavailable(Exception):
    """No PostgreSQL server can be had here; the message says why."""


def find_bindir() -> Path:
    """The folder of the machine's PostgreSQL server binaries (`initdb`, `pg_ctl`)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
            candidates.append(Path(found))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ServerUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found: install PostgreSQL "
        f"(e.g. apt-get install postgresql) or set {URL_VARIABLE}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(command: list[str], *, root: bool) -> list[str]:
    if not root:
        return command
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SYSTEM_USER, "--", *command]
    return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", " ".join(map(_quoted, command))]


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _has_icu(bindir: Path) -> bool:
    pg_config = bindir / "pg_config"
    program = str(pg_config) if pg_config.exists() else shutil.which("pg_config")
    if not program:
        return False
    try:
        configure = subprocess.run(
            [program, "--configure"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--with-icu" in configure


@contextlib.contextmanager
def throwaway_server(overrides: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start a private cluster, yield its URL, and stop and remove it afterwards.

    `overrides` replace or add server settings (e.g. `{"fsync": "on"}`).
    """
    settings = {**SETTINGS, **(overrides or {})}
    bindir = find_bindir()
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if root:
        try:
            import pwd

            owner = pwd.getpwnam(SYSTEM_USER)
        except (ImportError, KeyError):
            raise ServerUnavailable(
                f"running as root and there is no {SYSTEM_USER!r} user to own a cluster "
                "(initdb refuses root)"
            ) from None
    folder = Path(tempfile.mkdtemp(prefix="numinv-pg-"))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    sockets.mkdir()
    if root:
        for path in (folder, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        folder.chmod(0o700)
    try:
        locale = ["--locale=C.UTF-8"]
        if _has_icu(bindir) and _major(bindir) >= 15:
            locale += ["--locale-provider=icu", "--icu-locale=en-US"]
        _run(
            _as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SYSTEM_USER,
                    "-A",
                    "trust",
                    "--encoding=UTF8",
                    *locale,
                ],
                root=root,
            ),
            "initdb",
        )
        port = _free_port()
        options = " ".join(
            [f"-p {port}", f"-k {sockets}", *(f"-c {k}={v}" for k, v in settings.items())]
        )
        _run(
            _as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                root=root,
            ),
            "pg_ctl start",
            log,
        )
        try:
            with _stopped_on_termination():
                yield f"postgresql://{SYSTEM_USER}@127.0.0.1:{port}/postgres"
        finally:
            with contextlib.suppress(ServerUnavailable):
                _run(
                    _as_owner(
                        [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                        root=root,
                    ),
                    "pg_ctl stop",
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _stopped_on_termination() -> Iterator[None]:
    """While the cluster runs, SIGTERM and SIGHUP interrupt this process as Ctrl-C does.

    By default they end Python at once, skipping every `finally`: a test run cut
    short by `timeout`, a CI runner or a closed terminal left the cluster running
    (its postmaster, shared memory and folder) after the process was gone.
    As `KeyboardInterrupt`, pytest ends the session and stops the cluster.
    Only the main thread can take signals, and a handler the host set is kept.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept: dict[int, Any] = {}
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            kept[number] = signal.signal(number, signal.default_int_handler)
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def _major(bindir: Path) -> int:
    try:
        text = subprocess.run(
            [str(bindir / "initdb"), "--version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    digits = text.split()[-1].split(".")[0]
    return int(digits) if digits.isdigit() else 0


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    try:
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    except subprocess.CalledProcessError as error:
        told = (error.stderr or error.stdout or "").strip()
        if log is not None and log.exists():
            told += "\n" + log.read_text(errors="replace")[-2000:]
        raise ServerUnavailable(f"{what} failed: {told}") from error
    except (OSError, subprocess.SubprocessError) as error:
        raise ServerUnavailable(f"{what} failed: {error}") from error


@contextlib.contextmanager
def server_url() -> Iterator[str]:
    """The server of `NUMINV_POSTGRES_URL` when set, else a throwaway cluster."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    with throwaway_server() as url:
        yield url


def required() -> bool:
    """Whether a missing server fails the tests instead of skipping them."""
    return os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0")


if __name__ == "__main__":
    with server_url() as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
