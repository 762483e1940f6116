from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, open_runs
from evalkit.errors import BaselineError
from evalkit.store.baseline import load_baseline
from evalkit.store.export import export_run, samples_sibling
from evalkit.store.reader import metrics_frame, run_row, samples_frame
from evalkit.store.schema import connect

BASE = "00000000-base"


def _export(store: Path, path: Path, fmt: str) -> list[Path]:
    conn = connect(store, create=False)
    try:
        return export_run(conn, BASE, path, fmt)
    finally:
        conn.close()


def _frames(conn, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    metrics = metrics_frame(conn, [run_id]).drop(columns=["created_at"])
    samples = samples_frame(conn, run_id).drop(columns=["outputs"])
    return metrics.reset_index(drop=True), samples.reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["json", "parquet", "csv"])
def test_export_then_load_baseline_round_trips_metrics_and_samples(store: Path, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"baseline.{fmt}"
    written = _export(store, path, fmt)
    assert written == ([path] if fmt == "json" else [path, samples_sibling(path)])
    baseline = load_baseline(path)
    try:
        conn = connect(store, create=False)
        expected_metrics, expected_samples = _frames(conn, BASE)
        conn.close()
        metrics, samples = _frames(baseline.conn, baseline.run_id)
        assert baseline.run_id == BASE
        pd.testing.assert_frame_equal(metrics, expected_metrics, check_dtype=False)
        pd.testing.assert_frame_equal(samples, expected_samples, check_dtype=False)
        row = run_row(baseline.conn, BASE)
        assert (row["name"], row.evalkit_version, row.lm_eval_version) == ("base", "0.1.0", "0.4.13")
    finally:
        baseline.conn.close()


def test_json_export_is_versioned_and_complete(store: Path, tmp_path: Path) -> None:
    _export(store, tmp_path / "b.json", "json")
    doc = json.loads((tmp_path / "b.json").read_text())
    assert (doc["format"], doc["version"]) == ("evalkit-results", 1)
    assert doc["run"]["name"] == "base" and len(doc["cells"]) == 2 and len(doc["metrics"]) == 2
    assert len(doc["samples"]) == 300 and doc["samples"][0]["scores"] == {"acc": 1.0}


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_exported_baseline_compares_like_the_stored_run(store: Path, tmp_path: Path, fmt: str) -> None:
    _export(store, tmp_path / f"b.{fmt}", fmt)
    with RunOpener(store) as opener:
        from_file = compare_runs(open_runs(opener, [str(tmp_path / f"b.{fmt}"), "drop"]), CompareOptions())
        from_store = compare_runs(open_runs(opener, ["base", "drop"]), CompareOptions())
    assert from_file.labels[0] == f"base (b.{fmt})"
    columns = ["task", "value_a", "value_b", "delta", "p_value", "p_adjusted", "n"]
    pd.testing.assert_frame_equal(from_file.rows[columns], from_store.rows[columns])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "fragment"), [
    ("not json at all", "is not valid JSON"),
    ('{"format": "evalkit-results", "version": 1, "run": {', "may be truncated"),
    ('{"format": "something-else", "version": 1}', "is not an evalkit results export"),
    ('{"format": "evalkit-results", "version": 7, "run": {}}', "export version 7"),
    ('{"format": "evalkit-results", "version": 1, "run": {}, "cells": []}', "lacks the key 'metrics'"),
    ('[1, 2]', "is not an evalkit results export"),
])
def test_malformed_json_baselines_name_the_file_and_the_fault(tmp_path: Path, content: str, fragment: str) -> None:
    path = _write(tmp_path / "bad.json", content)
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    assert str(path) in caught.value.message and fragment in caught.value.message
    assert caught.value.exit_code == 2


def test_a_baseline_entry_missing_a_required_key_is_named(store: Path, tmp_path: Path) -> None:
    _export(store, tmp_path / "b.json", "json")
    doc = json.loads((tmp_path / "b.json").read_text())
    del doc["samples"][3]["doc_hash"]
    _write(tmp_path / "b.json", json.dumps(doc))
    with pytest.raises(BaselineError, match="an entry of 'samples' lacks doc_hash"):
        load_baseline(tmp_path / "b.json")


def test_missing_files_and_unknown_suffixes_are_baseline_errors(store: Path, tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="does not exist"):
        load_baseline(tmp_path / "absent.json")
    with pytest.raises(BaselineError, match="unknown format '.txt'"):
        load_baseline(_write(tmp_path / "b.txt", "{}"))
    _export(store, tmp_path / "b.csv", "csv")
    samples_sibling(tmp_path / "b.csv").unlink()
    with pytest.raises(BaselineError, match="no per-document companion"):
        load_baseline(tmp_path / "b.csv")


def test_a_csv_without_the_export_columns_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "b.csv", "task,acc\nsst2,0.5\n")
    _write(tmp_path / "b.samples.csv", "doc_id\n1\n")
    with pytest.raises(BaselineError, match="lacks the column\\(s\\) run_id, cell_id"):
        load_baseline(tmp_path / "b.csv")


def test_a_truncated_parquet_file_is_a_baseline_error(store: Path, tmp_path: Path) -> None:
    _export(store, tmp_path / "b.parquet", "parquet")
    data = (tmp_path / "b.parquet").read_bytes()
    (tmp_path / "b.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(BaselineError, match="cannot be read as parquet"):
        load_baseline(tmp_path / "b.parquet")
