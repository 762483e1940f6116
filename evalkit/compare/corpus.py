"""Corpus-level metrics (BLEU, chrF, TER, F1, MCC, perplexities, Brier) compared by a paired bootstrap over
documents, from the per-document items lm-eval stores for its aggregation.

Each known aggregation is reduced to per-document sufficient statistics whose sum determines the metric
(sacrebleu's own statistics for BLEU / chrF / TER; a confusion table for F1 and MCC; log-likelihood and
weight sums for perplexities), so a resample costs a weighted sum, and the value on all documents equals
lm-eval's aggregation (checked in the tests). An aggregation outside this table is resampled by calling
lm-eval's registered function on the resampled items (fewer resamples)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from evalkit.compare.matching import CellPair
from evalkit.metric_semantics import MetricSemantics

Score = Callable[[np.ndarray], float]  # sums of the statistics (k,) -> the metric
_CHUNK = 256
_GENERIC_RESAMPLES = 1000


@dataclass(frozen=True)
class CorpusBootstrap:
    """Both runs' metric on all aligned documents and the resampled differences (b - a)."""

    value_a: float
    value_b: float
    deltas: np.ndarray
    method: str


def aligned_items(pair: CellPair, metric: str) -> tuple[list[Any], list[Any]] | None:
    """The aligned per-document items of `metric` (A, B); None when a document of either side lacks one."""
    a = [s.get(metric) if isinstance(s, dict) else None for s in pair.aligned.scores_a]
    b = [s.get(metric) if isinstance(s, dict) else None for s in pair.aligned.scores_b]
    if not a or any(x is None for x in a + b):
        return None
    return a, b


def paired_corpus_bootstrap(items_a: list[Any], items_b: list[Any], meaning: MetricSemantics,
                            n_boot: int = 10_000, seed: int = 0) -> CorpusBootstrap | None:
    """Resample documents jointly; None when the aggregation is unknown to both evalkit and lm-eval."""
    reduced = _reducer(meaning.aggregation)
    if reduced is not None:
        try:
            stats_a, score = reduced(items_a)
            stats_b, _ = reduced(items_b)
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        value_a, value_b = score(stats_a.sum(axis=0)), score(stats_b.sum(axis=0))
        deltas = _resampled_deltas(stats_a, stats_b, score, n_boot, seed)
        return CorpusBootstrap(value_a, value_b, deltas, f"paired-bootstrap ({meaning.aggregation})")
    return _generic(items_a, items_b, meaning.aggregation, seed)


def _resampled_deltas(stats_a: np.ndarray, stats_b: np.ndarray, score: Score, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = stats_a.shape[0]
    out = np.empty(n_boot)
    for start in range(0, n_boot, _CHUNK):
        stop = min(n_boot, start + _CHUNK)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=stop - start).astype(np.float64)
        sums_a, sums_b = counts @ stats_a, counts @ stats_b
        out[start:stop] = [score(sb) - score(sa) for sa, sb in zip(sums_a, sums_b)]
    return out


def _generic(items_a: list[Any], items_b: list[Any], aggregation: str, seed: int) -> CorpusBootstrap | None:
    try:  # only for an aggregation outside evalkit's table; the light install may lack lm-eval
        from lm_eval.api.registry import AGGREGATION_REGISTRY
    except ImportError:
        return None
    fn = AGGREGATION_REGISTRY.get(aggregation)
    if fn is None:
        return None
    rng = np.random.default_rng(seed)
    n = len(items_a)
    value_a, value_b = float(fn(items_a)), float(fn(items_b))
    deltas = np.empty(_GENERIC_RESAMPLES)
    for i in range(_GENERIC_RESAMPLES):
        idx = rng.integers(0, n, n)
        deltas[i] = float(fn([items_b[j] for j in idx])) - float(fn([items_a[j] for j in idx]))
    return CorpusBootstrap(value_a, value_b, deltas, f"paired-bootstrap ({aggregation}, lm-eval function)")


