"""The CI gate's decision: a row regresses when it dropped by more than the tolerance AND the drop
is significant after multiple-comparison correction. Direction respects higher_is_better.

The gate never passes on what it could not judge: runs that are not complete are refused (exit 2)
before comparing; a baseline cell or metric the candidate lacks (a task the candidate stopped
running, no documents in common) fails the gate unless allowed (`--allow-missing`: then it is
listed as not gated); rows without a p-value (corpus-level metrics compared on aggregates only)
are listed as not gated; a gate with nothing it could judge is refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from evalkit.compare.result import Comparison, GateOutcome, check_max_drop
from evalkit.compare.sources import RunSide
from evalkit.errors import InputError


def require_complete(sides: list[RunSide]) -> None:
    """InputError naming the first run whose status is not 'complete' (failed or still running)."""
    for side in sides:
        status = side.run.get("status")
        if status != "complete":
            name = f" (run '{side.run.get('name') or side.run_id}')" if side.from_file else ""
            raise InputError(f"{side.where}{name} has status '{status}', not 'complete': the gate "
                             "cannot judge a run whose results are partial.",
                             hint="Gate on a complete run: re-run it with `evalkit run` (or pick another "
                                  "with --baseline / --candidate); `evalkit compare` still shows partial runs.")


def require_distinct(sides: list[RunSide]) -> None:
    """InputError when the baseline and the candidate hold the same run (say, a baseline file exported
    from the run `latest` now names because the new run was not recorded complete): it always passes."""
    baseline, candidate = sides[0], sides[1]
    if baseline.run_id == candidate.run_id:
        raise InputError(f"The baseline {baseline.label} and the candidate {candidate.label} are the same run "
                         f"({baseline.run_id}): a gate of a run against itself always passes.",
                         hint="Pass the candidate run with --candidate; `latest` is the newest *complete* run, "
                              "so a candidate run that failed leaves `latest` on an older one.")


def decide_gate(comparison: Comparison, max_drop: float, *, allow_missing: bool = False) -> GateOutcome:
    """Mark each row's drop (positive = worse) and whether it is a regression; keep failing rows' flips.
    What the baseline has and the candidate lacks fails the gate, unless `allow_missing`."""
    max_drop = check_max_drop(max_drop)
    rows = comparison.rows.copy()
    gain = np.where(rows.higher_is_better.astype(bool), rows.delta, -rows.delta)
    rows["drop"] = -gain
    rows["regression"] = (rows["drop"] > max_drop) & (rows.p_adjusted < comparison.alpha)
    failing = rows[rows.regression].reset_index(drop=True)
    untested = _untested_rows(rows)
    if len(untested) == len(rows):
        raise InputError(f"The gate has nothing it can judge: every compared metric of {comparison.labels[1]} "
                         f"against {comparison.labels[0]} lacks per-document scores ({'; '.join(untested)}).",
                         hint="Gate on a metric with per-document scores (e.g. acc), selected with --metric.")
    # A baseline cell or metric the candidate lacks cannot be judged: a candidate that stopped running a
    # task must not pass for it. Allowed, it is not gated, and nobody should mistake that for a pass.
    missing = [] if allow_missing else list(comparison.not_compared)
    not_gated = [f"not gated: {reason}" for reason in (comparison.not_compared if allow_missing else []) + untested]
    judged = replace(comparison, rows=rows, flips=_failing_flips(comparison.flips, failing),
                     warnings=comparison.warnings + not_gated + [f"missing: {reason}" for reason in missing])
    return GateOutcome(comparison=judged, max_drop=max_drop, passed=failing.empty and not missing, failing=failing,
                       not_gated=not_gated, missing=missing)


def _untested_rows(rows: pd.DataFrame) -> list[str]:
    """One reason per row the gate could not judge (no p-value: compared on stored aggregates only)."""
    out = []
    for row in rows[rows.p_adjusted.isna()].itertuples(index=False):
        where = " / ".join(str(v) for v in (row.model, row.task, row.setting, row.metric) if v is not None)
        out.append(f"{where} has no per-document scores (a corpus-level metric); compared on its "
                   f"aggregates only ({_number(row.value_a)} → {_number(row.value_b)}), not tested")
    return out


def _number(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{float(value):.3f}"


def _failing_flips(flips: pd.DataFrame, failing: pd.DataFrame) -> pd.DataFrame:
    """Only the flipped documents of the failing rows: those explain the regression."""
    keys = ["a", "b", "model", "task", "setting", "metric"]
    wanted = set(failing[keys].itertuples(index=False, name=None))
    mask = [key in wanted for key in flips[keys].itertuples(index=False, name=None)]
    return flips[mask].reset_index(drop=True)
