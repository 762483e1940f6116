"""Bad study inputs are found at the door: exit 2, a message naming the culprit, no model loaded,
nothing stored, nothing trained."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.studies_run.conftest import FAST, SENTIMENT, adapter_entries

TUNED = ("--setting", "fine-tuned")


@pytest.mark.parametrize(("args", "culprit"), [
    (("--setting", "fine-tuned-on:no_such_task"), "--setting fine-tuned-on:no_such_task: Unknown task 'no_such_task'"),
    (("--setting", "fine-tuned-on:"), "it names no task to fine-tune on"),
    (("--setting", "fine-tuned@step:4"), "--ft-eval-steps"),
    (("--setting", "zero-shot", "--ft-eval-steps", "2"), "--ft-eval-steps 2 evaluates fine-tuning at intermediate steps"),
    ((*TUNED, "--ft-eval-steps", "0"), "--ft-eval-steps"),
    ((*TUNED, "--ft-max-steps", "4", "--ft-eval-steps", "5"),
     "--ft-eval-steps 5 is more than the 4 optimiser steps of fine-tuning on task 'toy_sentiment'"),
    ((*TUNED, "--ft-epochs", "1", "--ft-eval-steps", "3"),  # 16 examples / batch 8: 2 steps
     "--ft-eval-steps 3 is more than the 2 optimiser steps"),
])
def test_bad_study_options_exit_2_with_nothing_stored(args: tuple[str, ...], culprit: str, tiny_model_dir: Path,
                                                      tmp_path: Path, isolated_home: Path, evalkit_cli) -> None:
    store = tmp_path / "door.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, *args, *FAST, "--store", store)
    assert result.exit_code == 2, result.output
    assert culprit in " ".join(result.stderr.split())
    assert "Loading model" not in result.output
    assert not store.exists() and adapter_entries(isolated_home) == []


def test_a_source_without_training_split_is_refused(tiny_model_dir: Path, tmp_path: Path, eval_only_task: str,
                                                    evalkit_cli) -> None:
    store = tmp_path / "door.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", f"fine-tuned-on:{eval_only_task}",
                         *FAST, "--store", store)
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert f"--setting fine-tuned-on:{eval_only_task}: Task 'toy_eval_only'" in said
    assert "declares no training split" in said and not store.exists()


def test_transfer_needs_a_task_with_a_training_split(tiny_model_dir: Path, tmp_path: Path, eval_only_task: str,
                                                     evalkit_cli) -> None:
    store = tmp_path / "door.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", eval_only_task, "--transfer", *FAST, "--store", store)
    assert result.exit_code == 2, result.output
    assert "--transfer needs a task with a training split" in result.stderr and "toy_eval_only" in result.stderr
    assert not store.exists()


def test_a_bad_evalkit_home_is_reported_before_any_model_loads(tiny_model_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, evalkit_cli) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("not a directory")
    monkeypatch.setenv("EVALKIT_HOME", str(home))
    store = tmp_path / "door.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, *FAST, "--store", store)
    assert result.exit_code == 2, result.output
    assert f"EVALKIT_HOME '{home}' is not a directory" in " ".join(result.stderr.split())
    assert "Loading model" not in result.output and not store.exists()