Reducer = Callable[[list[Any]], tuple[np.ndarray, Score]]


def _reducer(aggregation: str) -> Reducer | None:
    return {"perplexity": _perplexity, "weighted_perplexity": _weighted_perplexity, "bits_per_byte": _bits_per_byte,
            "brier_score": _brier, "f1_score": _f1, "matthews_corrcoef": _mcc, "bleu": _sacre("BLEU"),
            "chrf": _sacre("CHRF"), "ter": _sacre("TER")}.get(aggregation)


def _perplexity(items: list[Any]) -> tuple[np.ndarray, Score]:
    stats = np.array([[float(x), 1.0] for x in items])
    return stats, lambda s: math.exp(-s[0] / s[1])


def _weighted_perplexity(items: list[Any]) -> tuple[np.ndarray, Score]:
    stats = np.array([[float(ll), float(w)] for ll, w in items])
    return stats, lambda s: math.exp(-s[0] / s[1])


def _bits_per_byte(items: list[Any]) -> tuple[np.ndarray, Score]:
    stats = np.array([[float(ll), float(w)] for ll, w in items])
    return stats, lambda s: -s[0] / s[1] / math.log(2)


def _brier(items: list[Any]) -> tuple[np.ndarray, Score]:
    rows = []
    for gold, probs in items:
        p = np.asarray(probs, dtype=np.float64)
        rows.append([float(np.sum((p - np.eye(p.size)[int(gold)]) ** 2)), 1.0])
    return np.array(rows), lambda s: s[0] / s[1]


def _labels(items: list[Any]) -> tuple[list[Any], list[Any]]:
    golds = [g for g, _ in items]
    preds = [p for _, p in items]
    return golds, preds


def _f1(items: list[Any]) -> tuple[np.ndarray, Score]:
    """sklearn's binary f1_score (pos_label 1): 2 tp / (2 tp + fp + fn), 0 when undefined."""
    golds, preds = _labels(items)
    if not set(golds) | set(preds) <= {0, 1}:
        raise ValueError("f1 over labels other than 0/1")
    stats = np.array([[g == 1 and p == 1, g != 1 and p == 1, g == 1 and p != 1] for g, p in zip(golds, preds)],
                     dtype=np.float64)

    def score(s: np.ndarray) -> float:
        denominator = 2 * s[0] + s[1] + s[2]
        return float(2 * s[0] / denominator) if denominator else 0.0
    return stats, score


def _mcc(items: list[Any]) -> tuple[np.ndarray, Score]:
    """sklearn's matthews_corrcoef from the multi-class confusion table (0 when undefined)."""
    golds, preds = _labels(items)
    classes = sorted({str(x) for x in golds + preds})
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    stats = np.zeros((len(golds), k * k))
    for row, (g, p) in enumerate(zip(golds, preds)):
        stats[row, index[str(g)] * k + index[str(p)]] = 1.0

    def score(s: np.ndarray) -> float:
        table = s.reshape(k, k)
        t, p, c, total = table.sum(axis=1), table.sum(axis=0), float(np.trace(table)), float(table.sum())
        denominator = math.sqrt(max(0.0, total * total - float(p @ p)) * max(0.0, total * total - float(t @ t)))
        return (c * total - float(t @ p)) / denominator if denominator else 0.0
    return stats, score


def _sacre(name: str) -> Reducer:
    def reduce(items: list[Any]) -> tuple[np.ndarray, Score]:
        import sacrebleu.metrics as metrics

        metric = getattr(metrics, name)()
        rows = []
        for ref, pred in items:
            refs = [ref] if isinstance(ref, str) else [str(r) for r in ref]
            hyp = pred if isinstance(pred, str) else str(pred[0])
            rows.append(metric._extract_corpus_statistics([hyp], [[r] for r in refs])[0])
        return np.array(rows, dtype=np.float64), lambda s: float(metric._compute_score_from_stats(list(s)).score)
    return reduce
