from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, open_runs
from evalkit.errors import BaselineError, InputError
from evalkit.store.baseline import load_baseline
from evalkit.store.export import export_run, samples_sibling
from evalkit.store.reader import metrics_frame, run_row, samples_frame
from evalkit.store.schema import open_for_reading

BASE = "00000000-base"


def _export(store: Path, path: Path, fmt: str, **options: object) -> list[Path]:
    conn = open_for_reading(store)
    try:
        return export_run(conn, BASE, path, fmt, **options)
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
        conn = open_for_reading(store)
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
    with pytest.raises(BaselineError, match=r"an entry of 'samples' \(cell c0, document 3\) lacks doc_hash"):
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
    with pytest.raises(BaselineError, match="lacks the column\\(s\\) run_id, created_at, status, cell_id"):
        load_baseline(tmp_path / "b.csv")


def test_a_truncated_parquet_file_is_a_baseline_error(store: Path, tmp_path: Path) -> None:
    _export(store, tmp_path / "b.parquet", "parquet")
    data = (tmp_path / "b.parquet").read_bytes()
    (tmp_path / "b.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(BaselineError, match="cannot be read as parquet"):
        load_baseline(tmp_path / "b.parquet")


# --- writing exports never loses a file (evalkit.outputs.output_file) -------------------------------

def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("extra", [[], ["--force"]])
def test_exporting_over_the_store_itself_is_refused_and_the_store_is_unchanged(store: Path, evalkit_cli,
                                                                                extra: list[str]) -> None:
    before = store.read_bytes()
    result = evalkit_cli("results", "export", "base", "-o", store, "--store", store, *extra)
    assert result.exit_code == 2, result.output
    assert str(store) in result.stderr and "Traceback" not in result.output
    assert store.read_bytes() == before


def test_export_refuses_any_database_even_with_force(store: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    other.write_bytes(store.read_bytes())
    before = _files(tmp_path)
    for fmt in ("json", "csv"):
        with pytest.raises(InputError, match="is an SQLite database"):
            _export(store, other, fmt, force=True)
    assert _files(tmp_path) == before


def test_export_never_writes_a_database_journal(store: Path, tmp_path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        with pytest.raises(InputError, match="is the journal of an SQLite database"):
            _export(store, Path(f"{store}{suffix}"), "json", force=True)
        assert not Path(f"{store}{suffix}").exists()


def test_an_existing_output_needs_force(store: Path, tmp_path: Path, evalkit_cli) -> None:
    out = _write(tmp_path / "b.json", "precious")
    result = evalkit_cli("results", "export", "base", "-o", out, "--store", store)
    assert result.exit_code == 2 and "already exists" in result.stderr and "--force" in result.stderr
    assert out.read_text() == "precious"
    assert _export(store, out, "json", force=True) == [out]
    assert json.loads(out.read_text())["run"]["run_id"] == BASE


def test_both_files_of_a_csv_export_are_checked_before_either_is_written(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.csv"
    _write(samples_sibling(out), "old samples")
    with pytest.raises(InputError, match="b.samples.csv' .* already exists"):
        _export(store, out, "csv")
    assert not out.exists() and samples_sibling(out).read_text() == "old samples"
    samples_sibling(out).unlink()
    samples_sibling(out).write_bytes(store.read_bytes())  # the sibling is a database: never, even with force
    with pytest.raises(InputError, match="is an SQLite database"):
        _export(store, out, "csv", force=True)
    assert not out.exists() and samples_sibling(out).read_bytes() == store.read_bytes()


def test_a_failed_export_leaves_the_old_files_and_no_temporary(store: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = _write(tmp_path / "b.csv", "old metrics")
    _write(samples_sibling(out), "old samples")
    from evalkit.store import export

    calls: list[Path] = []

    def failing(frame: pd.DataFrame, path: Path, fmt: str) -> None:
        calls.append(path)
        path.write_text("partial")
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_write_table", failing)
    before = _files(tmp_path)
    with pytest.raises(InputError, match="No space left on device"):
        _export(store, out, "csv", force=True)
    assert _files(tmp_path) == before and len(calls) == 2


def test_a_parquet_export_with_force_replaces_both_files(store: Path, tmp_path: Path) -> None:
    out = _write(tmp_path / "b.parquet", "old")
    _write(samples_sibling(out), "old")
    assert _export(store, out, "parquet", force=True) == [out, samples_sibling(out)]
    assert load_baseline(out).run_id == BASE


# --- JSON exports are strict JSON; baselines keep per-document scores as stored ----------------------

def _refuse_constant(token: str) -> None:
    raise ValueError(f"non-JSON token {token}")


def _store_with_non_finite_values(path: Path) -> Path:
    from tests.compare.synthetic import CellSpec, add_run, new_store

    conn = new_store(path)
    add_run(conn, BASE, [CellSpec("sst2", {"acc": [1.0, 0.0, 1.0]}), CellSpec("wiki", {"ppl": [2.0, 3.0, 4.0]},
                                                                           aggregates={"ppl": float("inf")})],
            name="base")
    conn.execute("UPDATE samples SET scores_json = '{\"acc\": NaN}' WHERE doc_id = 1 AND cell_id = 'c0'")
    conn.execute("UPDATE metrics SET stderr = -1e999 WHERE cell_id = 'c1'")  # -inf, as a v1 store could hold
    conn.close()
    return path


def test_a_json_export_holds_no_nan_or_infinity_tokens_and_round_trips(tmp_path: Path) -> None:
    store = _store_with_non_finite_values(tmp_path / "s.db")
    out = tmp_path / "b.json"
    _export(store, out, "json")
    doc = json.loads(out.read_text(), parse_constant=_refuse_constant)
    wiki = next(m for m in doc["metrics"] if m["metric"] == "ppl")
    assert (wiki["value"], wiki["stderr"]) == ("Infinity", "-Infinity")
    assert doc["samples"][1]["scores"] == {"acc": None}
    baseline = load_baseline(out)
    try:
        row = metrics_frame(baseline.conn, [BASE]).set_index("metric").loc["ppl"]
        assert row.value == float("inf") and row.stderr == float("-inf")
        assert samples_frame(baseline.conn, BASE).scores.tolist()[:3] == [{"acc": 1.0}, {"acc": None}, {"acc": 1.0}]
    finally:
        baseline.conn.close()


@pytest.mark.parametrize(("score", "kept"), [("null", None), ('"0.5"', "0.5"), ("NaN", "nan")])
def test_the_baseline_loader_keeps_unusable_scores_for_the_gate_to_refuse(store: Path, tmp_path: Path,
                                                                          score: str, kept: object) -> None:
    out = tmp_path / "b.json"
    _export(store, out, "json")
    text = out.read_text()
    doc = json.loads(text)
    doc["samples"][5]["scores"] = {"acc": "__SCORE__"}
    _write(out, json.dumps(doc).replace('"__SCORE__"', score))
    baseline = load_baseline(out)
    try:
        samples = samples_frame(baseline.conn, BASE)
        assert len(samples) == len(doc["samples"])  # nothing dropped
        value = samples.scores.tolist()[5]["acc"]
        assert (str(value) if kept == "nan" else value) == kept
    finally:
        baseline.conn.close()


def test_a_csv_baseline_keeps_a_null_score_as_stored(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.csv"
    _export(store, out, "csv")
    samples = pd.read_csv(samples_sibling(out))
    samples.loc[7, "scores_json"] = '{"acc": null}'
    samples.to_csv(samples_sibling(out), index=False)
    baseline = load_baseline(out)
    try:
        frame = samples_frame(baseline.conn, BASE)
        assert len(frame) == len(samples) and frame.scores.tolist()[7] == {"acc": None}
    finally:
        baseline.conn.close()
