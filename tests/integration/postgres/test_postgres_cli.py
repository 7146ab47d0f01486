"""The `numinv` command on PostgreSQL: `--db postgresql://...`, numinv's schema named in the URL."""

from __future__ import annotations

import json
from typing import Any

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


def test_a_url_goes_to_the_driver_as_written_but_for_its_schema(
    postgres_url: str, schema: str
) -> None:
    """No host part (as a Unix socket is named), and `%20` in `options`: libpq's own reading."""
    from psycopg.conninfo import conninfo_to_dict

    server = conninfo_to_dict(postgres_url)
    url = (
        f"postgresql:///{server['dbname']}?host={server['host']}&port={server['port']}"
        f"&user={server['user']}&options=-c%20statement_timeout%3D5000"
    )
    if "password" in server:
        url += f"&password={server['password']}"
    run(url, schema, "range", "add", "2000", "--count", "2", "--at", SITE)
    assert run(url, schema, "list", "--jsonl").count("\n") == 2


def test_a_url_taking_out_its_schema_keeps_every_other_character() -> None:
    from numinv.cli.root import _schema_of

    assert _schema_of("postgresql:///db?host=/run/pg&schema=acme%20uk&options=-c%20x%3D1") == (
        "postgresql:///db?host=/run/pg&options=-c%20x%3D1",
        "acme uk",
    )
    assert _schema_of("postgresql://u@h/db?schema=a+b") == ("postgresql://u@h/db", "a+b")
    assert _schema_of("postgresql://u@h/db") == ("postgresql://u@h/db", "numinv")


def test_a_url_naming_two_schemas_is_refused(postgres_url: str) -> None:
    joiner = "&" if "?" in postgres_url else "?"
    result = CliRunner().invoke(cli, ["--db", f"{postgres_url}{joiner}schema=a&schema=b", "list"])
    assert result.exit_code == 2
    assert "names 2 schemas ('a', 'b'); name one" in result.output


def test_a_read_of_a_schema_numinv_has_not_made_is_refused_and_makes_nothing(
    postgres_url: str, schema: str, sql: Any
) -> None:
    joiner = "&" if "?" in postgres_url else "?"
    for command in (["list"], ["report"], ["changes"]):
        result = CliRunner().invoke(
            cli, ["--db", f"{postgres_url}{joiner}schema={schema}", *command]
        )
        assert result.exit_code == 1, (command, result.output)
        assert f"has no numinv schema '{schema}'" in result.output
    assert sql("SELECT 1 FROM pg_namespace WHERE nspname = %s", schema) == []
    run(
        postgres_url, schema, "range", "add", "2000", "--count", "1", "--at", SITE
    )  # a write makes it
    assert run(postgres_url, schema, "list", "--jsonl").count("\n") == 1


def test_simulate_never_shows_the_password_of_the_url(postgres_url: str, schema: str) -> None:
    """docs/deploying.md: messages name the host, port and database, never the password."""
    scheme, rest = postgres_url.split("://", 1)
    user, host = rest.split("@", 1)
    secret = f"{scheme}://{user}:TOPSECRET@{host}"  # the test server trusts: it is not asked
    joiner = "&" if "?" in secret else "?"
    target = f"{secret}{joiner}schema={schema}"
    shape = ("simulate", "--customers", "1", "--sites", "1", "--days", "3")
    first = CliRunner().invoke(cli, ["--db", target, *shape])
    assert first.exit_code == 0, first.output
    assert "TOPSECRET" not in first.output
    assert f"in PostgreSQL {scheme}://{user}@{host}" in first.output
    again = CliRunner().invoke(cli, ["--db", target, *shape])
    assert again.exit_code == 1
    assert "TOPSECRET" not in again.output
    assert "already holds numbers" in again.output


def test_a_password_given_as_a_query_parameter_is_not_shown_either() -> None:
    from numinv.cli.root import without_password

    assert without_password("postgresql://ann:pw@db:5432/x?password=pw&schema=s") == (
        "postgresql://ann@db:5432/x?schema=s"
    )
    assert without_password("postgresql:///x?host=/run/pg") == "postgresql:///x?host=/run/pg"
