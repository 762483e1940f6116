"""Reading a test run's store the plain way (sqlite3), for assertions."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
GRID = ["--include-path", str(FIXTURES), "-t", "toy_sentiment", "-t", "toy_gen",
        "--setting", "zero-shot", "--setting", "few-shot:1", "--limit", "4", "--batch-size", "2"]


def run_count(store: Path) -> int:
    """How many runs the store holds (0 when the file was never created)."""
    if not store.exists():
        return 0
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def runs(store: Path) -> list[tuple[str, str]]:
    """(run_id, status), oldest first."""
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT run_id, status FROM runs ORDER BY rowid").fetchall()


def cells(store: Path, run_id: str) -> dict[tuple[str, str, str], dict]:
    """(model, task, setting) -> details of each cell the run stored."""
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT model, task, setting, details_json FROM cells WHERE run_id = ?",
                            (run_id,)).fetchall()
    found = {(m, t, s): json.loads(d) for m, t, s, d in rows}
    assert len(found) == len(rows), "a cell stored twice"
    return found


def computed(store: Path, run_id: str) -> int:
    """How many of the run's cells it evaluated itself (the others were copied from earlier runs)."""
    return sum(1 for d in cells(store, run_id).values() if "reused_from" not in d)


def scores(store: Path, run_id: str) -> list[tuple]:
    """Per-document scores (and metric values) of a run, in a fixed order."""
    with sqlite3.connect(store) as conn:
        docs = conn.execute(
            "SELECT c.model, c.task, c.setting, s.doc_id, s.scores_json FROM samples s JOIN cells c "
            "ON c.run_id = s.run_id AND c.cell_id = s.cell_id WHERE s.run_id = ? ORDER BY 1, 2, 3, 4",
            (run_id,)).fetchall()
        metrics = conn.execute("SELECT model, task, setting, metric, value FROM metrics WHERE run_id = ? "
                               "ORDER BY 1, 2, 3, 4", (run_id,)).fetchall()
    return docs + metrics


def counts(store: Path) -> tuple[int, int]:
    """(cell rows, distinct (run_id, cell_id))."""
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT COUNT(*), COUNT(DISTINCT run_id || '/' || cell_id) FROM cells").fetchone()
