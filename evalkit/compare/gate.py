"""The CI gate's decision: GO / NO-GO / INCONCLUSIVE for the suite from PASS / FAIL / INCONCLUSIVE rows,
each row's drop tested against its tolerance from a gate policy (evalkit.compare.policy), in the metric's
own direction (evalkit.metric_semantics: perplexity is judged as perplexity, never as its per-document
log-likelihoods).

The gate never passes on what it could not judge: runs that are not complete are refused (exit 2)
before comparing; a baseline cell, metric or document the candidate lacks (a task the candidate stopped
running, a smaller --limit) is missing and makes the verdict NO-GO unless allowed (`--allow-missing`:
then it is listed as not gated); rows no test applies to are listed as not gated; a gate with nothing it
could judge is refused."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from evalkit.compare.calibration import noise_column
from evalkit.compare.policy import TIERS, GatePolicy, simple_policy
from evalkit.compare.result import GATE_COLUMNS, Comparison, GateOutcome, check_max_drop
from evalkit.compare.sources import RunSide
from evalkit.compare.verdict import needed, reason, row_evidence
from evalkit.errors import InputError, did_you_mean
from evalkit.report.formatting import fmt_given
from evalkit.stats import adjust_pvalues
from evalkit.stats.margins import MarginTest


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


def decide_gate(comparison: Comparison, policy: GatePolicy | float, *, allow_missing: bool = False,
                power: float = 0.8, n_boot: int = 10_000, seed: int = 0) -> GateOutcome:
    """The three-way verdict (module docstring of evalkit.compare.verdict for each row's test).

    Rows: FAIL when the drop beyond the tolerance is established (p_fail adjusted across the tier's rows
    by the comparison's correction, Holm by default: the chance of failing a model whose every drop is
    within tolerance stays below alpha); PASS when the worst plausible drop is within it (each row tested
    at alpha: GO needs every required row to pass, an intersection-union test, so passing a true drop
    beyond tolerance stays below alpha); INCONCLUSIVE otherwise. Suite: NO-GO when a required row fails
    or a required result is missing, GO when every required row passes, else INCONCLUSIVE.
    """
    policy = policy if isinstance(policy, GatePolicy) else simple_policy(check_max_drop(policy))
    check_max_drop(policy.defaults.tolerance)
    rows = comparison.rows.copy()
    if policy.metrics:
        _check_policy_metrics(rows, policy)
        keep = rows.metric.map(lambda m: str(m).split(",")[0] in policy.metrics or str(m) in policy.metrics)
        rows, pairs = rows[keep].reset_index(drop=True), [p for p, k in zip(comparison.row_pairs, keep) if k]
    else:
        pairs = list(comparison.row_pairs)
    judged = [_judge(row, pair, policy, comparison.alpha, n_boot, seed) for row, pair in
              zip((r for _, r in rows.iterrows()), pairs)]
    for column in GATE_COLUMNS:
        rows[column] = [j[column] for j in judged] if judged else []
    rows = _decide_rows(rows, comparison, power)
    untested = _untested_rows(rows)
    if rows.empty or len(untested) == len(rows):
        raise InputError(f"The gate has nothing it can judge: no compared metric of {comparison.labels[1]} "
                         f"against {comparison.labels[0]} can be tested ({'; '.join(untested) or 'no rows'}).",
                         hint="Gate on a metric with per-document scores (e.g. acc), selected with --metric.")
    missing = [] if allow_missing else list(comparison.not_compared) + _missing_documents(rows)
    missing += _missing_required_tasks(rows, policy)
    not_gated = [f"not gated: {reason}" for reason in (comparison.not_compared if allow_missing else []) + untested]
    failing = rows[(rows.verdict == "FAIL") & (rows.tier == "required")].reset_index(drop=True)
    verdict = _suite_verdict(rows, missing)
    rows["regression"] = rows.verdict == "FAIL"
    judged_comparison = replace(comparison, rows=rows, flips=_failing_flips(comparison.flips, failing),
                                warnings=comparison.warnings + not_gated + [f"missing: {m}" for m in missing])
    return GateOutcome(comparison=judged_comparison, max_drop=policy.defaults.tolerance, verdict=verdict,
                       failing=failing, not_gated=not_gated, missing=missing, policy_source=policy.source,
                       alpha=comparison.alpha)


def _check_policy_metrics(rows: pd.DataFrame, policy: GatePolicy) -> None:
    """InputError for a policy metric no compared row reports (a typo would gate nothing of it)."""
    reported = sorted({str(m) for m in rows.metric} | {str(m).split(",")[0] for m in rows.metric})
    unknown = [m for m in policy.metrics if m not in reported]
    if unknown:
        raise InputError(f"Gate policy {policy.source}: metric '{unknown[0]}' under 'metrics' is not reported by "
                         f"the compared runs; they report: {', '.join(reported)}." + did_you_mean(unknown[0], reported),
                         hint="Fix the name in the policy's `metrics:` list.")


def _judge(row: pd.Series, pair: object, policy: GatePolicy, alpha: float, n_boot: int, seed: int) -> dict:
    """Each gate column of one row (its verdict is settled after the tier's p-values are adjusted)."""
    rule = policy.row(str(row.task), str(row.metric))
    tolerance = rule.tolerance_for(float(row.value_a) if row.value_a is not None else math.nan)
    test = row_evidence(row, pair, rule, alpha, n_boot, seed)  # type: ignore[arg-type]
    out = dict.fromkeys(GATE_COLUMNS, math.nan)
    out.update(tier=rule.tier, tolerance=tolerance, gate_method=None, clusters=None, design_effect=None,
               verdict="NOT GATED", reason="")
    out.update(min_documents=rule.min_documents)
    out.update(noise_column(rule))  # the calibrated noise of the row (NaN without a policy `calibration:`)
    out.update(design=subset_design(pair))
    if test is None:
        return out
    out.update(drop=test.drop, drop_low=test.low, drop_high=test.high, p_fail=test.p_fail, p_pass=test.p_pass,
               gate_method=test.method, clusters=test.clusters, design_effect=test.design_effect, drop_sd=test.sd)
    return out


def subset_design(pair: object) -> str | None:
    """What the candidate's task was sized for when it is a power-sized CI subset (`evalkit tasks subset`
    stores the design in the task's metadata; the computed cell keeps it as details["subset"])."""
    details = getattr(pair, "cell_b", {}).get("details_json")
    try:
        design = json.loads(details).get("subset") if isinstance(details, str) else None
    except (ValueError, AttributeError):
        return None
    if not isinstance(design, dict):
        return None
    try:
        return (f"a CI subset of {design['source_task']} sized for {float(design['power']):.0%} power to fail a drop of "
                f"{fmt_given(design['target_drop'])} at alpha {fmt_given(design['alpha'])} ({int(design['n'])} documents)")
    except (KeyError, TypeError, ValueError):
        return None


def _decide_rows(rows: pd.DataFrame, comparison: Comparison, power: float) -> pd.DataFrame:
    """Adjust p_fail within each tier, then give every tested row its verdict and reason."""
    tested = rows.p_fail.notna()
    for tier in TIERS:
        mask = tested & (rows.tier == tier)
        if mask.any():
            rows.loc[mask, "p_fail_adjusted"] = adjust_pvalues(rows.loc[mask, "p_fail"].tolist(), comparison.correction)
    alpha = comparison.alpha
    verdicts, reasons, needs = [], [], []
    for _, row in rows.iterrows():
        verdict, text, need = _row_verdict(row, alpha, power)
        verdicts.append(verdict)
        reasons.append(text)
        needs.append(need)
    rows["verdict"], rows["reason"], rows["needed_n"] = verdicts, reasons, needs
    return rows


def _row_verdict(row: pd.Series, alpha: float, power: float) -> tuple[str, str, float]:
    if pd.isna(row.p_fail):
        return "NOT GATED", "no per-document values or items to test (compared on stored aggregates only)", math.nan
    test = _margin(row)
    extra: dict = {"p_adjusted": float(row.p_fail_adjusted)}
    verdict = classify(float(row.p_fail_adjusted), float(row.p_pass), alpha)
    if verdict == "PASS" and int(row.n) < int(row.min_documents):
        verdict = "INCONCLUSIVE"
    if verdict == "INCONCLUSIVE":
        if int(row.n) < int(row.min_documents):
            extra["why"] = f"the policy asks for at least {int(row.min_documents)} documents, this row has {int(row.n)}"
        extra["needed_n"] = needed(test, float(row.tolerance), alpha, power)
    return verdict, reason(verdict, test, float(row.tolerance), 1.0 - alpha, extra), extra.get("needed_n", math.nan)


def classify(p_fail_adjusted: float, p_pass: float, alpha: float) -> str:
    """FAIL when the drop beyond the tolerance is established (after adjustment), PASS when the drop within
    it is (each row at alpha: GO is an intersection-union test), else INCONCLUSIVE."""
    if p_fail_adjusted < alpha:
        return "FAIL"
    return "PASS" if p_pass < alpha else "INCONCLUSIVE"


def suite_verdict(row_verdicts: list[str], missing: bool = False) -> str:
    """GO when every required row passes, NO-GO when one fails or a required result is missing."""
    if missing or "FAIL" in row_verdicts:
        return "NO-GO"
    return "GO" if row_verdicts and all(v == "PASS" for v in row_verdicts) else "INCONCLUSIVE"


def _margin(row: pd.Series) -> MarginTest:
    return MarginTest(float(row["drop"]), float(row.drop_low), float(row.drop_high), float(row.p_fail),
                      float(row.p_pass), int(row.n), float(row.drop_sd),
                      str(row.gate_method), row.clusters, row.design_effect)


def _suite_verdict(rows: pd.DataFrame, missing: list[str]) -> str:
    required = rows[(rows.tier == "required") & (rows.verdict != "NOT GATED")]
    return suite_verdict(list(required.verdict), bool(missing))


def _missing_documents(rows: pd.DataFrame) -> list[str]:
    """Baseline documents the candidate was not evaluated on (a smaller --limit): never gated as a pass."""
    out = []
    for row in rows.drop_duplicates(["model", "task", "setting"]).itertuples(index=False):
        if row.unmatched_a:
            out.append(f"{row.model} / {row.task} / {row.setting}: {int(row.unmatched_a)} of the baseline's "
                       f"{int(row.unmatched_a) + int(row.n)} documents are not in the candidate")
    return out


def _missing_required_tasks(rows: pd.DataFrame, policy: GatePolicy) -> list[str]:
    present = set(rows.task.astype(str))
    return [f"the policy's required task '{t}' is not compared" for t in policy.required_tasks if t not in present]


def _untested_rows(rows: pd.DataFrame) -> list[str]:
    """One reason per row the gate could not judge (no p-value: compared on stored aggregates only)."""
    out = []
    for row in rows[rows.p_fail.isna()].itertuples(index=False):
        where = " / ".join(str(v) for v in (row.model, row.task, row.setting, row.metric) if v is not None)
        out.append(f"{where} is compared on its stored aggregates only ({_number(row.value_a)} → "
                   f"{_number(row.value_b)}): its per-document items are missing, of an unknown aggregation, "
                   "or do not reproduce the stored values")
    return out


def _number(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{float(value):.3f}"


def _failing_flips(flips: pd.DataFrame, failing: pd.DataFrame) -> pd.DataFrame:
    """Only the flipped documents of the failing rows: those explain the regression."""
    keys = ["a", "b", "model", "task", "setting", "metric"]
    wanted = set(failing[keys].itertuples(index=False, name=None))
    mask = [key in wanted for key in flips[keys].itertuples(index=False, name=None)]
    return flips[mask].reset_index(drop=True)
