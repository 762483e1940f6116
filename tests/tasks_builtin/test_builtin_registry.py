"""The shipped tasks as a user meets them: found through the `evalkit.tasks` entry point, read by
evalkit's safe loader, accepted by its key and type checks, listed and shown by the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evalkit.tasks.builtin import task_dirs
from evalkit.tasks.loading import allowed_keys, check_keys, task_config_hash
from evalkit.tasks.yaml_source import read_task_yaml
from tests.tasks_builtin.shipped import EXPECTED, NAMES, REQUIRED, TASKS_DIR, load_builtin, registry, yaml_path


def test_task_folders_match_expected() -> None:
    folders = sorted(p.name for p in TASKS_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert folders == NAMES
    assert set(REQUIRED) <= set(folders)
    for name in folders:
        d = TASKS_DIR / name
        assert yaml_path(name).is_file()
        assert list(d.glob("*.yaml")) == [yaml_path(name)]
        source = (d / "SOURCE.txt").read_text(encoding="utf-8")
        assert "evalkit notes" in source


def test_every_shipped_task_comes_through_the_builtin_entry_point() -> None:
    assert task_dirs() == [TASKS_DIR]
    builtin = {n for n in registry().names() if registry().index[n].source == "builtin"}
    assert builtin == set(NAMES)
    assert registry().problems == [] and registry().warnings == []
    for name in NAMES:
        entry = registry().resolve(name)
        assert entry.yaml_path == yaml_path(name).resolve()
        assert entry.root == TASKS_DIR.resolve()  # hooks and includes must stay inside tasks/


@pytest.mark.parametrize("name", NAMES)
def test_yaml_passes_evalkits_key_and_type_checks(name: str) -> None:
    raw = read_task_yaml(yaml_path(name), root=TASKS_DIR)
    assert not set(raw) - allowed_keys()
    check_keys(registry().resolve(name))  # unknown keys and wrong types would raise
    assert raw["task"] == name
    assert raw["dataset_path"] == "json"
    files = raw["dataset_kwargs"]["data_files"]
    assert set(files) == set(EXPECTED[name]["rows"])
    for rel in files.values():
        assert not Path(rel).is_absolute()
        assert (yaml_path(name).parent / rel).is_file()


@pytest.mark.parametrize("name", NAMES)
def test_config_hash_is_stable_and_recorded(name: str) -> None:
    loaded = load_builtin(name)
    assert re.fullmatch(r"[0-9a-f]{16}", loaded.config_hash)
    assert loaded.config_hash == task_config_hash(registry().resolve(name))
    assert loaded.source == str(yaml_path(name).resolve())


def test_tasks_list_shows_every_shipped_task_with_its_row_counts(evalkit_cli) -> None:
    result = evalkit_cli("tasks", "list")
    assert result.exit_code == 0, result.output
    cells = [line.replace("│", " ").split() for line in result.stdout.splitlines()]
    lines = {words[0]: " ".join(words) for words in cells if words and words[0] in NAMES}
    assert set(lines) == set(NAMES)
    for name, exp in EXPECTED.items():
        for split, rows in exp["rows"].items():
            declared = {"train": "training_split", "validation": "validation_split", "test": "test_split"}[split]
            if exp["declared"][declared] == split:
                assert f"{split}={rows}" in lines[name], (name, split)
        assert "builtin" in lines[name]


@pytest.mark.parametrize("name", ["cb", "copa", "hellaswag"])
def test_tasks_show_handles_hooks(evalkit_cli, name: str) -> None:
    """cb has a hook nested in metric_list, copa hooks as templates, hellaswag a process_docs hook."""
    result = evalkit_cli("tasks", "show", name, "--examples", "1")
    assert result.exit_code == 0, result.output
    assert "!function" in result.stdout and "document 0" in result.stdout
    assert f"config hash {load_builtin(name).config_hash}" in result.stdout
