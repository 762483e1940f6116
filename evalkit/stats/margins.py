"""Tests of a paired drop against a tolerance (non-inferiority and its mirror), with the interval that
inverts the same test, so an interval and its verdict can never disagree.

The drop of a document is how much worse the candidate scored on it than the baseline, in the metric's
own direction (positive = worse). For a tolerance t, two one-sided tests:
- `p_fail`: H0 "drop <= t" against "drop > t" (small: the drop beyond the tolerance is established);
- `p_pass`: H0 "drop >= t" against "drop < t" (small: the worst plausible drop is within the tolerance).

0/1 scores: Tango's (1998) score test for paired proportions, whose restricted maximum-likelihood
variance keeps it close to nominal at small n (Fagerland, Lydersen & Laake 2013 recommend it); at t = 0
it is McNemar's score test. Continuous scores: the paired t-test on the per-document drops (Student
quantiles, so small n is honest). Clustered documents: the cluster-robust (CR1) standard error of the
mean drop with G - 1 degrees of freedom, as statsmodels' OLS(cov_type="cluster") computes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize as _opt
from scipy import stats as _st

__all__ = ["MarginTest", "binary_margin_test", "mean_margin_test", "documents_needed"]

# A drop within this relative distance of the tolerance is the tolerance (0.1 - 0.09 is 0.010000000000000009).
_FUZZ = 1e-9


@dataclass(frozen=True)
class MarginTest:
    """One row's drop against its tolerance: estimate, one-sided (1 - alpha) bounds, both p-values."""

    drop: float  # observed mean drop (positive = worse)
    low: float  # lower (1 - alpha) bound on the true drop
    high: float  # upper (1 - alpha) bound on the true drop
    p_fail: float  # H0: drop <= tolerance
    p_pass: float  # H0: drop >= tolerance
    n: int
    sd: float  # per-document standard deviation of the drop (design effect included when clustered)
    method: str
    clusters: int | None = None
    design_effect: float | None = None


def binary_margin_test(worse: int, better: int, n: int, tolerance: float, alpha: float = 0.05,
                       bounds: bool = True) -> MarginTest:
    """Tango's score test of the paired drop (worse - better) / n against `tolerance`, for 0/1 scores.

    worse: documents right in the baseline and wrong in the candidate; better: the reverse.
    `bounds=False` skips the interval (NaN) where only the two p-values are needed (simulations).
    """
    if n <= 0 or worse < 0 or better < 0 or worse + better > n:
        raise ValueError(f"invalid paired counts: worse={worse}, better={better}, n={n}")
    z_of = lambda d0: _tango_z(worse, better, n, d0)  # noqa: E731
    z = z_of(tolerance)
    crit = float(_st.norm.ppf(1.0 - alpha))
    low = _root(lambda d0: z_of(d0) - crit, -1.0, 1.0) if bounds else math.nan
    high = _root(lambda d0: z_of(d0) + crit, -1.0, 1.0) if bounds else math.nan
    drop = (worse - better) / n
    # the per-document spread the test assumes at the tolerance (never 0, even without discordant documents)
    q = _restricted_better(worse, better, n, tolerance)
    sd = math.sqrt(max(0.0, 2.0 * q + tolerance - tolerance * tolerance, (worse + better) / n - drop * drop))
    return MarginTest(drop, low, high, float(_st.norm.sf(z)), float(_st.norm.cdf(z)), n, sd, "tango-score")


def _tango_z(worse: int, better: int, n: int, d0: float) -> float:
    """Tango's score statistic for H0: p(worse) - p(better) = d0 (decreasing in d0)."""
    numerator = worse - better - n * d0
    if abs(numerator) <= _FUZZ * n:
        return 0.0
    q = _restricted_better(worse, better, n, d0)
    variance = n * (2.0 * q + d0 - d0 * d0)
    if variance <= 0.0:
        return math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)


def _restricted_better(worse: int, better: int, n: int, d0: float) -> float:
    """Maximum-likelihood p(better) under p(worse) = p(better) + d0 (the root of Tango's quadratic)."""
    rest = n - worse - better
    b = worse * (1.0 - d0) + better * (1.0 - 3.0 * d0) - 2.0 * rest * d0
    c = better * d0 * (1.0 - d0)
    q = (b + math.sqrt(max(0.0, b * b + 8.0 * n * c))) / (4.0 * n)
    return min(max(q, max(0.0, -d0)), (1.0 - d0) / 2.0)


