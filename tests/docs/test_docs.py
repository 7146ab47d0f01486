"""Every example of the documentation runs and prints what the page says.

Each page's Python blocks run in order in one namespace (one session per
page), in a new directory. Each page's console transcripts (`$ numinv ...`
followed by its output) run in order in one new directory, through a real
shell, at 80 columns and at a fixed time, so that their dates are the page's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.conftest import ROOT, Block, blocks, pages, steps

# The time every transcript runs at (NUMINV_NOW): the dates on the pages follow from it.
NOW = "2026-11-23T17:45:00+00:00"


def _python_pages() -> list[Path]:
    return [page for page in pages() if any(b.language == "python" for b in blocks(page))]


def _console_pages() -> list[Path]:
    return [page for page in pages() if any(b.language == "console" for b in blocks(page))]


def _id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", _python_pages(), ids=_id)
def test_the_python_examples_of_a_page_run_as_one_session(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in blocks(page):
        if block.language != "python" or block.not_tested:
            continue
        code = compile(block.text, block.where, "exec")
        try:
            exec(code, namespace)
        except Exception as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{block.where}: {type(error).__name__}: {error}")


def _shell(tmp_path: Path) -> dict[str, str]:
    """The environment of a transcript: `numinv` on PATH, 80 columns, the fixed time."""
    shim = tmp_path / ".bin"
    shim.mkdir()
    numinv = shim / "numinv"
    numinv.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m numinv "$@"\n')
    numinv.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMINV_")}
    env.update(
        PATH=f"{shim}{os.pathsep}{env.get('PATH', '')}",
        COLUMNS="80",
        LINES="50",
        NO_COLOR="1",
        TERM="dumb",
        NUMINV_NOW=NOW,
        NUMINV_ACTOR="ops",
    )
    return env


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def _run_transcript(block: Block, directory: Path, env: dict[str, str], status: int) -> int:
    for step in steps(block):
        done = subprocess.run(
            ["bash", "-c", f"(exit {status}); {step.command}"],
            cwd=directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        status = done.returncode
        assert "Traceback" not in done.stdout, f"{block.page.name}:{step.line}\n{done.stdout}"
        if _normal(done.stdout) != _normal(step.expected):
            pytest.fail(
                f"{_id(block.page)}:{step.line}: $ {step.command}\n"
                f"--- the page says\n{step.expected}\n--- it printed\n{done.stdout}"
            )
    return status


@pytest.mark.slow
@pytest.mark.parametrize("page", _console_pages(), ids=_id)
def test_the_transcripts_of_a_page_print_what_the_page_says(page: Path, tmp_path: Path) -> None:
    env = _shell(tmp_path)
    directory = tmp_path / "session"
    directory.mkdir()
    status = 0
    for block in blocks(page):
        if block.language == "console" and not block.not_tested:
            status = _run_transcript(block, directory, env, status)


def test_every_page_is_found_and_a_new_page_would_be(tmp_path: Path) -> None:
    found = {page.name for page in pages()}
    assert {"README.md", "cli.md", "index.md"} <= found
    assert all(page.parent.name == "docs" for page in pages()[1:])


def test_a_block_can_opt_out_visibly_and_says_why(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n<!-- not-tested: needs a server -->\n```python\nraise SystemExit\n```\n"
        "\n```console\n$ numinv --version\nnuminv\n$ echo hi\nhi\n```\n"
    )
    found = list(blocks(page))
    assert [(b.language, b.not_tested) for b in found] == [
        ("python", "needs a server"),
        ("console", None),
    ]
    assert [(s.command, s.expected) for s in steps(found[1])] == [
        ("numinv --version", "numinv"),
        ("echo hi", "hi"),
    ]
