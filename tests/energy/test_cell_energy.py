"""Every evaluated cell stores its energy in details["compute"]["energy"] with a named method, and
`results show` prints it (joules, J per token, J per document)."""

from __future__ import annotations

import json

import pytest

from evalkit.energy import meter, rapl
from evalkit.energy.estimate import TDP_ENV
from tests.cli.test_run_compute import SENTIMENT, _cells


def test_a_tiny_model_cell_stores_an_estimated_energy_and_results_show_prints_it(
        tiny_model_dir, tmp_path, evalkit_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rapl, "POWERCAP_ROOT", tmp_path / "no-powercap")  # no counters: the estimate
    monkeypatch.setattr(meter, "_nvml_millijoules", lambda: None)
    monkeypatch.setenv(TDP_ENV, "50")
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "3", "--no-cache", "--store", store)
    assert result.exit_code == 0, result.output
    (cell,) = _cells(store)
    compute = cell["compute"]
    energy = compute["energy"]
    assert energy["method"] == f"estimate: cpu-time share x TDP 50 W ({TDP_ENV})" and energy["device"] == "cpu"
    assert energy["joules"] > 0 and 0 < energy["seconds"] <= compute["cell_seconds"] + 0.01
    assert energy["joules_per_document"] == pytest.approx(energy["joules"] / 3, rel=1e-2)
    assert energy["joules_per_token"] == pytest.approx(energy["joules"] / compute["forward_tokens"], rel=1e-2)
    monkeypatch.setenv("COLUMNS", "400")  # wide enough to keep the note column
    shown = evalkit_cli("results", "show", cell["run_id"], "--store", store)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "energy " in text and "J/token" in text and "J/doc" in text and "(estimate: cpu-time share" in text
    out = tmp_path / "run.json"
    assert evalkit_cli("results", "export", cell["run_id"], "--format", "json", "-o", out, "--store", store).exit_code == 0
    (exported,) = json.loads(out.read_text())["cells"]
    assert exported["details"]["compute"]["energy"] == energy
