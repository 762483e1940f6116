"""Export one stored run to a file: JSON (full fidelity), or Parquet / CSV (tidy metrics plus a
sibling `<stem>.samples.<ext>` file with the per-document rows).

Every format can be read back as a baseline by `evalkit.store.baseline.load_baseline`.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import InputError

EXPORT_FORMAT = "evalkit-results"
EXPORT_VERSION = 1
EXPORT_FORMATS = ("json", "parquet", "csv")

# Columns of the tidy metrics table in Parquet / CSV exports: run context, cell context, metric.
RUN_EXPORT_COLUMNS = ["run_id", "name", "created_at", "finished_at", "status", "evalkit_version",
                      "lm_eval_version", "transformers_version", "torch_version", "git_commit", "host",
                      "command", "seed"]
CELL_EXPORT_COLUMNS = ["cell_id", "model", "model_fingerprint", "adapter", "task", "task_config_hash",
                       "task_source", "setting", "num_fewshot"]
METRIC_EXPORT_COLUMNS = ["metric", "value", "stderr", "ci_low", "ci_high", "n", "higher_is_better"]
SAMPLE_EXPORT_COLUMNS = ["run_id", "cell_id", "doc_id", "doc_hash", "prompt_hash", "prompt", "target",
                         "prediction", "scores_json", "outputs_json"]
_JSON_COLUMNS = {"config_json": "config", "model_spec_json": "model_spec", "details_json": "details",
                 "scores_json": "scores", "outputs_json": "outputs"}


def samples_sibling(path: Path) -> Path:
    """The per-document companion of a Parquet / CSV export: `<stem>.samples.<ext>`."""
    return path.with_name(f"{path.stem}.samples{path.suffix}")


def export_run(conn: sqlite3.Connection, run_id: str, path: Path, fmt: str) -> list[Path]:
    """Write run `run_id` to `path` in `fmt` (json, parquet or csv); return the files written."""
    path = Path(path)
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"Unknown export format '{fmt}'.", hint=f"Use one of: {', '.join(EXPORT_FORMATS)}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "json":
            path.write_text(json.dumps(run_document(conn, run_id), indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
            return [path]
        metrics, samples = tidy_metrics(conn, run_id), sample_rows(conn, run_id)
        sibling = samples_sibling(path)
        if fmt == "parquet":
            _write_parquet(metrics, path)
            _write_parquet(samples, sibling)
        else:
            metrics.to_csv(path, index=False)
            samples.to_csv(sibling, index=False)
        return [path, sibling]
    except OSError as exc:
        raise InputError(f"Cannot write export file '{path}': {exc.strerror or exc}.",
                         hint="Pass -o with a writable location.") from exc


def run_document(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """The full-fidelity JSON document of one run: run row, cells, metrics and samples."""
    run = _rows(conn, "SELECT * FROM runs WHERE run_id = ?", run_id)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "run": run[0] if run else None,
        "cells": _rows(conn, "SELECT * FROM cells WHERE run_id = ? ORDER BY rowid", run_id),
        "metrics": _rows(conn, "SELECT * FROM metrics WHERE run_id = ? ORDER BY rowid", run_id),
        "samples": _rows(conn, "SELECT * FROM samples WHERE run_id = ? ORDER BY cell_id, doc_id", run_id),
    }


def tidy_metrics(conn: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """One row per (cell, metric) with the run's and the cell's context columns."""
    columns = ([f"r.{c}" for c in RUN_EXPORT_COLUMNS] + [f"c.{c}" for c in CELL_EXPORT_COLUMNS]
               + [f"m.{c}" for c in METRIC_EXPORT_COLUMNS])
    frame = pd.read_sql_query(
        f"SELECT {', '.join(columns)} FROM metrics m JOIN runs r ON r.run_id = m.run_id "
        "JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id "
        "WHERE m.run_id = ? ORDER BY c.rowid, m.rowid", conn, params=(run_id,))
    return frame.rename(columns={"name": "run_name"})


def sample_rows(conn: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """The per-document rows of a run, scores kept as JSON text so any format holds them."""
    return pd.read_sql_query(
        f"SELECT {', '.join(SAMPLE_EXPORT_COLUMNS)} FROM samples WHERE run_id = ? ORDER BY cell_id, doc_id",
        conn, params=(run_id,))


def _rows(conn: sqlite3.Connection, sql: str, run_id: str) -> list[dict[str, Any]]:
    """Rows as dicts, JSON text columns parsed into objects under their plain names."""
    cursor = conn.execute(sql, (run_id,))
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row: dict[str, Any] = {}
        for name, value in zip(names, values):
            if name in _JSON_COLUMNS:
                row[_JSON_COLUMNS[name]] = json.loads(value) if value else None
            else:
                row[name] = value
        rows.append(row)
    return rows


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Parquet with the export format recorded in the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"evalkit-format"] = f"{EXPORT_FORMAT}/{EXPORT_VERSION}".encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
