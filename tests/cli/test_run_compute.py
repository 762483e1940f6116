"""Each stored cell says what it cost (details["compute"], evalkit.engine.compute): the model's own token
counts and seconds for loglikelihood, rolling and generation requests; `evalkit results show`
prints them; a cell copied from an earlier run, or answered from the request cache, says so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")
GEN = str(FIXTURES / "toy_gen" / "toy_gen.yaml")
# Distinct first characters: in one prefix-shared row the documents share only the prefix token.
DOCS = ["alpha beta gamma delta", "Paris is the capital of France.", "unflinchingly bleak and desperate",
        "Question: Is this sentence positive?"]


def _rolling_task(folder: Path) -> str:
    folder.mkdir()
    (folder / "test.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in DOCS))
    (folder / "toy_rolling.yaml").write_text(
        "task: toy_rolling\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
        "output_type: loglikelihood_rolling\ntest_split: test\ndoc_to_text: ''\ndoc_to_target: '{{text}}'\n"
        "metric_list:\n  - metric: word_perplexity\nmetadata:\n  version: 1.0\n")
    return str(folder / "toy_rolling.yaml")


def _cells(store: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(store)
    try:
        rows = conn.execute("SELECT r.run_id, c.task, c.details_json FROM cells c JOIN runs r USING (run_id) "
                            "ORDER BY r.rowid, c.rowid").fetchall()
    finally:
        conn.close()
    return [{"run_id": run_id, "task": task, **json.loads(details)} for run_id, task, details in rows]


def _prefix_nodes(sequences: list[list[int]]) -> int:
    """Positions of one prefix-trie row holding these sequences: their distinct non-empty prefixes."""
    return len({tuple(seq[:i]) for seq in sequences for i in range(1, len(seq) + 1)})


def test_rolling_cell_counts_exactly_the_tokens_of_its_documents(tiny_model_dir, tmp_path, evalkit_cli):
    from transformers import AutoTokenizer

    task, store = _rolling_task(tmp_path / "rolling"), tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", task, "--batch-size", "1", "--no-cache", "--store", store)
    assert result.exit_code == 0, result.output
    (cell,) = _cells(store)
    compute = cell["compute"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    # lm-eval's rolling window of a short document: the prefix token, then the document but its last token.
    rows = [[tokenizer.bos_token_id, *tokenizer.encode(doc)[:-1]] for doc in DOCS]
    assert compute["requests"] == {"loglikelihood_rolling": len(DOCS)}
    assert compute["forward_tokens"] == compute["input_tokens"] == _prefix_nodes(rows)
    assert compute["batches"] == 1 and compute["generated_tokens"] == 0
    assert 0 < compute["model_seconds"] <= compute["cell_seconds"]
    # model_seconds is stored rounded to 0.1 ms, tokens/s from the unrounded time
    assert compute["tokens_per_second"] == pytest.approx(compute["forward_tokens"] / compute["model_seconds"], rel=0.01)


def test_generation_and_loglikelihood_cells_count_their_requests(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", GEN, "-t", SENTIMENT, "--limit", "3", "--store", store)
    assert result.exit_code == 0, result.output
    by_task = {cell["task"]: cell["compute"] for cell in _cells(store)}
    gen, choice = by_task["toy_gen"], by_task["toy_sentiment"]
    assert gen["requests"] == {"generate_until": 3}
    assert 3 <= gen["generated_tokens"] <= 3 * 8  # max_gen_toks: 8 in toy_gen.yaml; at least one token each
    assert gen["forward_tokens"] >= gen["generated_tokens"]
    assert choice["requests"] == {"loglikelihood": 3 * 2}  # three documents, two choices each
    assert choice["generated_tokens"] == 0 and choice["forward_tokens"] >= choice["input_tokens"] > 0
    assert choice["scored_positions"] >= 3 * 2  # at least one continuation token per request


def test_results_show_prints_compute_and_a_reused_cell_says_where_its_figures_came_from(
        tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "r.db"
    args = ("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "3", "--store", store)
    assert evalkit_cli(*args).exit_code == 0
    assert evalkit_cli(*args).exit_code == 0  # the same cell again: copied from the first run
    first, copy = _cells(store)
    assert copy["reused_from"] == {"run_id": first["run_id"]}
    assert copy["compute"]["original"] == first["compute"]
    assert copy["compute"]["forward_tokens"] == 0 and copy["compute"]["model_seconds"] == 0.0
    assert copy["compute"]["requests"] == {"loglikelihood": 0} and copy["compute"]["reused_from"] == first["run_id"]

    shown = evalkit_cli("results", "show", first["run_id"], "--store", store)
    assert shown.exit_code == 0, shown.output
    assert "Compute per cell" in shown.stdout and f"{first['compute']['forward_tokens']:,}" in shown.stdout
    reused = evalkit_cli("results", "show", copy["run_id"], "--store", store)
    assert reused.exit_code == 0, reused.output
    assert f"reused from {first['run_id']}" in " ".join(reused.stdout.split())


def test_a_cell_answered_from_the_request_cache_ran_no_tokens(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "r.db"
    args = ("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "3", "--store", store)
    assert evalkit_cli(*args).exit_code == 0
    assert evalkit_cli(*args, "--rerun").exit_code == 0  # the cell is computed again, its requests are cached
    _, again = _cells(store)
    assert again["requests"]["reused"] == 6 and again["requests"]["computed"] == 0
    assert again["compute"]["requests"] == {} and again["compute"]["forward_tokens"] == 0
    shown = evalkit_cli("results", "show", again["run_id"], "--store", store)
    assert "6 requests answered from the request cache" in " ".join(shown.stdout.split())


def test_the_compute_line_of_a_fast_exact_cell_says_how_many_documents_were_re_scored():
    from evalkit.engine.compute import compute_line

    details = {"compute": {"forward_tokens": 3244, "model_seconds": 5.85, "cell_seconds": 5.94,
                           "requests": {"loglikelihood": 80}},
               "requests": {"reused": 4},
               "precision": {"precision": "fast-exact", "documents": 40, "rescored_documents": 7,
                             "calibration_documents": 32}}
    line = compute_line(details)
    assert line is not None and line["requests"] == 80 and line["tokens"] == 3244
    assert line["note"] == ("4 requests answered from the request cache; "
                            "fast-exact: 7 of 40 documents re-scored in float32, 32 calibrated (both ways)")
    details["precision"] = {"precision": "fast-exact", "documents": "forty", "rescored_documents": None,
                            "calibration_documents": True}
    assert compute_line({**details, "requests": {}})["note"] == "fast-exact: 0 of 0 documents re-scored in float32"
    assert compute_line({**details, "precision": "exact", "requests": {}})["note"] == ""
