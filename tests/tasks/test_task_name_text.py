"""A task name or file name holding undecodable bytes (surrogate escapes such as '\\udc80') is
refused for that one task, shown escaped; every other task is still listed and runs (issue 24
item 7). Such a name cannot be stored or printed as text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.tasks.discovery import TaskRegistry
from tests.tasks.conftest import BASE_YAML, WriteTask

ESCAPED_YAML = BASE_YAML.format(name='"bad\\uDC80name"')


@pytest.fixture
def folder(write_task: WriteTask) -> Path:
    good = write_task("tasks/t", name="good")
    (good.parent / "esc.yaml").write_text(ESCAPED_YAML, encoding="utf-8")
    return good.parent


def test_tasks_list_skips_only_the_undecodable_name(evalkit_cli, folder: Path) -> None:
    result = evalkit_cli("tasks", "list", "--include-path", folder)
    assert result.exit_code == 0, result.output
    assert "good" in result.stdout and "bad" not in result.stdout
    assert "the task name 'bad\\udc80name' is not valid UTF-8 text" in result.stderr


def test_validate_and_run_refuse_it_with_exit_2(evalkit_cli, folder: Path, tiny_model_dir, tmp_path: Path) -> None:
    for args in (("tasks", "validate", folder / "esc.yaml"),
                 ("run", "-m", tiny_model_dir, "-t", folder / "esc.yaml", "--store", tmp_path / "r.db")):
        result = evalkit_cli(*args)
        assert result.exit_code == 2, result.output
        assert "'bad\\udc80name' is not valid UTF-8 text" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.db").exists()


def test_a_file_name_with_invalid_utf8_is_skipped(write_task: WriteTask) -> None:
    good = write_task("tasks/t", name="good")
    raw = os.fsencode(good.parent) + b"/f\xff.yaml"
    with open(raw, "w", encoding="utf-8") as handle:
        handle.write(BASE_YAML.format(name="other"))
    registry = TaskRegistry.discover([good.parent])
    assert "good" in registry.names() and "other" not in registry.names()
    assert any("f\\udcff.yaml" in problem for problem in registry.problems)
    with pytest.raises(TaskError, match="file name .* is not valid UTF-8"):
        registry.resolve_file(Path(os.fsdecode(raw)))
