"""Load an exported results file (JSON, or Parquet / CSV with its samples sibling) back into an
in-memory store with the regular schema, so a CI job can compare against it without the database."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import BaselineError
from evalkit.store.columns import CELLS, JSON_COLUMNS, METRICS, RESULT_TABLES, RUNS, SAMPLES, Column, Table
from evalkit.store.export import (CELL_EXPORT_COLUMNS, EXPORT_FORMAT, EXPORT_SUFFIXES, EXPORT_VERSION,
                                  METRIC_EXPORT_COLUMNS, NON_FINITE, RUN_EXPORT_COLUMNS, SAMPLE_EXPORT_COLUMNS,
                                  TIDY_SUFFIXES, samples_sibling, suffix_text)
from evalkit.store.schema import open_memory_store
from evalkit.store.scores import is_mean_aggregated, mean_disagreement

_TABLES: dict[str, Table] = {t.name: t for t in RESULT_TABLES}
_JSON_KEYS = {key: column for column, key in JSON_COLUMNS.items()}
# Numeric columns of a tidy file (CSV holds them as text): the cell's and the metric's.
_NUMERIC = [c.name for t in (CELLS, METRICS) for c in t.columns if c.type != "TEXT" and c.export]


@dataclass
class Baseline:
    """An exported run loaded into an in-memory store: query it like any stored run."""

    conn: sqlite3.Connection
    run_id: str
    path: Path


def load_baseline(path: str | Path) -> Baseline:
    """Read an export written by `evalkit results export`; BaselineError names the file and the fault."""
    path = Path(path)
    _require_file(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise BaselineError(f"Baseline file '{path}' has an unknown format '{path.suffix}'.",
                            hint=f"Use a {suffix_text()} file written by `evalkit results export`.")
    tables = _tables_from_json(path) if suffix not in TIDY_SUFFIXES else _tables_from_tidy(path, suffix)
    _check_entries(path, tables)
    return _load_tables(path, tables)


def _require_file(path: Path) -> None:
    """An existing regular file (a directory, FIFO or device is named as what it is)."""
    if path.is_file():
        return
    if path.is_dir():
        raise BaselineError(f"Baseline file '{path}' is a directory, not an exported results file.",
                            hint=f"Name the {suffix_text()} file inside it written by `evalkit results export`.")
    if path.exists():
        raise BaselineError(f"Baseline file '{path}' is not a regular file (a pipe or a device?).",
                            hint="Pass a file written by `evalkit results export RUN -o FILE`.")
    raise BaselineError(f"Baseline file '{path}' does not exist.",
                        hint="Create it with `evalkit results export RUN -o FILE` and commit it.")


def _tables_from_json(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows of each table from a JSON export, after checking its format marker and version."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))  # an editor's byte-order mark is not an error
    except UnicodeDecodeError as exc:
        raise BaselineError(f"Baseline file '{path}' is not UTF-8 text ({exc.reason}).") from exc
    except RecursionError as exc:
        raise BaselineError(f"Baseline file '{path}' nests JSON too deeply to read; it is not an evalkit results "
                            "export.",
                            hint="Export it again with `evalkit results export RUN --format json -o FILE`.") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"Baseline file '{path}' is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}); it may be truncated.",
                            hint="Export it again with `evalkit results export RUN --format json -o FILE`.") from exc
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise BaselineError(f"Baseline file '{path}' is not an evalkit results export "
                            f"(expected \"format\": \"{EXPORT_FORMAT}\").",
                            hint="Create it with `evalkit results export RUN --format json -o FILE`.")
    if doc.get("version") != EXPORT_VERSION:
        raise BaselineError(f"Baseline file '{path}' has export version {doc.get('version')!r}; this evalkit "
                            f"reads version {EXPORT_VERSION}.", hint="Export the baseline again with this evalkit.")
    for key, kind in (("run", dict), ("cells", list), ("metrics", list), ("samples", list)):
        if not isinstance(doc.get(key), kind):
            raise BaselineError(f"Baseline file '{path}' lacks the key '{key}' (or it is not a {kind.__name__}).")
    tables = {"runs": [doc["run"]], "cells": doc["cells"], "metrics": doc["metrics"], "samples": doc["samples"]}
    for table, rows in tables.items():
        if not all(isinstance(r, dict) for r in rows):
            raise BaselineError(f"Baseline file '{path}': every entry of '{table}' must be an object.")
    return {t: [_encode_json_keys(_TABLES[t], r) for r in rows] for t, rows in tables.items()}


def _encode_json_keys(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Map parsed JSON fields (scores, details, ...) back to their *_json text columns, exactly as
    they are (a null or NaN score stays one, for the gate to refuse); read back the NON_FINITE
    spellings of REAL columns."""
    real = {c.name for c in table.columns if c.type == "REAL"}
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in _JSON_KEYS:
            out[_JSON_KEYS[key]] = None if value is None else json.dumps(value, ensure_ascii=False)
        elif key in real and isinstance(value, str) and value in NON_FINITE:
            out[key] = NON_FINITE[value]
        else:
            out[key] = value
    return out


