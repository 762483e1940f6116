"""Multiple-comparison adjustment of p-values (many tasks or metrics compared at once)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ADJUST_METHODS", "adjust_pvalues"]

ADJUST_METHODS: tuple[str, ...] = ("holm", "bh")


def adjust_pvalues(p_values: ArrayLike, method: str = "holm") -> list[float]:
    """Adjusted p-values in input order: 'holm' (step-down, controls FWER) or 'bh' (Benjamini-Hochberg, FDR).

    Matches statsmodels.stats.multitest.multipletests(method='holm' / 'fdr_bh'): capped at 1, monotone in rank.
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"unknown p-value adjustment method {method!r}; choose one of: {', '.join(ADJUST_METHODS)}")
    p = np.asarray(p_values, dtype=np.float64).ravel()
    if p.size == 0:
        return []
    if np.isnan(p).any():
        raise ValueError(f"{int(np.isnan(p).sum())} of {p.size} p-values are NaN; resolve them before adjusting")
    if (p < 0.0).any() or (p > 1.0).any():
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if method == "holm":
        # p_(i) * (m - i + 1) for 1-based rank i, then running max so the adjusted values never decrease.
        adj_sorted = np.maximum.accumulate(np.minimum(1.0, ranked * (m - np.arange(m))))
    else:
        # p_(i) * m / i, then running min from the largest rank down.
        scaled = ranked * m / np.arange(1, m + 1)
        adj_sorted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = adj_sorted
    return [float(x) for x in adjusted]
