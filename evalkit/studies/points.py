"""What the study views are built from: one run's cells, the metrics each cell reports with the
per-document scores behind them, and a paired test between two cells on their common documents.

A metric is tested item by item when its per-document score is stored; a corpus-level metric
(F1, MCC, perplexities) has none. A language-modelling cell (lm-eval `loglikelihood_rolling`)
stores corpus metrics (word/byte perplexity, bits per byte) and a per-document `loglikelihood`:
the view tests the log-likelihood and shows bits per byte beside it.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.compare.matching import align_samples
from evalkit.compare.scores import describe_score, score_kind
from evalkit.metric_semantics import semantics
from evalkit.errors import InputError
from evalkit.stats import mean_interval, paired_compare
from evalkit.store import cells_frame, metrics_frame, samples_frame

LM_CORPUS_METRICS = ("word_perplexity", "byte_perplexity", "bits_per_byte")
LM_ITEM_METRIC = "loglikelihood"
COMPANION_METRIC = "bits_per_byte"
NO_ITEM_SCORES = "no per-document scores"
NO_COMMON_DOCS = "no documents in common"


@dataclass(frozen=True)
class MetricPoint:
    """A cell's value of one metric and the key of its per-document score (None: corpus-level)."""

    metric: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    higher_is_better: bool
    item_key: str | None


@dataclass
class RunData:
    """One run's cells (details parsed), metrics and per-document scores, loaded once."""

    run_id: str
    cells: pd.DataFrame
    metrics: pd.DataFrame
    samples: dict[str, pd.DataFrame]
    _scores: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)

    def cell(self, cell_id: str) -> pd.Series:
        """The cells row of `cell_id`."""
        return self.cells[self.cells.cell_id == cell_id].iloc[0]

    def cell_samples(self, cell_id: str) -> pd.DataFrame:
        """The cell's documents (empty frame when it stored none)."""
        return self.samples.get(cell_id, _EMPTY_SAMPLES)

    def item_scores(self, cell_id: str, key: str) -> pd.DataFrame:
        """doc_id, doc_hash, score of one per-document metric; a missing or non-numeric score raises."""
        if (cell_id, key) not in self._scores:
            self._scores[(cell_id, key)] = _checked_scores(self, cell_id, key)
        return self._scores[(cell_id, key)]


_EMPTY_SAMPLES = pd.DataFrame({"doc_id": [], "doc_hash": [], "scores": []})


def load_run(conn: sqlite3.Connection, run_id: str) -> RunData:
    """Cells, metrics and samples of `run_id` (any status: the user named the run)."""
    cells = cells_frame(conn, [run_id])
    cells["details"] = cells.details_json.map(_parse_details)
    metrics = metrics_frame(conn, [run_id], include_incomplete=True)
    samples = samples_frame(conn, run_id)
    by_cell = {str(cid): group.reset_index(drop=True) for cid, group in samples.groupby("cell_id", sort=False)}
    return RunData(run_id=run_id, cells=cells, metrics=metrics, samples=by_cell)


