"""Power analysis: the smallest paired difference a benchmark of n items can reliably detect."""

from __future__ import annotations

import math

from scipy import stats as _st

__all__ = ["minimum_detectable_difference"]


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
    (McNemar normal approximation). Continuous: pass `std_diff`, MDE = (z_{1-alpha/2} + z_power) * std_diff / sqrt(n).
    Exactly one of the two must be given; n <= 0 gives inf.
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
    if n <= 0:
        return math.inf
    z = float(_st.norm.ppf(1.0 - alpha / 2.0) + _st.norm.ppf(power))
    if discordance is not None:
        return z * math.sqrt(discordance / n)
    assert std_diff is not None
    return z * std_diff / math.sqrt(n)
