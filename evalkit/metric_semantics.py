"""What each metric means, in one table: its direction, what one document's stored value is, how the
documents aggregate into the metric, its unit, and which paired test compares two runs on it.

lm-eval stores a per-document value for every metric, but that value is not always the metric: for
`perplexity` it is the document's log-likelihood (higher is better) while the metric, exp(-mean), is
lower-is-better; for `bleu` it is a (reference, prediction) pair. compare, gate, report and the study
views read this table so a metric is never stored as one quantity and judged as another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PairedTest = Literal["document", "corpus"]


@dataclass(frozen=True)
class MetricSemantics:
    """One metric's meaning. `aggregation` names lm-eval's aggregation over the per-document items."""

    name: str
    higher_is_better: bool | None
    per_document: str  # what one document's stored value is
    aggregation: str
    unit: str
    paired_test: PairedTest

    @property
    def document_is_metric(self) -> bool:
        """True when the metric is the mean of its per-document values (acc, exact_match, ...)."""
        return self.aggregation == "mean"


def _mean(name: str, per_document: str = "score", unit: str = "proportion", higher: bool = True) -> MetricSemantics:
    return MetricSemantics(name, higher, per_document, "mean", unit, "document")


def _corpus(name: str, per_document: str, aggregation: str, unit: str, higher: bool) -> MetricSemantics:
    return MetricSemantics(name, higher, per_document, aggregation, unit, "corpus")


# lm-eval's registered metrics (lm_eval.api.registry METRIC_REGISTRY / METRIC_AGGREGATION_REGISTRY /
# HIGHER_IS_BETTER_REGISTRY, lm-eval 0.4.x); a test checks this table against the installed registry.
TABLE: dict[str, MetricSemantics] = {m.name: m for m in (
    _mean("acc", "0/1 correct"), _mean("acc_norm", "0/1 correct"), _mean("acc_mutual_info", "0/1 correct"),
    _mean("acc_bytes", "0/1 correct"), _mean("acc_all", "0/1 correct"), _mean("exact_match", "0/1 match"),
    _mean("likelihood", "likelihood", "probability"),
    _corpus("brier_score", "(gold index, choice probabilities)", "brier_score", "squared error", False),
    _corpus("perplexity", "loglikelihood", "perplexity", "perplexity", False),
    _corpus("word_perplexity", "(loglikelihood, words)", "weighted_perplexity", "perplexity per word", False),
    _corpus("byte_perplexity", "(loglikelihood, bytes)", "weighted_perplexity", "perplexity per byte", False),
    _corpus("bits_per_byte", "(loglikelihood, bytes)", "bits_per_byte", "bits per byte", False),
    _corpus("bleu", "(reference, prediction)", "bleu", "BLEU points", True),
    _corpus("chrf", "(reference, prediction)", "chrf", "chrF points", True),
    _corpus("chrf++", "(reference, prediction)", "chrfpp", "chrF++ points", True),
    _corpus("ter", "(reference, prediction)", "ter", "TER points", False),
    _corpus("f1", "(gold, prediction)", "f1_score", "F1", True),
    _corpus("mcc", "(gold, prediction)", "matthews_corrcoef", "MCC", True),
)}

# The names a per-document value goes by in document-level views and exports, where it is not the metric.
_DOCUMENT_NAMES = {"loglikelihood": "loglikelihood"}


def semantics(metric: str, higher_is_better: bool | None = None, per_document_numbers: bool = True) -> MetricSemantics:
    """The semantics of a stored metric name (`acc`, or `acc,none` with its filter). `per_document_numbers`:
    whether the documents hold plain numbers for it (rather than items such as (reference, prediction)).
    A metric outside the table is a mean of its per-document numbers when it has them (a task's own
    metric), else corpus-level with an aggregation evalkit does not know ("unknown")."""
    base = metric.split(",")[0]
    known = TABLE.get(base)
    if known is not None and not (per_document_numbers and known.per_document.startswith("(")):
        return known  # a task's own `f1` with a number per document is a mean, not lm-eval's corpus F1
    if per_document_numbers:
        return MetricSemantics(base, higher_is_better, "score", "mean", "metric units", "document")
    return MetricSemantics(base, higher_is_better, "item", "unknown", "metric units", "corpus")


def document_value_name(metric: str) -> str:
    """What one document's stored value of `metric` should be called: `perplexity` -> `loglikelihood`."""
    meaning = semantics(metric)
    if meaning.document_is_metric:
        return metric
    return _DOCUMENT_NAMES.get(meaning.per_document, f"{meaning.name} item: {meaning.per_document}")
