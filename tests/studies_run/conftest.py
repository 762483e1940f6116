"""Study runs on the tiny model: tiny tasks built in tmp_path (two with a training split, one
evaluated only), and helpers that read back what a run stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.finetune.conftest import FIXTURES

SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")
FAST = ("--limit", "8", "--batch-size", "4", "--ft-batch-size", "8", "--ft-max-examples", "16", "--ft-lr", "0.05")

_WORDS = ["apple", "river", "stone", "cloud", "grass", "flame", "metal", "sugar"]


def _write_task(root: Path, name: str, *, train: bool) -> Path:
    """A two-choice task: is the word in the sentence a colour ('yes') or not ('no')."""
    folder = root / name
    folder.mkdir(parents=True)
    rows = [{"text": f"{w} {i}", "label": i % 2} for i, w in enumerate(_WORDS * 3)]
    (folder / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:12]))
    files = {"validation": "validation.jsonl"}
    if train:
        (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[12:]))
        files["train"] = "train.jsonl"
    lines = [f"task: {name}", "dataset_path: json", "dataset_kwargs:", "  data_files:"]
    lines += [f"    {split}: {path}" for split, path in files.items()]
    lines += ["output_type: multiple_choice"] + (["training_split: train"] if train else [])
    lines += ["validation_split: validation", 'doc_to_text: "{{text}}\\nAnswer:"', "doc_to_target: label",
              'doc_to_choice: ["no", "yes"]', "metric_list:", "  - metric: acc", "metadata:", "  version: 1.0"]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def topic_task(tmp_path: Path) -> str:
    """A second task with a training split."""
    return str(_write_task(tmp_path / "tasks", "toy_topic", train=True))


@pytest.fixture
def eval_only_task(tmp_path: Path) -> str:
    """A task without a training split (a column of the transfer matrix only)."""
    return str(_write_task(tmp_path / "tasks", "toy_eval_only", train=False))


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fine-tuning writes TensorBoard logs under ./reports: keep them in the test's directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stored_cells(store: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells with parsed details, samples) of the store's latest run."""
    from evalkit.store.reader import cells_frame, resolve_run_ref, samples_frame
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(store)
    try:
        run_id = resolve_run_ref(conn, "latest")
        cells = cells_frame(conn, [run_id])
        samples = samples_frame(conn, run_id)
    finally:
        conn.close()
    cells["details"] = cells.details_json.map(json.loads)
    return cells, samples


def outputs(cells: pd.DataFrame, samples: pd.DataFrame, task: str, setting: str) -> list[Any]:
    """The raw per-document outputs (log-likelihoods) of one stored cell, in doc order."""
    cell = cells[(cells.task == task) & (cells.setting == setting)]
    assert len(cell) == 1, (task, setting, list(zip(cells.task, cells.setting)))
    rows = samples[samples.cell_id == cell.cell_id.iloc[0]].sort_values("doc_id")
    return list(rows.outputs)


def adapter_entries(home: Path) -> list[str]:
    """Complete entries of the adapter cache (evalkit.finetune.cache), sorted."""
    root = home / "adapters"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
