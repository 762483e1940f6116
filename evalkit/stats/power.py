"""Power analysis: the smallest paired difference a benchmark of n items can reliably detect."""

from __future__ import annotations

import math

from scipy import stats as _st

__all__ = ["minimum_detectable_difference"]

NOT_ESTIMABLE = math.nan


def minimum_detectable_difference(
    n: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    discordance: float | None = None,
    std_diff: float | None = None,
) -> float:
    """Smallest true paired difference detected with probability `power` by a two-sided level-`alpha` test at n items.

    0/1 metrics: pass `discordance` = (n01 + n10) / n, MDE = (z_{1-alpha/2} + z_power) * sqrt(discordance / n)
    (McNemar normal approximation). Continuous: pass `std_diff` (sample sd of the differences, ddof=1),
    MDE = (t_{1-alpha/2, n-1} + t_{power, n-1}) * std_diff / sqrt(n) (paired t; Student quantiles, because
    std_diff is itself estimated from the same n items and z would understate the MDE of small benchmarks).
    Exactly one of the two must be given. NaN ("not estimable") when n < 2 or the observed spread
    (discordance or std_diff) is zero: the data then say nothing about the noise a difference must beat.
    """
    if (discordance is None) == (std_diff is None):
        raise ValueError("pass exactly one of discordance (0/1 metrics) or std_diff (continuous metrics)")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be strictly between 0 and 1; got {power!r}")
    if discordance is not None and not 0.0 <= discordance <= 1.0:
        raise ValueError(f"discordance is a fraction of items and must lie in [0, 1]; got {discordance!r}")
    if std_diff is not None and not (std_diff >= 0.0 and math.isfinite(std_diff)):
        raise ValueError(f"std_diff must be a finite non-negative number; got {std_diff!r}")
    if n < 2 or discordance == 0.0 or std_diff == 0.0:
        return NOT_ESTIMABLE
    if discordance is not None:
        z = float(_st.norm.ppf(1.0 - alpha / 2.0) + _st.norm.ppf(power))
        return z * math.sqrt(discordance / n)
    assert std_diff is not None
    t = float(_st.t.ppf(1.0 - alpha / 2.0, df=n - 1) + _st.t.ppf(power, df=n - 1))
    return t * std_diff / math.sqrt(n)
