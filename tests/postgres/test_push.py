"""`evalkit results push` copies whole runs to a team store (idempotent, conflicts refused), and
compare / gate / results read runs from it with --store URL or EVALKIT_STORE=URL."""

from __future__ import annotations

from pathlib import Path

from evalkit.store.frames import read_rows
from evalkit.store.schema import open_for_reading, open_for_writing
from tests.compare.synthetic import CellSpec, add_run, binary, standard_store


def _counts(url: str) -> tuple[int, ...]:
    conn = open_for_reading(url)
    try:
        return tuple(int(read_rows(conn, f"SELECT COUNT(*) FROM {t}")[1][0][0])
                     for t in ("runs", "cells", "metrics", "samples"))
    finally:
        conn.close()


def test_push_copies_whole_runs_once_and_gates_read_the_team_store(tmp_path: Path, pg_url: str, evalkit_cli,
                                                                     monkeypatch) -> None:
    local = standard_store(tmp_path / "local.db")
    first = evalkit_cli("results", "push", "base", "drop", "noise", "--to", pg_url, "--store", local)
    assert first.exit_code == 0, first.output
    assert first.output.count("Pushed run") == 3
    counts = _counts(pg_url)
    assert counts == (3, 6, 6, 3 * 300)
    again = evalkit_cli("results", "push", "base", "--to", pg_url, "--store", local)
    assert again.exit_code == 0 and "already in the target store (identical); skipped" in again.output
    assert _counts(pg_url) == counts
    # CI gates against the team's baseline, reading the team store only
    assert evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--store", pg_url).exit_code == 1
    assert evalkit_cli("gate", "--baseline", "base", "--candidate", "noise", "--store", pg_url, "--max-drop", "0.1").exit_code == 0
    monkeypatch.setenv("EVALKIT_STORE", pg_url)
    compared = evalkit_cli("compare", "base", "drop")
    assert compared.exit_code == 0 and "sst2" in compared.output
    listed = evalkit_cli("results", "list")
    assert listed.exit_code == 0 and "22222222-drop" in listed.output and "00000000-base" in listed.output
    exported = evalkit_cli("results", "export", "base", "-o", tmp_path / "base.json")
    assert exported.exit_code == 0, exported.output
    local_copy = evalkit_cli("results", "export", "base", "--store", local, "-o", tmp_path / "local.json")
    assert local_copy.exit_code == 0
    assert (tmp_path / "base.json").read_text() == (tmp_path / "local.json").read_text()


def test_a_run_id_already_there_with_other_content_is_refused_naming_it(tmp_path: Path, pg_url: str,
                                                                         evalkit_cli) -> None:
    standard_store(tmp_path / "local.db")
    conn = open_for_writing(pg_url)
    add_run(conn, "00000000-base", [CellSpec("sst2", {"acc": binary(200, 149)})], name="base")
    conn.close()
    before = _counts(pg_url)
    result = evalkit_cli("results", "push", "noise", "base", "--to", pg_url, "--store", tmp_path / "local.db")
    assert result.exit_code == 2
    assert "Run 00000000-base is already in" in result.output and "different content" in result.output
    assert _counts(pg_url) == before  # noise, checked first, was not pushed either


def test_only_complete_runs_are_pushed_unless_asked(tmp_path: Path, pg_url: str, evalkit_cli) -> None:
    local = tmp_path / "local.db"
    conn = open_for_writing(local)
    add_run(conn, "44444444-half", [CellSpec("sst2", {"acc": binary(20, 10)})], name="half", status="failed")
    conn.close()
    refused = evalkit_cli("results", "push", "44444444-half", "--to", pg_url, "--store", local)
    assert refused.exit_code == 2 and "is failed, not complete" in refused.output
    pushed = evalkit_cli("results", "push", "44444444-half", "--to", pg_url, "--store", local, "--include-incomplete")
    assert pushed.exit_code == 0, pushed.output
    assert _counts(pg_url)[:2] == (1, 1)
