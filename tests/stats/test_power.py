"""Minimum detectable difference for paired 0/1 and continuous metrics."""

from __future__ import annotations

import math

import pytest

from evalkit.stats import minimum_detectable_difference as mde

Z = 1.959963984540054 + 0.8416212335729143  # z_{0.975} + z_{0.8}


def test_formula_values() -> None:
    assert mde(1000, discordance=0.2) == pytest.approx(Z * math.sqrt(0.2 / 1000))
    assert mde(1000, discordance=0.2) == pytest.approx(0.03961, abs=5e-5)
    assert mde(400, std_diff=0.5) == pytest.approx(Z * 0.5 / 20)
    assert mde(100, std_diff=1.0, alpha=0.01, power=0.9) == pytest.approx((2.5758293 + 1.2815516) / 10, abs=1e-6)


def test_decreasing_in_n_and_degenerate() -> None:
    values = [mde(n, discordance=0.3) for n in (10, 100, 1000, 10_000)]
    assert all(x > y for x, y in zip(values, values[1:]))
    assert mde(0, std_diff=1.0) == math.inf and mde(-5, discordance=0.1) == math.inf


def test_exactly_one_spread_argument() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        mde(100)
    with pytest.raises(ValueError, match="exactly one"):
        mde(100, discordance=0.2, std_diff=0.5)
    with pytest.raises(ValueError):
        mde(100, discordance=1.5)
    with pytest.raises(ValueError):
        mde(100, std_diff=1.0, power=1.0)
