"""A task's data is part of a cell's identity by content: a label edited in place with the file's
mtime kept (an editor, `cp -p`, `rsync -a`, an unpacked archive) gives the new numbers, whether the
cell would be reused from the store or is computed again with --rerun (the `datasets` cache of
local files is keyed by mtime; evalkit keys it by content)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.executors.store_rows import FIXTURES, computed, runs, scores


def _task_copy(tmp_path: Path) -> Path:
    tasks = tmp_path / "tasks"
    shutil.copytree(FIXTURES / "toy_sentiment", tasks / "toy_sentiment")
    return tasks


def _flip_first_label_keeping_mtime(data: Path) -> None:
    stat = data.stat()
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows[0]["label"] = 1 - rows[0]["label"]  # same size: one digit for another
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data.stat().st_mtime_ns == stat.st_mtime_ns


def _first_doc_acc(store: Path, run_id: str) -> float:
    doc = next(row for row in scores(store, run_id) if len(row) == 5 and row[3] == 0)
    return json.loads(doc[4])["acc"]


def _args(tasks: Path, store: Path) -> list[object]:
    return ["--include-path", tasks, "-t", "toy_sentiment", "--limit", "4", "--store", store]


def test_an_edited_label_with_its_mtime_kept_is_not_reused(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    tasks, store = _task_copy(tmp_path), tmp_path / "r.db"
    args = ["run", "-m", tiny_model_dir, *_args(tasks, store)]
    assert evalkit_cli(*args).exit_code == 0
    _flip_first_label_keeping_mtime(tasks / "toy_sentiment" / "data" / "validation.jsonl")
    again = evalkit_cli(*args)
    assert again.exit_code == 0, again.output
    first, second = (r[0] for r in runs(store))
    assert computed(store, second) == 1
    assert _first_doc_acc(store, second) == 1 - _first_doc_acc(store, first)


def test_rerun_reads_an_edited_label_with_its_mtime_kept(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    tasks, store = _task_copy(tmp_path), tmp_path / "r.db"
    args = ["run", "-m", tiny_model_dir, *_args(tasks, store), "--rerun"]
    assert evalkit_cli(*args).exit_code == 0
    _flip_first_label_keeping_mtime(tasks / "toy_sentiment" / "data" / "validation.jsonl")
    again = evalkit_cli(*args)
    assert again.exit_code == 0, again.output
    first, second = (r[0] for r in runs(store))
    assert _first_doc_acc(store, second) == 1 - _first_doc_acc(store, first)


def test_a_changed_training_split_recomputes_a_few_shot_cell(tiny_model_dir: Path, tmp_path: Path,
                                                            evalkit_cli) -> None:
    """Few-shot examples come from the training split: a cell that showed them depends on it."""
    tasks, store = _task_copy(tmp_path), tmp_path / "r.db"
    args = ["run", "-m", tiny_model_dir, *_args(tasks, store), "--setting", "few-shot:1"]
    assert evalkit_cli(*args).exit_code == 0
    _flip_first_label_keeping_mtime(tasks / "toy_sentiment" / "data" / "train.jsonl")
    assert evalkit_cli(*args).exit_code == 0
    assert computed(store, runs(store)[1][0]) == 1


_HOOK = '''import json
from pathlib import Path


def process(dataset):
    labels = json.loads((Path(__file__).parent / "labels.json").read_text())
    return dataset.map(lambda doc, i: {"label": labels[i % len(labels)]}, with_indices=True)
'''


def test_a_file_a_process_docs_hook_reads_is_part_of_the_identity(tiny_model_dir: Path, tmp_path: Path,
                                                                 evalkit_cli) -> None:
    """evalkit cannot know which files a hook reads; the documents the hook returns are hashed."""
    tasks, store = _task_copy(tmp_path), tmp_path / "r.db"
    folder = tasks / "toy_sentiment"
    yaml = folder / "toy_sentiment.yaml"
    yaml.write_text(yaml.read_text() + "process_docs: !function labels_hook.process\n")
    (folder / "labels_hook.py").write_text(_HOOK)
    (folder / "labels.json").write_text("[0, 1]")
    args = ["run", "-m", tiny_model_dir, *_args(tasks, store)]
    assert evalkit_cli(*args).exit_code == 0
    (folder / "labels.json").write_text("[1, 0]")
    again = evalkit_cli(*args)
    assert again.exit_code == 0, again.output
    first, second = (r[0] for r in runs(store))
    assert computed(store, second) == 1
    assert _first_doc_acc(store, second) == 1 - _first_doc_acc(store, first)
