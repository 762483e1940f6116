"""Holm and Benjamini-Hochberg adjustment against hand-checked statsmodels multipletests outputs."""

from __future__ import annotations

import pytest

from evalkit.stats import adjust_pvalues

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_known_vector() -> None:
    # sorted 0.005,0.01,0.03,0.04 * (4,3,2,1) = 0.02,0.03,0.06,0.04 -> running max 0.02,0.03,0.06,0.06
    assert adjust_pvalues(P, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust_pvalues(P) == adjust_pvalues(P, "holm")


def test_bh_known_vector() -> None:
    # sorted * 4/(1,2,3,4) = 0.02,0.02,0.04,0.04 -> running min from the top leaves them unchanged
    assert adjust_pvalues(P, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_capping_monotonicity_and_ties() -> None:
    p = [0.5, 0.6, 0.01]
    assert adjust_pvalues(p, "holm") == pytest.approx([1.0, 1.0, 0.03])
    assert adjust_pvalues(p, "bh") == pytest.approx([0.6, 0.6, 0.03])
    # ties: holm 0.02*(4,3,2), 0.08*1 -> running max 0.08 throughout; bh 0.08, 0.04, 0.0267, 0.08 -> min from top
    tied = [0.02, 0.02, 0.02, 0.08]
    assert adjust_pvalues(tied, "holm") == pytest.approx([0.08, 0.08, 0.08, 0.08])
    assert adjust_pvalues(tied, "bh") == pytest.approx([0.08 / 3, 0.08 / 3, 0.08 / 3, 0.08])
    assert adjust_pvalues([], "bh") == []
    assert adjust_pvalues([0.3]) == [0.3]


def test_errors() -> None:
    with pytest.raises(ValueError, match="holm, bh"):
        adjust_pvalues(P, "bonferroni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_pvalues([0.1, 1.5])
    with pytest.raises(ValueError, match="NaN"):
        adjust_pvalues([0.1, float("nan")])