def _tables_from_tidy(path: Path, suffix: str) -> dict[str, list[dict[str, Any]]]:
    """Rebuild runs / cells / metrics / samples rows from a tidy metrics file and its samples sibling."""
    sibling = samples_sibling(path)
    if not sibling.is_file():
        raise BaselineError(f"Baseline file '{path}' has no per-document companion '{sibling}'.",
                            hint="Both files written by `evalkit results export` are needed; commit both.")
    metrics, samples = _read_tidy(path, suffix), _read_tidy(sibling, suffix)
    tidy = RUN_EXPORT_COLUMNS + CELL_EXPORT_COLUMNS
    required = [c for c in dict.fromkeys(RUNS.required_names + CELLS.required_names) if c in tidy]
    _require_columns(path, metrics, required + METRIC_EXPORT_COLUMNS)
    _require_columns(sibling, samples, SAMPLES.required_names)
    if metrics.empty:
        raise BaselineError(f"Baseline file '{path}' holds no metric rows.")
    _require_one_run(path, metrics, sibling, samples)
    metrics = _numeric_columns(path, metrics)
    run = {c: metrics.iloc[0].get("run_name" if c == "name" else c) for c in RUN_EXPORT_COLUMNS}
    cells = metrics.drop_duplicates("cell_id")
    n_by_cell = samples.groupby("cell_id").size()
    cell_rows = [{**{c: row.get(c) for c in CELL_EXPORT_COLUMNS}, "model_spec_json": "{}",
                  "n": int(n_by_cell.get(row["cell_id"], 0))} for _, row in cells.iterrows()]
    metric_rows = [{c: row.get(c) for c in METRICS.names if c != "run_id"} for _, row in metrics.iterrows()]
    sample_rows = [{c: row.get(c) for c in SAMPLE_EXPORT_COLUMNS if c != "run_id"}
                   for _, row in samples.iterrows()]
    return {"runs": [run], "cells": cell_rows, "metrics": metric_rows, "samples": sample_rows}


def _require_one_run(path: Path, metrics: pd.DataFrame, sibling: Path, samples: pd.DataFrame) -> None:
    """A baseline is one run: rows of several run ids (two exports concatenated, an edited row)
    would otherwise be merged silently into the first row's run."""
    for where, frame in ((path, metrics), (sibling, samples)):
        if "run_id" not in frame.columns:
            continue
        ids = list(dict.fromkeys(str(v) for v in frame["run_id"]))
        first = str(metrics["run_id"].iloc[0])
        others = [i for i in ids if i != first]
        if others:
            raise BaselineError(f"Baseline file '{where}' mixes runs: rows of {first} and of {', '.join(others[:3])}; "
                                "a baseline is one run.", hint="Export each run to its own file with "
                                                                "`evalkit results export RUN -o FILE`.")


def _read_tidy(path: Path, suffix: str) -> pd.DataFrame:
    """A Parquet or CSV table with None for missing values; CSV cells are read as text."""
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pyarrow and pandas raise many types for damaged files
        raise BaselineError(f"Baseline file '{path}' cannot be read as {suffix[1:]} ({exc}); it may be truncated.",
                            hint="Export it again with `evalkit results export`.") from exc
    return frame.astype(object).where(frame.notna(), None)


