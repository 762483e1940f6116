"""Task YAML a new user might write wrongly: each is exit 2 naming the file and key, never a
traceback; and one broken file never hides the other tasks from `tasks list` / `tasks show`."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import load_task
from tests.tasks.conftest import WriteTask

WRONG = [
    ("include: 5\n", "key 'include' must be a file name"),
    ("include: [1]\n", "key 'include' must be a file name"),
    ("task: 5\n", "task: 5"),
    ("doc_to_choice: 5\n", "key 'doc_to_choice' must be"),
    ("doc_to_text: [a, b]\n", "key 'doc_to_text' must be"),
    ("num_fewshot: -3\n", "key 'num_fewshot' must be 0 or more, not -3"),
    ("num_fewshot: x\n", "key 'num_fewshot' must be an integer or empty, not 'x'"),
    ("num_fewshot: true\n", "key 'num_fewshot' must be an integer"),
    ("repeats: 0\n", "key 'repeats' must be 1 or more"),
    ("dataset_kwargs: 5\n", "key 'dataset_kwargs' must be a mapping"),
    ("dataset_kwargs: {data_files: 5}\n", "key 'dataset_kwargs.data_files' must be a path"),
    ("dataset_kwargs: {data_files: {test: [1]}}\n", "key 'dataset_kwargs.data_files.test' must be a path"),
    ("metric_list: 5\n", "key 'metric_list' must be a list"),
    ("metric_list: [acc]\n", "key 'metric_list[0]' must be a mapping with a `metric:` name"),
    ("output_type: choice\n", "key 'output_type' must be one of"),
    ("generation_kwargs: {until: 5}\n", "key 'generation_kwargs.until' must be a string or a list"),
    ("generation_kwargs: {max_gen_toks: -1}\n", "key 'generation_kwargs.max_gen_toks' must be a positive"),
    ("filter_list: [5]\n", "key 'filter_list[0]' must be a mapping"),
    ("description: 5\n", "key 'description' must be a string"),
    ("dataset_name: 2020\n", "key 'dataset_name' must be a string"),
    ("training_split: [a]\n", "key 'training_split' must be a string"),
    ("should_decontaminate: 'yes'\n", "key 'should_decontaminate' must be true/false"),
    ("generation_kwargs: {temperature: hot}\n", "key 'generation_kwargs.temperature' must be a number"),
    ("dataset_path: null\n", "key 'dataset_path' is missing"),
    ('doc_to_text: "{{ no_such_field }}"\n', "key 'doc_to_text': rendering the document"),
    ('doc_to_choice: "{{ text }}"\n', "key 'doc_to_choice': rendering the document"),
]


@pytest.mark.parametrize(("extra", "message"), WRONG, ids=[w[0].strip() for w in WRONG])
def test_wrong_types_name_file_and_key(evalkit_cli, write_task: WriteTask, extra: str, message: str) -> None:
    path = write_task(extra=extra)
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert message in result.output and "t.yaml" in result.output
    assert "Traceback" not in result.output and "TypeError: TypeError" not in result.output


@pytest.mark.parametrize(("extra", "message"), WRONG[3:8], ids=[w[0].strip() for w in WRONG[3:8]])
def test_wrong_types_are_refused_when_resolving_for_a_run(write_task: WriteTask, tmp_path: Path,
                                                          extra: str, message: str) -> None:
    write_task(extra=extra)
    with pytest.raises(TaskError, match="t.yaml"):
        load_task(TaskRegistry.discover([tmp_path / "tasks"]).resolve("t"))


@pytest.mark.parametrize(("body", "message"), [
    ("", "is empty"),
    ("# only a comment\n", "is empty"),
    ("- task: t\n", "must hold a mapping of keys"),
    ("just a string\n", "must hold a mapping of keys"),
    ("doc_to_text: hi\n", "has no `task:` key"),
    ("task: t\ndoc_to_text: !function [a]\n", "not valid YAML"),
])
def test_malformed_files(evalkit_cli, write_task: WriteTask, body: str, message: str) -> None:
    result = evalkit_cli("tasks", "validate", write_task(body=body))
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_directory_named_like_a_yaml_file(evalkit_cli, tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    for args in (("tasks", "show", tmp_path / "x.yaml"), ("tasks", "validate", tmp_path / "x.yaml")):
        result = evalkit_cli(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "is a directory" in evalkit_cli("tasks", "show", tmp_path / "x.yaml").output
    assert "No task YAML files" in evalkit_cli("tasks", "validate", tmp_path / "x.yaml").output


def test_a_very_deep_include_chain_is_capped(evalkit_cli, write_task: WriteTask) -> None:
    path = write_task()
    for i in range(40):
        (path.parent / f"part{i}.yaml").write_text(f"include: part{i + 1}.yaml\n")
    (path.parent / "part40.yaml").write_text("description: ''\n")
    path.write_text("include: part0.yaml\n" + path.read_text())
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "more than 32 files deep" in result.output and "RecursionError" not in result.output


def test_include_of_a_directory_or_missing_file(evalkit_cli, write_task: WriteTask) -> None:
    path = write_task()
    (path.parent / "sub.yaml").mkdir()
    text = path.read_text()
    path.write_text("include: sub.yaml\n" + text)
    assert "is a directory" in evalkit_cli("tasks", "validate", path).output
    path.write_text("include: nothere.yaml\n" + text)
    assert "'nothere.yaml' does not exist" in evalkit_cli("tasks", "validate", path).output


@pytest.mark.parametrize("broken", ["include: 5\n", "task: 5\ndataset_path: json\n", "task: [unclosed\n",
                                    "RECURSE", "- a list\n", ""])
def test_one_broken_file_does_not_hide_the_others(evalkit_cli, write_task: WriteTask, tmp_path: Path,
                                                  broken: str) -> None:
    write_task("tasks/good", name="good")
    bad = tmp_path / "tasks" / "bad" / "bad.yaml"
    bad.parent.mkdir(parents=True)
    if broken == "RECURSE":
        for i in range(40):
            (bad.parent / f"c{i}.yaml").write_text(f"include: c{i + 1}.yaml\n")
        (bad.parent / "c40.yaml").write_text("description: ''\n")
        broken = "include: c0.yaml\ntask: bad\n"
    bad.write_text(broken)
    listing = evalkit_cli("tasks", "list", "--include-path", tmp_path / "tasks")
    assert listing.exit_code == 0, listing.output
    assert "good" in listing.stdout and "sst2" in listing.stdout
    assert "could not be read" in listing.stderr and "bad" in listing.stderr
    shown = evalkit_cli("tasks", "show", "good", "--include-path", tmp_path / "tasks", "--examples", "1")
    assert shown.exit_code == 0, shown.output
    assert "document 0" in shown.stdout


def test_a_wrongly_typed_listed_task_does_not_break_the_listing(evalkit_cli, write_task: WriteTask,
                                                                tmp_path: Path) -> None:
    write_task("tasks/good", name="good")
    write_task("tasks/odd", name="odd", extra="dataset_kwargs: 5\n")
    write_task("tasks/odder", name="odder", extra="training_split: [x]\nvalidation_split: {a: 1}\n")
    listing = evalkit_cli("tasks", "list", "--include-path", tmp_path / "tasks")
    assert listing.exit_code == 0, listing.output
    assert "good" in listing.stdout and "odd" in listing.stdout and "odder" in listing.stdout


def test_an_alias_bomb_or_a_self_reference_is_refused_quickly(evalkit_cli, tmp_path: Path) -> None:
    import time

    levels = ['  a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"  {name}: &{name} [{','.join(['*' + prev] * 10)}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("task: t\ndataset_path: json\nmetadata:\n" + "\n".join(levels) + "\n")
    looped = tmp_path / "loop.yaml"
    looped.write_text("task: t\ndataset_path: json\nmetadata: &m {self: *m}\n")
    start = time.monotonic()
    for path, needle in ((bomb, "expands to more than 200,000 values"), (looped, "contains itself")):
        result = evalkit_cli("tasks", "validate", path)
        assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output, result.output
    assert time.monotonic() - start < 30
