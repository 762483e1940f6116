"""`evalkit report RUN...`: run results (models x tasks, value ± CI, n) and, with several runs or
settings, their paired comparisons, as rich / markdown / JSON / JUnit XML / HTML; a run with
checkpoint or fine-tuning steps adds its trajectory view, one with transfer cells its matrix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from evalkit.cli.options import RunRef, stats_options, store_option
from evalkit.cli.report_output import (check_report_output, emit, report_inputs, report_output_options,
                                       resolve_format)
from evalkit.compare import CompareOptions, Comparison, RunOpener, RunSide, compare_runs, compare_settings, open_runs
from evalkit.errors import InputError
from evalkit.report import ReportDocument
from evalkit.report.document import StudyView

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
    studies, warnings = study_views(sides, options)
    return ReportDocument(title=title, results=results_frame(sides, options.metrics), comparisons=comparisons,
                          studies=studies, warnings=warnings)


def study_views(sides: list[RunSide], options: CompareOptions) -> tuple[tuple[StudyView, ...], tuple[str, ...]]:
    """The trajectory and transfer views of every run that has such cells; a view that cannot be
    built (a transfer matrix without its zero-shot baseline, say) becomes a warning, not a failure."""
    from evalkit.studies import trajectory_frame, transfer_frame

    views: list[StudyView] = []
    warnings: list[str] = []
    for side in sides:
        for view in study_kinds(side.cells):
            try:
                if view == "trajectory":
                    frame = trajectory_frame(side.conn, side.run_id, metrics=options.metrics,
                                             correction=options.correction, alpha=options.alpha)
                else:
                    frame = transfer_frame(side.conn, side.run_id, metric=options.metrics[0] if options.metrics
                                           else None, correction=options.correction, alpha=options.alpha)
            except InputError as exc:
                warnings.append(f"No {view} view for run {side.label}: {exc.message}")
                continue
            heading = "Trajectories" if view == "trajectory" else "Transfer / forgetting"
            views.append(StudyView(view, frame, f"{heading}: run {side.label}"))
    return tuple(views), tuple(warnings)


def study_kinds(cells: pd.DataFrame) -> list[str]:
    """Which study views a run's cells call for: 'trajectory' (a cell records a step), 'transfer'."""
    from evalkit.studies.transfer import TRANSFER_PREFIX

    kinds = []
    details = cells.details_json if "details_json" in cells else pd.Series([], dtype=object)
    if any(_has_trajectory(text) for text in details):
        kinds.append("trajectory")
    if "setting" in cells and cells.setting.astype(str).str.startswith(TRANSFER_PREFIX).any():
        kinds.append("transfer")
    return kinds


def _has_trajectory(text: object) -> bool:
    import json

    try:
        details = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return False
    return isinstance(details, dict) and isinstance(details.get("trajectory"), dict)


def print_run_report(console: "Console", ref: str, store: Any) -> None:
    """The results of one stored run and, when it has several settings, their paired comparison."""
    from evalkit.report import render

    with RunOpener(store) as opener:  # a path, a postgresql:// URL, or None for the default store
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
    check_report_output(output, force=force, inputs=inputs, fmt=fmt)
    options = CompareOptions(metrics=metrics, correction=correction, alpha=alpha, flips=flips,
                             allow_incomparable=allow_incomparable)
    with RunOpener(store) as opener:
        doc = build_document(open_runs(opener, list(runs)), options)
    emit(doc, resolve_format(fmt, output), output, force=force, inputs=inputs)
