"""The CI gate's decision: a row regresses when it dropped by more than the tolerance AND the drop
is significant after multiple-comparison correction. Direction respects higher_is_better."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from evalkit.compare.result import Comparison, GateOutcome


def decide_gate(comparison: Comparison, max_drop: float) -> GateOutcome:
    """Mark each row's drop (positive = worse) and whether it is a regression; keep failing rows' flips."""
    rows = comparison.rows.copy()
    gain = np.where(rows.higher_is_better.astype(bool), rows.delta, -rows.delta)
    rows["drop"] = -gain
    rows["regression"] = (rows["drop"] > max_drop) & (rows.p_adjusted < comparison.alpha)
    failing = rows[rows.regression].reset_index(drop=True)
    # A baseline cell the candidate lacks cannot regress, but nobody should mistake that for a pass.
    missing = [f"not gated: {cell} has no counterpart in {comparison.labels[1]}" for cell in comparison.not_compared]
    judged = replace(comparison, rows=rows, flips=_failing_flips(comparison.flips, failing),
                     warnings=comparison.warnings + missing)
    return GateOutcome(comparison=judged, max_drop=max_drop, passed=failing.empty, failing=failing)


def _failing_flips(flips: pd.DataFrame, failing: pd.DataFrame) -> pd.DataFrame:
    """Only the flipped documents of the failing rows: those explain the regression."""
    keys = ["a", "b", "model", "task", "setting", "metric"]
    wanted = set(failing[keys].itertuples(index=False, name=None))
    mask = [key in wanted for key in flips[keys].itertuples(index=False, name=None)]
    return flips[mask].reset_index(drop=True)
