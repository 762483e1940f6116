"""Prompts longer than the model's context are cut from the left (as HFLM does): each cell counts the
documents cut and by how many tokens (details["truncation"]), the run warns, `results show` says so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from evalkit.report.truncation import truncation_line
from evalkit.scoring.loglikelihood import causal_items
from evalkit.scoring.truncation import generation_cut, loglikelihood_cut

SENTIMENT = str(Path(__file__).resolve().parents[1] / "fixtures" / "tasks" / "toy_sentiment" / "toy_sentiment.yaml")


def test_the_cut_is_what_causal_items_drops_from_the_context() -> None:
    for context, continuation, max_length in ((10, 3, 8), (5, 3, 8), (6, 3, 8), (20, 1, 4)):
        (item,) = causal_items([(None, list(range(context)), [99] * continuation)], max_length)
        kept = len(item.seq) - (continuation - 1)
        assert loglikelihood_cut(context, continuation, max_length, encoder_decoder=False) == context - kept
    assert generation_cut(600, 256, 512, encoder_decoder=False) == 344
    assert generation_cut(600, 256, 512, encoder_decoder=True) == 88


def test_a_few_shot_prompt_beyond_the_context_is_counted_warned_and_shown(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "t.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "zero-shot", "--setting", "few-shot:30",
                         "--limit", "3", "--batch-size", "4", "--no-cache", "--store", store, "--name", "cut")
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(store)
    rows = dict(conn.execute("SELECT setting, details_json FROM cells").fetchall())
    conn.close()
    assert "truncation" not in json.loads(rows["zero-shot"])
    cut = json.loads(rows["few-shot:30"])["truncation"]
    assert cut["documents"] == cut["truncated_documents"] == 3 and cut["max_length"] == 512
    assert 0 < cut["mean_cut_tokens"] <= cut["max_cut_tokens"]
    line = truncation_line({"truncation": cut})
    assert line is not None and line.startswith("3 of 3 documents' prompts truncated to 512 tokens, up to ")
    assert "Warning: task toy_sentiment few-shot:30" in " ".join(result.output.split())
    shown = evalkit_cli("results", "show", "cut", "--store", store)
    assert shown.exit_code == 0, shown.output
    assert f"Truncated prompts: {Path(tiny_model_dir).name} · toy_sentiment · few-shot:30: {line}" in shown.stdout
