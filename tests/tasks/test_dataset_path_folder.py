"""A relative `dataset_path` naming a folder next to the task's YAML is that folder (as data_files are
relative to the YAML), not a same-named folder in the working directory; its files are part of the
task's identity by content."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
YAML = """\
task: toy_folder
dataset_path: data
output_type: multiple_choice
validation_split: validation
doc_to_text: "{{sentence}}\\nQuestion: Is this sentence positive or negative?\\nAnswer:"
doc_to_target: label
doc_to_choice: ["negative", "positive"]
"""


def _targets(store: Path) -> list[list[str]]:
    """Each run's stored targets, by doc id."""
    with sqlite3.connect(store) as conn:
        runs = [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY rowid")]
        return [[r[0] for r in conn.execute("SELECT target FROM samples WHERE run_id = ? ORDER BY doc_id", (run,))]
                for run in runs]


def _flip_labels(data: Path, *, keep_mtime: bool) -> None:
    stat = data.stat()
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    data.write_text("".join(json.dumps({**r, "label": 1 - r["label"]}) + "\n" for r in rows), encoding="utf-8")
    if keep_mtime:
        os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_dataset_folder_next_to_the_yaml_is_read_and_hashed_by_content(
        tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evalkit_cli) -> None:
    task = tmp_path / "tasks" / "toy_folder"
    shutil.copytree(FIXTURES / "toy_sentiment" / "data", task / "data")
    (task / "toy_folder.yaml").write_text(YAML, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(task / "data", elsewhere / "data")  # a same-named folder in the working directory
    _flip_labels(elsewhere / "data" / "validation.jsonl", keep_mtime=False)
    monkeypatch.chdir(elsewhere)
    store = tmp_path / "r.db"
    args = ["run", "-m", tiny_model_dir, "-t", task / "toy_folder.yaml", "--limit", "4", "--store", store]
    first = evalkit_cli(*args)
    assert first.exit_code == 0, first.output
    _flip_labels(task / "data" / "validation.jsonl", keep_mtime=True)
    second = evalkit_cli(*args)
    assert second.exit_code == 0, second.output
    (ours, edited) = _targets(store)
    labels = [json.loads(line)["label"] for line in (task / "data" / "validation.jsonl").read_text().splitlines()]
    assert edited == [["negative", "positive"][label] for label in labels[:4]]  # the edit was read, not a cache
    assert ours == [["positive", "negative"][label] for label in labels[:4]]  # the YAML's folder, not the cwd's


def test_files_matched_by_a_glob_are_hashed_and_read_by_content(tmp_path: Path) -> None:
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    task = tmp_path / "tasks" / "globbed"
    shutil.copytree(FIXTURES / "toy_sentiment" / "data", task / "data")
    yaml = task / "globbed.yaml"
    yaml.write_text(YAML.replace("task: toy_folder", "task: globbed").replace(
        "dataset_path: data\n", "dataset_path: json\ndataset_kwargs:\n  data_files:\n    validation: data/valid*.jsonl\n"),
        encoding="utf-8")
    before = load_task(TaskRegistry([]).resolve(str(yaml)))
    _flip_labels(task / "data" / "validation.jsonl", keep_mtime=True)
    after = load_task(TaskRegistry([]).resolve(str(yaml)))
    assert after.config_hash != before.config_hash and after.documents_hash != before.documents_hash
    assert [d["label"] for d in after.task.eval_docs] == [1 - d["label"] for d in before.task.eval_docs]
