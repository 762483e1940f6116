"""A user error on one process ends every process, and the launcher exits with that error's code."""

from __future__ import annotations

from tests.distributed.conftest import stored_runs

HOOKS = '''import os

from evalkit.errors import InputError


def docs(dataset):
    if os.environ.get("RANK") == "1":
        raise InputError("toy_rank_error: a bad document (seen by process 1).", hint="Fix the data.")
    return dataset
'''


def test_an_input_error_on_process_one_is_exit_2_from_the_launcher(tiny_model_dir, tmp_path, evalkit_processes):
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "hooks.py").write_text(HOOKS)
    (folder / "test.jsonl").write_text('{"text": "a b c", "label": 0}\n{"text": "d e f", "label": 1}\n')
    (folder / "toy_rank_error.yaml").write_text(
        "task: toy_rank_error\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
        "output_type: multiple_choice\ntest_split: test\nprocess_docs: !function hooks.docs\n"
        "doc_to_text: '{{text}}'\ndoc_to_target: label\ndoc_to_choice: ['no', 'yes']\n"
        "metric_list:\n  - metric: acc\nmetadata:\n  version: 1.0\n")
    launched = evalkit_processes("run", "-m", tiny_model_dir, "-t", folder / "toy_rank_error.yaml",
                                 "--processes", "2", "--store", tmp_path / "r.db", timeout=300)
    assert launched.exit_code == 2, launched.output
    assert "toy_rank_error: a bad document (seen by process 1)." in launched.output
    store = tmp_path / "r.db"  # the main process may or may not have recorded the run before it was stopped
    assert not store.exists() or all(r["status"] != "complete" for r in stored_runs(store))
