"""Single-mean intervals: Wilson for 0/1 data, Student-t for continuous data, NaN rejection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from evalkit.stats import Interval, is_binary, mean_interval, wilson_interval


def test_wilson_textbook_value() -> None:
    values = [1] * 81 + [0] * 182  # 81 / 263
    iv = mean_interval(values)
    assert iv.method == "wilson" and iv.n == 263
    assert iv.estimate == pytest.approx(81 / 263)
    assert iv.low == pytest.approx(0.2553, abs=5e-5)
    assert iv.high == pytest.approx(0.3662, abs=5e-5)
    ref = st.binomtest(81, 263).proportion_ci(confidence_level=0.95, method="wilson")
    assert (iv.low, iv.high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert iv.stderr == pytest.approx(np.std(values, ddof=1) / math.sqrt(263))


@pytest.mark.parametrize(("k", "n", "conf"), [(0, 10, 0.95), (10, 10, 0.95), (3, 7, 0.9), (1, 1, 0.99)])
def test_wilson_matches_scipy_and_edges(k: int, n: int, conf: float) -> None:
    ref = st.binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    assert wilson_interval(k, n, conf) == pytest.approx((ref.low, ref.high), abs=1e-12)
    low, high = wilson_interval(k, n, conf)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_bools_are_binary() -> None:
    iv = mean_interval(np.array([True, False, True, True]))
    assert iv.method == "wilson" and iv.estimate == 0.75
    assert is_binary([True, False]) and is_binary([0.0, 1.0, 1])
    assert not is_binary([]) and not is_binary([0, 0.5]) and not is_binary([0, float("nan")])
    assert not is_binary(["a", "b"])


def test_t_interval_matches_scipy() -> None:
    values = np.random.default_rng(1).normal(0.4, 0.2, size=37)
    iv = mean_interval(values, confidence=0.9)
    sem = np.std(values, ddof=1) / math.sqrt(values.size)
    low, high = st.t.interval(0.9, df=values.size - 1, loc=values.mean(), scale=sem)
    assert iv.method == "t"
    assert (iv.estimate, iv.stderr) == pytest.approx((values.mean(), sem))
    assert (iv.low, iv.high) == pytest.approx((low, high), rel=1e-12)


def test_t_interval_coverage() -> None:
    rng = np.random.default_rng(2)
    samples = rng.exponential(1.0, size=(400, 60))  # skewed, true mean 1
    hits = sum(iv.low <= 1.0 <= iv.high for iv in map(mean_interval, samples))
    assert 0.90 <= hits / 400 <= 0.99


def test_degenerate_sizes() -> None:
    empty = mean_interval([])
    assert empty.n == 0 and empty.method == "none" and math.isnan(empty.estimate) and empty.stderr == 0.0
    one = mean_interval([0.7])
    assert one == Interval(0.7, 0.0, -math.inf, math.inf, 1, "t")
    const = mean_interval([0.5, 0.5, 0.5])
    assert (const.low, const.high, const.stderr) == (0.5, 0.5, 0.0)
    single_binary = mean_interval([1])
    assert single_binary.method == "wilson" and single_binary.stderr == 0.0 and single_binary.high == 1.0


def test_nan_raises_with_count() -> None:
    with pytest.raises(ValueError, match=r"2 of 4 values are NaN"):
        mean_interval([0.1, float("nan"), 0.3, np.nan])
    with pytest.raises(ValueError, match="NaN"):
        mean_interval([1, None, 0])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="infinite"):
        mean_interval([1.0, math.inf])
    with pytest.raises(ValueError, match="one-dimensional"):
        mean_interval([[1.0, 2.0]])
    with pytest.raises(ValueError, match="confidence"):
        mean_interval([1.0, 2.0], confidence=95)
