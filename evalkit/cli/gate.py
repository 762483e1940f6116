"""`evalkit gate --baseline REF`: exit 0 GO, 1 NO-GO, 3 INCONCLUSIVE, 2 for bad input."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import FiniteFloatRange, RunRef, stats_options, store_option
from evalkit.cli.report_output import (check_report_output, comment_id_option, emit, report_inputs, report_output_options,
                                       resolve_format)
from evalkit.compare import (CompareOptions, GateOutcome, RunOpener, compare_runs, decide_gate, open_runs,
                             require_complete, require_distinct)
from evalkit.compare.policy import GatePolicy, load_policy, simple_policy
from evalkit.errors import EvalkitError, GateInconclusive, RegressionFound
from evalkit.outputs import check_step_summary
from evalkit.report import ReportDocument


@click.command("gate")
@click.option("--baseline", required=True, type=RunRef(),
              help="Baseline run: id, name, latest~N, or an exported results file kept in git.")
@click.option("--candidate", default="latest", show_default=True, type=RunRef(), help="Candidate run.")
@click.option("--max-drop", type=FiniteFloatRange(min=0), default=None,
              help="Tolerated drop in metric units (finite, >= 0) for every row; replaces a policy's default "
                   "tolerance.  [default: 0.01]")
@click.option("--policy", "policy_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Gate policy YAML: per task / metric tolerance (absolute, relative), tier (required / "
                   "advisory), required tasks, gated metrics, minimum documents (README: Use in CI).")
@click.option("--inconclusive", type=click.Choice(["exit3", "pass", "fail"]), default="exit3", show_default=True,
              help="Exit code of an INCONCLUSIVE verdict: 3, or 0 (pass), or 1 (fail).")
@stats_options
@click.option("--flips", type=click.IntRange(min=0), default=5, show_default=True,
              help="Flipped documents to list for each failing 0/1 metric.")
@click.option("--allow-missing", is_flag=True,
              help="Judge only what both runs have: baseline cells, metrics or documents the candidate lacks "
                   "are listed as not gated; by default they make the verdict NO-GO.")
@report_output_options
@comment_id_option
@store_option
def command(baseline: str, candidate: str, max_drop: float | None, policy_path: Path | None, inconclusive: str,
            correction: str, alpha: float, metrics: tuple[str, ...], allow_incomparable: bool, flips: int,
            allow_missing: bool, fmt: str | None, output: Path | None, force: bool, comment_id: str,
            store: Path | None) -> None:
    """GO, NO-GO or INCONCLUSIVE for the candidate against the baseline.

    Each row (task x setting x metric) is judged on its drop (in the metric's own direction) against its
    tolerance: PASS when even the worst plausible drop is within it, FAIL when a drop beyond it is
    established (adjusted across rows), INCONCLUSIVE otherwise, with the documents that would decide it.
    The suite is GO when every required row passes, NO-GO when one fails or a baseline result is missing.

    Exit 0: GO. Exit 1: NO-GO (or the store stayed locked by another process). Exit 3: INCONCLUSIVE
    (--inconclusive pass / fail maps it to 0 / 1). Exit 2: bad input (missing or malformed baseline file or
    policy, unknown run, incomparable runs, baseline and candidate the same run, a run that is not complete,
    a per-document score that is missing or not a finite number).
    With $GITHUB_STEP_SUMMARY set, the markdown report is appended to it.
    """
    inputs = report_inputs(store, [baseline, candidate])
    check_report_output(output, force=force, inputs=inputs, fmt=fmt)
    check_step_summary(inputs)
    policy = gate_policy(policy_path, max_drop, store)
    options = CompareOptions(metrics=metrics, correction=correction, alpha=alpha, flips=flips,
                             allow_incomparable=allow_incomparable)
    with RunOpener(store) as opener:
        sides = open_runs(opener, [baseline, candidate])
        require_distinct(sides)
        require_complete(sides)
        outcome = decide_gate(compare_runs(sides, options), policy, allow_missing=allow_missing)
    labels = outcome.comparison.labels
    doc = ReportDocument(title=f"evalkit gate: {labels[1]} against baseline {labels[0]}", gate=outcome,
                         comment_id=comment_id)
    emit(doc, resolve_format(fmt, output), output, force=force, inputs=inputs, step_summary=True)
    error = verdict_error(outcome, inconclusive)
    if error is not None:
        raise error


def gate_policy(policy_path: Path | None, max_drop: float | None, store: Path | None = None) -> GatePolicy:
    """The policy file (with --max-drop replacing its default tolerance), or --max-drop alone."""
    if policy_path is None:
        return simple_policy(0.01 if max_drop is None else max_drop)
    return load_policy(policy_path, max_drop, store)


def verdict_error(outcome: GateOutcome, inconclusive: str = "exit3") -> EvalkitError | None:
    """The error whose exit code says the verdict: NO-GO 1, INCONCLUSIVE 3 (or as --inconclusive maps it)."""
    if outcome.verdict == "NO-GO":
        return _regression(outcome)
    if outcome.verdict == "INCONCLUSIVE" and inconclusive != "pass":
        rows = outcome.inconclusive
        names = [" / ".join(str(v) for v in (r.task, r.setting, r.metric) if v is not None) for r in rows.itertuples()]
        message = (f"Gate INCONCLUSIVE: {len(names)} required row(s) could be neither passed nor failed: "
                   f"{', '.join(names) or 'no required row was gated'}.")
        hint = ("Each row's reason says how many documents would decide it; evaluate more documents, widen the "
                "tolerance in a policy, or run with --inconclusive pass / fail to choose.")
        return RegressionFound(message, hint=hint) if inconclusive == "fail" else GateInconclusive(message, hint=hint)
    return None


def _regression(outcome: GateOutcome) -> RegressionFound:
    """The error that makes the process exit 1, naming what failed."""
    failing = outcome.failing
    names = [" / ".join(str(v) for v in (r.task, r.setting, r.metric) if v is not None) for r in failing.itertuples()]
    parts = [f"{len(names)} required row(s) dropped beyond their tolerance: {', '.join(names)}"] if names else []
    if outcome.missing:
        parts.append(f"{len(outcome.missing)} baseline result(s) missing from the candidate: {'; '.join(outcome.missing)}")
    hint = ("Inspect the flipped documents above; re-baseline with `evalkit results export` if the drop is intended."
            if names else "")
    if outcome.missing:
        hint += (" " if hint else "") + ("Run the candidate on the baseline's tasks, settings and documents, or pass "
                                         "--allow-missing to gate only what both runs have.")
    return RegressionFound(f"Gate NO-GO: {'; '.join(parts)}.", hint=hint)
