"""`evalkit results list|show|export`: read the results database (never create or change it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from evalkit.cli.options import RunRef, store_option
from evalkit.cli.results_export import export_command
from evalkit.cli.results_import import import_command
from evalkit.cli.results_push import push_command
from evalkit.report.formatting import literal, printable
from evalkit.report.rich_fit import BREAK, TERMINAL_HINT, Column, FittedTable

if TYPE_CHECKING:
    import pandas as pd


@click.group("results")
def command() -> None:
    """List, show, export, import and push stored results."""


@command.command("list")
@store_option
@click.option("--all", "show_all", is_flag=True, help="Include failed and interrupted runs.")
def list_runs_command(store: Path | None, show_all: bool) -> None:
    """Runs in the store, newest first."""
    from evalkit.store import store_location
    from evalkit.store import list_runs
    from evalkit.store import open_for_reading

    path = store_location(store)
    conn = open_for_reading(path)
    try:
        runs = list_runs(conn, include_incomplete=show_all)
    finally:
        conn.close()
    columns = (Column("run id", whole=True), Column("name"), Column("created", whole=True),
               Column("status", whole=True), Column("cells", whole=True, justify="right"), Column("git commit"),
               Column("command"))
    rows = tuple(tuple((printable(v), "") for v in (run.run_id, run.name or "", run.created_at, run.status,
                                                    str(run.cells), (run.git_commit or "")[:12], (run.command or "")[:60]))
                 for run in runs.itertuples())
    rows = tuple(row[:2] + ((row[2][0].replace("T", BREAK, 1), ""),) + row[3:] for row in rows)  # date, then time
    styles = tuple("" if run.status == "complete" else "yellow" for run in runs.itertuples())
    Console().print(FittedTable(title=f"Runs in {printable(path)}", columns=columns, rows=rows, row_styles=styles,
                                optional=((6,), (5,), (2,)), hint=TERMINAL_HINT, style={}))


@command.command("show")
@click.argument("ref", type=RunRef())
@store_option
def show_run(ref: str, store: Path | None) -> None:
    """A run's metadata and its metrics table (REF: id, name, latest, latest~N, or an exported file)."""
    from evalkit.cli.report import build_document
    from evalkit.compare import CompareOptions, RunOpener
    from evalkit.report import render

    console = Console()
    with RunOpener(store) as opener:
        side = opener.open(ref)
        _print_run_header(console, side.run)
        from evalkit.compare.prompt_options import prompt_lines

        for line in prompt_lines(side):  # setting ('(task default)') and lm-eval prompt options per cell
            console.print(line, markup=False, highlight=False)
        for line in truncation_lines(side.cells) + cluster_lines(side.conn, side.run_id, side.cells):
            console.print(line, markup=False, highlight=False)
        if len(side.metrics) and side.run["status"] == "complete":
            console.print(render(build_document([side], CompareOptions()), "rich"))
            console.print(compute_table(side.cells))
        elif len(side.metrics):
            console.print(f"This run is {side.run['status']}: {side.metrics.cell_id.nunique()} cell(s) were "
                          "stored before it stopped.")
        else:
            console.print("No metrics stored for this run.")


def truncation_lines(cells: pd.DataFrame) -> list[str]:
    """One line per cell whose prompts were cut to the model's context (details["truncation"])."""
    from evalkit.report.truncation import truncation_line

    lines = []
    for _, cell in cells.iterrows():
        details = json.loads(cell["details_json"]) if isinstance(cell.get("details_json"), str) else {}
        line = truncation_line(details) if isinstance(details, dict) else None
        if line:
            lines.append(f"Truncated prompts: {cell['model']} · {cell['task']} · {cell['setting']}: {line}")
    return lines


def cluster_lines(conn: Any, run_id: str, cells: pd.DataFrame) -> list[str]:
    """One line per cell whose documents carry clusters (a task's metadata.cluster): how many they form."""
    from evalkit.store import cluster_counts

    counts = {row.cell_id: row for row in cluster_counts(conn, run_id).itertuples()}
    lines = []
    for _, cell in cells.iterrows():
        count = counts.get(cell["cell_id"])
        if count is None or not count.clustered:
            continue
        missing = count.documents - count.clustered
        unclustered = f" ({missing} without one)" if missing else ""
        lines.append(f"Clusters: {printable(cell['model'])} · {printable(cell['task'])} · {cell['setting']}: "
                     f"{count.documents} documents in {count.clusters} clusters{unclustered}")
    return lines


def compute_table(cells: pd.DataFrame) -> FittedTable:
    """Each cell's compute this run (details["compute"], evalkit.engine.compute) and the run's total: requests
    the model answered, positions it ran (padding included), seconds inside the model backend and for
    the whole cell, tokens per second."""
    from evalkit.engine.compute import compute_line

    rows, lines = [], []
    for _, cell in cells.iterrows():
        details = json.loads(cell["details_json"]) if isinstance(cell.get("details_json"), str) else {}
        line = compute_line(details if isinstance(details, dict) else {})
        name = printable(f"{cell['model']} · {cell['task']} · {cell['setting']}")
        if line is None:
            rows.append([name, "-", "-", "-", "-", "-", "not recorded (stored before evalkit recorded compute)"])
            continue
        lines.append(line)
        rows.append([name, *_compute_cells(line)])
    styles = [""] * len(rows)
    if len(lines) > 1:
        total = {key: sum(line[key] for line in lines) for key in ("requests", "tokens", "model_seconds", "cell_seconds")}
        rate = total["tokens"] / total["model_seconds"] if total["model_seconds"] > 0 else None
        rows.append(["total", *_compute_cells({**total, "tokens_per_second": rate, "note": ""})])
        styles.append("bold")
    columns = tuple(Column(h) if h in ("cell", "note") else Column(h, whole=True, justify="right")
                    for h in ("cell", "requests", "tokens", "model s", "cell s", "tokens/s", "note"))
    return FittedTable(title="Compute per cell (this run)", columns=columns,
                       rows=tuple(tuple((text, "") for text in row) for row in rows), row_styles=tuple(styles),
                       optional=((6,), (4,), (3,)), hint=TERMINAL_HINT, style={})


def _compute_cells(line: dict[str, Any]) -> list[str]:
    rate = line["tokens_per_second"]
    return [f"{line['requests']:,}", f"{line['tokens']:,}", f"{line['model_seconds']:.2f}", f"{line['cell_seconds']:.2f}",
            f"{rate:,.0f}" if isinstance(rate, (int, float)) else "-", line["note"]]


def _print_run_header(console: Console, run: dict[str, Any]) -> None:
    console.print(f"[bold]{escape(printable(run['run_id']))}[/] {escape(printable(run.get('name') or ''))}  status={run['status']}  "
                  f"created={run['created_at']}", highlight=False)
    console.print(f"evalkit {run.get('evalkit_version')} · lm-eval {run.get('lm_eval_version')} · transformers "
                  f"{run.get('transformers_version')} · torch {run.get('torch_version')} · git "
                  f"{run.get('git_commit') or '-'} · host {run.get('host')} · seed {run.get('seed')}", highlight=False)
    console.print(literal(f"command: {run.get('command')}"))


command.add_command(export_command, "export")

command.add_command(import_command, "import")

command.add_command(push_command, "push")
