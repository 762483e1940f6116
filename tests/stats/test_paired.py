"""Paired comparisons: McNemar exact, Newcombe interval, paired bootstrap (interval), sign-flip p-value;
coverage and null calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st

from evalkit.stats import mcnemar_exact, newcombe_paired_interval, paired_bootstrap, paired_compare

# Paired outcome categories: (a, b) for both right, improved (a=0, b=1), worsened (a=1, b=0), both wrong.
_CELLS = np.array([(1, 1), (0, 1), (1, 0), (0, 0)], dtype=float)


def _binary_pairs(rng: np.random.Generator, probs: list[float], n: int) -> tuple[np.ndarray, np.ndarray]:
    cells = _CELLS[rng.choice(4, size=n, p=probs)]
    return cells[:, 0], cells[:, 1]


def test_mcnemar_known_table() -> None:
    assert mcnemar_exact(2, 10) == pytest.approx(0.03857, abs=5e-6)
    assert mcnemar_exact(2, 10) == pytest.approx(st.binomtest(2, 12, 0.5).pvalue)
    assert mcnemar_exact(10, 2) == mcnemar_exact(2, 10)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(5, 5) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


def test_newcombe_reference_value() -> None:
    # Fagerland, Lydersen & Laake (2017), Cavo et al. table [[59, 6], [16, 80]]: -0.0621 (-0.1186 to -0.0046).
    low, high = newcombe_paired_interval(n11=59, n01=6, n10=16, n00=80)
    assert (low, high) == pytest.approx((-0.1186, -0.0046), abs=5e-5)


def test_paired_compare_binary() -> None:
    a = [1] * 59 + [1] * 16 + [0] * 6 + [0] * 80
    b = [1] * 59 + [0] * 16 + [1] * 6 + [0] * 80
    r = paired_compare(a, b)
    assert r.method == "mcnemar-exact" and r.n == 161
    assert (r.improved, r.worsened) == (6, 16)
    assert r.delta == pytest.approx(-10 / 161) == r.mean_b - r.mean_a
    assert (r.low, r.high) == pytest.approx((-0.1186, -0.0046), abs=5e-5)
    assert r.p_value == pytest.approx(mcnemar_exact(6, 16))


def test_paired_compare_identical_binary() -> None:
    r = paired_compare([1, 0, 1, 1], [True, False, True, True])
    assert r.delta == 0.0 and r.p_value == 1.0 and r.low < 0.0 < r.high


def test_paired_compare_continuous_is_the_paired_t_test_and_its_interval() -> None:
    from scipy import stats as st

    rng = np.random.default_rng(3)
    a = rng.uniform(size=50)
    b = a + 0.1 + rng.normal(0, 0.05, size=50)
    r = paired_compare(a, b)
    ref = st.ttest_rel(b, a)
    assert r.method == "paired-t"
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert (r.low, r.high) == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-12)


def test_continuous_interval_never_disagrees_with_its_p_value_at_small_n() -> None:
    """The percentile bootstrap excluded 0 while p >= 0.05 in 24% of null data sets at n = 3."""
    rng = np.random.default_rng(8)
    for n in (2, 3, 5, 10):
        for _ in range(300):
            a, b = rng.normal(size=n), rng.normal(size=n)
            r = paired_compare(a, b)
            assert (r.p_value < 0.05) == (r.low > 0 or r.high < 0)


def test_paired_compare_continuous_without_spread_uses_the_sign_test() -> None:
    r = paired_compare([0.8, 0.6, 0.7], [0.9, 0.7, 0.8])  # +0.1 each (up to rounding): no t statistic
    assert r.p_value == pytest.approx(0.25) and (r.low, r.high) == pytest.approx((0.0, 0.1))
    r = paired_compare([0.5] * 8, [0.4] * 8)
    assert r.p_value == pytest.approx(2 / 256) and (r.low, r.high) == pytest.approx((-0.1, -0.1))


def test_bootstrap_p_value_identical_inputs() -> None:
    x = np.linspace(0, 1, 30)
    delta, low, high, p = paired_bootstrap(x, x, n_boot=200)
    assert (delta, low, high, p) == (0.0, 0.0, 0.0, 1.0)


def test_bootstrap_interval_coverage() -> None:
    rng = np.random.default_rng(4)
    true_delta, n, sims = 0.05, 200, 400
    hits = 0
    for i in range(sims):
        item = rng.uniform(0, 1, size=n)  # shared item difficulty
        a = item + rng.normal(0, 0.3, size=n)
        b = item + true_delta + rng.exponential(0.3, size=n) - 0.3  # skewed noise, mean 0
        _, low, high, _ = paired_bootstrap(a, b, n_boot=1000, seed=i)
        hits += low <= true_delta <= high
    assert 0.90 <= hits / sims <= 0.99


def test_paired_proportion_interval_coverage() -> None:
    rng = np.random.default_rng(5)
    probs = [0.50, 0.15, 0.08, 0.27]  # true delta = 0.15 - 0.08
    sims = 300
    hits = 0
    for _ in range(sims):
        r = paired_compare(*_binary_pairs(rng, probs, 200))
        hits += r.low <= 0.07 <= r.high
    assert 0.90 <= hits / sims <= 0.99


def test_null_calibration_bootstrap() -> None:
    rng = np.random.default_rng(6)
    sims, n = 600, 100
    rejections = 0
    for i in range(sims):
        item = rng.normal(size=n)
        a, b = item + rng.normal(size=n), item + rng.normal(size=n)  # exchangeable
        rejections += paired_bootstrap(a, b, n_boot=1000, seed=i)[3] < 0.05
    assert rejections / sims < 0.08


def test_null_calibration_mcnemar() -> None:
    rng = np.random.default_rng(7)
    sims = 300
    rejections = sum(paired_compare(*_binary_pairs(rng, [0.4, 0.1, 0.1, 0.4], 150)).p_value < 0.05 for _ in range(sims))
    assert rejections / sims < 0.08


def test_paired_input_errors() -> None:
    with pytest.raises(ValueError, match="lengths 3 and 2"):
        paired_compare([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="n == 0"):
        paired_compare([], [])
    with pytest.raises(ValueError, match=r"b: 1 of 3 values are NaN"):
        paired_compare([0.1, 0.2, 0.3], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        paired_bootstrap([np.nan], [1.0])
    with pytest.raises(ValueError, match="n_boot"):
        paired_bootstrap([1.0, 2.0], [1.0, 2.5], n_boot=0)
