"""A model's files are part of a cell's identity by content: weights swapped with their mtime kept
(`cp -p`, `rsync -a`, an unpacked archive) or a changed tokenizer give a model's own numbers, both
for cells stored by an earlier run and for the request cache (which --rerun still answers from)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.executors.store_rows import FIXTURES, cells, computed, runs

TASK = ["--include-path", str(FIXTURES), "-t", "toy_sentiment", "--limit", "4"]


def test_weights_copied_over_with_cp_p_are_not_reused(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    from tests.tiny_model import save_tiny_checkpoint

    model, other, store = tmp_path / "model", tmp_path / "other", tmp_path / "r.db"
    shutil.copytree(tiny_model_dir, model)
    save_tiny_checkpoint(other, seed=7)
    weights = model / "model.safetensors"
    stat = weights.stat()
    assert (other / "model.safetensors").stat().st_size == stat.st_size
    args = ["run", "-m", model, *TASK, "--store", store]
    assert evalkit_cli(*args).exit_code == 0
    os.utime(other / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    shutil.copy2(other / "model.safetensors", weights)  # `cp -p`: same size, same mtime, other weights
    assert weights.stat().st_mtime_ns == stat.st_mtime_ns
    again = evalkit_cli(*args)
    assert again.exit_code == 0, again.output
    second = runs(store)[1][0]
    assert computed(store, second) == 1
    (details,) = cells(store, second).values()
    assert details["requests"]["reused"] == 0 and details["requests"]["computed"] > 0  # not the old model's


def test_a_changed_tokenizer_is_not_answered_from_the_request_cache(tiny_model_dir: Path, tmp_path: Path,
                                                                   evalkit_cli) -> None:
    model, store = tmp_path / "model", tmp_path / "r.db"
    shutil.copytree(tiny_model_dir, model)
    args = ["run", "-m", model, *TASK, "--store", store]
    assert evalkit_cli(*args).exit_code == 0
    config = model / "tokenizer_config.json"
    config.write_text(config.read_text().replace("{", '{"add_bos_token": true, ', 1))
    again = evalkit_cli(*args, "--rerun")
    assert again.exit_code == 0, again.output
    (details,) = cells(store, runs(store)[1][0]).values()
    assert details["requests"]["reused"] == 0 and details["requests"]["computed"] > 0
