"""A PostgreSQL URL as the store: recognised everywhere a path is, its password never printed, and
an unreachable server, a refused login or a missing driver an exit-2 error naming host:port/db."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from evalkit.errors import StoreError
from evalkit.store.location import PostgresURL, mask_password, store_location
from evalkit.store.postgres import connect, pyformat
from tests.pg_server import PgServer


def test_a_url_is_a_team_store_and_anything_else_a_path(monkeypatch) -> None:
    assert store_location("postgres://u:p@h/db") == PostgresURL("postgres://u:p@h/db")
    assert store_location("postgresql:x.db") == Path("postgresql:x.db")
    monkeypatch.setenv("EVALKIT_STORE", "postgresql://u:s3cret@db.example:6432/team")
    location = store_location(None)
    assert isinstance(location, PostgresURL) and location.where == "db.example:6432/team"
    assert str(location) == "postgresql://u:***@db.example:6432/team" and "s3cret" not in repr(location)
    assert mask_password("postgresql://h/db?user=u&password=x1") == "postgresql://h/db?user=u&password=***"


def test_the_store_sql_gets_psycopg_placeholders() -> None:
    assert pyformat("SELECT a FROM t WHERE b = ? AND c LIKE '%?%' AND d = :name") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE '%%?%%' AND d = %(name)s")


def test_an_unreachable_server_is_exit_2_naming_it_without_the_password(pg_server: PgServer, evalkit_cli) -> None:
    url = f"postgresql://postgres:hunter2@127.0.0.1:{pg_server.port + 1}/team"  # nothing listens there
    result = evalkit_cli("results", "list", "--store", url)
    assert result.exit_code == 2
    assert f"127.0.0.1:{pg_server.port + 1}/team" in result.output and "hunter2" not in result.output


def test_a_refused_login_or_missing_database_is_exit_2(pg_server: PgServer, evalkit_cli) -> None:
    for url, why in ((f"postgresql://nobody:pw1234@127.0.0.1:{pg_server.port}/postgres", "nobody"),
                     (pg_server.url("no_such_db", password="pw1234"), "no_such_db")):
        result = evalkit_cli("compare", "a", "b", "--store", url)
        assert result.exit_code == 2 and why in result.output and "pw1234" not in result.output


def test_without_the_driver_the_message_names_the_extra(monkeypatch) -> None:
    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name.split(".")[0] == "psycopg":
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(StoreError, match=r"install evalkit\[postgres\]") as caught:
        connect(PostgresURL("postgresql://u:pw@h/db"), read_only=True)
    assert caught.value.exit_code == 2 and "pw@" not in str(caught.value)
