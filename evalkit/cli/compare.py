"""`evalkit compare REF REF [REF...]`: paired comparison of runs (ids, names, latest, latest~N or
exported results files)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import RunRef, stats_options, store_option
from evalkit.cli.report_output import (check_report_output, emit, report_inputs, report_output_options,
                                       resolve_format)
from evalkit.compare import CompareOptions, RunOpener, compare_runs, open_runs
from evalkit.outputs import check_step_summary
from evalkit.report import ReportDocument


def compare_title(labels: list[str]) -> str:
    """'evalkit compare: A vs B vs C'."""
    return "evalkit compare: " + " vs ".join(labels)


@click.command("compare")
@click.argument("refs", nargs=-1, required=True, type=RunRef(), metavar="REF REF [REF...]")
@stats_options
@click.option("--flips", type=click.IntRange(min=0), default=0, show_default=True,
              help="List N documents that went right -> wrong and N wrong -> right per 0/1 metric.")
@report_output_options
@store_option
def command(refs: tuple[str, ...], correction: str, alpha: float, metrics: tuple[str, ...],
            allow_incomparable: bool, flips: int, fmt: str | None, output: Path | None, force: bool,
            store: Path | None) -> None:
    """Compare runs item by item: difference with a paired 95% CI, p-value, adjusted p, MDE.

    REF is a run id (or unique prefix), a run name, `latest`, `latest~N`, or an exported results
    file (.json / .parquet / .csv). The first REF is the reference. Cells are matched on task and
    setting (and on model when both runs hold several models); documents on their hash. Two REFs
    naming the same stored run are refused (a run compared with itself says nothing).
    """
    if len(refs) < 2:
        raise click.UsageError("compare needs at least two run references.")
    inputs = report_inputs(store, refs)
    check_report_output(output, force=force, inputs=inputs, fmt=fmt)
    check_step_summary(inputs)
    options = CompareOptions(metrics=metrics, correction=correction, alpha=alpha, flips=flips,
                             allow_incomparable=allow_incomparable)
    with RunOpener(store) as opener:
        sides = open_runs(opener, list(refs))
        comparison = compare_runs(sides, options)
    doc = ReportDocument(title=compare_title(comparison.labels), comparisons=(comparison,))
    emit(doc, resolve_format(fmt, output), output, force=force, inputs=inputs, step_summary=True)
