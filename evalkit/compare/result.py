"""The typed results of a comparison and of a gate decision: DataFrames plus their context."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# One row per compared (A, B, model, task, setting, metric).
ROW_COLUMNS = ["a", "b", "model", "model_a", "model_b", "task", "setting", "metric", "higher_is_better",
               "value_a", "value_b", "delta", "ci_low", "ci_high", "p_value", "p_adjusted", "mde", "n", "unmatched_a",
               "unmatched_b", "improved", "worsened", "method", "significant", "change"]
# One row per flipped document: right -> wrong ("lost") or wrong -> right ("gained").
FLIP_COLUMNS = ["a", "b", "model", "task", "setting", "metric", "direction", "doc_id", "prompt", "target",
                "prediction_a", "prediction_b"]


@dataclass(frozen=True)
class CompareOptions:
    """How to compare: which metrics, the correction, the level, how many flips to list."""

    metrics: tuple[str, ...] = ()
    correction: str = "holm"
    alpha: float = 0.05
    confidence: float = 0.95
    power: float = 0.8
    flips: int = 0
    allow_incomparable: bool = False
    n_boot: int = 10_000
    seed: int = 0


@dataclass(frozen=True)
class Comparison:
    """Paired comparisons of B sides against reference A, p-values adjusted across all rows.

    kind is "runs" (run against run) or "settings" (within one run, e.g. zero-shot vs fine-tuned).
    """

    rows: pd.DataFrame
    flips: pd.DataFrame
    labels: list[str]
    kind: str
    correction: str
    alpha: float
    confidence: float
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)  # reference cells missing from a compared run


@dataclass(frozen=True)
class GateOutcome:
    """The gate's verdict: comparison rows carry `drop` and `regression`; `failing` holds the regressions."""

    comparison: Comparison
    max_drop: float
    passed: bool
    failing: pd.DataFrame
