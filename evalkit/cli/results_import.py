"""`evalkit results import PATH...`: lm-eval's own output (--output_path with --log_samples) as runs."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import store_option


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Name for the imported run(s).")
@store_option
def import_command(paths: tuple[Path, ...], name: str | None, store: Path | None) -> None:
    """Import what `lm_eval --output_path P --log_samples` wrote (P, or its results_<date>.json files):
    one complete run per results file, with every document's scores, ready for compare and gate."""
    from evalkit.interop.lm_eval_import import import_paths
    from evalkit.store.location import store_location

    path = store_location(store)
    for run in import_paths(list(paths), path, name=name):
        tasks = ", ".join(f"{c.task} ({c.setting}, {c.n} documents)" for c in run.cells)
        click.echo(f"Imported {run.source} as run {run.info.run_id}: {tasks}")
        for note in run.notes:
            click.echo(f"Note: {note}")
    click.echo(f"Store: {path}")
