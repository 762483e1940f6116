"""Helpers for task tests: a small valid task written into tmp_path, to be broken one key at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

BASE_YAML = """\
task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: test.jsonl
output_type: multiple_choice
test_split: test
doc_to_text: "{{{{text}}}}"
doc_to_target: label
doc_to_choice: ["no", "yes"]
"""
ROWS = '{"text": "good", "label": 1}\n{"text": "bad", "label": 0}\n'

WriteTask = Callable[..., Path]


@pytest.fixture
def write_task(tmp_path: Path) -> WriteTask:
    """`write_task("sub", extra="num_fewshot: -3\\n")`: a task folder under tmp_path; returns its YAML.
    Keys in `extra` come last, so they override the base keys (YAML keeps the last duplicate)."""

    def write(folder: str = "tasks/t", *, name: str = "t", extra: str = "", body: str | None = None,
              data: str | bytes = ROWS) -> Path:
        directory = tmp_path / folder
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "test.jsonl"
        target.write_bytes(data) if isinstance(data, bytes) else target.write_text(data, encoding="utf-8")
        path = directory / f"{name}.yaml"
        path.write_text(body if body is not None else BASE_YAML.format(name=name) + extra, encoding="utf-8")
        return path

    return write
