"""Messages that name the real fault (issue 24 item 13): unrunnable and non-string task names are
warned about at discovery, a key written twice is an error naming file, line and key, an empty
choice is named as such, and data-file faults name the file and the line where they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.yaml_source import read_task_yaml
from tests.tasks.conftest import BASE_YAML, WriteTask


@pytest.mark.parametrize("name", ["sub/name", "x.yaml", "lm_eval:hellaswag"])
def test_a_name_that_reads_as_a_path_or_lm_eval_reference_is_warned_not_listed(write_task: WriteTask,
                                                                               name: str) -> None:
    path = write_task(body=BASE_YAML.format(name=f'"{name}"'))
    registry = TaskRegistry.discover([path.parent])
    assert name not in registry.names()
    assert any(f"'{name}' looks like a path" in problem for problem in registry.problems)


@pytest.mark.parametrize("value", ["null", "[a, b]"])
def test_task_null_or_a_list_is_warned(write_task: WriteTask, value: str) -> None:
    path = write_task(body=BASE_YAML.format(name=value))
    registry = TaskRegistry.discover([path.parent])
    assert "t" not in registry.names()
    assert any(str(path) in problem and "is not a task name" in problem for problem in registry.problems)


def test_templates_without_task_key_are_still_skipped_silently(write_task: WriteTask) -> None:
    path = write_task()
    (path.parent / "_template.yaml").write_text("output_type: multiple_choice\n")
    registry = TaskRegistry.discover([path.parent])
    assert "t" in registry.names() and registry.problems == []


def test_a_key_written_twice_names_file_line_and_key(write_task: WriteTask, evalkit_cli) -> None:
    path = write_task(body=BASE_YAML.format(name="t") + 'doc_to_text: "again {{text}}"\n')
    with pytest.raises(TaskError, match=r"line 11: key 'doc_to_text' is written twice \(first on line 8\)"):
        read_task_yaml(path)
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2 and "written twice" in result.output


def test_merge_keys_may_repeat_a_key(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("task: m\nbase: &b\n  k: 1\nother:\n  <<: *b\n  k: 2\n")
    assert read_task_yaml(path)["other"] == {"k": 2}


def test_an_empty_choice_is_named(write_task: WriteTask, evalkit_cli) -> None:
    path = write_task(extra='doc_to_choice: ["", "yes"]\n')
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "choice 0 is empty" in result.output and "outside its choices" not in result.output


def test_an_empty_choice_in_a_later_document_is_named(write_task: WriteTask, evalkit_cli) -> None:
    path = write_task(extra='doc_to_choice: "{{choices}}"\n',
                      data='{"text": "a", "label": 1, "choices": ["n", "y"]}\n'
                           '{"text": "b", "label": 0, "choices": ["n", ""]}\n')
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "document 1: key 'doc_to_choice': choice 1 is empty" in result.output


def test_nan_in_json_lines_names_file_line_and_field(write_task: WriteTask, evalkit_cli) -> None:
    path = write_task(data='{"text": "good", "label": 1}\n{"text": "bad", "label": NaN}\n')
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "test.jsonl', line 2: field 'label' is NaN" in result.output


CSV_YAML = BASE_YAML.replace("dataset_path: json", "dataset_path: csv").replace("test.jsonl", "test.csv")


@pytest.mark.parametrize(("rows", "message"), [
    ("text,label\n", "has a header (line 1) but no rows"),
    ('text,label\ngood,1\n"bad,0\nugly,1\nfine,0\n', "line 3: a quoted field opened on this line is not closed"),
    ("text,label\ngood,1\nbad,0,3\n", "line 3: 3 fields, but the header (line 1) has 2"),
])
def test_csv_faults_name_the_line_where_they_are(write_task: WriteTask, evalkit_cli, rows: str, message: str) -> None:
    path = write_task(body=CSV_YAML.format(name="c"))
    (path.parent / "test.csv").write_text(rows)
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert f"test.csv' {message}" in result.output or f"test.csv', {message}" in result.output, result.output
