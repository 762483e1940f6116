"""`evalkit lm-eval ARGS...`: lm-eval's own CLI with evalkit's backend; its numbers equal `evalkit run`."""

from __future__ import annotations

import json
from pathlib import Path

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
