"""Minimum detectable difference for paired 0/1 (McNemar, normal approximation) and continuous (paired t) metrics."""

from __future__ import annotations

import math

import pytest
from scipy import stats as st

from evalkit.stats import minimum_detectable_difference as mde

Z = 1.959963984540054 + 0.8416212335729143  # z_{0.975} + z_{0.8}


def _t(n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    return float(st.t.ppf(1 - alpha / 2, n - 1) + st.t.ppf(power, n - 1))


def test_formula_values() -> None:
    assert mde(1000, discordance=0.2) == pytest.approx(Z * math.sqrt(0.2 / 1000))
    assert mde(1000, discordance=0.2) == pytest.approx(0.03961, abs=5e-5)
    assert mde(400, std_diff=0.5) == pytest.approx(_t(400) * 0.5 / 20)
    # t_{0.975, 9} = 2.262157, t_{0.8, 9} = 0.883404 (printed tables): (2.262157 + 0.883404) * 1 / sqrt(10).
    assert mde(10, std_diff=1.0) == pytest.approx((2.262157 + 0.883404) / math.sqrt(10), abs=1e-6)
    assert mde(100, std_diff=1.0, alpha=0.01, power=0.9) == pytest.approx(_t(100, 0.01, 0.9) / 10)


def test_continuous_mde_is_t_based_so_small_samples_are_not_overstated() -> None:
    assert mde(3, std_diff=0.1) > Z * 0.1 / math.sqrt(3) * 1.5  # t with 2 df is far wider than z
    assert mde(10_000, std_diff=0.1) == pytest.approx(Z * 0.1 / 100, rel=1e-3)  # and tends to z


def test_decreasing_in_n() -> None:
    values = [mde(n, discordance=0.3) for n in (10, 100, 1000, 10_000)]
    assert all(x > y for x, y in zip(values, values[1:]))


@pytest.mark.parametrize("kwargs", [
    {"n": 100, "discordance": 0.0},  # no discordant documents: the McNemar noise is unknown
    {"n": 100, "std_diff": 0.0},  # identical differences
    {"n": 1, "std_diff": 0.5},
    {"n": 1, "discordance": 1.0},
    {"n": 0, "std_diff": 1.0},
    {"n": -5, "discordance": 0.1},
])
def test_not_estimable_is_nan_not_zero(kwargs: dict) -> None:
    assert math.isnan(mde(**kwargs))


def test_exactly_one_spread_argument() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        mde(100)
    with pytest.raises(ValueError, match="exactly one"):
        mde(100, discordance=0.2, std_diff=0.5)
    with pytest.raises(ValueError):
        mde(100, discordance=1.5)
    with pytest.raises(ValueError):
        mde(100, std_diff=1.0, power=1.0)
    with pytest.raises(ValueError):
        mde(100, std_diff=1.0, alpha=float("nan"))