def _root(fn, lo: float, hi: float) -> float:  # type: ignore[no-untyped-def]
    """The root of a decreasing function on [lo, hi]; an end of the range when it has none inside."""
    f_lo, f_hi = fn(lo + 1e-12), fn(hi - 1e-12)
    if f_lo <= 0.0:
        return lo
    if f_hi >= 0.0:
        return hi
    return float(_opt.brentq(fn, lo + 1e-12, hi - 1e-12, xtol=1e-12))


def mean_margin_test(drops: ArrayLike, tolerance: float, alpha: float = 0.05,
                     clusters: ArrayLike | None = None) -> MarginTest:
    """t-test of the mean per-document drop against `tolerance`; cluster-robust when `clusters` is given.

    Degenerate data (one document, one cluster, or no spread in the drops) give the widest bounds and
    p-values of 1: nothing can be established from them.
    """
    d = np.asarray(drops, dtype=np.float64).ravel()
    n = int(d.size)
    if n == 0 or not np.isfinite(d).all():
        raise ValueError("per-document drops must be a non-empty array of finite numbers")
    mean = float(d.mean())
    se, df, groups, deff = _standard_error(d, clusters)
    if not (se > 1e-12 * max(1.0, abs(mean)) and df >= 1):  # rounding noise in equal drops is no spread
        return _without_spread(d, tolerance, alpha, groups, deff)
    gap = mean - tolerance
    t = 0.0 if abs(gap) <= _FUZZ * max(1.0, abs(tolerance)) else gap / se
    crit = float(_st.t.ppf(1.0 - alpha, df))
    sd = se * math.sqrt(n)
    return MarginTest(mean, mean - crit * se, mean + crit * se, float(_st.t.sf(t, df)), float(_st.t.cdf(t, df)),
                      n, sd, _method(groups), groups, deff)


def _without_spread(d: np.ndarray, tolerance: float, alpha: float, groups: int | None,
                    deff: float | None) -> MarginTest:
    """Every drop equal (or one document, or one cluster): no t statistic. The sign test on the units
    (documents, or clusters when clustered) gives p = 0.5^units on the side the common drop lies."""
    mean = float(d.mean())
    units = groups if groups is not None else d.size
    spread = float(np.ptp(d)) > 1e-12 * max(1.0, abs(mean))
    if spread or units < 1:  # one cluster holding different drops: nothing to test
        return MarginTest(mean, -math.inf, math.inf, 1.0, 1.0, d.size, math.inf, _method(groups), groups, deff)
    p = 0.5 ** units
    beyond, within = mean > tolerance + _FUZZ, mean < tolerance - _FUZZ
    decided = p < alpha
    return MarginTest(mean, mean if decided else -math.inf, mean if decided else math.inf,
                      p if beyond else 1.0, p if within else 1.0, d.size, 0.0, _method(groups) + " (no spread: sign test)",
                      groups, deff)


def _method(groups: int | None) -> str:
    return "paired-t" if groups is None else "cluster-robust-t"


def _standard_error(d: np.ndarray, clusters: ArrayLike | None) -> tuple[float, int, int | None, float | None]:
    """(standard error of the mean, degrees of freedom, number of clusters, design effect)."""
    n = d.size
    iid = float(np.std(d, ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    if clusters is None:
        return iid, n - 1, None, None
    labels = np.asarray(clusters, dtype=object).ravel()
    if labels.size != n:
        raise ValueError(f"clusters must label every document: {labels.size} labels for {n} documents")
    _, index = np.unique(labels.astype(str), return_inverse=True)
    groups = int(index.max()) + 1
    if groups < 2:
        return 0.0, 0, groups, None
    sums = np.bincount(index, weights=d - d.mean(), minlength=groups)
    se = math.sqrt(groups / (groups - 1) * float(np.sum(sums * sums))) / n
    deff = (se / iid) ** 2 if iid > 0 else None
    return se, groups - 1, groups, deff


def documents_needed(drop: float, sd: float, tolerance: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """About how many documents decide a row whose true drop is `drop` (per-document sd `sd`) with the given
    power: ((z_{1-alpha} + z_power) * sd / |tolerance - drop|)^2. inf when the drop sits on the tolerance."""
    gap = abs(tolerance - drop)
    if gap <= _FUZZ * max(1.0, abs(tolerance)) or not math.isfinite(sd):
        return math.inf
    z = float(_st.norm.ppf(1.0 - alpha) + _st.norm.ppf(power))
    return max(1.0, math.ceil((z * max(sd, 1e-12) / gap) ** 2))
