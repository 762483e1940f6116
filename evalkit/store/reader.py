"""Reads from the results store as pandas DataFrames, and resolves run references."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd

from evalkit.errors import UnknownRunError, did_you_mean
from evalkit.home import default_store_path
from evalkit.store.schema import connect

_LATEST = re.compile(r"^latest(?:~(\d+))?$")

RUN_COLUMNS = ["run_id", "name", "created_at", "finished_at", "status", "evalkit_version",
               "lm_eval_version", "transformers_version", "torch_version", "git_commit", "host",
               "command", "seed"]


def list_runs(conn: sqlite3.Connection, *, include_incomplete: bool = True) -> pd.DataFrame:
    """All runs, newest first, with the number of cells each holds."""
    where = "" if include_incomplete else "WHERE r.status = 'complete'"
    return pd.read_sql_query(
        f"SELECT {', '.join('r.' + c for c in RUN_COLUMNS)}, COUNT(c.cell_id) AS cells "
        f"FROM runs r LEFT JOIN cells c ON c.run_id = r.run_id {where} "
        "GROUP BY r.run_id ORDER BY r.created_at DESC, r.rowid DESC", conn)


def resolve_run_ref(conn: sqlite3.Connection, ref: str) -> str:
    """A run id, a unique id prefix, a run name (its latest complete run), `latest` or `latest~N`."""
    runs = list_runs(conn)
    complete = runs[runs.status == "complete"]
    match = _LATEST.match(ref)
    if match:
        back = int(match.group(1) or 0)
        if back >= len(complete):
            raise UnknownRunError(f"Run reference '{ref}' asks for {back + 1} complete runs; the store has {len(complete)}.",
                                  hint="List runs with `evalkit results list`.")
        return str(complete.iloc[back].run_id)
    if ref in set(runs.run_id):
        return ref
    named = complete[complete.name == ref]
    if len(named):
        return str(named.iloc[0].run_id)
    prefixed = runs[runs.run_id.str.startswith(ref)] if len(ref) >= 4 else runs.iloc[0:0]
    if len(prefixed) == 1:
        return str(prefixed.iloc[0].run_id)
    if len(prefixed) > 1:
        raise UnknownRunError(f"Run reference '{ref}' is ambiguous: it matches {len(prefixed)} runs.",
                              hint="Give more characters of the run id.")
    known = [str(x) for x in list(runs.run_id) + list(runs.name.dropna())]
    raise UnknownRunError(f"Unknown run '{ref}'." + did_you_mean(ref, known),
                          hint="Use a run id, a run name, `latest` or `latest~N`; see `evalkit results list`.")


def run_row(conn: sqlite3.Connection, run_id: str) -> pd.Series:
    frame = pd.read_sql_query(f"SELECT * FROM runs WHERE run_id = ?", conn, params=(run_id,))
    return frame.iloc[0]


def cells_frame(conn: sqlite3.Connection, run_ids: list[str] | None = None) -> pd.DataFrame:
    where, params = _in_clause("run_id", run_ids)
    return pd.read_sql_query(f"SELECT * FROM cells {where} ORDER BY rowid", conn, params=params)


def metrics_frame(conn: sqlite3.Connection, run_ids: list[str] | None = None,
                  *, include_incomplete: bool = False) -> pd.DataFrame:
    """Tidy metrics: one row per (run, model, task, setting, metric), with run context."""
    where, params = _in_clause("m.run_id", run_ids)
    if not include_incomplete:
        where = (where + " AND" if where else "WHERE") + " r.status = 'complete'"
    frame = pd.read_sql_query(
        "SELECT m.run_id, r.name AS run_name, r.created_at, m.cell_id, m.model, c.model_fingerprint,"
        " m.task, m.setting, c.num_fewshot, m.metric, m.value, m.stderr, m.ci_low, m.ci_high, m.n,"
        " m.higher_is_better "
        "FROM metrics m JOIN runs r ON r.run_id = m.run_id "
        "JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id "
        f"{where} ORDER BY r.created_at, c.rowid, m.metric", conn, params=params)
    frame["higher_is_better"] = frame["higher_is_better"].astype(bool)
    return frame


def samples_frame(conn: sqlite3.Connection, run_id: str, cell_id: str | None = None) -> pd.DataFrame:
    """Per-document records of a run (optionally one cell), scores parsed into a dict column."""
    import json

    sql = "SELECT * FROM samples WHERE run_id = ?"
    params: list[str] = [run_id]
    if cell_id is not None:
        sql += " AND cell_id = ?"
        params.append(cell_id)
    frame = pd.read_sql_query(sql + " ORDER BY cell_id, doc_id", conn, params=params)
    frame["scores"] = frame.pop("scores_json").map(json.loads)
    frame["outputs"] = frame.pop("outputs_json").map(lambda s: json.loads(s) if s else None)
    return frame


def load_results(store: str | Path | None = None, *, include_incomplete: bool = False) -> pd.DataFrame:
    """The tidy metrics table of every complete run in `store` (default: reports/evalkit.db)."""
    conn = connect(Path(store) if store else default_store_path(), create=False)
    try:
        return metrics_frame(conn, include_incomplete=include_incomplete)
    finally:
        conn.close()


def _in_clause(column: str, values: list[str] | None) -> tuple[str, list[str]]:
    if not values:
        return "", []
    return f"WHERE {column} IN ({', '.join('?' * len(values))})", list(values)
