"""Evaluated metrics in TensorBoard at the training step of each cell (evalkit.engine.tensorboard),
read back with tensorboard's own EventAccumulator."""

from __future__ import annotations

import math
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from evalkit.store.records import CellRecord, MetricRecord
from evalkit.engine.tensorboard import (
    log_cell, logging_beside, run_folder, scalar_step, scalar_tag, series_name, tensorboard_root,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def record(details: dict[str, Any], *, model: str = "out@step5", setting: str = "zero-shot",
           metrics: tuple[tuple[str, float], ...] = (("acc", 0.5), ("f1", 0.25))) -> CellRecord:
    return CellRecord(cell_id="c1", model=model, model_spec={}, model_fingerprint="f", task="sst2",
                      task_config_hash="h", task_source="builtin", setting=setting, num_fewshot=0,
                      metrics=[MetricRecord(m, v, None, None, None, 8, True) for m, v in metrics], samples=[],
                      details=details)


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: sorted((s.step, s.value) for s in events.Scalars(tag)) for tag in events.Tags()["scalars"]}


def test_checkpoint_cells_write_every_metric_at_their_step(tmp_path: Path) -> None:
    for step, acc in ((5, 0.5), (9, 0.75)):
        trajectory = {"series": "out", "step": step, "epoch": 0.5, "kind": "checkpoint"}
        folder = log_cell("run1", record({"trajectory": trajectory}, metrics=(("acc", acc), ("f1", 0.25))),
                          root=tmp_path)
        assert folder == tmp_path / "run1" / "out"
    assert read_scalars(tmp_path / "run1" / "out") == {"sst2/zero-shot/acc": [(5, 0.5), (9, 0.75)],
                                                       "sst2/zero-shot/f1": [(5, 0.25), (9, 0.25)]}


def test_fine_tuned_cell_writes_at_its_training_steps(tmp_path: Path) -> None:
    folder = log_cell("run1", record({"train_steps": 125}, model="tiny", setting="fine-tuned"), root=tmp_path)
    assert folder == tmp_path / "run1" / "tiny"
    assert read_scalars(folder)["sst2/fine-tuned/acc"] == [(125, 0.5)]


def test_a_cell_without_a_step_or_a_finite_metric_writes_nothing(tmp_path: Path) -> None:
    assert log_cell("run1", record({}), root=tmp_path) is None
    nan = record({"train_steps": 3}, metrics=(("acc", math.nan),))
    assert log_cell("run1", nan, root=tmp_path) is None
    assert not (tmp_path / "run1").exists()


def test_without_tensorboard_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    assert log_cell("run1", record({"train_steps": 3}), root=tmp_path) is None
    assert not (tmp_path / "run1").exists()


@pytest.mark.parametrize("details, step", [
    ({"trajectory": {"step": 7}, "train_steps": 40}, 7), ({"train_steps": 40}, 40), ({"trajectory": {"step": True}}, None),
    ({"train_steps": -1}, None), ({}, None), ({"trajectory": {"step": 2**63}}, None)])
def test_scalar_step(details: dict[str, Any], step: int | None) -> None:
    assert scalar_step(details) == step


def test_tags_and_folders() -> None:
    assert scalar_tag("sst2", "fine-tuned@step:50", "acc") == "sst2/fine-tuned/acc"
    assert scalar_tag("sst2", "few-shot:5", "acc_norm") == "sst2/few-shot:5/acc_norm"
    assert run_folder("r", series_name(record({"trajectory": {"series": "/runs/a b/out"}}))).name == "runs_a_b_out"
    assert run_folder("r", series_name(record({}, model="org/model@step100"))).name == "org_model@step100"
    assert series_name(record({"trained_on": "sst2"}, model="m")) == "m fine-tuned on sst2"


def test_fine_tuned_run_writes_its_eval_metrics_beside_the_store(tiny_model_dir: Path, tmp_path: Path,
                                                                  evalkit_cli: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    store = tmp_path / "stores" / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                         "--setting", "zero-shot", "--setting", "fine-tuned", "--limit", "8", "--device", "cpu",
                         "--ft-max-steps", "2", "--ft-batch-size", "4", "--ft-max-examples", "8", "--store", store)
    assert result.exit_code == 0, result.output
    assert not (work / "reports").exists()  # not in the working directory: beside the store
    (run,) = list((tmp_path / "stores" / "tensorboard").iterdir())  # one folder per run
    (series,) = list(run.iterdir())  # the training curves and the evaluation share one series folder
    assert series.name == f"{tiny_model_dir.name}_fine-tuned_on_toy_sentiment"
    scalars = read_scalars(series)
    assert set(scalars) == {"toy_sentiment/fine-tuned/acc", "train/loss", "train/learning_rate"}
    assert [step for step, _ in scalars["toy_sentiment/fine-tuned/acc"]] == [2]  # the zero-shot cell has no step
    assert [step for step, _ in scalars["train/loss"]] == [1, 2]


def test_tensorboard_root_is_beside_an_sqlite_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.store.location import store_location

    monkeypatch.delenv("EVALKIT_STORE", raising=False)
    assert tensorboard_root(store_location("/data/evals/team.db")) == Path("/data/evals/tensorboard")
    assert tensorboard_root(store_location("sqlite:///r.db")) == Path("tensorboard")
    assert tensorboard_root(store_location(None)) == Path("reports") / "tensorboard"  # the default store's
    assert tensorboard_root(store_location("postgresql://u:p@host/db")) == Path("reports") / "tensorboard"
    with logging_beside(Path("/data/evals/team.db")):
        assert run_folder("r1", "out").parent == Path("/data/evals/tensorboard/r1")
    assert run_folder("r1", "out").parent == Path("reports") / "tensorboard" / "r1"


def test_a_logging_failure_is_a_warning_not_a_failed_run(tiny_model_dir: Path, tmp_path: Path, evalkit_cli: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.engine.tensorboard

    def refuse(run_id: str, record: CellRecord, root: Path | None = None) -> Path:
        raise ValueError("Value out of range: 1000000000000000000000000000000")  # what tensorboard raised

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(evalkit.engine.tensorboard, "log_cell", refuse)
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                         "--limit", "4", "--device", "cpu", "--store", store)
    assert result.exit_code == 0, result.output
    assert "cannot write TensorBoard scalars" in result.output and "Value out of range" in result.output
    conn = sqlite3.connect(store)
    try:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("complete",)]
        assert conn.execute("SELECT count(*) FROM cells").fetchone() == (1,)
    finally:
        conn.close()
