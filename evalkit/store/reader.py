"""Reads from the results store as pandas DataFrames, and resolves run references."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import InputError, StoreError, UnknownRunError, did_you_mean
from evalkit.store.columns import CELLS, METRICS, RUNS, SAMPLES
from evalkit.store.export import EXPORT_SUFFIXES
from evalkit.store.frames import read_frame
from evalkit.store.location import STORE_SUFFIXES, PostgresURL, store_location
from evalkit.store.schema import open_for_reading, store_file

Connection = Any  # sqlite3.Connection or evalkit.store.postgres.PostgresConnection

_LATEST = re.compile(r"^latest(?:~(\d+))?$")
# Run ids are "YYYYMMDD-HHMMSS-xxxxxx" (evalkit.engine.runner.run_info); references accept a prefix of 4+.
_RUN_ID_START = re.compile(r"^(\d{4,8}|\d{8}-\d{0,6}|\d{8}-\d{6}-[0-9a-f]{0,6})$")

RUN_COLUMNS = RUNS.export_names


def list_runs(conn: Connection, *, include_incomplete: bool = True) -> pd.DataFrame:
    """All runs, newest first, with the number of cells each holds."""
    where = "" if include_incomplete else "WHERE r.status = 'complete'"
    return read_frame(
        conn, f"SELECT {', '.join('r.' + c for c in RUN_COLUMNS)}, COUNT(c.cell_id) AS cells "
        f"FROM runs r LEFT JOIN cells c ON c.run_id = r.run_id {where} "
        "GROUP BY r.run_id ORDER BY r.created_at DESC, r.rowid DESC")


def resolve_run_ref(conn: Connection, ref: str) -> str:
    """A run id, a unique id prefix, a run name (its complete run with the newest created_at; two such runs
    created at the same instant are ambiguous: InputError naming their ids), `latest` or `latest~N`."""
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
        return _newest_named(ref, named)
    unfinished = runs[runs.name == ref]
    if len(unfinished):  # the name exists, but only on runs a name does not reach
        newest = unfinished.iloc[0]
        raise InputError(f"Run '{ref}' exists but is not complete: its newest run {newest.run_id} has status "
                         f"'{newest.status}' ({len(unfinished)} run(s) with this name, none complete), and a "
                         "name refers to its newest complete run.",
                         hint=f"Reach that run by its id ({newest.run_id}), or re-run it with "
                              "`evalkit run ... --name` until it completes.")
    prefixed = runs[runs.run_id.str.startswith(ref)] if len(ref) >= 4 else runs.iloc[0:0]
    if len(prefixed) == 1:
        return str(prefixed.iloc[0].run_id)
    if len(prefixed) > 1:
        raise UnknownRunError(f"Run reference '{ref}' is ambiguous: it matches {len(prefixed)} runs.",
                              hint="Give more characters of the run id.")
    known = [str(x) for x in list(runs.run_id) + list(runs.name.dropna())]
    raise UnknownRunError(f"Unknown run '{ref}'." + did_you_mean(ref, known),
                          hint="Use a run id, a run name, `latest` or `latest~N`; see `evalkit results list`.")


def _newest_named(name: str, named: pd.DataFrame) -> str:
    """The newest of a name's complete runs (newest first); a tie on created_at (two concurrent runs given
    one --name) is refused rather than settled by the order the store happens to hold them in."""
    tied = named[named.created_at == named.iloc[0].created_at]
    if len(tied) > 1:
        ids = ", ".join(str(run_id) for run_id in tied.run_id)
        raise InputError(f"Run name '{name}' is ambiguous: {len(tied)} complete runs of that name were created at "
                         f"the same instant ({named.iloc[0].created_at}): {ids}.",
                         hint="Name the run you mean by its id (see `evalkit results list`).")
    return str(named.iloc[0].run_id)


def run_row(conn: Connection, run_id: str) -> pd.Series:
    frame = read_frame(conn, f"SELECT {RUNS.select_list} FROM runs WHERE run_id = ?", (run_id,))
    return frame.iloc[0]


def cells_frame(conn: Connection, run_ids: list[str] | None = None) -> pd.DataFrame:
    where, params = _in_clause("run_id", run_ids)
    return read_frame(conn, f"SELECT {CELLS.select_list} FROM cells {where} ORDER BY rowid", params)


def metrics_frame(conn: Connection, run_ids: list[str] | None = None,
                  *, include_incomplete: bool = False) -> pd.DataFrame:
    """Tidy metrics: one row per (run, model, task, setting, metric), with run context."""
    where, params = _in_clause("m.run_id", run_ids)
    if not include_incomplete:
        where = (where + " AND" if where else "WHERE") + " r.status = 'complete'"
    values = ", ".join(f"m.{c}" for c in METRICS.export_names)
    frame = read_frame(
        conn, "SELECT m.run_id, r.name AS run_name, r.created_at, m.cell_id, m.model, c.model_fingerprint,"
        f" m.task, m.setting, c.num_fewshot, {values} "
        "FROM metrics m JOIN runs r ON r.run_id = m.run_id "
        "JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id "
        f"{where} ORDER BY r.created_at, c.rowid, m.metric", params)
    frame["higher_is_better"] = frame["higher_is_better"].astype(bool)
    return frame


def samples_frame(conn: Connection, run_id: str, cell_id: str | None = None) -> pd.DataFrame:
    """Per-document records of a run (optionally one cell), scores parsed into a dict column; `cluster`
    is each document's group (str) or None."""
    sql = f"SELECT {SAMPLES.select_list} FROM samples WHERE run_id = ?"
    params: list[str] = [run_id]
    if cell_id is not None:
        sql += " AND cell_id = ?"
        params.append(cell_id)
    frame = read_frame(conn, sql + " ORDER BY cell_id, doc_id", params)
    for column, name in (("scores_json", "scores"), ("outputs_json", "outputs")):
        frame[name] = [_parsed(conn, row, column) for row in frame.itertuples()]
        frame.pop(column)
    # None for a document without a cluster (pandas would make it NaN beside strings)
    frame["cluster"] = pd.Series([None if pd.isna(c) else str(c) for c in frame["cluster"]], index=frame.index,
                                 dtype=object)
    return frame


