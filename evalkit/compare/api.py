"""The gate as a function: two runs (store references or exported files) and a policy in, the judged
outcome out; `verdict_table` is its rows as a DataFrame. A notebook or a benchmark calls this instead of
a subprocess; `evalkit gate` is this plus rendering and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.compare.gate import decide_gate, require_complete, require_distinct
from evalkit.compare.paired import compare_runs
from evalkit.compare.policy import GatePolicy, load_policy, simple_policy
from evalkit.compare.result import GATE_COLUMNS, CompareOptions, GateOutcome
from evalkit.compare.sources import RunOpener, open_runs

VERDICT_COLUMNS = ["model", "task", "setting", "metric", "value_a", "value_b"] + GATE_COLUMNS


def gate(baseline: str | Path, candidate: str | Path = "latest", *, policy: GatePolicy | str | Path | None = None,
         max_drop: float | None = None, store: str | Path | None = None, allow_missing: bool = False,
         **options: Any) -> GateOutcome:
    """Judge `candidate` against `baseline` (run ids, names, `latest~N`, or exported results files) under a
    policy (a GatePolicy, a policy file, or --max-drop's single tolerance). `options` are CompareOptions
    (alpha, correction, metrics, allow_incomparable, ...). Raises evalkit.errors.InputError on bad input,
    exactly as `evalkit gate` exits 2."""
    if not isinstance(policy, GatePolicy):
        policy = (load_policy(Path(policy), max_drop) if policy is not None
                  else simple_policy(0.01 if max_drop is None else max_drop))
    with RunOpener(store) as opener:
        sides = open_runs(opener, [str(baseline), str(candidate)])
        require_distinct(sides)
        require_complete(sides)
        return decide_gate(compare_runs(sides, CompareOptions(**options)), policy, allow_missing=allow_missing)


def verdict_table(outcome: GateOutcome) -> pd.DataFrame:
    """One row per gated (model, task, setting, metric): values, drop with its bounds, tolerance, tier,
    verdict and reason."""
    rows = outcome.comparison.rows
    return rows[[c for c in VERDICT_COLUMNS if c in rows]].reset_index(drop=True)
