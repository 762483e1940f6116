"""A short real fine-tuning trajectory: the embedded SmolLM2-135M on sst2, evaluated at every
kept step; the step cells are stored in order, each with its trajectory point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_sst2_fine_tuning_trajectory(real_model_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     evalkit_cli) -> None:
    monkeypatch.setenv("EVALKIT_HOME", str(real_model_home))
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "real.db"
    result = evalkit_cli("run", "-t", "sst2", "--setting", "zero-shot", "--setting", "fine-tuned", "--limit", "32",
                         "--ft-max-examples", "64", "--ft-batch-size", "8", "--ft-eval-steps", "4", "--retrain",
                         "--store", store)
    assert result.exit_code == 0, result.output
    view = evalkit_cli("trajectory", "latest", "--store", store, "--format", "json")
    assert view.exit_code == 0, view.output
    rows = [r for r in json.loads(view.stdout)["rows"] if r["metric"] == "acc"]
    assert [r["step"] for r in rows] == [0, 4, 8]
    assert [r["setting_label"] for r in rows] == ["zero-shot", "fine-tuned@step:4", "fine-tuned"]
    tokens = [r["tokens_seen"] for r in rows]
    assert tokens[0] == 0 < tokens[1] < tokens[2]
    assert all(0.0 <= r["value"] <= 1.0 and r["n"] == 32 for r in rows)
