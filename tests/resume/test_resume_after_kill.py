"""A run killed with SIGKILL resumes without recomputing saved requests, with identical results."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
KILLER = Path(__file__).resolve().parent / "killer"


def _run(model: Path, store: Path, home: Path, kill_after: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_TEST_KILL_AFTER": str(kill_after),
           "PYTHONPATH": os.pathsep.join([str(KILLER), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, "-m", "evalkit.cli.main", "run", "-m", str(model), "--include-path", str(FIXTURES),
            "-t", "toy_sentiment", "-t", "toy_gen", "--batch-size", "2", "--store", str(store)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def _samples(store: Path) -> list[tuple]:
    conn = sqlite3.connect(store)
    run_id = conn.execute("SELECT run_id FROM runs WHERE status='complete' ORDER BY created_at DESC, rowid DESC").fetchone()[0]
    rows = conn.execute("SELECT c.task, s.doc_id, s.outputs_json, s.scores_json FROM samples s JOIN cells c "
                        "ON c.run_id = s.run_id AND c.cell_id = s.cell_id WHERE s.run_id = ? ORDER BY 1, 2",
                        (run_id,)).fetchall()
    details = [json.loads(d) for (d,) in conn.execute("SELECT details_json FROM cells WHERE run_id = ?", (run_id,))]
    return rows, details


def _saved_requests(home: Path) -> int:
    return sqlite3.connect(home / "requests.db").execute("SELECT COUNT(*) FROM results").fetchone()[0]


@pytest.fixture(scope="module")
def uninterrupted(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple], int]:
    root = tmp_path_factory.mktemp("reference")
    reference = _run(tiny_model_dir, root / "ref.db", root / "home")
    assert reference.returncode == 0, reference.stderr
    expected, details = _samples(root / "ref.db")
    return expected, sum(d["requests"]["computed"] for d in details)


@pytest.mark.parametrize("kill_after", [1, 50])
def test_sigkill_then_resume(kill_after: int, uninterrupted: tuple[list[tuple], int], tiny_model_dir: Path,
                             tmp_path: Path) -> None:
    expected, total = uninterrupted
    assert total == 24 * 2 + 5  # toy_sentiment: 24 docs x 2 choices; toy_gen: 5 generations

    home, store = tmp_path / "home", tmp_path / "r.db"
    killed = _run(tiny_model_dir, store, home, kill_after=kill_after)
    assert killed.returncode == -signal.SIGKILL
    saved = _saved_requests(home)
    assert saved == kill_after
    statuses = [s for (s,) in sqlite3.connect(store).execute("SELECT status FROM runs")]
    assert statuses == ["running"]  # never marked complete

    resumed = _run(tiny_model_dir, store, home)
    assert resumed.returncode == 0, resumed.stderr
    got, details = _samples(store)
    assert sum(d["requests"]["reused"] for d in details) == saved
    assert sum(d["requests"]["computed"] for d in details) == total - saved
    # Scores identical; loglikelihoods equal up to float noise from a different batch composition.
    assert [(t, d, sc) for t, d, _, sc in got] == [(t, d, sc) for t, d, _, sc in expected]
    for (_, _, out_got, _), (_, _, out_expected, _) in zip(got, expected):
        assert _close(json.loads(out_got), json.loads(out_expected))


def _close(a: object, b: object) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-5
    return a == b
