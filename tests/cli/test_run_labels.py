"""Two models of one folder name in one run keep a row each (issue 24.1): labels are unique per run."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

SENTIMENT = str(Path(__file__).resolve().parents[1] / "fixtures" / "tasks" / "toy_sentiment" / "toy_sentiment.yaml")


def test_two_checkpoints_named_final_are_stored_and_shown_apart(tiny_model_dir, tmp_path, evalkit_cli):
    models = [tmp_path / side / "final" for side in ("a", "b")]
    for folder in models:
        shutil.copytree(tiny_model_dir, folder)
    store = tmp_path / "s.db"
    result = evalkit_cli("run", "-m", models[0], "-m", models[1], "-m", models[0], "-t", SENTIMENT,
                         "--setting", "zero-shot", "--limit", "2", "--batch-size", "2", "--no-cache",
                         "--store", store, "--name", "finals")
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(store)
    labels = [row[0] for row in conn.execute("SELECT model FROM cells ORDER BY rowid")]
    conn.close()
    assert labels == ["a/final", "b/final"]  # the model given twice is evaluated once
    shown = evalkit_cli("results", "show", "finals", "--store", store)
    assert shown.exit_code == 0, shown.output
    assert "a/final" in shown.stdout and "b/final" in shown.stdout