def _parse_details(text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def has_item_scores(samples: pd.DataFrame, key: str) -> bool:
    """True when `key` is a per-document metric of the cell: some document holds it as a value
    (evalkit.compare.scores' rule: absent everywhere or a list / object means corpus-level)."""
    return any(score_kind(d, key) not in ("absent", "corpus") for d in samples.scores)


def is_number(value: Any) -> bool:
    """A finite int or float (bools count as 0/1)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def _checked_scores(run: RunData, cell_id: str, key: str) -> pd.DataFrame:
    samples = run.cell_samples(cell_id)
    values = [d.get(key) if isinstance(d, dict) else None for d in samples.scores]
    for doc_id, scores, value in zip(samples.doc_id, samples.scores, values):
        if not is_number(value):
            cell = run.cell(cell_id)
            raise InputError(
                f"Run {run.run_id}, task '{cell.task}' ({cell.setting}, model {cell.model}), metric '{key}': "
                f"document {int(doc_id)} has no numeric per-document score ({describe_score(scores, key)}) "
                "while other documents have one; a paired test cannot skip it silently.",
                hint="The stored run is damaged or its evaluation produced invalid scores; re-run that cell.")
    return pd.DataFrame({"doc_id": samples.doc_id.to_numpy(), "doc_hash": samples.doc_hash.to_numpy(),
                         "score": np.asarray(values, dtype=float)})


def metric_points(run: RunData, cell_id: str) -> list[MetricPoint]:
    """Every metric the cell reports, LM corpus metrics folded into the per-document log-likelihood."""
    samples = run.cell_samples(cell_id)
    is_lm = has_item_scores(samples, LM_ITEM_METRIC)
    rows = run.metrics[run.metrics.cell_id == cell_id]
    points = []
    for row in rows.itertuples(index=False):
        if is_lm and row.metric in LM_CORPUS_METRICS:
            continue
        key = row.metric if has_item_scores(samples, row.metric) else None
        if key is not None:
            run.item_scores(cell_id, key)  # check every document before any test
        if key is not None and not semantics(str(row.metric)).document_is_metric:
            # lm-eval's `perplexity` keeps each document's log-likelihood: the metric (exp(-mean)) is shown
            # from its aggregate, untested; the log-likelihoods are tested as their own row, higher is better
            points.append(_loglikelihood_point(run.item_scores(cell_id, key), key))
            key = None
        points.append(MetricPoint(str(row.metric), _float(row.value), _float(row.ci_low), _float(row.ci_high),
                                  int(row.n), bool(row.higher_is_better), key))
    if is_lm and LM_ITEM_METRIC not in set(rows.metric):
        points.append(_loglikelihood_point(run.item_scores(cell_id, LM_ITEM_METRIC)))
    return points


def _loglikelihood_point(scores: pd.DataFrame, key: str = LM_ITEM_METRIC) -> MetricPoint:
    """Mean per-document log-likelihood (nats) with its t interval; higher is better. `key`: the stored
    score that holds it (`loglikelihood`, or `perplexity` on a loglikelihood task)."""
    interval = mean_interval(scores.score.to_numpy())
    return MetricPoint(LM_ITEM_METRIC, interval.estimate, interval.low, interval.high, interval.n, True, key)


def companion_value(run: RunData, cell_id: str) -> float:
    """The cell's bits per byte (shown beside the log-likelihood of an LM task), NaN when absent."""
    rows = run.metrics[(run.metrics.cell_id == cell_id) & (run.metrics.metric == COMPANION_METRIC)]
    return _float(rows.value.iloc[0]) if len(rows) else math.nan


def _float(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def paired_test(run: RunData, cell_a: str, cell_b: str, key: str | None, *,
                confidence: float = 0.95) -> dict[str, Any]:
    """B minus A on the documents both cells hold (joined on doc_hash): delta, interval, p, n, method."""
    if key is None:
        return _untested(NO_ITEM_SCORES)
    aligned, unmatched_a, unmatched_b = align_samples(run.item_scores(cell_a, key), run.item_scores(cell_b, key))
    if aligned.empty:
        return _untested(NO_COMMON_DOCS, unmatched=unmatched_a + unmatched_b)
    result = paired_compare(aligned.score_a.to_numpy(), aligned.score_b.to_numpy(), confidence=confidence)
    return {"delta": result.delta, "ci_low": result.low, "ci_high": result.high, "p_value": result.p_value,
            "n": result.n, "method": result.method, "unmatched": unmatched_a + unmatched_b}


def _untested(method: str, *, unmatched: int = 0) -> dict[str, Any]:
    return {"delta": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan, "n": 0,
            "method": method, "unmatched": unmatched}


def gain(delta: float, higher_is_better: bool) -> float:
    """A difference turned so that + means better, also for lower-is-better metrics."""
    return delta if higher_is_better else -delta


def change_label(delta: float, p_adjusted: float, higher_is_better: bool, alpha: float) -> str:
    """'better' / 'worse' when significant after correction, else ''."""
    if not (is_number(p_adjusted) and p_adjusted < alpha and is_number(delta)) or delta == 0:
        return ""
    return "better" if gain(delta, higher_is_better) > 0 else "worse"
