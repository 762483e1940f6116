"""Confidence intervals for a single mean: Wilson score for 0/1 metrics, Student-t for continuous ones."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from evalkit.stats._checks import as_finite_1d, check_confidence, is_binary_array

__all__ = ["Interval", "is_binary", "mean_interval", "wilson_interval"]


@dataclass(frozen=True)
class Interval:
    """A mean with its standard error and a two-sided confidence interval."""

    estimate: float  # mean of the values
    stderr: float  # sample std (ddof=1) / sqrt(n); 0.0 when n < 2
    low: float
    high: float
    n: int
    method: str  # "wilson" (0/1 data), "t" (continuous data), "none" (n == 0)


def is_binary(values: ArrayLike) -> bool:
    """True when `values` is non-empty and every value is 0 or 1 (bools allowed); NaN or non-numeric -> False."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return is_binary_array(arr.ravel())


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction) for a binomial proportion successes/n."""
    c = check_confidence(confidence)
    if n <= 0:
        raise ValueError(f"n must be positive; got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}; got {successes}")
    z = float(_st.norm.ppf(0.5 + c / 2.0))
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    # Exact endpoints at k=0 / k=n (the formula gives them up to rounding).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def mean_interval(values: ArrayLike, confidence: float = 0.95) -> Interval:
    """Mean with a CI: Wilson score for 0/1 data, Student-t otherwise; NaN raises, n == 0 gives estimate nan.

    A continuous sample of n == 1 has no spread estimate, so its interval is (-inf, inf).
    """
    c = check_confidence(confidence)
    arr = as_finite_1d(values)
    n = int(arr.size)
    if n == 0:
        nan = float("nan")
        return Interval(estimate=nan, stderr=0.0, low=nan, high=nan, n=0, method="none")
    estimate = float(arr.mean())
    stderr = float(arr.std(ddof=1) / math.sqrt(n)) if n >= 2 else 0.0
    if is_binary_array(arr):
        low, high = wilson_interval(int(arr.sum()), n, c)
        return Interval(estimate, stderr, low, high, n, "wilson")
    if n < 2:
        return Interval(estimate, stderr, -math.inf, math.inf, n, "t")
    if stderr == 0.0:
        return Interval(estimate, stderr, estimate, estimate, n, "t")
    half = float(_st.t.ppf(0.5 + c / 2.0, df=n - 1)) * stderr
    return Interval(estimate, stderr, estimate - half, estimate + half, n, "t")


def clustered_mean_interval(values: ArrayLike, clusters: ArrayLike, confidence: float = 0.95) -> Interval:
    """Mean with a cluster-robust (CR1) t interval on G - 1 degrees of freedom, for documents that come in
    groups (several questions on one passage): the same standard error statsmodels' OLS(cov_type="cluster")
    gives, for 0/1 scores never narrower than Wilson's. With fewer than two clusters nothing is estimable:
    (-inf, inf). `method` carries the design effect (the variance ratio to independent documents)."""
    c = check_confidence(confidence)
    arr = as_finite_1d(values)
    labels = np.asarray(clusters, dtype=object).ravel().astype(str)
    if labels.size != arr.size:
        raise ValueError(f"clusters must label every value: {labels.size} labels for {arr.size} values")
    n = int(arr.size)
    estimate = float(arr.mean()) if n else float("nan")
    _, index = np.unique(labels, return_inverse=True)
    groups = int(index.max()) + 1 if n else 0
    if groups < 2:
        return Interval(estimate, 0.0, -math.inf, math.inf, n, f"cluster-robust t ({groups} cluster)")
    sums = np.bincount(index, weights=arr - estimate, minlength=groups)
    stderr = math.sqrt(groups / (groups - 1) * float(np.sum(sums * sums))) / n
    iid = float(arr.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    deff = (stderr / iid) ** 2 if iid > 0 else float("nan")
    half = float(_st.t.ppf(0.5 + c / 2.0, df=groups - 1)) * stderr
    low, high = estimate - half, estimate + half
    if is_binary_array(arr):  # never narrower than Wilson's for independent documents (all right: CR's se is 0)
        w_low, w_high = wilson_interval(int(arr.sum()), n, c)
        low, high = min(low, w_low), max(high, w_high)
    return Interval(estimate, stderr, low, high, n, f"cluster-robust t ({groups} clusters, design effect {deff:.2f})")
