"""The package as a user gets it: a wheel built from the tree, installed in a new venv."""

from __future__ import annotations

import email
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import numinv

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.packaging, pytest.mark.slow]


def run(*command: str | Path) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT)
    (built,) = dist.glob("numinv-*.whl")
    return built


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_wheel_carries_the_version_of_numinv_init(wheel: Path) -> None:
    assert metadata(wheel)["Version"] == numinv.__version__
    assert wheel.name.startswith(f"numinv-{numinv.__version__}-")


def test_the_wheel_carries_the_license_urls_and_classifiers(wheel: Path) -> None:
    found = metadata(wheel)
    assert found["License-Expression"] == "MIT"
    with zipfile.ZipFile(wheel) as archive:
        assert any(name.endswith("licenses/LICENSE") for name in archive.namelist())
    classifiers = found.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.13" in classifiers
    urls = {url.split(",")[0] for url in found.get_all("Project-URL") or []}
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= urls


def test_the_wheel_depends_on_attrs_and_cattrs_only_and_splits_its_extras(wheel: Path) -> None:
    requires = metadata(wheel).get_all("Requires-Dist") or []
    plain = sorted(r.split(">")[0] for r in requires if "extra ==" not in r)
    assert plain == ["attrs", "cattrs"]
    extras = set(metadata(wheel).get_all("Provides-Extra") or [])
    assert extras == {"cli", "postgres", "testing", "dev"}
    testing = [r for r in requires if "extra == 'testing'" in r or 'extra == "testing"' in r]
    assert not any(tool in r for r in testing for tool in ("ruff", "mypy"))


def test_the_wheel_installs_in_a_new_environment_and_numinv_help_runs(
    wheel: Path, tmp_path: Path
) -> None:
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    bin_dir = tmp_path / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    run(bin_dir / "python", "-m", "pip", "install", "-q", f"{wheel}[cli]")
    assert "Commands:" in run(bin_dir / "numinv", "--help")
    assert run(bin_dir / "numinv", "--version") == f"numinv, version {numinv.__version__}\n"
