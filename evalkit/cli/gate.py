"""`evalkit gate --baseline REF`: exit 0 when the candidate did not regress, 1 when it did, 2 for bad input."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import FiniteFloatRange, RunRef, stats_options, store_option
from evalkit.cli.report_output import (check_report_output, emit, report_inputs, report_output_options,
                                       resolve_format)
from evalkit.compare import (CompareOptions, GateOutcome, RunOpener, compare_runs, decide_gate, open_runs,
                             require_complete, require_distinct)
from evalkit.errors import RegressionFound
from evalkit.outputs import check_step_summary
from evalkit.report import ReportDocument


@click.command("gate")
@click.option("--baseline", required=True, type=RunRef(),
              help="Baseline run: id, name, latest~N, or an exported results file kept in git.")
@click.option("--candidate", default="latest", show_default=True, type=RunRef(), help="Candidate run.")
@click.option("--max-drop", type=FiniteFloatRange(min=0), default=0.01, show_default=True,
              help="Tolerated drop (in metric units, finite, >= 0); larger significant drops fail the gate.")
@stats_options
@click.option("--flips", type=click.IntRange(min=0), default=5, show_default=True,
              help="Flipped documents to list for each failing 0/1 metric.")
@click.option("--allow-missing", is_flag=True,
              help="Pass although the candidate lacks some of the baseline's cells or metrics (they are "
                   "listed as not gated); by default a missing baseline result fails the gate.")
@report_output_options
@store_option
def command(baseline: str, candidate: str, max_drop: float, correction: str, alpha: float,
            metrics: tuple[str, ...], allow_incomparable: bool, flips: int, allow_missing: bool, fmt: str | None,
            output: Path | None, force: bool, store: Path | None) -> None:
    """Fail (exit 1) when any metric of the candidate dropped below the baseline by more than
    --max-drop AND significantly after correction (direction respects higher_is_better).

    Exit 0: passed. Exit 1: regression (the report lists failing rows and flipped documents), a
    baseline cell or metric the candidate lacks (unless --allow-missing), or the store stayed locked
    by another process. Exit 2: bad input (missing or malformed baseline
    file, unknown run, incomparable runs, baseline and candidate the same run, a run that is not
    complete, a per-document score that is missing or not a finite number).
    Corpus-level metrics (no per-document scores) are listed as not gated.
    With $GITHUB_STEP_SUMMARY set, the markdown report is appended to it.
    """
    inputs = report_inputs(store, [baseline, candidate])
    check_report_output(output, force=force, inputs=inputs, fmt=fmt)
    check_step_summary(inputs)
    options = CompareOptions(metrics=metrics, correction=correction, alpha=alpha, flips=flips,
                             allow_incomparable=allow_incomparable)
    with RunOpener(store) as opener:
        sides = open_runs(opener, [baseline, candidate])
        require_distinct(sides)
        require_complete(sides)
        outcome = decide_gate(compare_runs(sides, options), max_drop, allow_missing=allow_missing)
    labels = outcome.comparison.labels
    doc = ReportDocument(title=f"evalkit gate: {labels[1]} against baseline {labels[0]}", gate=outcome)
    emit(doc, resolve_format(fmt, output), output, force=force, inputs=inputs, step_summary=True)
    if not outcome.passed:
        raise _regression(outcome)


def _regression(outcome: GateOutcome) -> RegressionFound:
    """The error that makes the process exit 1, naming what regressed."""
    failing = outcome.failing
    names = [" / ".join(str(v) for v in (r.task, r.setting, r.metric) if v is not None) for r in failing.itertuples()]
    parts = [f"{len(names)} metric(s) regressed beyond --max-drop {outcome.max_drop:g}: {', '.join(names)}"] if names else []
    if outcome.missing:
        parts.append(f"{len(outcome.missing)} baseline result(s) missing from the candidate: {'; '.join(outcome.missing)}")
    hint = ("Inspect the flipped documents above; re-baseline with `evalkit results export` if the drop is intended."
            if names else "")
    if outcome.missing:
        hint += (" " if hint else "") + ("Run the candidate on the baseline's tasks and settings, or pass "
                                         "--allow-missing to gate only what both runs have.")
    return RegressionFound(f"Gate failed: {'; '.join(parts)}.", hint=hint)
