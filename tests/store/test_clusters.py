"""samples.cluster: the group of each document (issue 19), stored with its row, migrated into older
stores (v2 -> v3, SQLite and PostgreSQL), read back, reused, exported and loaded as a baseline."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from evalkit.store import migrations
from evalkit.store.baseline import load_baseline
from evalkit.store.export import export_run, samples_sibling
from evalkit.store.reader import samples_frame
from evalkit.store.resume_cells import stored_record
from evalkit.store.schema import SCHEMA_VERSION, open_for_reading, open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run
from tests.store.v1_store import V1_RUNS, write_v1_store

# g0, g1, g2 ..., a document with no cluster, one whose cluster looks like a number (CSV must keep it text)
CLUSTERS = ["g0", "g1", "g2", "g0", None, "007"]


def _write_v2_store(path: Path) -> Path:
    """A schema-version-2 store exactly as evalkit wrote one: v2's tables (v1's DDL, m002's typed config)."""
    write_v1_store(path)
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.m002_typed_config(conn)
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    return path


def _columns(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute("PRAGMA table_info(samples)")]
    finally:
        conn.close()


def _clustered_store(path: Path) -> Path:
    conn = open_for_writing(path)
    info, cells = synthetic_run("r1", n_cells=1, n_docs=len(CLUSTERS))
    cell = dataclasses.replace(cells[0], samples=[dataclasses.replace(s, cluster=c)
                                                  for s, c in zip(cells[0].samples, CLUSTERS)])
    begin_run(conn, info)
    write_cell(conn, "r1", cell)
    finish_run(conn, "r1", "complete")
    conn.close()
    return path


def test_the_schema_is_version_three_with_the_named_cluster_migration() -> None:
    assert SCHEMA_VERSION == 3
    assert [(v, step.__name__) for v, step in migrations.pending(2)] == [(3, "m003_sample_clusters")]


def test_a_v2_store_opened_for_writing_gains_an_empty_cluster_column(tmp_path: Path) -> None:
    path = _write_v2_store(tmp_path / "v2.db")
    assert "cluster" not in _columns(path)
    open_for_writing(path).close()
    assert _columns(path)[-1] == "cluster"
    conn = open_for_reading(path)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"
        frame = samples_frame(conn, V1_RUNS[0][0])
        assert len(frame) == 4 and frame.cluster.tolist() == [None] * 4
        assert frame.scores.tolist()[2] == {"acc": None}  # m002's work is kept
    finally:
        conn.close()


def test_a_v2_store_is_read_with_clusters_none_and_left_unchanged(tmp_path: Path) -> None:
    path = _write_v2_store(tmp_path / "v2.db")
    before = path.read_bytes()
    conn = open_for_reading(path)
    try:
        assert samples_frame(conn, V1_RUNS[0][0]).cluster.tolist() == [None] * 4
    finally:
        conn.close()
    assert path.read_bytes() == before and "cluster" not in _columns(path)


def test_a_v1_store_migrates_through_both_steps(tmp_path: Path) -> None:
    path = write_v1_store(tmp_path / "v1.db")
    open_for_writing(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"
        assert conn.execute("SELECT COUNT(*) FROM samples WHERE cluster IS NULL").fetchone()[0] == 8
    finally:
        conn.close()


def test_a_v2_postgresql_store_is_migrated_by_a_write_and_refused_by_a_read(pg_url: str) -> None:
    import psycopg

    from evalkit.errors import StoreError

    _fill_pg(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as raw:  # what a v2 store held: no cluster column
        raw.execute("ALTER TABLE samples DROP COLUMN cluster")
        raw.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 2; this evalkit reads version 3"):
        open_for_reading(pg_url)
    open_for_writing(pg_url).close()
    conn = open_for_reading(pg_url)
    try:
        frame = samples_frame(conn, "r1")
        assert len(frame) == 5 and frame.cluster.tolist() == [None] * 5
    finally:
        conn.close()


def _fill_pg(url: str) -> None:
    conn = open_for_writing(url)
    info, cells = synthetic_run("r1", n_cells=1, n_docs=5, clusters=2)
    begin_run(conn, info)
    write_cell(conn, "r1", cells[0])
    finish_run(conn, "r1", "complete")
    conn.close()


def test_clusters_are_written_read_back_and_kept_by_a_reused_cell(tmp_path: Path) -> None:
    path = _clustered_store(tmp_path / "r.db")
    conn = open_for_reading(path)
    try:
        assert samples_frame(conn, "r1").cluster.tolist() == CLUSTERS
        assert [s.cluster for s in stored_record(conn, "r1", "cell0").samples] == CLUSTERS
    finally:
        conn.close()


def test_clusters_on_postgresql_are_read_back(pg_url: str) -> None:
    _fill_pg(pg_url)
    conn = open_for_reading(pg_url)
    try:
        assert samples_frame(conn, "r1").cluster.tolist() == ["g0", "g1", "g0", "g1", "g0"]
    finally:
        conn.close()


@pytest.mark.parametrize("fmt", ["json", "parquet", "csv"])
def test_export_then_baseline_keeps_every_cluster(tmp_path: Path, fmt: str) -> None:
    conn = open_for_reading(_clustered_store(tmp_path / "r.db"))
    try:
        written = export_run(conn, "r1", tmp_path / f"base.{fmt}", fmt)
    finally:
        conn.close()
    baseline = load_baseline(written[0])
    try:
        assert samples_frame(baseline.conn, baseline.run_id).cluster.tolist() == CLUSTERS
    finally:
        baseline.conn.close()


def _without_clusters(path: Path, fmt: str) -> None:
    """Rewrite an export as evalkit before schema 3 wrote it: no cluster field anywhere."""
    if fmt == "json":
        doc = json.loads(path.read_text())
        for row in doc["samples"]:
            del row["cluster"]
        path.write_text(json.dumps(doc))
        return
    sibling = samples_sibling(path)
    frame = pd.read_parquet(sibling) if fmt == "parquet" else pd.read_csv(sibling)
    assert "cluster" in frame.columns
    frame = frame.drop(columns=["cluster"])
    frame.to_parquet(sibling, index=False) if fmt == "parquet" else frame.to_csv(sibling, index=False)


@pytest.mark.parametrize("fmt", ["json", "parquet", "csv"])
def test_an_old_baseline_without_clusters_loads_with_cluster_none(tmp_path: Path, fmt: str) -> None:
    conn = open_for_reading(_clustered_store(tmp_path / "r.db"))
    try:
        written = export_run(conn, "r1", tmp_path / f"base.{fmt}", fmt)
    finally:
        conn.close()
    _without_clusters(written[0], fmt)
    baseline = load_baseline(written[0])
    try:
        frame = samples_frame(baseline.conn, baseline.run_id)
        assert len(frame) == len(CLUSTERS) and frame.cluster.tolist() == [None] * len(CLUSTERS)
    finally:
        baseline.conn.close()
