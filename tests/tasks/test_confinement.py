"""Hooks and includes come only from the directories the user named (issue 9): a reference that
leaves them is refused with exit 2 naming the YAML, the key and the reference, and its code is
never imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import load_task
from tests.tasks.conftest import WriteTask


def _evil_module(directory: Path, marker: Path, name: str = "evil") -> Path:
    """A hook module that leaves `marker` behind if it is ever imported."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n"
                    "def fn(doc):\n    return 'x'\n")
    return path


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "IMPORTED"


def _refused(evalkit_cli, path: Path, *needles: str) -> str:
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)
    return result.output


def test_absolute_function_path_is_refused_and_not_imported(evalkit_cli, write_task: WriteTask,
                                                            tmp_path: Path, marker: Path) -> None:
    evil = _evil_module(tmp_path / "outside", marker)
    path = write_task(extra=f"doc_to_text: !function {evil.with_suffix('')}.fn\n")
    _refused(evalkit_cli, path, "t.yaml", "doc_to_text", "!function", "module.function")
    assert not marker.exists()


def test_parent_relative_function_is_refused(evalkit_cli, write_task: WriteTask, tmp_path: Path,
                                             marker: Path) -> None:
    _evil_module(tmp_path / "outside", marker)
    path = write_task(extra="doc_to_text: !function ../../outside/evil.fn\n")
    _refused(evalkit_cli, path, "t.yaml", "doc_to_text", "../../outside/evil.fn")
    assert not marker.exists()


def test_module_symlinked_out_of_the_task_directory_is_refused(evalkit_cli, write_task: WriteTask,
                                                               tmp_path: Path, marker: Path) -> None:
    evil = _evil_module(tmp_path / "outside", marker)
    path = write_task(extra="doc_to_text: !function utils.fn\nprocess_docs: !function lib.evil.fn\n")
    (path.parent / "utils.py").symlink_to(evil)
    _refused(evalkit_cli, path, "doc_to_text", "!function utils.fn", "points outside")
    (path.parent / "utils.py").unlink()
    (path.parent / "lib").symlink_to(evil.parent, target_is_directory=True)
    (path.parent / "utils.py").write_text("def fn(doc):\n    return 'ok'\n")
    _refused(evalkit_cli, path, "process_docs", "!function lib.evil.fn", "points outside")
    assert not marker.exists()


