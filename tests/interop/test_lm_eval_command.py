"""`evalkit lm-eval ARGS...`: lm-eval's own CLI with evalkit's backend; its numbers equal `evalkit run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interop.conftest import results_file


def test_lm_eval_cli_with_evalkit_backend_equals_evalkit_run(tiny_model_dir: Path, task_dir: Path, tmp_path: Path,
                                                             evalkit_cli) -> None:
    out, db = tmp_path / "out", tmp_path / "results.db"
    done = evalkit_cli("lm-eval", "--model", "evalkit", "--model_args", f"pretrained={tiny_model_dir},dtype=float32",
                       "--tasks", "toy_sentiment", "--include_path", task_dir, "--limit", 4,
                       "--output_path", out, "--log_samples")  # lm-eval's default device (cuda:0) falls back
    assert done.exit_code == 0, done.output
    recorded = json.loads(results_file(out).read_text(encoding="utf-8"))
    assert recorded["config"]["model"] == "evalkit" and recorded["results"]["toy_sentiment"]["sample_len"] == 4
    assert evalkit_cli("results", "import", out, "--store", db).exit_code == 0
    ran = evalkit_cli("run", "-m", tiny_model_dir, "-t", task_dir / "toy_sentiment.yaml", "--limit", 4,
                      "--dtype", "float32", "--store", db)
    assert ran.exit_code == 0, ran.output
    compared = evalkit_cli("compare", "latest~1", "latest", "--store", db, "--format", "json")
    assert compared.exit_code == 0, compared.output
    (row,) = json.loads(compared.stdout)["comparisons"][0]["rows"]
    assert (row["n"], row["unmatched_a"], row["unmatched_b"], row["delta"]) == (4, 0, 0, 0.0)
    assert row["value_a"] == row["value_b"] == recorded["results"]["toy_sentiment"]["acc,none"]


def test_lm_eval_usage_errors_keep_lm_eval_exit_status(evalkit_cli) -> None:
    result = evalkit_cli("lm-eval", "run", "--no-such-flag")
    assert result.exit_code == 2
    assert "--no-such-flag" in result.stderr


def test_lm_eval_help_is_lm_eval_own(evalkit_cli) -> None:
    result = evalkit_cli("lm-eval", "run", "--help")
    assert result.exit_code == 0 and "--log_samples" in result.stdout


def _hook_task(folder: Path, hook: str) -> Path:
    """An lm-eval task folder whose prompt is the `!function` hook `hook`."""
    folder.mkdir(parents=True)
    (folder / "d.jsonl").write_text('{"text": "a", "label": 0}\n{"text": "b", "label": 1}\n')
    (folder / "hooked.yaml").write_text(
        f"task: hooked\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {folder / 'd.jsonl'}\n"
        f"test_split: test\noutput_type: multiple_choice\ndoc_to_text: !function {hook}\n"
        "doc_to_target: label\ndoc_to_choice: ['no', 'yes']\n")
    return folder


def test_lm_eval_command_refuses_a_hook_from_an_absolute_path(evalkit_cli, tmp_path: Path) -> None:
    """Issue 24 item 2: lm-eval's loader imported `!function /abs/path/mod.fn` from anywhere."""
    marker = tmp_path / "IMPORTED"
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "evil.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\ndef fn(doc):\n    return 'x'\n")
    folder = _hook_task(tmp_path / "tasks", f"{tmp_path / 'outside' / 'evil'}.fn")
    result = evalkit_cli("lm-eval", "--model", "dummy", "--tasks", "hooked", "--include_path", folder, "--limit", 1)
    assert result.exit_code == 2, result.output
    assert "module.function" in result.output and not marker.exists()


def test_lm_eval_hook_imports_only_from_the_yaml_folder_or_lm_eval(tmp_path: Path) -> None:
    from evalkit.errors import TaskError
    from evalkit.tasks.hooks import lm_eval_hook

    (tmp_path / "utils.py").write_text("def fn(doc):\n    return 'ok'\n")
    assert lm_eval_hook("utils.fn", tmp_path)({}) == "ok"
    assert lm_eval_hook("lm_eval.utils.regex_replace", tmp_path)("ab", "b", "c") == "ac"
    for bad in ("os.system", "../utils.fn", f"{tmp_path}/utils.fn"):
        with pytest.raises(TaskError):
            lm_eval_hook(bad, tmp_path / "sub")


def test_lm_eval_unknown_task_is_bad_input(evalkit_cli) -> None:
    """Issue 24 item 11: lm-eval's "Tasks not found" is found before any model loads: exit 2, not 1."""
    result = evalkit_cli("lm-eval", "--model", "dummy", "--tasks", "no_such_task_xyz")
    assert result.exit_code == 2, result.output
    assert "Tasks not found: no_such_task_xyz" in result.stderr
