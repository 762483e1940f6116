"""Paired permutation (sign-flip) test: under H0 the two systems are exchangeable on each item, so
each difference b_i - a_i is as likely to carry either sign. Exact by enumeration for few nonzero
differences, Monte-Carlo sign flips above that."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evalkit.stats._checks import as_finite_1d

__all__ = ["EXACT_MAX_NONZERO", "SignFlipResult", "sign_flip_test"]

# Up to this many nonzero differences every one of the 2^m sign patterns is enumerated (65,536 at 16).
EXACT_MAX_NONZERO = 16
# Largest number of signs materialised at once (about 16 MB of float64), as in the bootstrap.
_CHUNK_ELEMENTS = 1 << 21

EXACT = "sign-flip-exact"
MONTE_CARLO = "sign-flip-mc"


@dataclass(frozen=True)
class SignFlipResult:
    """Two-sided p-value of the paired sign-flip test, how it was computed, and over how many patterns."""

    p_value: float
    method: str  # "sign-flip-exact" or "sign-flip-mc"
    nonzero: int  # differences that are not exactly zero (zeros carry no sign)
    patterns: int  # sign patterns enumerated (exact) or drawn (Monte-Carlo)


def sign_flip_test(differences: ArrayLike, *, n_perm: int = 10_000, seed: int = 0,
                   exact_max: int = EXACT_MAX_NONZERO) -> SignFlipResult:
    """Two-sided paired permutation test of mean(differences) == 0 with statistic |sum of differences|.

    Zero differences are dropped (flipping them changes nothing). With m <= `exact_max` nonzero
    differences the p-value is exact: #{patterns s in {-1,+1}^m with |sum s_i d_i| >= |sum d_i|} / 2^m
    (the smallest possible p is 2 / 2^m, e.g. 0.25 at m = 3). Above that, `n_perm` random patterns
    give the +1-smoothed p = (1 + #{|T*| >= |T_obs|}) / (n_perm + 1), which is never below the exact p
    in expectation and keeps the test valid.
    """
    if int(n_perm) != n_perm or n_perm < 1:
        raise ValueError(f"n_perm must be a positive integer; got {n_perm!r}")
    d = as_finite_1d(differences, "differences")
    nonzero = d[d != 0.0]
    m = int(nonzero.size)
    if m == 0:
        return SignFlipResult(1.0, EXACT, 0, 1)
    observed = abs(float(nonzero.sum()))
    # Sums of the same numbers in another order can differ by rounding: count those ties as ties. The
    # tolerance is relative, so the test does not depend on the metric's units.
    threshold = observed - 1e-12 * float(np.abs(nonzero).sum())
    if m <= exact_max:
        hits = _exact_hits(nonzero, threshold)
        return SignFlipResult(min(1.0, hits / 2.0**m), EXACT, m, 2**m)
    hits = _monte_carlo_hits(nonzero, threshold, int(n_perm), seed)
    return SignFlipResult(min(1.0, (1 + hits) / (n_perm + 1)), MONTE_CARLO, m, int(n_perm))


def _exact_hits(d: np.ndarray, threshold: float) -> int:
    """How many of the 2^m sign patterns give |sum s_i d_i| >= threshold (patterns as bits of 0..2^m-1)."""
    m = d.size
    bits = np.arange(m, dtype=np.int64)
    rows = max(1, _CHUNK_ELEMENTS // m)
    hits = 0
    for start in range(0, 2**m, rows):
        codes = np.arange(start, min(2**m, start + rows), dtype=np.int64)
        signs = ((codes[:, None] >> bits) & 1) * 2.0 - 1.0
        hits += int(np.count_nonzero(np.abs(signs @ d) >= threshold))
    return hits


def _monte_carlo_hits(d: np.ndarray, threshold: float, n_perm: int, seed: int) -> int:
    """How many of `n_perm` random sign patterns give |sum s_i d_i| >= threshold (seeded, in chunks)."""
    rng = np.random.default_rng(seed)
    m = d.size
    rows = max(1, _CHUNK_ELEMENTS // m)
    hits = 0
    for start in range(0, n_perm, rows):
        count = min(n_perm, start + rows) - start
        # One uniform per sign keeps the stream (and so the p-value) independent of the chunk size.
        signs = np.where(rng.random((count, m)) < 0.5, -1.0, 1.0)
        hits += int(np.count_nonzero(np.abs(signs @ d) >= threshold))
    return hits
