"""Hand computations the study tests check against: Holm written out, the sign-flip p by
enumerating every sign pattern, exact McNemar through scipy's binomial test."""

from __future__ import annotations

import itertools

from scipy.stats import binomtest


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment written out: p_(i) * (m - i + 1), running maximum, capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, p_values[i] * (m - rank)))
        adjusted[i] = running
    return adjusted


def sign_flip_p(differences: list[float]) -> float:
    """Two-sided sign-flip p by enumerating every sign pattern: P(|sum s_i d_i| >= |sum d_i|)."""
    observed = abs(sum(differences))
    hits = sum(1 for signs in itertools.product((1, -1), repeat=len(differences))
               if abs(sum(s * d for s, d in zip(signs, differences))) >= observed - 1e-9)
    return hits / 2 ** len(differences)


def mcnemar(right_a: list[int], right_b: list[int], n: int) -> float:
    """Exact McNemar from the two sets of right documents (out of n)."""
    improved = len(set(right_b) - set(right_a))
    worsened = len(set(right_a) - set(right_b))
    return binomtest(min(improved, worsened), improved + worsened, 0.5).pvalue if improved + worsened else 1.0


def paired_t_p(differences: list[float]) -> float:
    """Two-sided paired t-test p written out: t = mean / (sd / sqrt(n)), Student with n - 1 df."""
    from scipy import stats

    n = len(differences)
    mean = sum(differences) / n
    sd = (sum((x - mean) ** 2 for x in differences) / (n - 1)) ** 0.5
    return float(2 * stats.t.sf(abs(mean) / (sd / n ** 0.5), n - 1))
