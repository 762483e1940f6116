"""A tiny multiple-choice task (acc and acc_norm, choices of different lengths) and the tiny model,
for the fast-exact tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.scoring.conftest import tiny_lm  # noqa: F401  (the session's tiny model and tokenizer)

SENTENCES = ["the capital of France is Paris", "a charming and often affecting journey", "unflinchingly bleak",
             "a man is sitting on a roof", "cellular telephone television", "true false yes no neither",
             "Janet sells duck eggs", "World Sports Business Science", "it is a charming story",
             "desperate and bleak", "the answer is positive", "the journey is long"]
CHOICES = ["no", "is", "roof", "positive"]

TASK_YAML = """task: toy_choice
dataset_path: json
dataset_kwargs:
  data_files:
    validation: data/validation.jsonl
output_type: multiple_choice
validation_split: validation
doc_to_text: "{{sentence}}\\nAnswer:"
doc_to_target: label
doc_to_choice: ["no", "is", "roof", "positive"]
metric_list:
  - metric: acc
  - metric: acc_norm
metadata:
  version: 1.0
"""


def write_task(directory: Path, yaml_text: str = TASK_YAML, name: str = "toy_choice") -> Path:
    """A task folder with its YAML and data; returns the YAML's path."""
    (directory / "data").mkdir(parents=True, exist_ok=True)
    rows = [{"sentence": s, "label": i % len(CHOICES)} for i, s in enumerate(SENTENCES)]
    (directory / "data" / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = directory / f"{name}.yaml"
    path.write_text(yaml_text.replace("task: toy_choice", f"task: {name}"))
    return path


@pytest.fixture(scope="session")
def choice_task_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_task(tmp_path_factory.mktemp("toy-choice"))


def load(path: Path) -> Any:
    """The task as a user's run loads it: evalkit's registry and loader."""
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    return load_task(TaskRegistry.discover().resolve(str(path)))


@pytest.fixture(scope="session")
def choice_task(choice_task_path: Path) -> Any:
    return load(choice_task_path)


@pytest.fixture(autouse=True)
def fresh_bf16_copies() -> Any:
    """Each test makes its own bf16 weights (some replace bf16_copy with a noisier stand-in)."""
    from evalkit.scoring import fast_exact

    fast_exact._BF16_COPIES.clear()
    yield
    fast_exact._BF16_COPIES.clear()
