"""`evalkit trajectory RUN`: a metric at every checkpoint or fine-tuning step, each step tested
against the previous, the first and the best step, and which step to ship."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import store_option
from evalkit.cli.study_output import (check_output, correction_options, emit_study, store_path, study_format,
                                      study_output_options)


@click.command("trajectory")
@click.argument("run", metavar="RUN")
@click.option("--metric", "metrics", multiple=True, help="Show only this metric (repeatable).")
@correction_options
@study_output_options
@store_option
def command(run: str, metrics: tuple[str, ...], correction: str, alpha: float, fmt: str | None,
            output: Path | None, force: bool, store: Path | None) -> None:
    """Show a run's checkpoint / fine-tuning trajectories: `evalkit trajectory latest -o traj.html`.

    RUN is a run id (or unique prefix), a run name, `latest` or `latest~N`. Each step's value comes
    with its 95% interval; paired tests on the same documents compare it with the previous, the
    first and the best step, corrected together across the view. An LM task is compared on
    per-document log-likelihood, with bits per byte beside it.
    """
    from evalkit.studies import open_run, trajectory_frame

    path = store_path(store)
    check_output(output, force=force, store=path)
    with open_run(path, run) as (conn, run_id):
        frame = trajectory_frame(conn, run_id, metrics=metrics, correction=correction, alpha=alpha)
    emit_study(frame, "trajectory", study_format(fmt, output), output, force=force, store=path)
