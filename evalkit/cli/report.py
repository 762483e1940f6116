"""`evalkit report RUN...`: run results (models x tasks, value ± CI, n) and, with several runs or
settings, their paired comparisons, as rich / markdown / JSON / JUnit XML / HTML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd

from evalkit.cli.options import RunRef, stats_options, store_option
from evalkit.cli.report_output import (check_report_output, emit, report_inputs, report_output_options,
                                       resolve_format)
from evalkit.compare import CompareOptions, Comparison, RunOpener, RunSide, compare_runs, compare_settings, open_runs
from evalkit.report import ReportDocument

if TYPE_CHECKING:
    from rich.console import Console


def results_frame(sides: list[RunSide], metrics: tuple[str, ...]) -> pd.DataFrame:
    """The tidy metrics of every run, labelled with the run's display label, optionally filtered."""
    frames = [side.metrics.assign(run=side.label) for side in sides]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame[frame.metric.isin(metrics)].reset_index(drop=True) if metrics else frame


def build_document(sides: list[RunSide], options: CompareOptions) -> ReportDocument:
    """Results of all runs; several runs: each against the first; one run: its settings against each other."""
    comparisons: tuple[Comparison, ...] = ()
    if len(sides) > 1:
        comparisons = (compare_runs(sides, options),)
    else:
        within = compare_settings(sides[0], options)
        comparisons = (within,) if within is not None else ()
    title = "evalkit report: " + ", ".join(side.label for side in sides)
    return ReportDocument(title=title, results=results_frame(sides, options.metrics), comparisons=comparisons)


def print_run_report(console: "Console", ref: str, store: str | Path | None) -> None:
    """The results of one stored run and, when it has several settings, their paired comparison."""
    from evalkit.report import render

    with RunOpener(Path(store) if store else None) as opener:
        doc = build_document(open_runs(opener, [ref]), CompareOptions())
    console.print(render(doc, "rich"))


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=RunRef(), metavar="RUN...")
@stats_options
@click.option("--flips", type=click.IntRange(min=0), default=0, show_default=True,
              help="List N flipped documents each way per compared 0/1 metric.")
@report_output_options
@store_option
def command(runs: tuple[str, ...], correction: str, alpha: float, metrics: tuple[str, ...],
            allow_incomparable: bool, flips: int, fmt: str | None, output: Path | None, force: bool,
            store: Path | None) -> None:
    """Render runs as a report: `evalkit report latest --format html -o reports/latest.html`.

    RUN is a run id, name, `latest`, `latest~N` or an exported results file. With several runs the
    first is the reference; with one run holding several settings (zero-shot, few-shot, fine-tuned)
    each setting is compared with zero-shot on the same documents.
    """
    inputs = report_inputs(store, runs)
    check_report_output(output, force=force, inputs=inputs)
    options = CompareOptions(metrics=metrics, correction=correction, alpha=alpha, flips=flips,
                             allow_incomparable=allow_incomparable)
    with RunOpener(store) as opener:
        doc = build_document(open_runs(opener, list(runs)), options)
    emit(doc, resolve_format(fmt, output), output, force=force, inputs=inputs)
