"""Two real CPU processes (accelerate launcher, gloo) score cells as one process does, stored once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.distributed.conftest import GEN, SENTIMENT, run_rows, stored_runs


def test_two_processes_store_what_one_process_stores(tiny_model_dir, tmp_path, evalkit_cli, evalkit_processes,
                                                   rolling_task):
    tasks = ["-t", SENTIMENT, "-t", GEN, "-t", rolling_task]
    two, one = tmp_path / "two.db", tmp_path / "one.db"
    launched = evalkit_processes("run", "-m", tiny_model_dir, *tasks, "--processes", "2", "--store", two)
    assert launched.exit_code == 0, launched.output
    assert "share 1 of 2" in launched.output  # progress is the main process's share
    assert launched.output.count("evalkit report:") == 1  # only the main process reports
    single = evalkit_cli("run", "-m", tiny_model_dir, *tasks, "--no-cache", "--store", one)
    assert single.exit_code == 0, single.output

    (run,) = stored_runs(two)  # written once, by the main process
    assert run["status"] == "complete" and run["cells"] == 3
    rows_two, rows_one = run_rows(two, run["run_id"]), run_rows(one, stored_runs(one)[0]["run_id"])
    # Multiple choice and generation: identical metrics, per-document scores and predictions. Raw
    # log-likelihoods: a process's share is padded to its own widest row, which moves float32 values
    # in the last bits (as another batch size does), so they and perplexities agree to 1e-6.
    exact = [m for m in rows_one["metrics"] if m["task"] != "toy_rolling"]
    assert [m for m in rows_two["metrics"] if m["task"] != "toy_rolling"] == exact
    for task in ("toy_sentiment", "toy_gen"):
        for field in ("doc_hash", "prompt", "target", "prediction", "scores"):
            assert [r[field] for r in rows_two["samples"][task]] == [r[field] for r in rows_one["samples"][task]]
    for task in ("toy_sentiment", "toy_gen", "toy_rolling"):
        _assert_close_rows(rows_two["samples"][task], rows_one["samples"][task])
    _assert_close_rows(rows_two["metrics"], rows_one["metrics"])
    assert {task: len(rows) for task, rows in rows_two["samples"].items()} == {
        "toy_sentiment": 24, "toy_gen": 5, "toy_rolling": 6}
    sentiment = json.loads(rows_two["details"]["toy_sentiment"]["details_json"])
    assert sentiment["requests"]["computed"] == 48 and sentiment["requests"]["reused"] == 0
    assert 0 < sentiment["requests"]["saved"] < 48  # the main process saved its share; the other saved the rest


def test_a_fine_tuned_cell_under_two_processes(tiny_model_dir, tmp_path, evalkit_cli, evalkit_processes):
    """Fine-tuning under accelerate (evalkit.finetune): every process trains, the main one caches the adapter."""
    args = ("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "fine-tuned", "--limit", "8",
            "--ft-max-steps", "2", "--ft-batch-size", "4", "--ft-max-examples", "8", "--no-cache")
    launched = evalkit_processes(*args, "--processes", "2", "--store", tmp_path / "two.db")
    assert launched.exit_code == 0, launched.output
    (run,) = stored_runs(tmp_path / "two.db")
    assert run["status"] == "complete" and run["cells"] == 1
    rows = run_rows(tmp_path / "two.db", run["run_id"])
    assert len(rows["samples"]["toy_sentiment"]) == 8 and rows["details"]["toy_sentiment"]["adapter"]


def _assert_close_rows(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Equal rows, numbers within 1e-6 relative (nested lists and dicts compared item by item)."""
    assert len(got) == len(expected)
    for row, want in zip(got, expected):
        flat, flat_want = _plain(row), _plain(want)
        assert flat.keys() == flat_want.keys()
        floats = [k for k, v in flat_want.items() if isinstance(v, float)]
        assert {k: v for k, v in flat.items() if k not in floats} == \
            {k: v for k, v in flat_want.items() if k not in floats}
        close = pytest.approx([flat_want[k] for k in floats], rel=1e-6, abs=1e-9, nan_ok=True)
        assert [flat[k] for k in floats] == close


def _plain(value: Any) -> Any:
    """Nested rows flattened to {path: value}, so pytest.approx compares the numbers in them."""
    flat: dict[str, Any] = {}

    def walk(path: str, item: Any) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                walk(f"{path}.{key}", inner)
        elif isinstance(item, (list, tuple)):
            for index, inner in enumerate(item):
                walk(f"{path}[{index}]", inner)
        else:
            flat[path] = _number(item) if isinstance(item, str) else item

    walk("", value)
    return flat


def _number(text: str) -> float | str:
    """A rolling task's prediction is its log-likelihood as text: compared as the number it is."""
    try:
        return float(text)
    except ValueError:
        return text
