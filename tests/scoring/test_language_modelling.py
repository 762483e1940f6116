"""The built-in language-modelling task (wikitext, loglikelihood_rolling): lm-eval's corpus
perplexities from evalkit's backend, and a per-document log-likelihood for paired comparisons."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

LIMIT = 2


def _evaluate(lm: object) -> object:
    from evalkit.engine.evaluation import evaluate_task
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    loaded = load_task(TaskRegistry.discover().resolve("wikitext"))
    return evaluate_task(lm, loaded, num_fewshot=0, limit=LIMIT, seed=1234)


def test_wikitext_perplexities_equal_hflm_and_each_document_has_its_loglikelihood(tiny_lm, tiny_hflm) -> None:
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    ours, theirs = _evaluate(EvalkitLM(model, tokenizer)), _evaluate(tiny_hflm)
    by_metric = {m.metric: m for m in ours.metrics}
    assert set(by_metric) == {"word_perplexity", "byte_perplexity", "bits_per_byte", "loglikelihood"}
    for metric in ("word_perplexity", "byte_perplexity", "bits_per_byte"):
        reference = next(m for m in theirs.metrics if m.metric == metric)
        assert by_metric[metric].value == pytest.approx(reference.value, rel=1e-4), metric
        assert by_metric[metric].higher_is_better is False
    lls = [s.scores["loglikelihood"] for s in ours.samples]
    assert len(lls) == LIMIT and all(math.isfinite(v) and v < 0 for v in lls)
    assert [s.scores["loglikelihood"] for s in theirs.samples] == pytest.approx(lls, rel=1e-4)
    assert by_metric["loglikelihood"].higher_is_better is True
    assert by_metric["loglikelihood"].value == pytest.approx(sum(lls) / LIMIT)
    # bits_per_byte is the corpus ratio of the per-document log-likelihoods: the paired test on them
    # tests exactly the change of bits_per_byte over the same documents.
    size = sum(len(d["page"].encode("utf-8")) for d in list(_docs())[:LIMIT])
    assert by_metric["bits_per_byte"].value == pytest.approx(-sum(lls) / size / math.log(2), rel=1e-6)


def _docs() -> object:
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    return load_task(TaskRegistry.discover().resolve("wikitext")).task.eval_docs


def test_wikitext_runs_from_the_command_line_and_stores_per_document_loglikelihoods(
        evalkit_cli, tiny_model_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "lm.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", "wikitext", "--limit", LIMIT, "--store", store)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT metric, higher_is_better FROM metrics").fetchall()
        scores = [r[0] for r in conn.execute("SELECT scores_json FROM samples")]
    assert dict(rows) == {"word_perplexity": 0, "byte_perplexity": 0, "bits_per_byte": 0, "loglikelihood": 1}
    assert len(scores) == LIMIT and all('"loglikelihood"' in s for s in scores)
