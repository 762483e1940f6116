"""`evalkit compare REF REF [REF...]`: paired comparison of runs (ids, names, latest, latest~N or
exported results files), and the output options shared with `gate` and `report`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click

from evalkit.compare import CompareOptions, RunOpener, compare_runs, open_runs
from evalkit.report import FORMATS, ReportDocument, render

LOG_WIDTH = 120
_SUFFIX_FORMATS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".xml": "junit",
                   ".html": "html", ".htm": "html", ".txt": "rich"}


def store_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--store PATH (default: $EVALKIT_STORE or reports/evalkit.db)."""
    return click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Results database (default: $EVALKIT_STORE or reports/evalkit.db).")(f)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--format and -o/--output."""
    f = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write the report to FILE (the terminal still shows the table).")(f)
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                        help="Output format (default: from the -o suffix, else rich).")(f)


def stats_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--correction, --alpha, --metric, --flips, --allow-incomparable."""
    f = click.option("--allow-incomparable", is_flag=True,
                     help="Compare runs that differ in task config, prompts, few-shot k or versions; "
                          "the report carries a warning.")(f)
    f = click.option("--metric", "metrics", multiple=True, help="Compare only this metric (repeatable).")(f)
    f = click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
                     show_default=True, help="Significance level after correction.")(f)
    return click.option("--correction", type=click.Choice(["holm", "bh"]), default="holm", show_default=True,
                        help="Multiple-comparison correction across all compared rows "
                             "(Holm: family-wise error; bh: Benjamini-Hochberg false discovery rate).")(f)


def resolve_format(fmt: str | None, output: Path | None) -> str:
    """The explicit --format, else the one the output file's suffix names, else rich."""
    if fmt:
        return fmt
    if output is not None:
        return _SUFFIX_FORMATS.get(output.suffix.lower(), "rich")
    return "rich"


def emit(doc: ReportDocument, fmt: str, output: Path | None, *, step_summary: bool = False) -> None:
    """Show the report (rich on the terminal), write it to -o, append markdown to $GITHUB_STEP_SUMMARY."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = LOG_WIDTH  # CI logs scroll sideways; 80 columns would wrap every table row
    if output is None and fmt != "rich":
        click.echo(render(doc, fmt), nl=False)
    else:
        console.print(render(doc, "rich"))
    if output is not None:
        _write(output, doc, fmt)
        click.echo(f"Wrote {output}", err=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and summary:
        _append(Path(summary), render(doc, "markdown"))


def _write(path: Path, doc: ReportDocument, fmt: str) -> None:
    from rich.console import Console

    from evalkit.errors import InputError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            if fmt == "rich":
                Console(file=handle, width=120, color_system=None).print(render(doc, "rich"))
            else:
                handle.write(render(doc, fmt))
    except OSError as exc:
        raise InputError(f"Cannot write report file '{path}': {exc.strerror or exc}.",
                         hint="Pass -o with a writable location.") from exc


def _append(path: Path, text: str) -> None:
    """Append to the step summary; a failure here must not change the gate's verdict, so warn only."""
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        click.echo(f"Warning: cannot append to $GITHUB_STEP_SUMMARY '{path}': {exc.strerror or exc}", err=True)


def compare_title(labels: list[str]) -> str:
    """'evalkit compare: A vs B vs C'."""
    return "evalkit compare: " + " vs ".join(labels)


@click.command("compare")
@click.argument("refs", nargs=-1, required=True, metavar="REF REF [REF...]")
@stats_options
@click.option("--flips", type=click.IntRange(min=0), default=0, show_default=True,
              help="List N documents that went right -> wrong and N wrong -> right per 0/1 metric.")
@output_options
@store_option
def command(refs: tuple[str, ...], correction: str, alpha: float, metrics: tuple[str, ...],
            allow_incomparable: bool, flips: int, fmt: str | None, output: Path | None, store: Path | None) -> None:
    """Compare runs item by item: difference with a paired 95% CI, p-value, adjusted p, MDE.

    REF is a run id (or unique prefix), a run name, `latest`, `latest~N`, or an exported results
    file (.json / .parquet / .csv). The first REF is the reference. Cells are matched on task and
    setting (and on model when both runs hold several models); documents on their hash.
    """
    if len(refs) < 2:
        raise click.UsageError("compare needs at least two run references.")
    options = CompareOptions(metrics=metrics, correction=correction, alpha=alpha, flips=flips,
                             allow_incomparable=allow_incomparable)
    with RunOpener(store) as opener:
        sides = open_runs(opener, list(refs))
        comparison = compare_runs(sides, options)
    doc = ReportDocument(title=compare_title(comparison.labels), comparisons=(comparison,))
    emit(doc, resolve_format(fmt, output), output, step_summary=True)
