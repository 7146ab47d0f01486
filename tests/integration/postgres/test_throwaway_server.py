"""The tests' throwaway cluster is stopped and removed when its process is told to end.

A test run cut short by `timeout`, a CI runner or a closed terminal gets SIGTERM or
SIGHUP, which end Python without running any `finally`: the cluster's postmaster
kept running, and its folder stayed, after the tests were gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import REQUIRE_VARIABLE, ServerUnavailable, find_bindir, required

ROOT = Path(__file__).resolve().parents[3]

# A process holding a throwaway cluster: it says where, then waits to be ended.
HOLDER = """
import signal
import time
from tests.postgres_server import throwaway_server

# As in a terminal: a run under nohup (as CI may be) inherits SIGHUP ignored, and a
# signal ignored ends nothing, so there is nothing to stop the cluster for.
for ending in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(ending, signal.SIG_DFL)

with throwaway_server() as url:
    print(url, flush=True)
    while True:
        time.sleep(3600)
"""


@pytest.fixture(scope="module")
def binaries() -> Path:
    try:
        return find_bindir()
    except ServerUnavailable as error:
        if required():
            pytest.fail(f"{REQUIRE_VARIABLE} is set, but {error}", pytrace=False)
        pytest.skip(str(error))


@pytest.fixture
def temporary() -> Iterator[Path]:
    """A folder of its own for the holder's cluster, which the `postgres` user may enter."""
    folder = Path(tempfile.mkdtemp(prefix="numinv-holder-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for pid_file in folder.glob("numinv-pg-*/data/postmaster.pid"):  # a cluster left behind
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)  # immediate stop
        shutil.rmtree(folder, ignore_errors=True)


def _accepts(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_throwaway_cluster_is_stopped_when_its_process_is_told_to_end(
    binaries: Path, temporary: Path, ending: signal.Signals
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temporary)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        url = holder.stdout.readline().strip()
        assert url.startswith("postgresql://"), holder.stderr.read() if holder.stderr else ""
        assert _accepts(url)
        assert [folder.name[:10] for folder in temporary.iterdir()] == ["numinv-pg-"]

        holder.send_signal(ending)
        holder.wait(120)

        assert not _accepts(url)
        assert list(temporary.iterdir()) == []
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)
