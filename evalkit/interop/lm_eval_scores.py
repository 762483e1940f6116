"""The score rule (evalkit.store.scores) applied to an lm-eval output before anything is stored: every
per-document score lm-eval logged is a readable number (or a corpus-level item), every aggregate in
the results file is a number, and a mean-aggregated aggregate is the mean of its documents' scores.
An import stores only what lm-eval computed: each check returns what is wrong (naming the file, the line
or the task, and the metric), for the reader (evalkit.interop.lm_eval_files) to refuse with."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evalkit.store import BAD, OK, describe_score, is_mean_aggregated, mean_disagreement, score_kind

UNCHANGED_HINT = ("Import the files lm-eval wrote, unchanged; if lm-eval itself wrote them, re-run it "
                  "(lm_eval --output_path DIR --log_samples) and import DIR.")


def sample_score_problem(path: Path, number: int, sample: dict[str, Any], *, rolling: bool = False) -> str | None:
    """Unless every metric the sample lists holds a finite number or a list / object (a corpus-level
    item), and (`rolling`: a loglikelihood_rolling task) its response is the document's log-likelihood,
    evalkit's per-document score: what the first other one holds."""
    for metric in sample["metrics"]:
        if score_kind(sample, metric) == BAD:
            return (f"'{path}', line {number}: doc_id {sample['doc_id']} has no readable score for metric "
                    f"'{metric}': {describe_score(sample, metric)}; lm-eval did not compute it.")
    loglikelihood = {"loglikelihood": first_number(sample["filtered_resps"])}
    if rolling and score_kind(loglikelihood, "loglikelihood") != OK:
        return (f"'{path}', line {number}: doc_id {sample['doc_id']} has no readable log-likelihood in "
                f"'filtered_resps' ({describe_score(loglikelihood, 'loglikelihood')}); lm-eval did not compute it.")
    return None


def first_number(value: Any) -> float:
    """The first number of a logged response ([[ll, greedy]] or ['ll']), NaN when it holds none."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def aggregate_problem(path: Path, task: str, results: dict[str, Any], config: dict[str, Any],
                      samples_path: Path, samples: list[dict[str, Any]]) -> str | None:
    """Unless every aggregate (`metric,filter` key, stderr aside) is a number and a mean-aggregated one
    equals the mean of its documents' scores in the samples file: what is wrong with the first other."""
    aggregations = _aggregations(config)
    for key, value in results.items():
        metric, sep, filter_name = str(key).partition(",")
        if not sep or metric.endswith("_stderr"):
            continue
        if score_kind(results, key) != OK:
            return (f"'{path}': metric '{key}' of task '{task}' is not a number "
                    f"({describe_score(results, key).replace('the score', 'its value')}); "
                    "lm-eval did not compute it, and a run without it would not be complete.")
        if not is_mean_aggregated(metric, aggregations.get(metric)):
            continue
        documents = [s for s in samples if s.get("filter") == filter_name and metric in s["metrics"]]
        reason = mean_disagreement(value, documents, metric)
        if reason:
            return (f"'{path}': metric '{key}' of task '{task}' contradicts its documents in "
                    f"'{samples_path}': {reason}. lm-eval computes it as that mean, so one of the two "
                    "files was edited.")
    return None


def _aggregations(config: dict[str, Any]) -> dict[str, Any]:
    """metric -> the aggregation the task's metric_list names (absent: lm-eval's registered default)."""
    listed = config.get("metric_list")
    if not isinstance(listed, list):
        return {}
    return {str(m["metric"]): m["aggregation"] for m in listed
            if isinstance(m, dict) and "metric" in m and m.get("aggregation") is not None}

