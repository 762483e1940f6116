"""`results push --to` names a store: a path with an export or document suffix (x.parquet, x.json,
README.md) is refused with exit 2 and nothing is created, instead of becoming a new SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import StoreError
from tests.compare.synthetic import standard_store


@pytest.mark.parametrize("target", ["results.parquet", "results.json", "README.md", "out.csv", "team"])
def test_a_target_that_is_not_a_store_is_refused_and_not_created(target: str, tmp_path: Path, evalkit_cli,
                                                                  monkeypatch) -> None:
    local = standard_store(tmp_path / "local.db")
    monkeypatch.chdir(tmp_path)
    result = evalkit_cli("results", "push", "base", "--store", str(local), "--to", target)
    assert result.exit_code == 2, result.output
    assert "is not a results store" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / target).exists()


@pytest.mark.parametrize("target", ["team.db", "team.sqlite", "team.SQLITE3"])
def test_a_database_suffix_is_a_store_that_push_may_create(target: str, tmp_path: Path, evalkit_cli,
                                                           monkeypatch) -> None:
    local = standard_store(tmp_path / "local.db")
    monkeypatch.chdir(tmp_path)
    result = evalkit_cli("results", "push", "base", "--store", str(local), "--to", target)
    assert result.exit_code == 0, result.output
    assert (tmp_path / target).is_file()


def test_an_existing_store_under_another_name_and_a_url_pass_the_rule(tmp_path: Path) -> None:
    from evalkit.store.location import parse_store, require_store_name

    existing = standard_store(tmp_path / "team.db").rename(tmp_path / "team.store")
    require_store_name(parse_store(str(existing)), "--to")
    require_store_name(parse_store("postgresql://u:p@h/db"), "--to")
    (tmp_path / "empty.md").write_text("", encoding="utf-8")  # SQLite would make an empty file a database
    with pytest.raises(StoreError, match="--to .* is not a results store"):
        require_store_name(parse_store(str(tmp_path / "empty.md")), "--to")
