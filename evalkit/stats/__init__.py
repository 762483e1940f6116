"""evalkit.stats: typed, pure statistics over per-item scores (intervals, paired tests, sign-flip permutation test,
p-value adjustment, power)."""

from __future__ import annotations

from evalkit.stats.intervals import Interval, is_binary, mean_interval, wilson_interval
from evalkit.stats.multiple import ADJUST_METHODS, adjust_pvalues
from evalkit.stats.paired import (
    PairedResult,
    mcnemar_exact,
    newcombe_paired_interval,
    paired_bootstrap,
    paired_compare,
)
from evalkit.stats.permutation import SignFlipResult, sign_flip_test
from evalkit.stats.power import minimum_detectable_difference

__all__ = [
    "ADJUST_METHODS",
    "Interval",
    "PairedResult",
    "SignFlipResult",
    "adjust_pvalues",
    "is_binary",
    "mcnemar_exact",
    "mean_interval",
    "minimum_detectable_difference",
    "newcombe_paired_interval",
    "paired_bootstrap",
    "paired_compare",
    "sign_flip_test",
    "wilson_interval",
]
