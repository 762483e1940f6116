"""The grid on a real local Ray cluster (shared by the session): the same numbers as the local
executor, each cell stored once, a worker killed mid-cell retried, resume at cell granularity."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.executors.faults import DIE_ONCE
from tests.executors.store_rows import GRID, cells, computed, counts, runs, scores

pytest.importorskip("ray")


@pytest.fixture
def two_models(tiny_model_dir: Path, second_model_dir: Path) -> list[str]:
    return ["-m", str(tiny_model_dir), "-m", str(second_model_dir)]


def test_ray_gives_the_local_numbers_each_cell_once(ray_cluster: object, two_models: list[str], tmp_path: Path,
                                                     evalkit_cli) -> None:
    local, remote = tmp_path / "local.db", tmp_path / "ray.db"
    done = evalkit_cli("run", *two_models, *GRID, "--no-cache", "--store", local)
    assert done.exit_code == 0, done.output
    done = evalkit_cli("run", *two_models, *GRID, "--no-cache", "--store", remote, "--executor", "ray")
    assert done.exit_code == 0, done.output
    [(local_id, _)], [(ray_id, status)] = runs(local), runs(remote)
    assert status == "complete"
    assert scores(remote, ray_id) == scores(local, local_id)  # same per-document scores and metrics
    assert len(cells(remote, ray_id)) == 8 and counts(remote) == (8, 8)
    assert "2 model group(s)" in done.output and "[8/8]" in done.output  # progress across the cluster


def test_worker_killed_mid_cell_is_retried(ray_cluster: object, faults_dir: Path, tiny_model_dir: Path,
                                           tmp_path: Path, evalkit_cli) -> None:
    reference, store = tmp_path / "local.db", tmp_path / "ray.db"
    assert evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", reference).exit_code == 0
    (faults_dir / DIE_ONCE).touch()
    done = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store, "--executor", "ray", "--rerun")
    assert done.exit_code == 0, done.output
    assert not (faults_dir / DIE_ONCE).exists() and list(faults_dir.glob("died-*"))  # a worker did die
    [(run_id, status)] = runs(store)
    assert status == "complete" and counts(store) == (4, 4)  # nothing lost, nothing stored twice
    assert scores(store, run_id) == scores(reference, runs(reference)[0][0])


def test_interrupted_run_resumes_on_ray(ray_cluster: object, tiny_model_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, evalkit_cli) -> None:
    import evalkit.engine.cell as cell_module

    store = tmp_path / "r.db"
    calls, original = {"n": 0}, cell_module.evaluate_task

    def interrupt_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(cell_module, "evaluate_task", interrupt_third)
        assert evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store).exit_code == 130
    [(first, status)] = runs(store)
    assert status == "failed" and len(cells(store, first)) == 2

    resumed = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store, "--executor", "ray")
    assert resumed.exit_code == 0, resumed.output
    second = runs(store)[1][0]
    assert len(cells(store, second)) == 4 and computed(store, second) == 2  # only the rest on Ray
    assert "Reusing 2 of 4 cells" in resumed.output
    # Which cells are reused is decided before any executor runs (evalkit.engine.cell_reuse): --rerun computing
    # every cell is tested with the local executor (test_resume_cells), --rerun on Ray by the retry test above.
