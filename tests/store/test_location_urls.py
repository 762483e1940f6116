"""What a --store / --to / EVALKIT_STORE text names: sqlite:/// URLs are files, any other scheme:// is
refused (it used to become a file called 'mysql:' in the current folder), an empty text is refused,
the same file under another spelling is the same store, and a short password is masked without
mangling the driver's message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.errors import StoreError
from evalkit.store.location import PostgresURL, parse_store, store_location
from evalkit.store.postgres import _masked
from tests.compare.synthetic import standard_store


def test_sqlite_urls_name_files_the_way_sqlalchemy_spells_them() -> None:
    assert parse_store("sqlite:///results.db") == Path("results.db")
    assert parse_store("sqlite:////abs/dir/results.db") == Path("/abs/dir/results.db")
    assert parse_store("SQLite:///with%20space.db") == Path("with space.db")
    assert parse_store("postgresql:x.db") == Path("postgresql:x.db")  # no '//': a file name
    assert isinstance(parse_store(" postgres://u@h/db"), PostgresURL)


@pytest.mark.parametrize("text", ["mysql://u:pw@h/db", "http://example.com/evalkit.db", "sqlite:///:memory:",
                                  "sqlite://host/x.db", "sqlite:///x.db?mode=ro", "sqlite://", "sqlite:///reports/", "  ", ""])
def test_other_schemes_memory_and_empty_text_are_refused(text: str) -> None:
    with pytest.raises(StoreError) as caught:
        parse_store(text)
    assert caught.value.exit_code == 2 and "pw" not in caught.value.message


def test_the_cli_refuses_them_with_exit_2_and_creates_nothing(tmp_path: Path, evalkit_cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["results", "list", "--store", "mysql://x/y"], ["results", "push", "r", "--to", "mysql://x/y"],
                 ["results", "push", "r", "--to", ""], ["compare", "a", "b", "--store", "redis://h/0"]):
        result = evalkit_cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "SQLite file or a PostgreSQL database" in result.output or "empty" in result.output
    monkeypatch.setenv("EVALKIT_STORE", "mongodb://h/db")
    assert evalkit_cli("results", "list").exit_code == 2
    assert os.listdir(tmp_path) == []


def test_an_sqlite_url_reaches_the_same_store_as_its_path(tmp_path: Path, evalkit_cli) -> None:
    local = standard_store(tmp_path / "local.db")
    listed = evalkit_cli("results", "list", "--store", f"sqlite:///{local}")  # absolute: four slashes
    assert listed.exit_code == 0 and "base" in listed.output


def test_pushing_a_store_into_itself_under_another_spelling_is_refused(tmp_path: Path, evalkit_cli,
                                                                       monkeypatch) -> None:
    local = standard_store(tmp_path / "local.db")
    (tmp_path / "link.db").symlink_to(local)
    monkeypatch.chdir(tmp_path)
    before = local.read_bytes()
    for target in ("./local.db", f"{tmp_path}/../{tmp_path.name}/local.db", "link.db", "sqlite:///local.db"):
        result = evalkit_cli("results", "push", "base", "--store", str(local), "--to", target)
        assert result.exit_code == 2 and "is the store the runs are read from" in result.output, target
    assert local.read_bytes() == before


def test_a_short_password_is_masked_where_it_stands_alone_only() -> None:
    message = 'connection to server at "127.0.0.1", port 1 failed: password p rejected'
    masked = _masked(Exception(message), PostgresURL("postgresql://u:p@127.0.0.1:1/db"))
    assert masked == 'connection to server at "127.0.0.1", port 1 failed: password *** rejected'
    long_one = _masked(Exception("auth xx-s3cret-passphrase-xx"), PostgresURL("postgresql://u:s3cret-passphrase@h/db"))
    assert "s3cret" not in long_one


def test_the_api_and_evalkit_store_refuse_a_folder_path_as_the_cli_does(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "reports").mkdir()
    monkeypatch.chdir(tmp_path)
    for text in ("reports/", "reports\\", "/"):
        with pytest.raises(StoreError, match="ends with a path separator"):
            store_location(text)
        monkeypatch.setenv("EVALKIT_STORE", text)
        with pytest.raises(StoreError, match="ends with a path separator"):
            store_location(None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # nothing created


@pytest.mark.parametrize("url", ["postgresql://u:pw@localhost:99999/db", "postgresql://u:pw@localhost:abc/db",
                                 "postgresql://u:pw@[::1/db"])
def test_a_malformed_postgres_url_is_bad_input_not_an_unexpected_error(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        parse_store(url)
    assert caught.value.exit_code == 2 and "not a PostgreSQL URL" in caught.value.message
    assert ":pw@" not in caught.value.message


def test_an_upper_case_scheme_is_a_postgres_url() -> None:
    parsed = parse_store("POSTGRESQL://u@h:5433/db")
    assert isinstance(parsed, PostgresURL) and parsed.url == "postgresql://u@h:5433/db"
