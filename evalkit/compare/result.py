"""The typed results of a comparison and of a gate decision: DataFrames plus their context."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalkit.errors import InputError

NO_ITEM_SCORES = "no per-item scores"  # a row's method when only stored aggregates were compared
# One row per compared (A, B, model, task, setting, metric).
ROW_COLUMNS = ["a", "b", "model", "model_a", "model_b", "task", "setting", "metric", "higher_is_better",
               "value_a", "value_b", "delta", "ci_low", "ci_high", "p_value", "p_adjusted", "mde", "n", "unmatched_a",
               "unmatched_b", "improved", "worsened", "method", "significant", "change"]
# One row per flipped document: right -> wrong ("lost") or wrong -> right ("gained").
FLIP_COLUMNS = ["a", "b", "model", "task", "setting", "metric", "direction", "doc_id", "cluster", "prompt", "target",
                "prediction_a", "prediction_b", "margin_a", "margin_b"]


_EXAMPLES = {"alpha": 0.05, "confidence": 0.95, "power": 0.8}


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
    n_perm: int = 10_000  # Monte-Carlo sign-flip patterns, when there are too many to enumerate

    def __post_init__(self) -> None:
        """Refuse levels a comparison cannot honour: a NaN alpha would make every test 'not significant'."""
        for name, value in (("alpha", self.alpha), ("confidence", self.confidence), ("power", self.power)):
            if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
                raise InputError(f"Invalid {name} {value!r}: it must be a number strictly between 0 and 1.",
                                 hint=f"Pass e.g. --{name} {_EXAMPLES[name]}.")
        for name, count, least in (("n_boot", self.n_boot, 1), ("n_perm", self.n_perm, 1), ("flips", self.flips, 0)):
            if not isinstance(count, int) or isinstance(count, bool) or count < least:
                raise InputError(f"Invalid {name} {count!r}: it must be an integer >= {least}.")


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
    # What of the reference was not compared, one reason each: a cell the other run lacks, a cell without
    # documents in common, a metric the other cell does not report. The gate lists each as not gated.
    not_compared: list[str] = field(default_factory=list)
    # The cell pair behind each row (row i <-> row_pairs[i]); the gate re-reads per-document values from it.
    row_pairs: tuple[Any, ...] = field(default=(), repr=False)


VERDICTS = ("GO", "NO-GO", "INCONCLUSIVE")
ROW_VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE", "NOT GATED")
# Columns the gate adds to each comparison row.
GATE_COLUMNS = ["tier", "tolerance", "drop", "drop_low", "drop_high", "p_fail", "p_fail_adjusted", "p_pass",
                "gate_method", "clusters", "design_effect", "drop_sd", "min_documents", "needed_n", "verdict", "reason",
                "noise", "design"]


@dataclass(frozen=True)
class GateOutcome:
    """The gate's verdict: GO / NO-GO / INCONCLUSIVE for the suite; each comparison row carries its own
    verdict (PASS / FAIL / INCONCLUSIVE / NOT GATED), interval on the drop against its tolerance, and reason.
    `failing` holds the FAIL rows of the required tier."""

    comparison: Comparison
    max_drop: float  # the default tolerance
    verdict: str
    failing: pd.DataFrame
    not_gated: list[str] = field(default_factory=list)  # what was never judged (cells, metrics, rows), one reason each
    missing: list[str] = field(default_factory=list)  # baseline cells/metrics/documents the candidate lacks: NO-GO
    policy_source: str = "command line"
    alpha: float = 0.05

    @property
    def passed(self) -> bool:
        return self.verdict == "GO"

    @property
    def inconclusive(self) -> pd.DataFrame:
        rows = self.comparison.rows
        return rows[(rows.verdict == "INCONCLUSIVE") & (rows.tier == "required")].reset_index(drop=True)


def check_max_drop(max_drop: float) -> float:
    """A finite, non-negative tolerance; NaN would make every drop 'within tolerance' and pass the gate."""
    if not (isinstance(max_drop, (int, float)) and math.isfinite(max_drop) and max_drop >= 0.0):
        raise InputError(f"Invalid --max-drop {max_drop!r}: it must be a finite number >= 0 (in metric units).",
                         hint="Pass e.g. --max-drop 0.01.")
    return float(max_drop)