def cluster_counts(conn: Connection, run_id: str) -> pd.DataFrame:
    """Per cell of a run: its documents, how many carry a cluster, and how many distinct clusters they form."""
    return read_frame(conn, "SELECT cell_id, COUNT(*) AS documents, COUNT(cluster) AS clustered, "
                      "COUNT(DISTINCT cluster) AS clusters FROM samples WHERE run_id = ? GROUP BY cell_id", (run_id,))


def _parsed(conn: Connection, row: Any, column: str) -> Any:
    """The JSON of one sample's column (None for empty outputs); the writer stores only strict JSON,
    so text that does not parse means the file was edited or damaged: StoreError naming the document."""
    text = getattr(row, column)
    if column == "outputs_json" and not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"Results database '{store_file(conn)}' is damaged: {column[:-5]} of run {row.run_id}, "
                         f"cell {row.cell_id}, doc_id {row.doc_id} is not valid JSON ({exc}).",
                         hint="Restore the store from a backup, or re-run that run.") from exc


def load_results(store: str | Path | PostgresURL | None = None, *, include_incomplete: bool = False) -> pd.DataFrame:
    """The tidy metrics table of every complete run in `store` (a path or a postgresql:// URL; default:
    $EVALKIT_STORE, else reports/evalkit.db)."""
    conn = open_for_reading(store_location(store))
    try:
        return metrics_frame(conn, include_incomplete=include_incomplete)
    finally:
        conn.close()


def _in_clause(column: str, values: list[str] | None) -> tuple[str, list[str]]:
    if not values:
        return "", []
    return f"WHERE {column} IN ({', '.join('?' * len(values))})", list(values)


def check_run_name(conn: Connection, name: str | None) -> str | None:
    """Refuse a run name that is also a run reference or a file name (InputError); return a warning
    when other runs already carry it, else None. Call before `begin_run`."""
    if name is None:
        return None
    runs = read_frame(conn, "SELECT run_id, name FROM runs ORDER BY created_at DESC, rowid DESC")
    why = _reference_clash(name, [str(r) for r in runs.run_id])
    if why and name.startswith("-"):
        raise InputError(f"Run name '{name}' {why}: was the value after --name left out, so that the next "
                         "option was taken as the name?",
                         hint="Put the name right after --name, e.g. --name nightly; a name cannot start with "
                              "'-' (quoting it does not help: the shell removes the quotes).")
    if why:
        raise InputError(f"Run name '{name}' {why}, so references to it would be ambiguous.",
                         hint="Choose a name with a letter in it that is not 'latest' and has no '/' or "
                              "file suffix, e.g. --name baseline-2026-06.")
    same = runs[runs.name == name]
    if not len(same):
        return None
    return (f"Run name '{name}' is already used by {len(same)} earlier run(s) (newest: {same.iloc[0].run_id}); "
            "the name now refers to the newest complete run with it.")


def _reference_clash(name: str, run_ids: list[str]) -> str | None:
    """Why `name` would be read as something other than a run name, or None."""
    if not name.strip():
        return "is empty"
    if name.startswith("-"):
        return "starts with '-' like an option"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return "contains a control character (a newline, tab or terminal escape) that would garble every listing"
    if re.match(r"^latest(~.*)?$", name):
        return "is a run reference (`latest`, `latest~N`)"
    if Path(name).suffix.lower() in (*EXPORT_SUFFIXES, *STORE_SUFFIXES) or "/" in name or "\\" in name:
        return "looks like a results file (it has a path separator or an export suffix)"
    if _RUN_ID_START.match(name):
        return "looks like a run id (or the start of one)"
    clash = next((r for r in run_ids if r == name or (len(name) >= 4 and r.startswith(name))), None)
    if clash:
        return f"is the id (or an id prefix) of the stored run {clash}"
    return None
