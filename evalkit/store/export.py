"""Export one stored run to a file: JSON (full fidelity), or Parquet / CSV (tidy metrics plus a
sibling `<stem>.samples.<ext>` file with the per-document rows).

Every format can be read back as a baseline by `evalkit.store.baseline.load_baseline`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from evalkit.errors import InputError, StoreError
from evalkit.outputs import output_file
from evalkit.store.columns import CELLS, JSON_COLUMNS, METRICS, RUNS, SAMPLES
from evalkit.store.frames import read_frame, read_rows
from evalkit.store.jsontext import finite
from evalkit.store.schema import store_file, store_files

EXPORT_FORMAT = "evalkit-results"
EXPORT_VERSION = 1
EXPORT_FORMATS = ("json", "parquet", "csv")
EXPORT_SUFFIXES = tuple(f".{fmt}" for fmt in EXPORT_FORMATS)  # how a results file is named
TIDY_SUFFIXES = tuple(s for s in EXPORT_SUFFIXES if s != ".json")  # those with a samples sibling

# Columns of the tidy metrics table in Parquet / CSV exports: run context, cell context, metric.
RUN_EXPORT_COLUMNS = RUNS.export_names
CELL_EXPORT_COLUMNS = CELLS.export_names
METRIC_EXPORT_COLUMNS = METRICS.export_names
SAMPLE_EXPORT_COLUMNS = SAMPLES.export_names
# How a JSON export spells a non-finite REAL value (JSON has no token for it); the loader reads it back.
NON_FINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def suffix_text() -> str:
    """'.json, .parquet or .csv': the results-file suffixes, for messages."""
    return ", ".join(EXPORT_SUFFIXES[:-1]) + f" or {EXPORT_SUFFIXES[-1]}"


def samples_sibling(path: Path) -> Path:
    """The per-document companion of a Parquet / CSV export: `<stem>.samples.<ext>`."""
    return path.with_name(f"{path.stem}.samples{path.suffix}")


def export_run(conn: Any, run_id: str, path: Path, fmt: str, *, force: bool = False,
               inputs: Sequence[Path] = ()) -> list[Path]:
    """Write run `run_id` to `path` in `fmt` (json, parquet or csv); return the files written.
    Goes through `output_file`: never over a database or an input, an existing file only with
    `force`; the two files of Parquet / CSV are both checked first and both renamed at the end."""
    path = Path(path)
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"Unknown export format '{fmt}'.", hint=f"Use one of: {', '.join(EXPORT_FORMATS)}.")
    sources = [*map(Path, inputs), *store_files(conn)]
    if fmt == "json":
        text = json.dumps(run_document(conn, run_id), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
        with output_file(path, force=force, inputs=sources) as temporary:
            temporary.write_text(text, encoding="utf-8")
        return [path]
    metrics, samples = tidy_metrics(conn, run_id), sample_rows(conn, run_id)
    sibling = samples_sibling(path)
    with output_file(path, force=force, inputs=sources) as first, \
            output_file(sibling, force=force, inputs=sources, option="-o (its samples file)") as second:
        _write_table(metrics, first, fmt)
        _write_table(samples, second, fmt)
    return [path, sibling]


def _write_table(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        _write_parquet(frame, path)
    else:
        frame.to_csv(path, index=False)


def run_document(conn: Any, run_id: str) -> dict[str, Any]:
    """The full-fidelity JSON document of one run: run row, cells, metrics and samples, and what a
    sample's score is where it is not the metric itself (`document_values`)."""
    run = _rows(conn, f"SELECT {RUNS.select_list} FROM runs WHERE run_id = ?", run_id)
    metrics = _rows(conn, f"SELECT {METRICS.select_list} FROM metrics WHERE run_id = ? ORDER BY rowid", run_id)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "run": run[0] if run else None,
        "cells": _rows(conn, f"SELECT {CELLS.select_list} FROM cells WHERE run_id = ? ORDER BY rowid", run_id),
        "metrics": metrics,
        "document_values": document_values(metrics),
        "samples": _rows(conn, f"SELECT {SAMPLES.select_list} FROM samples WHERE run_id = ? ORDER BY cell_id, doc_id",
                         run_id),
    }


def document_values(metrics: list[dict[str, Any]]) -> dict[str, str]:
    """The metrics whose per-document score is another quantity, and its name (evalkit.metric_semantics):
    lm-eval keeps each document's log-likelihood under `perplexity` ({"perplexity": "loglikelihood"}),
    so a reader of the samples does not take those numbers for perplexities. Informational: the scores
    keep their metric's key, which is what a baseline is read back by."""
    from evalkit.metric_semantics import document_value_name

    names = sorted({str(m["metric"]) for m in metrics if m.get("metric")})
    return {name: document_value_name(name) for name in names if document_value_name(name) != name}


def tidy_metrics(conn: Any, run_id: str) -> pd.DataFrame:
    """One row per (cell, metric) with the run's and the cell's context columns."""
    columns = ([f"r.{c}" for c in RUN_EXPORT_COLUMNS] + [f"c.{c}" for c in CELL_EXPORT_COLUMNS]
               + [f"m.{c}" for c in METRIC_EXPORT_COLUMNS])
    frame = read_frame(
        conn, f"SELECT {', '.join(columns)} FROM metrics m JOIN runs r ON r.run_id = m.run_id "
        "JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id "
        "WHERE m.run_id = ? ORDER BY c.rowid, m.rowid", (run_id,))
    return frame.rename(columns={"name": "run_name"})


def sample_rows(conn: Any, run_id: str) -> pd.DataFrame:
    """The per-document rows of a run, scores kept as JSON text so any format holds them."""
    return read_frame(
        conn, f"SELECT {', '.join(SAMPLE_EXPORT_COLUMNS)} FROM samples WHERE run_id = ? ORDER BY cell_id, doc_id",
        (run_id,))


def _rows(conn: Any, sql: str, run_id: str) -> list[dict[str, Any]]:
    """Rows as dicts, JSON text columns parsed into objects under their plain names, every value
    strict JSON (non-finite numbers spelled as NON_FINITE strings in columns, null in payloads)."""
    names, found = read_rows(conn, sql, (run_id,))
    rows = []
    for values in found:
        row: dict[str, Any] = {}
        for name, value in zip(names, values):
            if name in JSON_COLUMNS:
                row[JSON_COLUMNS[name]] = _payload(conn, run_id, name, value)
            else:
                row[name] = _spelled(value)
        rows.append(row)
    return rows


def _payload(conn: Any, run_id: str, column: str, text: str | None) -> Any:
    if not text:
        return None
    try:
        return finite(json.loads(text))
    except ValueError as exc:
        raise StoreError(f"Results database '{store_file(conn)}': {column} of run {run_id} is not valid JSON "
                         f"({exc}); nothing was exported.", hint="Restore the store from a backup.") from exc


def _spelled(value: Any) -> Any:
    """A non-finite float as its NON_FINITE spelling; anything else as it is."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Parquet with the export format recorded in the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"evalkit-format"] = f"{EXPORT_FORMAT}/{EXPORT_VERSION}".encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
