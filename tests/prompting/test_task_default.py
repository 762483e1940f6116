"""A task's own few-shot default (its YAML's num_fewshot) is what a run without --setting uses, as
`lm_eval` does; it is stored as the plain label with the fact beside it, and shown as
'few-shot:2 (task default)'. An explicit --setting zero-shot still means zero shots."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.prompting.conftest import FIXTURES


@pytest.fixture
def two_shot_task(tmp_path: Path) -> Path:
    """toy_sentiment, renamed, declaring num_fewshot: 2."""
    folder = tmp_path / "tasks" / "toy_two_shot"
    shutil.copytree(FIXTURES / "toy_sentiment", folder)
    yaml = (folder / "toy_sentiment.yaml").read_text().replace("task: toy_sentiment", "task: toy_two_shot")
    (folder / "toy_sentiment.yaml").unlink()
    (folder / "toy_two_shot.yaml").write_text(yaml + "num_fewshot: 2\n")
    return folder.parent


def _cells(store: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT task, setting, num_fewshot, details_json FROM cells ORDER BY rowid").fetchall()
    return [(task, setting, k, json.loads(details)["fewshot_source"]) for task, setting, k, details in rows]


def test_no_setting_runs_each_task_with_its_own_default(evalkit_cli: Any, tiny_model_dir: Path, tmp_path: Path,
                                                        two_shot_task: Path) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", two_shot_task, "--include-path", FIXTURES,
                         "-t", "toy_two_shot", "-t", "toy_gen", "--limit", "2", "--store", store)
    assert result.exit_code == 0, result.output
    assert _cells(store) == [("toy_two_shot", "few-shot:2", 2, "task default"),
                             ("toy_gen", "zero-shot", 0, "task default")]
    with sqlite3.connect(store) as conn:
        prompt = conn.execute("SELECT prompt FROM samples s JOIN cells c USING (run_id, cell_id) "
                              "WHERE c.task = 'toy_two_shot' LIMIT 1").fetchone()[0]
        config = json.loads(conn.execute("SELECT config_json FROM runs").fetchone()[0])
    assert prompt.count("Question:") == 3  # two examples and the document
    assert config["settings"] == ["task-default"]
    shown = evalkit_cli("results", "show", "latest", "--store", store)
    assert shown.exit_code == 0, shown.output
    assert "toy_two_shot · few-shot:2 (task default)" in shown.output


def test_an_explicit_zero_shot_still_means_zero_shots(evalkit_cli: Any, tiny_model_dir: Path, tmp_path: Path,
                                                      two_shot_task: Path) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", two_shot_task, "-t", "toy_two_shot",
                         "--setting", "zero-shot", "--limit", "2", "--store", store)
    assert result.exit_code == 0, result.output
    assert _cells(store) == [("toy_two_shot", "zero-shot", 0, "setting")]


def test_a_task_default_equal_to_an_asked_setting_runs_once() -> None:
    from evalkit.models.spec import ModelSpec
    from evalkit.plan import make_plan, resolve_task_facts
    from evalkit.plan.settings import parse_setting

    spec = ModelSpec(name="m", kind="local", location="/m")
    cells = make_plan([spec], ["a"], [parse_setting("task-default"), parse_setting("zero-shot")], seed=1,
                      batch_size=1)
    assert [c.setting.label for c in cells] == ["task-default", "zero-shot"]
    resolved = resolve_task_facts(cells, {"a": 0}, {"a": 10})
    assert [(c.setting.label, c.setting.task_default) for c in resolved] == [("zero-shot", False)]
    assert [c.setting.shown_label for c in resolve_task_facts(cells[:1], {"a": 5}, {"a": 10})] == \
        ["few-shot:5 (task default)"]
