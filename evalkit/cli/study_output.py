"""Options and output shared by the study commands (`trajectory`, `transfer`): the statistics
options, the format, and writing the view to the terminal, stdout or an -o file (through
`evalkit.outputs.output_file`, so nothing is ever overwritten without --force)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from evalkit.cli.options import FiniteFloatRange, output_options
from evalkit.report.study_render import STUDY_FORMATS

if TYPE_CHECKING:
    import pandas as pd

LOG_WIDTH = 120

study_output_options = output_options(
    STUDY_FORMATS, format_help="Output format (default: from the -o suffix, else rich).",
    output_help="Write the view to FILE (the terminal still shows the table); an existing FILE needs --force.")


def correction_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--correction and --alpha."""
    f = click.option("--alpha", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=0.05,
                     show_default=True, help="Significance level after correction.")(f)
    return click.option("--correction", type=click.Choice(["holm", "bh"]), default="holm", show_default=True,
                        help="Multiple-comparison correction across every test of the view "
                             "(Holm: family-wise error; bh: Benjamini-Hochberg false discovery rate).")(f)


def study_format(fmt: str | None, output: Path | None) -> str:
    """The explicit --format, else the one the -o suffix names (a suffix of no study format: rich)."""
    from evalkit.cli.report_output import resolve_format

    chosen = resolve_format(fmt, output)
    return chosen if chosen in STUDY_FORMATS else "rich"


def store_path(store: Any) -> Any:
    """--store (a path or a postgresql:// URL), else $EVALKIT_STORE, else reports/evalkit.db."""
    from evalkit.store import store_location

    return store_location(store)


def check_output(output: Path | None, *, force: bool, store: Any) -> None:
    """Refuse a bad -o before any work (the same check runs again when writing)."""
    from evalkit.outputs import check_output_path

    if output is not None:
        check_output_path(output, force=force, inputs=_files(store))


def emit_study(frame: "pd.DataFrame", view: str, fmt: str, output: Path | None, *, force: bool,
               store: Any) -> None:
    """Show the view (rich on the terminal, or the chosen format on stdout) and write it to -o."""
    from rich.console import Console

    from evalkit.outputs import output_file
    from evalkit.report.study_render import render_study

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = LOG_WIDTH
    if output is None and fmt != "rich":
        click.echo(render_study(frame, view, fmt), nl=False)
    else:
        console.print(render_study(frame, view, "rich"))
    if output is None:
        return
    with output_file(output, force=force, inputs=_files(store)) as temporary:
        with temporary.open("w", encoding="utf-8") as handle:
            if fmt == "rich":
                Console(file=handle, width=LOG_WIDTH, color_system=None).print(render_study(frame, view, "rich"))
            else:
                handle.write(render_study(frame, view, fmt))
    click.echo(f"Wrote {output}", err=True)


def _files(store: Any) -> list[Path]:
    """The store's local file (none for a server store): no output is written over it."""
    from evalkit.store import location_files

    return location_files(store)
