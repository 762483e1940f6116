"""Bad data files are named with file and line (not "DatasetGenerationError: An error occurred
while generating the dataset"), and a ragged CSV row is no longer passed as valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import load_task
from tests.tasks.conftest import BASE_YAML, WriteTask

CSV_YAML = BASE_YAML.replace("dataset_path: json", "dataset_path: csv").replace("test.jsonl", "test.csv")


def _problem(evalkit_cli, path: Path) -> str:
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "An error occurred while generating" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize(("data", "message"), [
    (b'{"text": "good", "label": 1}\n{"text": "caf\xe9", "label": 0}\n', "test.jsonl', line 2: not UTF-8"),
    ('{"text": "good", "label": 1}\n{"text": "bad", "label": 0\n', "test.jsonl', line 2, column 27: not valid JSON"),
    ('{"text": "good", "label": 1}\n[1, 2]\n', "test.jsonl', line 2: a JSON list, not an object"),
    ("", "test.jsonl' is empty"),
    ("\n\n", "only blank lines"),
])
def test_bad_json_lines_name_file_and_line(evalkit_cli, write_task: WriteTask, data: str | bytes,
                                           message: str) -> None:
    path = write_task(data=data)
    assert message in _problem(evalkit_cli, path)
    with pytest.raises(TaskError, match="test.jsonl"):
        load_task(TaskRegistry([]).resolve(str(path)))


@pytest.mark.parametrize(("rows", "message"), [
    ("text,label\ngood,1\nbad,0,extra\n", "test.csv', line 3: 3 fields, but the header (line 1) has 2"),
    ("text,label\ngood,1\nbad\n", "test.csv', line 3: 1 fields, but the header (line 1) has 2"),
    (b"text,label\ngood,1\ncaf\xe9,0\n", "test.csv', line 3: not UTF-8"),
])
def test_bad_csv_rows_name_file_and_line(evalkit_cli, write_task: WriteTask, rows: str | bytes,
                                         message: str) -> None:
    path = write_task(body=CSV_YAML.format(name="t"))
    csv_file = path.parent / "test.csv"
    csv_file.write_bytes(rows) if isinstance(rows, bytes) else csv_file.write_text(rows)
    assert message in _problem(evalkit_cli, path)


def test_a_valid_csv_task_still_loads(write_task: WriteTask) -> None:
    path = write_task(body=CSV_YAML.format(name="t"))
    (path.parent / "test.csv").write_text('text,label\ngood,1\n"bad, really",0\n')
    loaded = load_task(TaskRegistry([]).resolve(str(path)))
    assert [d["text"] for d in loaded.task.eval_docs] == ["good", "bad, really"]


def test_a_data_file_that_is_a_directory(evalkit_cli, write_task: WriteTask) -> None:
    path = write_task()
    (path.parent / "test.jsonl").unlink()
    (path.parent / "test.jsonl").mkdir()
    assert "key 'dataset_kwargs.data_files.test': data file 'test.jsonl' is a directory" in _problem(evalkit_cli, path)
