"""`evalkit transfer RUN`: the fine-tuned-on x evaluated matrix of paired differences against the
base model's zero-shot (in-task gain on the diagonal, transfer or forgetting off it)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.options import store_option
from evalkit.cli.study_output import (check_output, correction_options, emit_study, store_path, study_format,
                                      study_output_options)


@click.command("transfer")
@click.argument("run", metavar="RUN")
@click.option("--metric", default=None,
              help="Use this metric wherever a task reports it (default: acc; log-likelihood for LM tasks).")
@correction_options
@study_output_options
@store_option
def command(run: str, metric: str | None, correction: str, alpha: float, fmt: str | None,
            output: Path | None, force: bool, store: Path | None) -> None:
    """Show a run's transfer / forgetting matrix: `evalkit transfer latest --format markdown`.

    RUN is a run id (or unique prefix), a run name, `latest` or `latest~N`. Rows are the task the
    model was fine-tuned on (setting fine-tuned-on:TASK, or fine-tuned on the diagonal), columns the
    evaluated task; each entry is the paired difference against the same model's zero-shot cell on
    the same documents, with its interval and a mark where significant after correction.
    """
    from evalkit.studies import open_run, transfer_frame

    path = store_path(store)
    check_output(output, force=force, store=path)
    with open_run(path, run) as (conn, run_id):
        frame = transfer_frame(conn, run_id, metric=metric, correction=correction, alpha=alpha)
    emit_study(frame, "transfer", study_format(fmt, output), output, force=force, store=path)
