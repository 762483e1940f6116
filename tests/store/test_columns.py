"""One description of the store's columns: the DDL, INSERTs, export, reader and baseline derive from it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from evalkit.store import baseline, export, migrations, reader
from evalkit.store.columns import CELLS, JSON_COLUMNS, METRICS, RESULT_TABLES, RUNS, SAMPLES, TABLES, ddl_statements
from evalkit.store.records import RunInfo
from evalkit.store.schema import open_for_writing
from evalkit.store.writer import begin_run
from tests.store.v1_store import V1_SCHEMA


def _structure(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Per table: (name, type, notnull, pk position) of each column, and its foreign keys."""
    out: dict[str, list[tuple]] = {}
    for table in (t.name for t in TABLES):
        out[table] = [tuple(r[1:4]) + (r[5],) for r in conn.execute(f"PRAGMA table_info({table})")]
        out[f"{table} fks"] = sorted(tuple(r[2:5]) + (r[6],) for r in conn.execute(f"PRAGMA foreign_key_list({table})"))
        out[f"{table} indexes"] = sorted(r[1] for r in conn.execute(f"PRAGMA index_list({table})"))
    return out


def test_the_generated_ddl_is_the_v1_schema_on_disk_after_its_migrations() -> None:
    v1, v2 = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    v1.executescript(V1_SCHEMA.read_text())
    for _, step in migrations.pending(1):
        step(v1)
    for statement in ddl_statements():
        v2.execute(statement)
    assert _structure(v2) == _structure(v1)
    checks = [r[0] for r in v2.execute("SELECT sql FROM sqlite_master WHERE name = 'runs'")]
    assert "CHECK (status IN ('running', 'complete', 'failed'))" in checks[0]


def test_sql_types_stay_portable() -> None:
    assert {c.type for t in TABLES for c in t.columns} == {"TEXT", "INTEGER", "REAL"}


def test_every_consumer_derives_its_columns_from_the_description() -> None:
    assert reader.RUN_COLUMNS == export.RUN_EXPORT_COLUMNS == [c for c in RUNS.names if c != "config_json"]
    assert export.CELL_EXPORT_COLUMNS == ["cell_id", "model", "model_fingerprint", "adapter", "task",
                                          "task_config_hash", "task_source", "setting", "num_fewshot"]
    assert export.METRIC_EXPORT_COLUMNS == ["metric", "value", "stderr", "ci_low", "ci_high", "n", "higher_is_better"]
    assert export.SAMPLE_EXPORT_COLUMNS == SAMPLES.names
    assert JSON_COLUMNS == {"config_json": "config", "model_spec_json": "model_spec", "details_json": "details",
                            "scores_json": "scores", "outputs_json": "outputs"}
    assert baseline._NUMERIC == ["num_fewshot", "value", "stderr", "ci_low", "ci_high", "n", "higher_is_better"]


@pytest.mark.parametrize(("table", "required"), [
    (RUNS, ["run_id", "created_at", "status"]),
    (CELLS, ["run_id", "cell_id", "model", "model_fingerprint", "task", "task_config_hash", "setting",
             "num_fewshot", "n"]),
    (METRICS, ["run_id", "cell_id", "model", "task", "setting", "metric", "n", "higher_is_better"]),
    (SAMPLES, ["run_id", "cell_id", "doc_id", "doc_hash", "prompt_hash", "scores_json"]),
])
def test_baseline_required_fields(table, required: list[str]) -> None:
    assert table.required_names == required


def test_inserts_name_their_columns() -> None:
    for table in RESULT_TABLES:
        sql = table.insert_sql()
        assert sql.startswith(f"INSERT INTO {table.name} ({', '.join(table.names)}) VALUES (:")
        assert "?" not in sql


def test_a_row_missing_a_column_is_refused_by_the_named_insert(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "r.db")
    with pytest.raises(sqlite3.ProgrammingError, match="binding"):
        conn.execute(RUNS.insert_sql(), {"run_id": "x"})
    begin_run(conn, RunInfo("r", None, "2025-01-01", "c", 1, {}, None, "h"))
    assert conn.execute("SELECT status, seed FROM runs").fetchall() == [("running", 1)]
