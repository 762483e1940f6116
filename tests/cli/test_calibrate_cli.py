"""`evalkit calibrate RUN --nuisance KEY=VALUE`: a re-run linked to its source, with the flip rate and
drift per task and metric; bad input refused at the door (exit 2) before any model loads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")
DOCS = ["alpha beta gamma delta", "Paris is the capital of France.", "unflinchingly bleak and desperate",
        "Question: Is this sentence positive?"]


def _configs(store: Path) -> list[dict]:
    conn = sqlite3.connect(store)
    try:
        return [json.loads(r[0]) for r in conn.execute("SELECT config_json FROM runs ORDER BY rowid")]
    finally:
        conn.close()


def _loglikelihood_task(folder: Path) -> str:
    """A loglikelihood task whose `perplexity` keeps each document's log-likelihood (a continuous score)."""
    folder.mkdir()
    (folder / "test.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in DOCS))
    (folder / "toy_ll.yaml").write_text(
        "task: toy_ll\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
        "output_type: loglikelihood\ntest_split: test\ndoc_to_text: 'Text:'\ndoc_to_target: ' {{text}}'\n"
        "metric_list:\n  - metric: perplexity\n  - metric: acc\nmetadata:\n  version: 1.0\n")
    return str(folder / "toy_ll.yaml")


def test_a_batch_size_change_in_float32_moves_nothing(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "s.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "6", "--batch-size", "4",
                    "--dtype", "float32", "--store", store)
    assert r.exit_code == 0, r.output
    r = evalkit_cli("calibrate", "latest", "--nuisance", "batch-size=1", "--store", store,
                    "--json", tmp_path / "noise.json")
    assert r.exit_code == 0, r.output
    source, rerun = _configs(store)
    assert rerun["batch_size"] == 1 and rerun["request_cache"] is False
    assert rerun["nuisance"] == {"batch-size": 1} and rerun["calibration_of"]
    (row,) = json.loads((tmp_path / "noise.json").read_text())["evalkit_noise"]
    assert (row["task"], row["metric"], row["n"]) == ("toy_sentiment", "acc", 6)
    assert row["flip_rate"] == 0 and row["drift_mean"] == 0 and row["aggregate_drift"] == 0
    assert "Noise under batch-size=1" in r.stdout and "flip" in r.stdout


def test_bfloat16_moves_the_per_document_log_likelihoods(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "s.db"
    task = _loglikelihood_task(tmp_path / "ll")
    assert evalkit_cli("run", "-m", tiny_model_dir, "-t", task, "--dtype", "float32", "--store", store).exit_code == 0
    r = evalkit_cli("calibrate", "latest", "--nuisance", "dtype=bfloat16", "--store", store,
                    "--json", tmp_path / "noise.json")
    assert r.exit_code == 0, r.output
    rows = {row["metric"]: row for row in json.loads((tmp_path / "noise.json").read_text())["evalkit_noise"]}
    assert rows["perplexity"]["drift_sd"] > 0 and rows["perplexity"]["flip_rate"] is None
    assert _configs(store)[1]["dtype"] == "bfloat16"


def test_bad_input_is_refused_at_the_door(tiny_model_dir, tmp_path, evalkit_cli, monkeypatch):
    store = tmp_path / "s.db"
    assert evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "2", "--batch-size", "4",
                       "--store", store).exit_code == 0
    import evalkit.models.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda spec: pytest.fail("a model was loaded"))
    cases = [(["nosuchrun", "--nuisance", "batch-size=1"], "nosuchrun"),
             (["latest", "--nuisance", "temperature=1"], "unknown nuisance 'temperature'"),
             (["latest", "--nuisance", "dtype=float64"], "dtype must be one of"),
             (["latest", "--nuisance", "batch-size=4"], "already ran with batch-size 4"),
             (["latest", "--nuisance", "processes=1"], "already ran with processes 1")]
    for args, message in cases:
        r = evalkit_cli("calibrate", *args, "--store", store)
        assert r.exit_code == 2 and message in r.output, (args, r.output)
    conn = sqlite3.connect(store)
    conn.execute("UPDATE runs SET config_json = ?", (json.dumps({"source": "lm-eval", "files": []}),))
    conn.commit()
    conn.close()
    r = evalkit_cli("calibrate", "latest", "--nuisance", "batch-size=1", "--store", store)
    assert r.exit_code == 2 and "imported from lm-eval" in r.output, r.output
    assert len(_configs(store)) == 1
