"""Task sources a user can get wrong: a missing EVALKIT_TASKS_PATH entry is warned about (not
silently ignored), an --include-path that is a file is refused, and `lm_eval:TASK` offline says
what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import TaskError, UnknownTaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import load_task
from tests.tasks.conftest import WriteTask


def test_a_missing_tasks_path_entry_is_warned_about(evalkit_cli, write_task: WriteTask, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write_task()
    missing = tmp_path / "no-such-dir"
    monkeypatch.setenv("EVALKIT_TASKS_PATH", f"{tmp_path / 'tasks'}:{missing}")
    listing = evalkit_cli("tasks", "list")
    assert listing.exit_code == 0, listing.output
    assert "t " in listing.stdout
    assert f"EVALKIT_TASKS_PATH entry '{missing}' does not exist" in " ".join(listing.stderr.split())
    shown = evalkit_cli("tasks", "show", "t", "--examples", "0")
    assert shown.exit_code == 0 and "does not exist" in shown.stderr
    registry = TaskRegistry.discover()
    assert registry.resolve("t").name == "t" and str(missing) in registry.warnings[0]
    with pytest.raises(UnknownTaskError) as info:
        registry.resolve("tt")
    assert str(missing) in (info.value.hint or "")


def test_a_tasks_path_entry_that_is_a_file_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.setenv("EVALKIT_TASKS_PATH", str(tmp_path / "file.txt"))
    assert "is not a directory" in TaskRegistry.discover().warnings[0]


def test_an_include_path_that_is_a_file_is_refused(evalkit_cli, tmp_path: Path) -> None:
    (tmp_path / "file.yaml").write_text("task: x\n")
    result = evalkit_cli("tasks", "list", "--include-path", tmp_path / "file.yaml")
    assert result.exit_code == 2 and "is a file" in result.output and "Traceback" not in result.output
    with pytest.raises(TaskError, match="is a file, not a directory"):
        TaskRegistry.discover([tmp_path / "file.yaml"])
    with pytest.raises(TaskError, match="does not exist"):
        TaskRegistry.discover([tmp_path / "nothere"])


def test_lm_eval_registry_task_offline_says_what_it_needs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # as tests/conftest.py sets for the whole suite
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "empty-hf-cache"))
    entry = TaskRegistry([]).resolve("lm_eval:arc_easy")
    with pytest.raises(TaskError, match="lm-eval's registry task 'arc_easy'.*offline") as info:
        load_task(entry)
    assert "--include-path" in (info.value.hint or "") and "copy" in (info.value.hint or "")
