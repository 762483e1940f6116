"""--ft-eval-steps through the real entry point: a cell per kept step with its trajectory point,
every adapter in the cache (a second run trains nothing and gives the same numbers), the last
step equal to a plain fine-tuned cell trained without snapshots, and `evalkit trajectory` on it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.studies_run.conftest import FAST, SENTIMENT, adapter_entries, outputs, stored_cells

STEPS = ("--setting", "zero-shot", "--setting", "fine-tuned", "--ft-max-steps", "6", "--ft-eval-steps", "2")


def test_each_kept_step_is_a_cell_with_its_trajectory_point(tiny_model_dir: Path, tmp_path: Path,
                                                          isolated_home: Path, evalkit_cli) -> None:
    store = tmp_path / "steps.db"
    first = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, *STEPS, *FAST, "--store", store)
    assert first.exit_code == 0, first.output
    assert first.output.count("Fine-tuning ") == 1 and "keeping the adapter at steps 2, 4" in first.output
    cells, samples = stored_cells(store)
    assert list(cells.setting) == ["zero-shot", "fine-tuned@step:2", "fine-tuned@step:4", "fine-tuned"]
    points = [d["trajectory"] for d in cells.details[1:]]
    assert [p["step"] for p in points] == [2, 4, 6]
    assert {p["kind"] for p in points} == {"fine-tuning"} and {p["flos"] for p in points} == {None}
    assert {p["series"] for p in points} == {f"{Path(tiny_model_dir).name} fine-tuned on toy_sentiment"}
    assert [p["epoch"] for p in points] == [1.0, 2.0, 3.0]
    tokens = [p["tokens_seen"] for p in points]
    assert 0 < tokens[0] < tokens[1] < tokens[2]
    assert "trajectory" not in cells.details.iloc[0]
    assert len(set(cells.cell_id)) == 4
    keys = [d["adapter_key"] for d in cells.details[1:]]
    assert keys[0].endswith("-step2") and keys[1].endswith("-step4") and keys[0].startswith(keys[2])
    assert adapter_entries(isolated_home) == sorted(keys)
    assert outputs(cells, samples, "toy_sentiment", "fine-tuned@step:2") != outputs(cells, samples, "toy_sentiment",
                                                                                   "fine-tuned")

    # --rerun computes every cell again (not reusing the stored cells): the adapters come from the cache
    again = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, *STEPS, *FAST, "--store", store, "--rerun")
    assert again.exit_code == 0, again.output
    assert "Fine-tuning " not in again.output
    cells_2, samples_2 = stored_cells(store)
    assert all(d["cache_hit"] for d in cells_2.details[1:])
    for setting in cells.setting:
        assert outputs(cells_2, samples_2, "toy_sentiment", setting) == outputs(cells, samples, "toy_sentiment", setting)

    view = evalkit_cli("trajectory", "latest", "--store", store, "--format", "json")
    assert view.exit_code == 0, view.output
    rows = [r for r in json.loads(view.stdout)["rows"] if r["metric"] == "acc"]
    assert [r["step"] for r in rows] == [0, 2, 4, 6]  # step 0: the zero-shot cell


def test_last_step_equals_a_plain_fine_tuned_cell(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    """Snapshots do not disturb training: retraining without them gives the final cell's numbers."""
    store = tmp_path / "plain.db"
    stepped = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, *STEPS, *FAST, "--store", store)
    assert stepped.exit_code == 0, stepped.output
    cells, samples = stored_cells(store)
    plain = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "fine-tuned",
                        "--ft-max-steps", "6", "--retrain", *FAST, "--store", store)
    assert plain.exit_code == 0, plain.output
    assert plain.output.count("Fine-tuning ") == 1
    cells_2, samples_2 = stored_cells(store)
    assert list(cells_2.setting) == ["fine-tuned"] and "trajectory" not in cells_2.details.iloc[0]
    assert cells_2.details.iloc[0]["train_steps"] == 6 and cells_2.details.iloc[0]["cache_hit"] is False
    assert outputs(cells_2, samples_2, "toy_sentiment", "fine-tuned") == outputs(cells, samples, "toy_sentiment",
                                                                                "fine-tuned")
