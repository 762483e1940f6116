"""Resume at cell granularity with the local executor: a re-run copies the cells an earlier run of
the store computed from the same inputs, computes the rest, and --rerun computes everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.executors.store_rows import GRID, cells, computed, runs, scores


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    import evalkit.engine.cell as cell_module

    calls, original = {"n": 0}, cell_module.evaluate_task

    def interrupt(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(cell_module, "evaluate_task", interrupt)


def test_rerun_after_interruption_computes_only_the_rest(tiny_model_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, evalkit_cli) -> None:
    store = tmp_path / "r.db"
    with monkeypatch.context() as patch:
        _interrupt_at(patch, 4)
        assert evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store).exit_code == 130
    first = runs(store)[0][0]
    assert len(cells(store, first)) == 3

    resumed = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store)
    assert resumed.exit_code == 0, resumed.output
    second = runs(store)[1]
    assert second[1] == "complete" and computed(store, second[0]) == 1 and len(cells(store, second[0])) == 4
    copied = [d for d in cells(store, second[0]).values() if "reused_from" in d]
    assert {d["reused_from"]["run_id"] for d in copied} == {first}
    assert all(d["requests"]["computed"] == 0 for d in copied)  # this run computed none of their requests
    originals = {k: d["compute"] for k, d in cells(store, first).items()}
    assert all(d["compute"]["forward_tokens"] == 0 and d["compute"]["original"] == originals[k]
               for k, d in cells(store, second[0]).items() if "reused_from" in d)  # 0 tokens here, figures kept

    again = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store)  # everything stored: nothing to do
    assert again.exit_code == 0 and computed(store, runs(store)[2][0]) == 0

    forced = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store, "--rerun")
    assert forced.exit_code == 0, forced.output
    fourth = runs(store)[3][0]
    assert computed(store, fourth) == 4 and scores(store, fourth) == scores(store, second[0])


def test_changed_model_files_are_not_reused(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    """The same command on a checkpoint retrained in place computes again (the cell id is the same)."""
    import shutil

    from tests.tiny_model import save_tiny_checkpoint

    model, store = tmp_path / "model", tmp_path / "r.db"
    shutil.copytree(tiny_model_dir, model)
    args = ["run", "-m", model, *GRID[:4], "--limit", "4", "--store", store]
    assert evalkit_cli(*args).exit_code == 0
    save_tiny_checkpoint(model, seed=7)  # new weights, same path
    assert evalkit_cli(*args).exit_code == 0
    assert computed(store, runs(store)[1][0]) == 1


def test_changed_task_definition_is_not_reused(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    from tests.executors.store_rows import FIXTURES
    import shutil

    tasks, store = tmp_path / "tasks", tmp_path / "r.db"
    shutil.copytree(FIXTURES / "toy_sentiment", tasks / "toy_sentiment")
    args = ["run", "-m", tiny_model_dir, "--include-path", tasks, "-t", "toy_sentiment", "--limit", "4",
            "--store", store]
    assert evalkit_cli(*args).exit_code == 0
    yaml = tasks / "toy_sentiment" / "toy_sentiment.yaml"
    yaml.write_text(yaml.read_text().replace("Answer:", "Answer (one word):"))
    assert evalkit_cli(*args).exit_code == 0
    assert computed(store, runs(store)[1][0]) == 1


_CELL_IDS = """
import json, sys
from evalkit.api import build_cells
cells = build_cells([sys.argv[1]], ["toy_sentiment", "toy_gen"], settings=["zero-shot", "few-shot:2"], limit=4)
print(json.dumps([c.cell_id for c in cells]))
"""


def test_cell_ids_are_stable_across_processes(tiny_model_dir: Path) -> None:
    """Resume finds cells by id, so the id must not depend on the process (hash seed, memory)."""
    found = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _CELL_IDS, str(tiny_model_dir)], env=env, check=True,
                             capture_output=True, text=True).stdout
        found.append(json.loads(out.strip().splitlines()[-1]))
    assert found[0] == found[1] and len(set(found[0])) == 4
