"""Showing and writing a report document, shared by `compare`, `gate` and `report`: the rich
table on the terminal, the chosen format on stdout or in the -o file, markdown appended to
$GITHUB_STEP_SUMMARY. Every file is written through `evalkit.outputs.output_file`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import click

from evalkit.cli.options import output_options
from evalkit.compare.sources import is_file_ref
from evalkit.outputs import append_regular, check_output_path, output_file
from evalkit.report import FORMATS, ReportDocument, render
from evalkit.store import samples_sibling

LOG_WIDTH = 120
_SUFFIX_FORMATS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".xml": "junit",
                   ".html": "html", ".htm": "html", ".txt": "rich"}
_OTHER_FORMAT_SUFFIXES = (".csv", ".parquet", ".junit", ".yaml", ".yml", ".db", ".sqlite")  # never a report
_TIDY_SUFFIXES = (".parquet", ".csv")  # exports whose per-document rows sit in a samples sibling file

report_output_options = output_options(
    FORMATS, format_help="Output format (default: from the -o suffix, else rich).",
    output_help="Write the report to FILE (the terminal still shows the table); an existing FILE "
                "needs --force.")


class CommentId(click.ParamType):
    """The id in a gate report's first-line marker (`evalkit.report.markdown.COMMENT_ID`): letters,
    digits, '.', '_' and '-', so it can end neither the HTML comment nor its line."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from evalkit.report.markdown import COMMENT_ID

        text = str(value)
        if not COMMENT_ID.fullmatch(text):
            self.fail(f"{text!r} is not a comment id: use up to 100 letters, digits, '.', '_' or '-', "
                      "starting with a letter or digit (e.g. nightly-gpu).", param, ctx)
        return text


comment_id_option = click.option(
    "--comment-id", type=CommentId(), default="default", show_default=True,
    help="Names the pull-request comment: the markdown report starts with <!-- evalkit-gate: ID -->, "
         "which a CI step finds to update its earlier comment in place (one id per gate in a workflow).")


def resolve_format(fmt: str | None, output: Path | None) -> str:
    """The explicit --format, else the one the output file's suffix names, else rich. A suffix that
    names another format than --format, or no report format at all (-o r.csv), is refused
    (InputError, exit 2) rather than filled with text of another kind."""
    from evalkit.errors import InputError

    suffix = output.suffix.lower() if output is not None else ""
    named = _SUFFIX_FORMATS.get(suffix)
    if not suffix or (named is not None and fmt in (None, named)):
        return fmt or named or "rich"
    if fmt and named is None and suffix not in _OTHER_FORMAT_SUFFIXES:
        return fmt  # a suffix of no known format (-o report.log): the explicit format decides
    known = ", ".join(f"{k} ({v})" for k, v in _SUFFIX_FORMATS.items())
    raise InputError(f"-o '{output}': its suffix '{suffix}' "
                     + (f"names the {named} format, but --format {fmt} was given." if named and fmt
                        else "is not a report format."),
                     hint=f"Use a report suffix ({known}), or pass --format with a file name that agrees.")


def report_inputs(store: Any, refs: Iterable[str]) -> list[Path]:
    """Every file a report reads: the store and each exported results file named as a reference
    (with the samples sibling of a Parquet / CSV export). None of them may be the -o file."""
    from evalkit.store import location_files, store_location

    inputs = location_files(store_location(store))  # a server store has no local file
    for ref in map(Path, filter(is_file_ref, refs)):
        inputs += [ref, samples_sibling(ref)] if ref.suffix.lower() in _TIDY_SUFFIXES else [ref]
    return inputs


def check_report_output(output: Path | None, *, force: bool, inputs: Sequence[Path], fmt: str | None = None) -> None:
    """Refuse a bad -o (or one whose suffix contradicts --format) before any work is done (the same
    checks run again when writing)."""
    if output is not None:
        check_output_path(output, force=force, inputs=inputs)
    resolve_format(fmt, output)  # after the path check: '-o the store' is named as such


def emit(doc: ReportDocument, fmt: str, output: Path | None, *, force: bool = False,
         inputs: Sequence[Path] = (), step_summary: bool = False) -> None:
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
        write_report(output, doc, fmt, force=force, inputs=inputs)
        click.echo(f"Wrote {output}", err=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and summary:
        _append(Path(summary), render(doc, "markdown"))


def write_report(path: Path, doc: ReportDocument, fmt: str, *, force: bool, inputs: Sequence[Path]) -> None:
    """Render `doc` in `fmt` into `path`; a failed render or write leaves any earlier file as it was."""
    from rich.console import Console

    with output_file(path, force=force, inputs=inputs) as temporary:
        with temporary.open("w", encoding="utf-8") as handle:
            if fmt == "rich":
                Console(file=handle, width=LOG_WIDTH, color_system=None).print(render(doc, "rich"))
            else:
                handle.write(render(doc, fmt))


def _append(path: Path, text: str) -> None:
    """Append to the step summary; a failure here must not change the gate's verdict, so warn only."""
    try:
        append_regular(path, text + "\n")
    except OSError as exc:
        click.echo(f"Warning: cannot append to $GITHUB_STEP_SUMMARY '{path}': {exc.strerror or exc}", err=True)
