"""`evalkit results push RUN... --to URL`: copy whole runs from a local store to a team store."""

from __future__ import annotations

from typing import Any

import click

from evalkit.cli.options import StorePath, store_option


@click.command("push")
@click.argument("runs", nargs=-1, required=True)
@click.option("--to", "target", type=StorePath(), required=True,
              help="The store to copy the runs to: a postgresql://user:pass@host:port/db team store (or an "
                   "SQLite file: .db, .sqlite or .sqlite3).")
@click.option("--include-incomplete", is_flag=True,
              help="Also push failed or unfinished runs, as they are now (by default only complete runs).")
@store_option
def push_command(runs: tuple[str, ...], target: Any, include_incomplete: bool, store: Any) -> None:
    """Copy RUNS (ids, names, latest, latest~N) with their cells, metrics and per-document samples to the
    team store. Pushing again stores nothing twice; a run id already there with other content is refused."""
    from evalkit.errors import InputError
    from evalkit.store import require_store_name, store_location
    from evalkit.store import push_runs
    from evalkit.store import resolve_run_ref
    from evalkit.store import open_for_reading, open_for_writing

    source_at, target_at = store_location(store), store_location(target)
    require_store_name(target_at, "--to")
    if _same_store(source_at, target_at):
        raise InputError(f"--to '{target_at}' is the store the runs are read from.",
                         hint="Pass --to the team store and --store the local one.")
    source = open_for_reading(source_at)
    try:
        run_ids = [resolve_run_ref(source, ref) for ref in runs]
        destination = open_for_writing(target_at)
        try:
            outcomes = push_runs(source, destination, run_ids, include_incomplete=include_incomplete)
        finally:
            destination.close()
    finally:
        source.close()
    for outcome in outcomes:
        label = f"{outcome.run_id}" + (f" ({outcome.name})" if outcome.name else "")
        if outcome.pushed:
            click.echo(f"Pushed run {label}: {outcome.cells} cell(s).")
        else:
            click.echo(f"Run {label} is already in the target store (identical); skipped.")
    click.echo(f"Store: {target_at}")


def _same_store(source: Any, target: Any) -> bool:
    """The same URL, or two paths of one file (relative, '..', symbolic links, hard links)."""
    from pathlib import Path

    if isinstance(source, Path) and isinstance(target, Path):
        if source.resolve() == target.resolve():
            return True
        try:
            return source.samefile(target)
        except OSError:  # one of them does not exist yet: not the same file
            return False
    return str(source) == str(target)
