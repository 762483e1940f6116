from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import load_task, task_config_hash

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


@pytest.fixture
def task_copy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "toy_sentiment", tmp_path / "toy")
    return tmp_path / "toy" / "toy_sentiment.yaml"


def _load(path: Path):
    return load_task(TaskRegistry([]).resolve(str(path)))


def test_data_paths_resolve_relative_to_the_yaml(task_copy: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = _load(task_copy)
    assert len(loaded.task.eval_docs) == 24
    assert loaded.task.has_training_docs()


def test_unknown_key_names_file_and_key(task_copy: Path) -> None:
    task_copy.write_text(task_copy.read_text() + "doc_to_txt: oops\n")
    with pytest.raises(TaskError, match=r"unknown key 'doc_to_txt'.*Did you mean: doc_to_text"):
        _load(task_copy)


def test_missing_data_file_names_the_key(task_copy: Path) -> None:
    (task_copy.parent / "data" / "train.jsonl").unlink()
    with pytest.raises(TaskError, match=r"dataset_kwargs\.data_files\.train.*does not exist"):
        _load(task_copy)


def test_wrong_split_name_lists_available_splits(task_copy: Path) -> None:
    task_copy.write_text(task_copy.read_text().replace("validation_split: validation", "validation_split: dev"))
    with pytest.raises(TaskError, match=r"'validation_split': split 'dev' is not in the data \(available: train, validation\)"):
        _load(task_copy)


def test_yaml_syntax_error_names_the_line(task_copy: Path) -> None:
    task_copy.write_text("task: toy\ndoc_to_text: [unclosed\n")
    with pytest.raises(TaskError, match=r"not valid YAML \(line \d+"):
        _load(task_copy)


def test_non_utf8_and_binary_files(task_copy: Path) -> None:
    task_copy.write_bytes(b"task: caf\xe9\n")
    with pytest.raises(TaskError, match="not UTF-8"):
        _load(task_copy)
    task_copy.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(TaskError, match="binary file"):
        _load(task_copy)


def test_python_object_tags_are_refused(task_copy: Path) -> None:
    task_copy.write_text("task: x\nbad: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(TaskError, match="not valid YAML"):
        _load(task_copy)


def test_config_hash_changes_with_data(task_copy: Path) -> None:
    entry = TaskRegistry([]).resolve(str(task_copy))
    before = task_config_hash(entry)
    with (task_copy.parent / "data" / "validation.jsonl").open("a") as handle:
        handle.write('{"sentence": "new", "label": 1}\n')
    os.utime(task_copy.parent / "data" / "validation.jsonl", ns=(1, 1))
    assert task_config_hash(TaskRegistry([]).resolve(str(task_copy))) != before
