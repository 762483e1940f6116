"""Fixtures for interoperability tests: local copies of two fixture tasks (data paths made
absolute: lm-eval resolves them against the working directory, evalkit against the YAML), and
one real `lm_eval --model hf ... --log_samples` run on the tiny model, shared by the session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
TASKS = ("toy_sentiment", "toy_gen")
LIMIT = 8
DOCS = {"toy_sentiment": 8, "toy_gen": 5}  # documents evaluated at --limit 8 (toy_gen has 5)


@pytest.fixture(scope="session")
def task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("interop-tasks")
    for name in TASKS:
        source = FIXTURES / name / f"{name}.yaml"
        text = source.read_text(encoding="utf-8")
        for data in sorted((FIXTURES / name).rglob("*.jsonl")):
            relative = data.relative_to(FIXTURES / name).as_posix()
            text = text.replace(f": {relative}\n", f": {data}\n")
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def lm_eval_output(tiny_model_dir: Path, task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lm-eval's own output folder (HFLM, the tiny model, both tasks, --limit 8, --log_samples)."""
    out = tmp_path_factory.mktemp("lm-eval-output") / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={tiny_model_dir}",
               "--tasks", ",".join(TASKS), "--include_path", str(task_dir), "--limit", str(LIMIT),
               "--device", "cpu", "--output_path", str(out), "--log_samples"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture
def output_copy(lm_eval_output: Path, tmp_path: Path) -> Path:
    """A private copy of lm-eval's output folder that a test may damage."""
    return Path(shutil.copytree(lm_eval_output, tmp_path / "lm-eval-copy"))


def results_file(folder: Path) -> Path:
    (found,) = sorted(folder.rglob("results_*.json"))
    return found


def samples_file(folder: Path, task: str) -> Path:
    (found,) = sorted(folder.rglob(f"samples_{task}_*.jsonl"))
    return found
