"""One gated row's evidence: the drop (positive = worse, in the metric's own direction) against its tolerance,
tested both ways with the interval that inverts the same test (evalkit.stats.margins), or by a paired
bootstrap for corpus-level metrics (evalkit.compare.corpus)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evalkit.compare.corpus import aligned_items, paired_corpus_bootstrap
from evalkit.compare.matching import CellPair
from evalkit.compare.policy import RowPolicy
from evalkit.compare.result import NO_ITEM_SCORES
from evalkit.compare.scores import is_corpus_level, item_scores
from evalkit.metric_semantics import semantics
from evalkit.report.formatting import fmt_given as shown
from evalkit.stats import is_binary
from evalkit.stats.margins import MarginTest, binary_margin_test, documents_needed, mean_margin_test


def row_evidence(row: pd.Series, pair: CellPair, rule: RowPolicy, alpha: float, n_boot: int,
                 seed: int) -> MarginTest | None:
    """The margin test of one comparison row under its rule; None when the row cannot be tested."""
    higher = _direction(row, rule)
    tolerance = rule.tolerance_for(_baseline_value(row))
    meaning = semantics(str(row.metric), higher, not is_corpus_level(pair, str(row.metric)))
    if meaning.paired_test == "corpus":
        if row.method == NO_ITEM_SCORES:  # the comparison found no items that reproduce the stored aggregates
            return None
        return _corpus_evidence(pair, str(row.metric), higher, tolerance, alpha, n_boot, seed)
    values = item_scores(pair, str(row.metric))
    if values is None:
        return None
    a, b = values
    drops = a - b if higher else b - a
    clusters = _clusters(pair) if rule.clusters else None
    if clusters is None and is_binary(a) and is_binary(b):
        return binary_margin_test(int(np.sum(drops > 0)), int(np.sum(drops < 0)), drops.size, tolerance, alpha)
    return mean_margin_test(drops, tolerance, alpha, clusters)


def _direction(row: pd.Series, rule: RowPolicy) -> bool:
    if rule.direction is not None:
        return rule.direction == "higher"
    return bool(row.higher_is_better)


def _baseline_value(row: pd.Series) -> float:
    try:
        return float(row.value_a)
    except (TypeError, ValueError):
        return math.nan


def _clusters(pair: CellPair) -> np.ndarray | None:
    """The baseline documents' stored clusters, when every aligned document has one."""
    column = pair.aligned.get("cluster_a")
    if column is None or column.isna().any() or column.nunique() == len(column):
        return None
    return column.astype(str).to_numpy()


def _corpus_evidence(pair: CellPair, metric: str, higher: bool, tolerance: float, alpha: float, n_boot: int,
                     seed: int) -> MarginTest | None:
    items = aligned_items(pair, metric)
    if items is None:
        return None
    boot = paired_corpus_bootstrap(*items, semantics(metric, higher, False), n_boot=n_boot, seed=seed)
    if boot is None:
        return None
    sign = -1.0 if higher else 1.0
    drops = sign * boot.deltas
    drop = sign * (boot.value_b - boot.value_a)
    low, high = (float(q) for q in np.quantile(drops, [alpha, 1.0 - alpha]))
    count = drops.size + 1
    p_fail = (1 + int(np.sum(drops <= tolerance))) / count
    p_pass = (1 + int(np.sum(drops >= tolerance))) / count
    return MarginTest(drop, low, high, p_fail, p_pass, len(items[0]), float(np.std(drops) * math.sqrt(len(items[0]))),
                      boot.method)


def needed(test: MarginTest, tolerance: float, alpha: float, power: float) -> float:
    """Documents that would decide an inconclusive row at its observed spread and drop."""
    return documents_needed(test.drop, test.sd, tolerance, alpha, power)


def reason(verdict: str, test: MarginTest | None, tolerance: float, level: float, extra: dict[str, Any]) -> str:
    """One sentence that says why the row got its verdict."""
    if test is None:
        return extra.get("why", "no test applies to this metric")
    tol = shown(tolerance)
    bounds = f"{shown_near(test.low, tolerance)}, {shown_near(test.high, tolerance)}"
    where = f"the drop lies in [{bounds}] ({level:.0%} one-sided bounds, {test.method})"
    if verdict == "PASS":
        return f"{where}: even the worst plausible drop is within the tolerance {tol}"
    if verdict == "FAIL":
        return (f"{where}: a drop beyond the tolerance {tol} is established "
                f"(adjusted p = {extra['p_adjusted']:.3g})")
    if extra.get("why"):
        return f"{where}; {extra['why']}"
    decide = extra.get("needed_n")
    more = (f"; about {int(decide):,} documents at this spread would decide it" if decide and math.isfinite(decide)
            else "")
    return (f"{where}: the interval straddles the tolerance {tol}{more}, "
            f"or a tolerance of {shown_near(test.high, tolerance)} would pass it")


def shown_near(value: float, reference: float) -> str:
    """An estimate to 3 significant digits, more when fewer would read as `reference` (never rounded into it)."""
    if not math.isfinite(value):
        return "-inf" if value < 0 else "inf"
    for digits in range(3, 18):
        text = f"{value:.{digits}g}"
        if float(text) != reference or value == reference:
            return text
    return repr(value)
