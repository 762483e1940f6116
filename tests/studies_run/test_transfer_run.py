"""fine-tuned-on:TASK and --transfer through the real entry point: one training per task trained
on (the same cache entry as that task's own fine-tuned cell), the diagonal equal to the fine-tuned
cell, the full matrix shape, tasks without a training split as columns only, `evalkit transfer`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.studies_run.conftest import FAST, SENTIMENT, adapter_entries, outputs, stored_cells

SHORT = ("--ft-max-steps", "2")


def test_fine_tuned_on_reuses_the_task_s_own_training(tiny_model_dir: Path, tmp_path: Path, topic_task: str,
                                                     isolated_home: Path, evalkit_cli) -> None:
    store = tmp_path / "on.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "-t", topic_task, "--setting", "zero-shot",
                         "--setting", "fine-tuned", "--setting", "fine-tuned-on:toy_sentiment", *SHORT, *FAST,
                         "--store", store)
    assert result.exit_code == 0, result.output
    assert result.output.count("Fine-tuning ") == 2  # toy_sentiment once (three cells use it), toy_topic once
    cells, samples = stored_cells(store)
    assert list(zip(cells.task, cells.setting)) == [
        ("toy_sentiment", "zero-shot"), ("toy_sentiment", "fine-tuned"), ("toy_topic", "zero-shot"),
        ("toy_topic", "fine-tuned"), ("toy_sentiment", "fine-tuned-on:toy_sentiment"),
        ("toy_topic", "fine-tuned-on:toy_sentiment")]
    by_setting = {(t, s): d for t, s, d in zip(cells.task, cells.setting, cells.details)}
    diagonal = by_setting[("toy_sentiment", "fine-tuned-on:toy_sentiment")]
    own = by_setting[("toy_sentiment", "fine-tuned")]
    assert diagonal["adapter_key"] == own["adapter_key"] == by_setting[("toy_topic", "fine-tuned-on:toy_sentiment")][
        "adapter_key"] != by_setting[("toy_topic", "fine-tuned")]["adapter_key"]
    assert diagonal["trained_on"] == "toy_sentiment" and diagonal["cache_hit"] is True
    assert outputs(cells, samples, "toy_sentiment", "fine-tuned-on:toy_sentiment") == \
        outputs(cells, samples, "toy_sentiment", "fine-tuned")
    assert len(adapter_entries(isolated_home)) == 2


def test_transfer_runs_the_whole_matrix(tiny_model_dir: Path, tmp_path: Path, topic_task: str, eval_only_task: str,
                                        monkeypatch, evalkit_cli) -> None:
    missing = tmp_path / "no-such-task-dir"
    monkeypatch.setenv("EVALKIT_TASKS_PATH", str(missing))
    store = tmp_path / "matrix.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "-t", topic_task, "-t", eval_only_task,
                         "--transfer", *SHORT, *FAST, "--store", store)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "toy_eval_only has no training split, so it is evaluated only (a column of the matrix" in said
    assert "Warning:" in said and "EVALKIT_TASKS_PATH" in said
    assert result.output.count("Fine-tuning ") == 2
    cells, _ = stored_cells(store)
    tasks = ["toy_sentiment", "toy_topic", "toy_eval_only"]
    assert list(zip(cells.task, cells.setting)) == [(t, "zero-shot") for t in tasks] + [
        (t, f"fine-tuned-on:{a}") for a in ("toy_sentiment", "toy_topic") for t in tasks]

    view = evalkit_cli("transfer", "latest", "--store", store, "--format", "json")
    assert view.exit_code == 0, view.output
    rows = json.loads(view.stdout)["rows"]
    assert [(r["trained_on"], r["task"]) for r in rows] == [(a, t) for a in ("toy_sentiment", "toy_topic") for t in tasks]
    assert [r["diagonal"] for r in rows] == [True, False, False, False, True, False]
    rich = evalkit_cli("transfer", "latest", "--store", store)
    assert rich.exit_code == 0 and "toy_eval_only" in rich.stdout
