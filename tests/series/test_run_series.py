"""`evalkit run -m` with a checkpoint series, through the real entry point: one cell per checkpoint
in training-step order with its place in training, the trajectory view over them, TensorBoard
scalars at each step, and adapter checkpoints switched on one base model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.series.trainer_dirs import FLOS_PER_STEP, STEPS_PER_EPOCH, TOKENS_PER_STEP, TrainerRun

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
TASK = "toy_sentiment"
Cli = Callable[..., Any]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep anything a run writes under the working directory in the test's folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_series(cli: Cli, store: Path, *models: str) -> str:
    """`evalkit run` on the series; returns the run id."""
    args = [a for m in models for a in ("-m", m)]
    result = cli("run", *args, "--include-path", FIXTURES, "-t", TASK, "--limit", "6", "--device", "cpu",
                 "--store", store)
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(store)
    try:
        return conn.execute("SELECT run_id FROM runs").fetchone()[0]
    finally:
        conn.close()


def stored_cells(store: Path) -> list[dict[str, Any]]:
    """model, fingerprint, spec and details of every cell, in the order they were stored."""
    conn = sqlite3.connect(store)
    try:
        rows = conn.execute("SELECT model, model_fingerprint, model_spec_json, details_json FROM cells "
                            "ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return [{"model": m, "fingerprint": f, "spec": json.loads(s), "details": json.loads(d)} for m, f, s, d in rows]


@pytest.mark.parametrize("as_glob", [False, True], ids=["output-dir", "glob"])
def test_full_series_is_one_cell_per_checkpoint_in_step_order(as_glob: bool, full_run: TrainerRun, tmp_path: Path,
                                                              evalkit_cli: Cli) -> None:
    store = tmp_path / "r.db"
    ref = f"{full_run.out}/checkpoint-*" if as_glob else str(full_run.out)
    run_series(evalkit_cli, store, ref)
    cells = stored_cells(store)
    series = full_run.out.name
    assert [c["model"] for c in cells] == [f"{series}@step{s}" for s in (5, 9, 10)]
    for cell, step in zip(cells, (5, 9, 10)):
        assert cell["details"]["trajectory"] == {
            "series": series, "step": step, "epoch": step / STEPS_PER_EPOCH, "tokens_seen": step * TOKENS_PER_STEP,
            "flos": step * FLOS_PER_STEP, "kind": "checkpoint"}
        assert cell["spec"]["member"]["step"] == step and cell["spec"]["tokenizer"] == str(full_run.out)
        assert cell["details"]["checkpoint"] == str(full_run.checkpoint(step))
    assert len({c["fingerprint"] for c in cells}) == 3  # each checkpoint's own weights


def test_series_run_feeds_the_trajectory_view_and_tensorboard(full_run: TrainerRun, tmp_path: Path,
                                                               evalkit_cli: Cli) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    store = tmp_path / "r.db"
    run_id = run_series(evalkit_cli, store, str(full_run.out))
    view = evalkit_cli("trajectory", run_id, "--store", store, "--format", "json")
    assert view.exit_code == 0, view.output
    rows = [r for r in json.loads(view.stdout)["rows"] if r["metric"] == "acc"]
    assert [(r["series"], r["step"]) for r in rows] == [(full_run.out.name, s) for s in (5, 9, 10)]
    assert [r["vs_prev_step"] for r in rows] == [None, 5, 9]
    events = EventAccumulator(str(tmp_path / "tensorboard" / run_id / full_run.out.name))  # beside the store
    events.Reload()
    scalars = events.Scalars(f"{TASK}/zero-shot/acc")
    assert [s.step for s in sorted(scalars, key=lambda s: s.step)] == [5, 9, 10]
    stored = {r["step"]: r["value"] for r in rows}
    assert {s.step: pytest.approx(stored[s.step]) for s in scalars} == stored


def test_adapter_series_loads_the_base_once(adapter_run: TrainerRun, tiny_model_dir: Path, tmp_path: Path,
                                            evalkit_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.models.loading as loading

    loads: list[Any] = []
    real = loading.load_model
    monkeypatch.setattr(loading, "load_model", lambda spec: loads.append(spec) or real(spec))
    store = tmp_path / "r.db"
    run_id = run_series(evalkit_cli, store, f"{adapter_run.out}/checkpoint-*")
    assert len(loads) == 1 and loads[0].adapter is None and loads[0].location == str(tiny_model_dir)
    cells = stored_cells(store)
    series = adapter_run.out.name
    assert [c["model"] for c in cells] == [f"{series}@step{s}" for s in (5, 9, 10)]
    assert [c["spec"]["adapter"] for c in cells] == [str(adapter_run.checkpoint(s)) for s in (5, 9, 10)]
    assert [c["details"]["trajectory"]["tokens_seen"] for c in cells] == [s * TOKENS_PER_STEP for s in (5, 9, 10)]
    assert len({c["fingerprint"] for c in cells}) == 3
    view = evalkit_cli("trajectory", run_id, "--store", store)
    assert view.exit_code == 0, view.output
    assert "Trajectories" in view.stdout and f"{series}" in view.stdout and "5–10 (3)" in view.stdout


def test_hub_revisions_are_a_series_in_step_order() -> None:
    from evalkit.api import build_cells

    cells = build_cells(["org/model@step200", "org/model@step100"], ["sst2"])
    assert [c.model.label for c in cells] == ["org/model@step100", "org/model@step200"]
    assert [(c.model.location, c.model.revision, c.model.kind) for c in cells] == [
        ("org/model", "step100", "hub"), ("org/model", "step200", "hub")]
    assert cells[0].model.member is not None and cells[0].model.member.trajectory()["step"] == 100


def test_a_series_cell_id_is_stable_and_its_spec_is_json(full_run: TrainerRun) -> None:
    from evalkit.api import build_cells

    first = build_cells([str(full_run.out)], ["sst2"])
    again = build_cells([f"{full_run.out}/checkpoint-*"], ["sst2"])
    assert [c.cell_id for c in first] == [c.cell_id for c in again]
    assert len({c.cell_id for c in first}) == 3
    spec = json.loads(json.dumps(first[0].model.to_dict()))
    assert spec["member"]["series"] == full_run.out.name and spec["member"]["step"] == 5
    json.dumps(first[0].to_dict())  # the whole cell, member included, is plain JSON


def test_a_plain_model_spec_has_no_series_keys(tiny_model_dir: Path) -> None:
    from evalkit.api import build_cells

    spec = build_cells([str(tiny_model_dir)], ["sst2"])[0].model
    assert spec.member is None and "member" not in spec.to_dict() and "tokenizer" not in spec.to_dict()
    assert spec.label == tiny_model_dir.name
