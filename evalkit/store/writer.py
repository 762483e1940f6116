"""Writes to the results store. Each cell is one transaction; a run is marked complete only
after all its cells are committed, so an interrupted run is never mistaken for a finished one.
Runs with nothing left to compute (imports) are written whole in one transaction (write_complete_runs).

Rows are dicts keyed by the column names of `evalkit.store.columns`; JSON columns hold strict JSON.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Sequence

from evalkit.errors import EvalkitError, RunFailedError, StoreError
from evalkit.store.columns import CELLS, METRICS, RUNS, SAMPLES
from evalkit.store.dialect import (database_errors, dialect_of, failure_outside_the_store, integrity_errors,
                                   is_busy_failure, is_read_only_failure, programming_errors)
from evalkit.store.jsontext import finite, strict_json
from evalkit.store.location import PostgresURL
from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord
from evalkit.store.schema import busy_error, read_only_error, store_file, why_not_writable

Connection = Any  # sqlite3.Connection or evalkit.store.postgres.PostgresConnection


def begin_run(conn: Connection, info: RunInfo) -> None:
    """Record the run as 'running'; its config must be strict JSON (typed values, no reprs)."""
    row = _run_row(info, "running", None)
    with _transaction(conn):
        conn.execute(RUNS.insert_sql(), row)


def _run_row(info: RunInfo, status: str, finished_at: str | None) -> dict[str, Any]:
    v = info.versions
    return {"run_id": info.run_id, "name": info.name, "created_at": info.created_at, "finished_at": finished_at,
            "status": status, "evalkit_version": v.get("evalkit"), "lm_eval_version": v.get("lm_eval"),
            "transformers_version": v.get("transformers"), "torch_version": v.get("torch"),
            "git_commit": info.git_commit, "host": info.host, "command": info.command, "seed": info.seed,
            "config_json": strict_json(info.config, field="config_json")}


def write_cell(conn: Connection, run_id: str, cell: CellRecord) -> None:
    """Insert a cell with its metrics and samples atomically."""
    rows = _cell_rows(run_id, cell)
    with _transaction(conn):
        _insert_cell(conn, rows)


def write_complete_runs(conn: Connection, runs: Sequence[tuple[RunInfo, Sequence[CellRecord]]]) -> None:
    """Store finished runs (an import: nothing left to compute), each marked complete, with all their
    cells in one transaction: they are stored whole, or not at all (never a 'failed' half)."""
    finished = now_iso()
    prepared = [(_run_row(info, "complete", finished), [_cell_rows(info.run_id, c) for c in cells])
                for info, cells in runs]
    with _transaction(conn):
        for run, cells_rows in prepared:
            conn.execute(RUNS.insert_sql(), run)
            for rows in cells_rows:
                _insert_cell(conn, rows)


CellRows = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]  # the cell, its metrics, samples


def _cell_rows(run_id: str, cell: CellRecord) -> CellRows:
    row = {"run_id": run_id, "cell_id": cell.cell_id, "model": cell.model,
           "model_spec_json": strict_json(cell.model_spec, field="model_spec_json"),
           "model_fingerprint": cell.model_fingerprint, "adapter": cell.adapter, "task": cell.task,
           "task_config_hash": cell.task_config_hash, "task_source": cell.task_source, "setting": cell.setting,
           "num_fewshot": cell.num_fewshot, "n": cell.n, "duration_s": cell.duration_s,
           "details_json": strict_json(finite(cell.details), field="details_json")}
    metrics = [_metric_row(run_id, cell, m) for m in cell.metrics]
    samples = [_sample_row(run_id, cell.cell_id, s) for s in cell.samples]
    return row, metrics, samples


def _insert_cell(conn: Connection, rows: CellRows) -> None:
    row, metrics, samples = rows
    conn.execute(CELLS.insert_sql(), row)
    conn.executemany(METRICS.insert_sql(), metrics)
    conn.executemany(SAMPLES.insert_sql(), samples)


def _metric_row(run_id: str, cell: CellRecord, m: MetricRecord) -> dict[str, Any]:
    return {"run_id": run_id, "cell_id": cell.cell_id, "model": cell.model, "task": cell.task,
            "setting": cell.setting, "metric": m.metric, "value": _real(m.value), "stderr": _real(m.stderr),
            "ci_low": _real(m.ci_low), "ci_high": _real(m.ci_high), "n": m.n,
            "higher_is_better": int(m.higher_is_better)}


def _sample_row(run_id: str, cell_id: str, s: SampleRecord) -> dict[str, Any]:
    """A sample row; a non-finite per-document score is stored as null (strict JSON)."""
    return {"run_id": run_id, "cell_id": cell_id, "doc_id": s.doc_id, "doc_hash": s.doc_hash,
            "prompt_hash": s.prompt_hash, "prompt": s.prompt, "target": s.target, "prediction": s.prediction,
            "scores_json": strict_json(finite(s.scores), field="scores_json"),
            "outputs_json": strict_json(finite(s.outputs), field="outputs_json"), "cluster": s.cluster}


def finish_run(conn: Connection, run_id: str, status: str) -> None:
    with _transaction(conn):
        conn.execute("UPDATE runs SET status=?, finished_at=? WHERE run_id=?",
                     (status, now_iso(), run_id))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _transaction:
    """BEGIN (IMMEDIATE, in SQLite) ... COMMIT, rolled back on any exception (including KeyboardInterrupt);
    a read-only or damaged store becomes a StoreError naming it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        try:
            self.conn.execute(dialect_of(self.conn).begin_write)
        except database_errors() as exc:
            raise _store_error(self.conn, exc) from exc
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except database_errors() as failure:
                exc = failure
        _roll_back(self.conn)
        if isinstance(exc, database_errors()) and not isinstance(exc, integrity_errors() + programming_errors()):
            raise _store_error(self.conn, exc) from exc
        if exc_type is None:
            raise exc


def _roll_back(conn: Connection) -> None:
    """ROLLBACK when a transaction is open; a connection already lost has nothing left to roll back."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except database_errors() as exc:
        if failure_outside_the_store(exc) is None:
            raise


def _store_error(conn: Connection, exc: BaseException) -> EvalkitError:
    path = store_file(conn)
    server = isinstance(getattr(conn, "location", None), PostgresURL)
    why = why_not_writable(path) if path != "<memory>" and not server else None
    if is_read_only_failure(exc) or why:
        return read_only_error(path, why or "it is read-only")
    if is_busy_failure(exc):
        return busy_error(path)
    if (outside := failure_outside_the_store(exc)) is not None:
        return RunFailedError(f"Writing results database '{path}' failed: {outside} ({exc}). The write was not "
                              "committed; nothing already stored was damaged.",
                              hint="Free disk space or restart the database server, then run the command again.")
    return StoreError(f"Writing results database '{path}' failed ({exc}); the transaction was rolled back.",
                      hint="If the store is damaged, restore it from a backup or pass --store with another one.")


def _real(value: float | None) -> float | None:
    """SQLite stores NaN as NULL; keep infinities, map NaN to None explicitly."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def insert_rows(conn: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert finished rows of several tables (runs, cells, metrics, samples: parents first) in one
    transaction: a copied run arrives whole or not at all."""
    tables = {t.name: t for t in (RUNS, CELLS, METRICS, SAMPLES)}
    with _transaction(conn):
        for name, table_rows in rows.items():
            conn.executemany(tables[name].insert_sql(), table_rows)
