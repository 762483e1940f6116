"""The paired sign-flip permutation test: hand-computed exact values, brute force, scipy, null calibration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as st

from evalkit.stats import paired_compare, sign_flip_test


def _brute_force(d: np.ndarray) -> float:
    """P(|sum s_i d_i| >= |sum d_i|) over all 2^n sign patterns, zeros included (the definition)."""
    observed = abs(d.sum())
    sums = [abs(np.dot(signs, d)) for signs in itertools.product((-1.0, 1.0), repeat=d.size)]
    return sum(s >= observed - 1e-12 for s in sums) / 2**d.size


def test_the_three_item_example_of_issue_9_is_0_25_not_significant() -> None:
    a, b = [0.8, 0.6, 0.7], [0.6, 0.5, 0.4]
    assert sign_flip_test(np.subtract(b, a)).p_value == 0.25
    result = paired_compare(a, b)  # the comparison's test is the paired t: not significant either
    assert result.p_value == pytest.approx(0.0742, abs=1e-4) and result.low < 0.0 < result.high
    assert result.method == "paired-t"


@pytest.mark.parametrize(("d", "expected"), [
    ([1.0, 2.0, 3.0], 2 / 8),  # sums ±1±2±3: only the two all-same-sign patterns reach |6|
    ([1.0, 1.0, 1.0, -1.0], 10 / 16),  # |sum| >= 2: sums 4 (1), 2 (4), -2 (4), -4 (1)
    ([0.0, 0.0, 1.0, 1.0, 1.0], 2 / 8),  # zero differences carry no sign
    ([0.5, -0.5], 1.0),
])
def test_hand_computed_exact_values(d: list[float], expected: float) -> None:
    result = sign_flip_test(d)
    assert result.p_value == pytest.approx(expected, abs=1e-15)
    assert result.method == "sign-flip-exact"


def test_the_p_value_does_not_depend_on_the_metric_units() -> None:
    d = np.array([0.3, -0.1, 0.2, 0.25, 0.1, -0.05, 0.4])
    assert {sign_flip_test(d * scale).p_value for scale in (1e-20, 1.0, 1e20)} == {sign_flip_test(d).p_value}


def test_no_nonzero_difference_gives_p_1() -> None:
    assert sign_flip_test([0.0, 0.0, 0.0]).p_value == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_exact_enumeration_matches_brute_force_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.choice([-0.3, -0.1, 0.0, 0.1, 0.2, 0.3], size=10)
    assert sign_flip_test(d).p_value == pytest.approx(_brute_force(d), abs=1e-12)


def test_exact_agrees_with_scipy_permutation_test() -> None:
    rng = np.random.default_rng(11)
    a = rng.uniform(size=12)
    b = a + rng.normal(0.15, 0.2, size=12)
    ref = st.permutation_test((b, a), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples",
                              alternative="two-sided", n_resamples=np.inf, vectorized=True)
    assert sign_flip_test(b - a).p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_monte_carlo_is_seeded_smoothed_and_close_to_exact() -> None:
    rng = np.random.default_rng(12)
    d = rng.normal(0.3, 1.0, size=14)
    exact = sign_flip_test(d).p_value
    mc = sign_flip_test(d, n_perm=20_000, seed=3, exact_max=0)
    assert mc.method == "sign-flip-mc" and mc.patterns == 20_000
    assert mc.p_value == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 20_000) + 1e-4)
    assert sign_flip_test(d, n_perm=20_000, seed=3, exact_max=0) == mc
    extreme = sign_flip_test(np.full(40, 0.1), n_perm=99)
    assert extreme.p_value == pytest.approx(1 / 100)  # never 0: the observed pattern counts once


def test_monte_carlo_is_memory_bounded_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.stats.permutation as permutation

    d = np.random.default_rng(1).normal(size=50)
    whole = sign_flip_test(d, n_perm=3_000)
    monkeypatch.setattr(permutation, "_CHUNK_ELEMENTS", 50 * 7)  # 7 patterns per chunk
    assert sign_flip_test(d, n_perm=3_000) == whole  # same stream of random signs, any chunk size


@pytest.mark.parametrize("n", [3, 5, 10, 30])
def test_false_positive_rate_under_the_null_is_at_most_alpha(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    sims, alpha = 300, 0.05
    rejections = 0
    for i in range(sims):
        item = rng.uniform(size=n)  # shared item difficulty; the systems are exchangeable
        a, b = item + rng.normal(0, 0.1, size=n), item + rng.normal(0, 0.1, size=n)
        rejections += paired_compare(a, b, n_boot=50, n_perm=200, seed=i).p_value < alpha
    assert rejections / sims <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / sims)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="n_perm"):
        sign_flip_test([1.0, 2.0], n_perm=0)
    with pytest.raises(ValueError, match="NaN"):
        sign_flip_test([1.0, float("nan")])
