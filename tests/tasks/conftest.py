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
    Top-level keys in `extra` replace the base's (a key written twice is an error)."""

    def write(folder: str = "tasks/t", *, name: str = "t", extra: str = "", body: str | None = None,
              data: str | bytes = ROWS) -> Path:
        directory = tmp_path / folder
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "test.jsonl"
        target.write_bytes(data) if isinstance(data, bytes) else target.write_text(data, encoding="utf-8")
        path = directory / f"{name}.yaml"
        path.write_text(body if body is not None else overridden(BASE_YAML.format(name=name), extra) + extra,
                        encoding="utf-8")
        return path

    return write


def overridden(base: str, extra: str) -> str:
    """`base` without the top-level keys (and their indented blocks) that `extra` writes again."""
    def top_key(line: str) -> str | None:
        return line.split(":", 1)[0] if line and not line[0].isspace() and ":" in line else None

    replaced = {key for line in extra.splitlines() if (key := top_key(line))}
    kept, dropping = [], False
    for line in base.splitlines(keepends=True):
        if (key := top_key(line)) is not None:
            dropping = key in replaced
        if not dropping:
            kept.append(line)
    return "".join(kept)
