"""Documents lm-eval would score silently as wrong are refused by validate and run alike, naming
the document and key (one set of rules: evalkit.tasks.document_checks); duplicate choices, legal
but a tie, are a note."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tasks.conftest import WriteTask

CASES = {
    "hook text None": ("doc_to_text: !function utils.fn\n", "def fn(doc):\n    return None\n",
                       "key 'doc_to_text' must give a string, not None"),
    "hook text list": ("doc_to_text: !function utils.fn\n", "def fn(doc):\n    return ['a', 'b']\n",
                       "key 'doc_to_text' must give a string, not ['a', 'b']"),
    "multiple-input index out of range": ("doc_to_text: !function utils.fn\n", "def fn(doc):\n    return 7\n",
                                          "key 'doc_to_text' gives 7, not an index into its 2 choices"),
    "target text not a choice": ('doc_to_target: "maybe"\n', None,
                                 "key 'doc_to_target': target 'maybe' is not one of the choices ['no', 'yes']"),
    "negative target index": ("doc_to_target: !function utils.fn\n", "def fn(doc):\n    return -1\n",
                              "target index -1 is out of range for 2 choices"),
    "gold list out of range": ("doc_to_target: !function utils.fn\n", "def fn(doc):\n    return [0, 5]\n",
                               "target index 5 is out of range"),
    "empty choices on a later document": (  # lm-eval itself checks only the first document
        "doc_to_choice: !function utils.fn\n", "def fn(doc):\n    return [] if doc['text'] == 'bad' else ['no', 'yes']\n",
        "document 1: key 'doc_to_choice' must give a non-empty list of strings"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validate_and_run_refuse_the_same_document(case: str, evalkit_cli, write_task: WriteTask,
                                                   tiny_model_dir: Path, tmp_path: Path) -> None:
    extra, hook, needle = CASES[case]
    path = write_task(extra=extra)
    if hook:
        (path.parent / "utils.py").write_text(hook)
    validated = evalkit_cli("tasks", "validate", path)
    assert validated.exit_code == 2 and needle in validated.output, validated.output
    run = evalkit_cli("run", "-m", tiny_model_dir, "-t", path, "--store", tmp_path / "r.db")
    assert run.exit_code == 2 and needle in " ".join(run.output.split()), run.output
    assert "Traceback" not in validated.output + run.output


def test_duplicate_choices_are_a_note_not_a_problem(evalkit_cli, write_task: WriteTask) -> None:
    path = write_task(extra='doc_to_choice: ["yes", "yes"]\n')
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 0, result.output
    assert "note: document 0: key 'doc_to_choice' offers 'yes' twice (choices 0 and 1)" in result.output


def test_a_valid_task_has_no_problem_and_no_note(evalkit_cli, write_task: WriteTask) -> None:
    result = evalkit_cli("tasks", "validate", write_task())
    assert result.exit_code == 0 and "note:" not in result.output and "2 evaluation documents" in result.output
