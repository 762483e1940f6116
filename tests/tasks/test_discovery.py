from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evalkit.errors import TaskError, UnknownTaskError
from evalkit.tasks.discovery import TaskRegistry, TaskSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def test_include_path_finds_fixture_tasks() -> None:
    registry = TaskRegistry.discover([FIXTURES])
    assert {"toy_sentiment", "toy_gen"} <= set(registry.names())
    assert registry.resolve("toy_gen").source == "include-path"


def test_environment_variable_adds_a_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_TASKS_PATH", str(FIXTURES))
    entry = TaskRegistry.discover().resolve("toy_sentiment")
    assert entry.source == "EVALKIT_TASKS_PATH"


def test_yaml_path_is_a_task_reference() -> None:
    entry = TaskRegistry([]).resolve(str(FIXTURES / "toy_gen" / "toy_gen.yaml"))
    assert entry.name == "toy_gen" and entry.source == "file"


def test_builtin_tasks_come_through_the_entry_point() -> None:
    registry = TaskRegistry.discover()
    assert "sst2" in registry.names()
    assert registry.resolve("sst2").source == "builtin"


def test_unknown_task_suggests_the_nearest_name() -> None:
    with pytest.raises(UnknownTaskError, match=r"Unknown task 'sst'\. Did you mean: sst2"):
        TaskRegistry.discover().resolve("sst")


def test_duplicate_task_names_are_an_error(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        shutil.copytree(FIXTURES / "toy_gen", tmp_path / sub)
    with pytest.raises(TaskError, match="Duplicate task name 'toy_gen'"):
        TaskRegistry([TaskSource("include-path", tmp_path)]).names()


def test_lm_eval_prefix_is_explicit() -> None:
    entry = TaskRegistry([]).resolve("lm_eval:arc_easy")
    assert entry.source == "lm_eval" and entry.name == "arc_easy"


def test_broken_yaml_is_reported_not_fatal_when_listing(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "toy_gen", tmp_path / "ok")
    (tmp_path / "bad.yaml").write_text("task: [unclosed\n")
    registry = TaskRegistry([TaskSource("include-path", tmp_path)])
    assert registry.names() == ["toy_gen"]
    assert "bad.yaml" in registry.problems[0] and "line" in registry.problems[0]
