"""The same store through both backends: identical frames, exports and resumable cells, and the
identity checks (foreign or newer database refused, untouched) on PostgreSQL as on SQLite."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from evalkit.errors import StoreError
from evalkit.store.export import run_document, sample_rows, tidy_metrics
from evalkit.store.reader import cells_frame, list_runs, metrics_frame, resolve_run_ref, samples_frame
from evalkit.store.resume_cells import stored_cells, stored_record
from evalkit.store.schema import open_for_reading, open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run


def _fill(location: str) -> None:
    conn = open_for_writing(location)
    for run_id, status in (("r1", "complete"), ("r2", "failed")):
        info, cells = synthetic_run(run_id, n_cells=2, n_docs=20, seed=len(run_id + status))
        begin_run(conn, info)
        cells[0] = dataclasses.replace(cells[0], details={"loss": [1.5, None]}, duration_s=2.25, adapter="a")
        for cell in cells:
            write_cell(conn, run_id, cell)
        finish_run(conn, run_id, status)
    conn.close()


def _views(location: str) -> dict[str, object]:
    conn = open_for_reading(location)
    try:
        runs = list_runs(conn).drop(columns=["finished_at"])
        return {"runs": runs, "cells": cells_frame(conn), "metrics": metrics_frame(conn, include_incomplete=True),
                "samples": samples_frame(conn, "r1"), "tidy": tidy_metrics(conn, "r1"),
                "sample_rows": sample_rows(conn, "r1"), "latest": resolve_run_ref(conn, "latest"),
                "document": {k: v for k, v in run_document(conn, "r1").items() if k != "run"},
                "record": stored_record(conn, "r1", "cell0"), "stored": stored_cells(conn, ["cell1"])}
    finally:
        conn.close()


def test_both_backends_read_back_the_same_frames_documents_and_cells(tmp_path: Path, pg_url: str) -> None:
    sqlite_path = str(tmp_path / "s.db")
    _fill(sqlite_path)
    _fill(pg_url)
    left, right = _views(sqlite_path), _views(pg_url)
    for key in ("runs", "cells", "metrics", "samples", "tidy", "sample_rows"):
        pd.testing.assert_frame_equal(left[key], right[key], check_dtype=True, obj=key)  # type: ignore[arg-type]
    for key in ("latest", "document", "record", "stored"):
        assert left[key] == right[key], key
    assert right["latest"] == "r1" and right["record"].adapter == "a"  # type: ignore[union-attr]


def _pg(url: str, *statements: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows: list[tuple] = []
        for statement in statements:
            cursor = conn.execute(statement)
            rows = cursor.fetchall() if cursor.description else rows
        return rows


def _snapshot(url: str) -> list[tuple]:
    return _pg(url, "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' ORDER BY 1, 2")


def test_a_foreign_postgresql_database_is_refused_and_untouched(pg_url: str) -> None:
    _pg(pg_url, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)", "INSERT INTO meta VALUES ('owner', 'crm')",
        "CREATE TABLE customers (id INT)")
    before = _snapshot(pg_url), _pg(pg_url, "SELECT * FROM meta")
    for door in (open_for_writing, open_for_reading):
        with pytest.raises(StoreError, match="is a PostgreSQL database but not an evalkit results store"):
            door(pg_url)
    assert (_snapshot(pg_url), _pg(pg_url, "SELECT * FROM meta")) == before


def test_a_newer_postgresql_store_is_refused_and_untouched(pg_url: str) -> None:
    open_for_writing(pg_url).close()
    _pg(pg_url, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = _snapshot(pg_url), _pg(pg_url, "SELECT * FROM meta ORDER BY key")
    for door in (open_for_writing, open_for_reading):
        with pytest.raises(StoreError, match="schema version 99, newer"):
            door(pg_url)
    assert (_snapshot(pg_url), _pg(pg_url, "SELECT * FROM meta ORDER BY key")) == before


def test_a_postgresql_store_missing_a_column_is_damaged_and_an_empty_one_is_not_read(pg_url: str) -> None:
    with pytest.raises(StoreError, match="holds no tables"):
        open_for_reading(pg_url)
    assert _snapshot(pg_url) == []  # the reading door created nothing
    open_for_writing(pg_url).close()
    _pg(pg_url, "ALTER TABLE samples DROP COLUMN prompt_hash")
    with pytest.raises(StoreError, match="lacks the column.s. prompt_hash of table 'samples'"):
        open_for_writing(pg_url)


def test_the_reading_door_cannot_write_to_postgresql(pg_url: str) -> None:
    _fill(pg_url)
    conn = open_for_reading(pg_url)
    with pytest.raises(Exception, match="read-only transaction"):
        conn.execute("DELETE FROM runs")
    conn.close()
    assert _pg(pg_url, "SELECT COUNT(*) FROM runs") == [(2,)]