def _require_columns(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BaselineError(f"Baseline file '{path}' lacks the column(s) {', '.join(missing)}; "
                            "it is not an evalkit results export.",
                            hint="Create it with `evalkit results export RUN -o FILE`.")


def _numeric_columns(path: Path, metrics: pd.DataFrame) -> pd.DataFrame:
    """Turn the text of numeric CSV columns into numbers, naming a column that will not convert."""
    metrics = metrics.copy()
    for column in _NUMERIC:
        try:
            values = pd.to_numeric(metrics[column].map(_bool_text), errors="raise")
        except (ValueError, TypeError) as exc:
            raise BaselineError(f"Baseline file '{path}': column '{column}' holds a non-numeric value "
                                f"({exc}).") from exc
        metrics[column] = [None if pd.isna(v) else v for v in values]
    for column in (c for c in _NUMERIC if _column(c).type == "INTEGER"):
        metrics[column] = pd.Series([_whole(path, column, v) for v in metrics[column]], index=metrics.index,
                                    dtype=object)  # object: None stays None (a float column would make it NaN)
    return metrics


def _whole(path: Path, column: str, value: Any) -> int | None:
    """An integer column's value: None when missing (NaN included: the required-field check names it),
    else a whole number; 0.5 or 1e400 is refused rather than truncated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise BaselineError(f"Baseline file '{path}': column '{column}' holds {value!r}, not a whole number.",
                            hint=_EXPORT_AGAIN)
    return int(value)


def _column(name: str) -> Column:
    return next(t.column(name) for t in (CELLS, METRICS) if name in t.export_names)


def _bool_text(value: Any) -> Any:
    """CSV writes booleans as True/False; read them (and real booleans) as 1/0."""
    if isinstance(value, bool):
        return int(value)
    return {"True": 1, "False": 0}.get(value, value) if isinstance(value, str) else value


def _check_entries(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """What the reader and the statistics rely on, checked once at load time: there are results,
    every metric's higher_is_better is true/false (bool('false') is True), every doc_id an integer
    that appears once, every scores / outputs text valid JSON, every cell's documents all there, every
    mean-aggregated metric the mean of its documents' scores.
    BaselineError names the file, the cell and the document."""
    if not tables["cells"] or not tables["metrics"]:
        raise BaselineError(f"Baseline file '{path}' holds no results (its list of "
                            f"{'cells' if not tables['cells'] else 'metrics'} is empty): there is nothing to "
                            "compare against.", hint=_EXPORT_AGAIN)
    cells = {c.get("cell_id"): c for c in tables["cells"]}
    _check_directions(path, cells, tables["metrics"])
    _check_documents(path, cells, tables["samples"])
    _check_means(path, cells, tables["metrics"], tables["samples"])


def _check_directions(path: Path, cells: dict[Any, dict[str, Any]], metrics: list[dict[str, Any]]) -> None:
    for row in metrics:
        value = row.get("higher_is_better")
        if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
            row["higher_is_better"] = int(value)
        elif value is not None:  # a missing one is named by the required-field check
            raise BaselineError(f"Baseline file '{path}': metric '{row.get('metric')}' of "
                                f"{_cell_name(cells, row.get('cell_id'))} has higher_is_better = {value!r}, "
                                "not true or false.", hint=_EXPORT_AGAIN)


def _check_documents(path: Path, cells: dict[Any, dict[str, Any]], samples: list[dict[str, Any]]) -> None:
    held: dict[Any, set[int]] = {}
    for row in samples:
        row["doc_id"] = _doc_id(path, cells, row)
        documents = held.setdefault(row.get("cell_id"), set())
        if row["doc_id"] in documents:
            raise BaselineError(f"Baseline file '{path}': document doc_id {row['doc_id']} of "
                                f"{_cell_name(cells, row.get('cell_id'))} appears more than once.", hint=_EXPORT_AGAIN)
        documents.add(row["doc_id"])
        for column in ("scores_json", "outputs_json"):
            text = row.get(column)
            if _is_missing(text) or (column == "outputs_json" and text == ""):
                continue  # a missing scores text is named by the required-field check; outputs are optional
            try:
                json.loads(text)
            except (TypeError, ValueError, RecursionError) as exc:
                raise BaselineError(f"Baseline file '{path}': a document of {_cell_name(cells, row.get('cell_id'))} "
                                    f"cannot be read: doc_id {row['doc_id']} has {column[:-5]} that are not valid "
                                    f"JSON ({exc}).", hint=_EXPORT_AGAIN) from exc
    for cell_id, cell in cells.items():  # the writer stores n = len(samples): fewer means truncated or edited
        n, found = cell.get("n"), len(held.get(cell_id, ()))
        if isinstance(n, int) and not isinstance(n, bool) and found != n:
            raise BaselineError(f"Baseline file '{path}': cell {_cell_name(cells, cell_id)} records {n} documents "
                                f"but the file holds {found}; it was truncated or edited.", hint=_EXPORT_AGAIN)


def _check_means(path: Path, cells: dict[Any, dict[str, Any]], metrics: list[dict[str, Any]],
                 samples: list[dict[str, Any]]) -> None:
    """A mean-aggregated metric (acc, exact_match, ...) is the mean of its documents' scores, the rule
    imports are held to (evalkit.store.scores): a value edited by hand would be shown and gated as measured."""
    scores: dict[Any, list[Any]] = {}
    for row in samples:
        text = row.get("scores_json")
        scores.setdefault(row.get("cell_id"), []).append(None if _is_missing(text) else json.loads(text))
    for row in metrics:
        metric = str(row.get("metric"))
        reason = is_mean_aggregated(metric) and mean_disagreement(row.get("value"), scores.get(row.get("cell_id"), []),
                                                                   metric)
        if reason:
            raise BaselineError(f"Baseline file '{path}': metric '{metric}' of {_cell_name(cells, row.get('cell_id'))} "
                                f"contradicts its documents: {reason}; it was edited.", hint=_EXPORT_AGAIN)


def _is_missing(value: Any) -> bool:
    """None, or the NaN that pandas puts in an empty tidy cell (SQLite stores both as NULL)."""
    return value is None or (isinstance(value, float) and value != value)


_EXPORT_AGAIN = "Export the baseline again with `evalkit results export RUN -o FILE`."


def _doc_id(path: Path, cells: dict[Any, dict[str, Any]], row: dict[str, Any]) -> Any:
    """The document id as an int (CSV holds it as text); BaselineError for anything else."""
    value = row.get("doc_id")
    if value is None:
        return None  # named by the required-field check
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy integers from Parquet
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    raise BaselineError(f"Baseline file '{path}': a document of {_cell_name(cells, row.get('cell_id'))} cannot be "
                        f"read: doc_id {value!r} is not an integer.", hint=_EXPORT_AGAIN)


def _cell_name(cells: dict[Any, dict[str, Any]], cell_id: Any) -> str:
    """'model / task / setting' of a cell, or 'cell ID' when the file does not describe it."""
    cell = cells.get(cell_id) or {}
    parts = [cell.get(k) for k in ("model", "task", "setting")]
    return " / ".join(map(str, parts)) if all(p is not None for p in parts) else f"cell {cell_id!r}"


def _load_tables(path: Path, tables: dict[str, list[dict[str, Any]]]) -> Baseline:
    """Insert the rows into a fresh ':memory:' store, run row first so foreign keys hold."""
    run = tables["runs"][0]
    run_id = run.get("run_id")
    if not run_id:
        raise BaselineError(f"Baseline file '{path}' lacks the run's 'run_id'.")
    _check_references(path, tables)
    conn = open_memory_store()
    try:
        conn.execute("BEGIN")
        for table in ("runs", "cells", "metrics", "samples"):
            for row in tables[table]:
                _insert(conn, path, table, {**row, "run_id": run_id})
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return Baseline(conn=conn, run_id=str(run_id), path=path)


def _check_references(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Every metric and document belongs to a cell the file describes (a tidy file's cells are its metric
    rows): name the file, the task and what is missing, not the store's 'FOREIGN KEY constraint failed'."""
    cells = {c.get("cell_id") for c in tables["cells"]}
    tidy = path.suffix.lower() in TIDY_SUFFIXES
    for row in tables["metrics"]:
        if row.get("cell_id") not in cells:
            raise BaselineError(f"Baseline file '{path}': metric '{row.get('metric')}' of task '{row.get('task')}' "
                                f"belongs to cell {row.get('cell_id')!r}, which its list of cells lacks.",
                                hint=_EXPORT_AGAIN)
    orphans = [row.get("cell_id") for row in tables["samples"] if row.get("cell_id") not in cells]
    if orphans:
        where = samples_sibling(path) if tidy else path
        lacking = f"'{path}' has no metric rows for it" if tidy else "its list of cells lacks it"
        raise BaselineError(f"Baseline file '{where}' holds {orphans.count(orphans[0])} document(s) of cell "
                            f"{orphans[0]!r}, but {lacking}: the metrics of that cell's task are missing (removed "
                            "from the file, or the files come from different exports).", hint=_EXPORT_AGAIN)


def _insert(conn: sqlite3.Connection, path: Path, table: str, row: dict[str, Any]) -> None:
    """Insert the keys of `row` that the table has; BaselineError for a missing required key."""
    columns = _TABLES[table].names
    missing = [c for c in _TABLES[table].required_names if row.get(c) is None]
    if missing:
        raise BaselineError(f"Baseline file '{path}': an entry of '{table}'{_entry(row)} lacks {', '.join(missing)}.",
                            hint="Export the baseline again with `evalkit results export`.")
    row = {k: v for k, v in row.items() if k in columns}
    if table == "cells":
        row.setdefault("model_spec_json", "{}")
    try:
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     [_sql_value(v) for v in row.values()])
    except (sqlite3.Error, TypeError, ValueError, OverflowError) as exc:  # OverflowError: an integer over 2**63
        raise BaselineError(f"Baseline file '{path}': an entry of '{table}'{_entry(row)} cannot be loaded ({exc}).",
                            hint="Export the baseline again with `evalkit results export`.") from exc


def _entry(row: dict[str, Any]) -> str:
    """' (cell X, document N)' naming the entry where the row says so."""
    parts = [f"{label} {row[key]}" for key, label in (("cell_id", "cell"), ("task", "task"), ("doc_id", "document"),
                                                        ("metric", "metric")) if row.get(key) is not None]
    return f" ({', '.join(parts)})" if parts else ""


def _sql_value(value: Any) -> Any:
    """Plain Python scalars for sqlite3 (numpy numbers from Parquet become int / float)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value
