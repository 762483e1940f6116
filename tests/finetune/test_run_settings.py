"""The fine-tuned setting through `evalkit.run` and `evalkit run`: settings stored, the adapter
recorded, the base model untouched for the cells after the fine-tuned one, the comparison printed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.plan import FineTuneOptions
from evalkit.store.reader import cells_frame, samples_frame
from evalkit.store.schema import open_for_reading
from tests.finetune.conftest import FIXTURES

TASK = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")
FAST = FineTuneOptions(max_steps=4, batch_size=8, max_examples=16, lr=5e-2)


def _cells(store: Path, run_id: str):
    conn = open_for_reading(store)
    try:
        return cells_frame(conn, [run_id]), samples_frame(conn, run_id)
    finally:
        conn.close()


def test_settings_are_stored_and_the_base_model_is_reused_unchanged(tiny_model_dir: Path, tmp_path: Path):
    import evalkit

    store = tmp_path / "runs.db"
    frame = evalkit.run([str(tiny_model_dir)], [TASK], settings=["zero-shot", "fine-tuned", "few-shot:1"],
                        limit=8, store=store, batch_size=4, finetune=FAST)
    cells, samples = _cells(store, frame.attrs["run_id"])
    assert list(cells.setting) == ["zero-shot", "fine-tuned", "few-shot:1"]
    assert set(frame.setting) == {"zero-shot", "fine-tuned", "few-shot:1"}
    tuned = cells[cells.setting == "fine-tuned"].iloc[0]
    assert tuned.adapter and Path(tuned.adapter, "adapter_config.json").is_file()
    details = json.loads(tuned.details_json)
    assert details["cache_hit"] is False and details["overlap_exact"] == 1 and details["train_steps"] == 4
    assert tuned.model_fingerprint != cells[cells.setting == "zero-shot"].iloc[0].model_fingerprint
    assert pd.isna(cells[cells.setting == "zero-shot"].iloc[0].adapter)

    # The same base model object evaluated zero-shot after a fine-tuned cell gives identical results.
    # rerun: compute the cells again (not reuse the stored ones), so the adapter cache is what is tested
    again = evalkit.run([str(tiny_model_dir)], [TASK], settings=["fine-tuned", "zero-shot"], limit=8,
                        store=store, batch_size=4, finetune=FAST, rerun=True)
    cells_2, samples_2 = _cells(store, again.attrs["run_id"])
    first_zero = samples[samples.cell_id == cells[cells.setting == "zero-shot"].iloc[0].cell_id]
    second_zero = samples_2[samples_2.cell_id == cells_2[cells_2.setting == "zero-shot"].iloc[0].cell_id]
    assert list(first_zero.outputs) == list(second_zero.outputs)
    assert json.loads(cells_2[cells_2.setting == "fine-tuned"].iloc[0].details_json)["cache_hit"] is True


def test_run_command_reports_the_fine_tuned_setting(tiny_model_dir: Path, tmp_path: Path, evalkit_cli):
    result = evalkit_cli(
        "run", "-m", tiny_model_dir, "-t", TASK, "--setting", "zero-shot", "--setting", "fine-tuned",
        "--limit", "8", "--batch-size", "4", "--store", tmp_path / "cli.db", "--ft-max-steps", "2",
        "--ft-batch-size", "8", "--ft-max-examples", "16", "--ft-grad-accum", "2")
    assert result.exit_code == 0, result.output
    assert "Overlap guard (toy_sentiment): 1 of the 24 evaluation documents" in result.output
    assert "fine-tuned" in result.output and "zero-shot" in result.output


def test_more_micro_batches_than_examples_is_a_usage_error(tiny_model_dir: Path, tmp_path: Path, evalkit_cli):
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", TASK, "--setting", "fine-tuned", "--limit", "4",
                         "--ft-batch-size", "4", "--ft-grad-accum", "5", "--store", tmp_path / "cli.db")
    assert result.exit_code == 2
    assert "--ft-grad-accum 5 exceeds --ft-batch-size 4" in result.stderr
    assert not (tmp_path / "cli.db").exists()


def test_missing_training_split_is_a_usage_error(tiny_model_dir: Path, tmp_path: Path, evalkit_cli):
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", TASK, "--setting", "fine-tuned", "--limit", "4",
                         "--train-split", "missing", "--store", tmp_path / "cli.db")
    assert result.exit_code == 2
    assert "training split 'missing'" in result.stderr


@pytest.mark.parametrize("setting", ["fine-tuned+few-shot:1"])
def test_fine_tuned_with_few_shot_prompts(tiny_model_dir: Path, tmp_path: Path, setting: str):
    import evalkit

    frame = evalkit.run([str(tiny_model_dir)], [TASK], settings=["few-shot:1", setting], limit=4,
                        store=tmp_path / "fs.db", batch_size=4, finetune=FAST)
    assert set(frame.setting) == {"few-shot:1", setting}
