"""Writes to the results store. Each cell is one transaction; a run is marked complete only
after all its cells are committed, so an interrupted run is never mistaken for a finished one."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime, timezone
from typing import Any

from evalkit.store.records import CellRecord, RunInfo


def begin_run(conn: sqlite3.Connection, info: RunInfo) -> None:
    v = info.versions
    with _transaction(conn):
        conn.execute(
            "INSERT INTO runs (run_id, name, created_at, status, evalkit_version, lm_eval_version,"
            " transformers_version, torch_version, git_commit, host, command, seed, config_json)"
            " VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (info.run_id, info.name, info.created_at, v.get("evalkit"), v.get("lm_eval"),
             v.get("transformers"), v.get("torch"), info.git_commit, info.host, info.command,
             info.seed, _json(info.config)),
        )


def write_cell(conn: sqlite3.Connection, run_id: str, cell: CellRecord) -> None:
    """Insert a cell with its metrics and samples atomically."""
    with _transaction(conn):
        conn.execute(
            "INSERT INTO cells (run_id, cell_id, model, model_spec_json, model_fingerprint, adapter,"
            " task, task_config_hash, task_source, setting, num_fewshot, n, duration_s, details_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, cell.cell_id, cell.model, _json(cell.model_spec), cell.model_fingerprint,
             cell.adapter, cell.task, cell.task_config_hash, cell.task_source, cell.setting,
             cell.num_fewshot, cell.n, cell.duration_s, _json(cell.details)),
        )
        conn.executemany(
            "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, cell.cell_id, cell.model, cell.task, cell.setting, m.metric, _real(m.value),
              _real(m.stderr), _real(m.ci_low), _real(m.ci_high), m.n, int(m.higher_is_better))
             for m in cell.metrics],
        )
        conn.executemany(
            "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, cell.cell_id, s.doc_id, s.doc_hash, s.prompt_hash, s.prompt, s.target,
              s.prediction, _json(s.scores), _json(s.outputs)) for s in cell.samples],
        )


def finish_run(conn: sqlite3.Connection, run_id: str, status: str) -> None:
    with _transaction(conn):
        conn.execute("UPDATE runs SET status=?, finished_at=? WHERE run_id=?",
                     (status, now_iso(), run_id))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (including KeyboardInterrupt)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, allow_nan=True)


def _real(value: float | None) -> float | None:
    """SQLite stores NaN as NULL; keep infinities, map NaN to None explicitly."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