def test_a_module_on_sys_path_is_not_a_fallback(write_task: WriteTask, tmp_path: Path, marker: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _evil_module(tmp_path / "site", marker, name="evalkit_test_evil_hook")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    path = write_task(extra="doc_to_text: !function evalkit_test_evil_hook.fn\n")
    with pytest.raises(TaskError, match=r"key 'doc_to_text'.*evalkit_test_evil_hook\.py' does not exist"):
        load_task(TaskRegistry([]).resolve(str(path)))
    assert not marker.exists() and "evalkit_test_evil_hook" not in sys.modules


@pytest.mark.parametrize("reference", ["absolute", "relative"])
def test_include_outside_the_roots_is_refused(evalkit_cli, write_task: WriteTask, tmp_path: Path,
                                              marker: Path, reference: str) -> None:
    _evil_module(tmp_path / "outside", marker)
    other = tmp_path / "outside" / "other.yaml"
    other.write_text("doc_to_text: !function evil.fn\n")
    path = write_task()
    include = str(other) if reference == "absolute" else "../../outside/other.yaml"
    path.write_text(f"include: {include}\n" + path.read_text())
    _refused(evalkit_cli, path, "t.yaml", "key 'include'", f"include: {include}", "points outside")
    assert not marker.exists()


def test_resolving_for_a_run_refuses_the_same(write_task: WriteTask, tmp_path: Path, marker: Path) -> None:
    evil = _evil_module(tmp_path / "outside", marker)
    write_task(extra=f"doc_to_text: !function {evil.with_suffix('')}.fn\n")
    entry = TaskRegistry.discover([tmp_path / "tasks"]).resolve("t")
    assert entry.root == (tmp_path / "tasks").resolve()
    with pytest.raises(TaskError, match="doc_to_text"):
        load_task(entry)
    assert not marker.exists()


def test_includes_and_hooks_inside_the_named_directory_work(write_task: WriteTask, tmp_path: Path) -> None:
    common = tmp_path / "tasks" / "common"
    common.mkdir(parents=True)
    (common / "base.yaml").write_text("doc_to_text: !function lib.hooks.prompt\n")
    (common / "lib").mkdir()
    (common / "lib" / "hooks.py").write_text("def prompt(doc):\n    return 'Say: ' + doc['text']\n")
    path = write_task()
    path.write_text("include: ../common/base.yaml\n" + path.read_text().replace('doc_to_text: "{{text}}"\n', ""))
    loaded = load_task(TaskRegistry.discover([tmp_path / "tasks"]).resolve("t"))
    assert loaded.task.doc_to_text(loaded.task.eval_docs[0]) == "Say: good"
    # given by path alone, the file's own directory is the root: the sibling folder is outside it
    with pytest.raises(TaskError, match="points outside"):
        TaskRegistry([]).resolve(str(path))


def test_validate_a_directory_uses_it_as_the_root(evalkit_cli, write_task: WriteTask, tmp_path: Path) -> None:
    (tmp_path / "tasks" / "common").mkdir(parents=True)
    (tmp_path / "tasks" / "common" / "base.yaml").write_text("doc_to_target: label\n")
    path = write_task()
    path.write_text("include: ../common/base.yaml\n" + path.read_text())
    result = evalkit_cli("tasks", "validate", tmp_path / "tasks")
    assert result.exit_code == 0, result.output
    assert "t: 2 evaluation documents" in result.output and "include-only template, skipped" in result.output


@pytest.mark.parametrize("how", ["sys.exit", "os._exit"])
@pytest.mark.parametrize("where", ["import", "call"])
def test_a_hook_that_exits_is_a_task_error(evalkit_cli, write_task: WriteTask, where: str, how: str) -> None:
    path = write_task(extra="doc_to_text: !function utils.prompt\n")
    body = f"import os, sys\n{how}(0)\n" if where == "import" else "import os, sys\n"
    body += f"def prompt(doc):\n    {how}(3)\n" if where == "call" else "def prompt(doc):\n    return 'x'\n"
    (path.parent / "utils.py").write_text(body)
    for args in (("tasks", "validate", path), ("tasks", "show", path)):
        result = evalkit_cli(*args)
        assert result.exit_code == 2, result.output
        assert "!function utils.prompt" in result.output and f"{how}(" in result.output
        assert "Traceback" not in result.output
    with pytest.raises(TaskError, match=rf"{how.replace('.', '[.]')}\((0|3)\)"):
        load_task(TaskRegistry([]).resolve(str(path)))


def test_a_thread_left_running_by_a_hook_does_not_keep_evalkit_alive(write_task: WriteTask, tiny_model_dir: Path,
                                                                      tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = write_task(extra="doc_to_text: !function utils.prompt\n")
    (path.parent / "utils.py").write_text("import threading, time\nthreading.Thread(target=time.sleep, args=(3600,), "
                                          "name='hook-sleeper').start()\ndef prompt(doc):\n    return doc['text']\n")
    result = subprocess.run([sys.executable, "-m", "evalkit", "run", "-m", str(tiny_model_dir), "-t", str(path),
                             "--store", str(tmp_path / "r.db")], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert result.returncode == 0, result.stderr
    assert "stored in" in result.stdout and "left thread(s) running (hook-sleeper)" in result.stderr


def test_a_failing_hook_is_named(write_task: WriteTask) -> None:
    path = write_task(extra="process_docs: !function utils.process\n")
    (path.parent / "utils.py").write_text("def process(dataset):\n    return dataset['no_such_column']\n")
    with pytest.raises(TaskError, match=r"Hook `!function utils\.process` \(task file .*t\.yaml', key 'process_docs'\) failed: \w+Error: Column 'no_such_column'"):
        load_task(TaskRegistry([]).resolve(str(path)))


def test_a_symlinked_yaml_given_by_path_does_not_root_at_the_link_target(evalkit_cli, write_task: WriteTask,
                                                                         tmp_path: Path, marker: Path) -> None:
    """Issue 24 item 1: `-t here/t.yaml` where t.yaml links to a file elsewhere: the root is `here`
    (the path as given), so hooks next to the link target are refused and never imported."""
    target = write_task("elsewhere", extra="doc_to_text: !function evil.fn\n")
    _evil_module(target.parent, marker)
    here = tmp_path / "here"
    here.mkdir()
    (here / "t.yaml").symlink_to(target)
    _refused(evalkit_cli, here / "t.yaml", "!function evil.fn", "points outside", str(here))
    with pytest.raises(TaskError, match="points outside"):
        load_task(TaskRegistry([]).resolve(str(here / "t.yaml")))
    assert not marker.exists()


def test_a_symlinked_folder_does_not_widen_the_root_to_a_task_source(write_task: WriteTask, tmp_path: Path,
                                                                     marker: Path) -> None:
    """A folder linked into a task source's subfolder is rooted at the folder as given, not at the
    whole source its target lies in: a sibling folder of the target is outside it."""
    path = write_task("source/sub", extra="doc_to_text: !function evil.fn\n")
    path.write_text(path.read_text().replace("!function evil.fn", "!function lib.evil.fn"))
    (path.parent / "lib").symlink_to(tmp_path / "source" / "other", target_is_directory=True)
    _evil_module(tmp_path / "source" / "other", marker)
    (tmp_path / "given").symlink_to(path.parent, target_is_directory=True)
    registry = TaskRegistry.discover([tmp_path / "source"])
    entry = registry.resolve(str(tmp_path / "given" / "t.yaml"))
    assert entry.root == path.parent.resolve()
    with pytest.raises(TaskError, match="points outside"):
        load_task(entry)
    assert not marker.exists()
