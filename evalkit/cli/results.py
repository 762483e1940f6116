"""`evalkit results list|show|export`: read the results database."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from evalkit.cli.params import store_option
from evalkit.home import default_store_path


@click.group("results")
def command() -> None:
    """List, show and export stored results."""


def _open(store: str | None):
    from evalkit.store.schema import connect

    return connect(Path(store) if store else default_store_path(), create=False)


@command.command("list")
@store_option
@click.option("--all", "show_all", is_flag=True, help="Include failed and interrupted runs.")
def list_runs_command(store: str | None, show_all: bool) -> None:
    """Runs in the store, newest first."""
    from evalkit.store.reader import list_runs

    conn = _open(store)
    try:
        runs = list_runs(conn, include_incomplete=show_all)
    finally:
        conn.close()
    table = Table(title=f"Runs in {store or default_store_path()}")
    for header in ("run id", "name", "created", "status", "cells", "git commit", "command"):
        table.add_column(header, overflow="fold")
    for run in runs.itertuples():
        style = None if run.status == "complete" else "yellow"
        table.add_row(run.run_id, run.name or "", run.created_at, run.status, str(run.cells),
                      (run.git_commit or "")[:12], (run.command or "")[:60], style=style)
    Console().print(table)


@command.command("show")
@click.argument("ref")
@store_option
def show_run(ref: str, store: str | None) -> None:
    """A run's metadata and its metrics table (REF: id, name, latest, latest~N)."""
    from evalkit.cli.report import print_run_report
    from evalkit.store.reader import metrics_frame, resolve_run_ref, run_row

    conn = _open(store)
    try:
        run_id = resolve_run_ref(conn, ref)
        run = run_row(conn, run_id)
        frame = metrics_frame(conn, [run_id], include_incomplete=True)
    finally:
        conn.close()
    console = Console()
    console.print(f"[bold]{run.run_id}[/] {run['name'] or ''}  status={run.status}  created={run.created_at}")
    console.print(f"evalkit {run.evalkit_version} · lm-eval {run.lm_eval_version} · transformers "
                  f"{run.transformers_version} · torch {run.torch_version} · git {run.git_commit or '-'} · "
                  f"host {run.host} · seed {run.seed}", highlight=False)
    console.print(f"command: {run.command}", markup=False, highlight=False)
    if len(frame) and run.status == "complete":
        print_run_report(console, run_id, store)
    elif len(frame):
        console.print(f"This run is {run.status}: {frame.cell_id.nunique()} cell(s) were stored before it stopped.")
    else:
        console.print("No metrics stored for this run.")


try:  # `results export` lives with the export/baseline code
    from evalkit.cli.results_export import export_command

    command.add_command(export_command, "export")
except ImportError:  # pragma: no cover - only while that module is absent
    pass
