"""`evalkit results import PATH...`: lm-eval's own output (--output_path with --log_samples) as runs."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import store_option


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Name for the imported run(s).")
@click.option("--step", type=click.IntRange(min=0), default=None,
              help="Training step of one aggregate-only file that names none (no 'revision=stepN', no 'stepN' "
                   "in its name).")
@store_option
def import_command(paths: tuple[Path, ...], name: str | None, step: int | None, store: Path | None) -> None:
    """Import what `lm_eval --output_path P --log_samples` wrote (P, or its results_<date>.json files):
    one complete run per results file, with every document's scores, ready for compare and gate.
    Every Eval Ever 0.3.0 files (an aggregate .json with its _samples.jsonl, or a folder of them, as
    `results export --format eee` writes) are imported the same way, one run per aggregate file.

    Aggregate-only results (lm-eval 0.3-era files, or results_*.json without samples files) are
    imported as one checkpoint series per import (the step from 'revision=stepN', the file name or
    --step): `evalkit trajectory` and `evalkit forecast` read it; compare and gate refuse it."""
    from evalkit.interop.lm_eval_aggregate import is_aggregate_only
    from evalkit.interop.lm_eval_import import import_paths
    from evalkit.store import store_location

    path = store_location(store)
    if _import_eee(paths, path, name=name):
        return
    if is_aggregate_only(paths):
        _import_aggregate(paths, path, name=name, step=step)
        return
    if step is not None:
        raise click.UsageError("--step names the step of an aggregate-only results file; these files have "
                               "per-document samples (their run records its own model).")
    for run in import_paths(list(paths), path, name=name):
        tasks = ", ".join(f"{c.task} ({c.setting}, {c.n} documents)" for c in run.cells)
        click.echo(f"Imported {run.source} as run {run.info.run_id}: {tasks}")
        for note in run.notes:
            click.echo(f"Note: {note}")
    click.echo(f"Store: {path}")


def _import_eee(paths: tuple[Path, ...], store: object, *, name: str | None) -> bool:
    """Every Eval Ever 0.3.0 aggregate files (with their samples files) among `paths`: imported, True."""
    from evalkit.interop.eee_import import eee_files, import_eee

    if not eee_files(paths):
        return False
    for info, cells in import_eee(paths, store, name=name):
        tasks = ", ".join(f"{c.task} ({c.setting}, {len(c.samples)} documents)" for c in cells)
        click.echo(f"Imported {info.config['files'][0]} (Every Eval Ever) as run {info.run_id}: {tasks}")
    click.echo(f"Store: {store}")
    return True


def _import_aggregate(paths: tuple[Path, ...], store: object, *, name: str | None, step: int | None) -> None:
    from evalkit.interop.aggregate_import import import_aggregate

    run = import_aggregate(list(paths), store, name=name, step=step)
    steps = run.info.config["steps"]
    tasks = len(dict.fromkeys(c.task for c in run.cells))
    click.echo(f"Imported {run.source} as run {run.info.run_id}: series {run.info.config['series']}, "
               f"{len(steps)} checkpoints (steps {steps[0]}..{steps[-1]}), {tasks} tasks; aggregate scores only "
               "(no per-document scores: trajectory and forecast use it, compare and gate refuse it)")
    click.echo(f"Store: {store}")
