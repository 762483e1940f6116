"""`evalkit rescore RUN`: score a run's stored outputs again (evalkit.rescore), no model loaded."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import store_option


@click.command("rescore")
@click.argument("run", metavar="RUN")
@click.option("--task", "tasks", multiple=True, help="Rescore only this task (name or YAML path; repeatable). "
              "A YAML path also says where the task's current definition is.")
@click.option("--filter", "filters", multiple=True,
              help="A filter chain in place of the task's, in order: regex=PATTERN (keeps its first group), "
                   "take-first, lowercase, remove-whitespace, strip-think (drops <think>...</think> "
                   "blocks). Generation tasks only.")
@click.option("--metric", default=None, help="A metric from lm-eval's registry in place of the task's metric_list.")
@click.option("--name", default=None, help="Name for the new run.")
@store_option
def command(run: str, tasks: tuple[str, ...], filters: tuple[str, ...], metric: str | None, name: str | None,
            store: Path | None) -> None:
    """Apply the task's current filters and metrics (or --filter / --metric) to RUN's stored model outputs,
    without loading the model; store the result as a new run linked to RUN (config rescore_of, changed)."""
    from evalkit.rescore import RescoreOptions, rescore_run
    from evalkit.store import store_location

    path = store_location(store)
    info, cells = rescore_run(path, run, RescoreOptions(tasks, filters, metric, name))
    for cell in cells:
        values = ", ".join(f"{m.metric} {m.value:.4f}" for m in cell.metrics)
        click.echo(f"{cell.task} ({cell.setting}, {cell.model}): {values}")
    click.echo(f"Rescored run {info.config['rescore_of']} as run {info.run_id}; compare with "
               f"`evalkit compare {info.config['rescore_of']} {info.run_id}`.")
