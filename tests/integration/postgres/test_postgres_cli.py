"""The `numinv` command on PostgreSQL: `--db postgresql://...`, numinv's schema named in the URL."""

from __future__ import annotations

import json

from click.testing import CliRunner

from numinv.cli.app import cli

SITE = "sys.acme.uk.london"


def run(url: str, schema: str, *args: str) -> str:
    joiner = "&" if "?" in url else "?"
    result = CliRunner().invoke(cli, ["--db", f"{url}{joiner}schema={schema}", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_works_on_a_postgresql_schema_named_in_the_url(
    postgres_url: str, schema: str
) -> None:
    assert run(postgres_url, schema, "range", "add", "2000", "--count", "5", "--at", SITE) == (
        f"added 5 numbers at {SITE} (a new node)\n"
    )
    run(postgres_url, schema, "assign-next", "--kind", "Phone", "--id", "SEP1", "--at", SITE)

    rows = [json.loads(line) for line in run(postgres_url, schema, "list", "--jsonl").splitlines()]

    assert [(row["number"], row["status"]) for row in rows][:2] == [
        ("2000", "Used"),
        ("2001", "Available"),
    ]
    history = json.loads(run(postgres_url, schema, "history", "2000", "--json"))
    assert [change["operation"] for change in history] == ["add", "assign"]
