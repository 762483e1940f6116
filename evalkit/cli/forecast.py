"""`evalkit forecast RUN`: where a checkpoint series is heading, with prediction intervals; the step
at which a target is reached; or a back-test of the forecast against plain baselines."""

from __future__ import annotations

import os
from pathlib import Path

import click

from evalkit.cli.options import store_option
from evalkit.errors import InputError

FORMATS = ("rich", "markdown", "json", "html")


@click.command("forecast")
@click.argument("run", metavar="RUN")
@click.option("--task", default=None, help="Only this task's series.")
@click.option("--metric", default=None, help="Only this metric's series.")
@click.option("--at", "at", type=click.IntRange(min=1), default=None,
              help="Predict the value at this step (default: 10x the last step).")
@click.option("--target", type=float, default=None, help="Report the step at which the score reaches this value.")
@click.option("--backtest", is_flag=True, help="Fit on the early checkpoints, predict the later ones, "
              "and compare with two baselines (last value; linear in log-step).")
@click.option("--fit-fraction", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True), default=0.3,
              show_default=True, help="--backtest: fit on checkpoints up to this fraction of the last step.")
@click.option("--level", type=click.FloatRange(0.5, 1.0, max_open=True), default=0.95, show_default=True,
              help="Level of the prediction interval.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="rich", show_default=True,
              help="html: a page with the back-test figure of each series (observed, fit, band, held back).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write the output to this file.")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@store_option
def command(run: str, task: str | None, metric: str | None, at: int | None, target: float | None, backtest: bool,
            fit_fraction: float, level: float, fmt: str, output: Path | None, force: bool, store: Path | None) -> None:
    """Forecast a run's checkpoint series: `evalkit forecast RUN --task piqa --metric acc --at 300000`.

    Each series is fitted against log-step (through its language-modelling loss, wikitext bits per
    byte or lambada perplexity, when the run has one); the interval comes from the series' own
    checkpoint-to-checkpoint noise. A series with too few points, no trend or at chance level gets
    "no forecast: ..." (exit 2 when it is the only series asked for).
    """
    from evalkit.forecast.frames import backtest_frame, backtest_summary, forecast_frame, target_frame
    from evalkit.report.forecast_render import render_forecast

    _check_modes(at, target, backtest)
    if output is not None:
        from evalkit.outputs import check_output_path

        check_output_path(output, force=force, inputs=_store_files(store))
    series, run_id = _load_series(run, store, task, metric)
    summary = None
    if backtest:
        frame = backtest_frame(series, fraction=fit_fraction, level=level)
        summary = backtest_summary(frame)
    elif target is not None:
        frame = target_frame(series, target, level=level)
    else:
        frame = forecast_frame(series, at=at, level=level)
    _refuse_lone_failure(frame)
    title = f"evalkit forecast: run {run_id}" + (" (back-test)" if backtest else "")
    curves = _curves(series, fit_fraction, level) if fmt == "html" else None
    _emit(render_forecast(frame, fmt, title=title, summary=summary, curves=curves), fmt, output, force,
          _store_files(store))


def _store_files(store: Path | None) -> list[Path]:
    from evalkit.cli.study_output import store_path
    from evalkit.store import location_files

    return list(location_files(store_path(store)))


def _curves(series: list, fraction: float, level: float) -> list:
    """The figure data of each series: fitted up to `fraction` of its last step (the whole series for a
    plain forecast would leave nothing held back to show)."""
    from evalkit.forecast.frames import curve_frame
    from evalkit.report.forecast_figure import MAX_FIGURES

    curves = []
    for one in series:
        curve = curve_frame(one, int(fraction * float(one.steps.max())), level=level)
        curves += [curve] if not curve.empty else []
        if len(curves) == MAX_FIGURES:
            break
    return curves


def _check_modes(at: int | None, target: float | None, backtest: bool) -> None:
    if sum([at is not None, target is not None, backtest]) > 1:
        raise click.UsageError("Give one of --at, --target and --backtest.")


def _load_series(run: str, store: Path | None, task: str | None, metric: str | None) -> tuple[list, str]:
    from evalkit.cli.study_output import store_path
    from evalkit.forecast.series import build_series, points_from_trajectory
    from evalkit.studies import open_run
    from evalkit.studies.points import load_run
    from evalkit.studies.trajectory import point_frame, trajectory_cells

    with open_run(store_path(store), run) as (conn, run_id):
        data = load_run(conn, run_id)
        points = points_from_trajectory(point_frame(data, trajectory_cells(data)))
    series = build_series(points, task=task, metric=metric)
    if not series:
        known = sorted(set(points.task)) if task not in set(points.task) else sorted(set(points.metric))
        what = f"task '{task}'" if task not in set(points.task) else f"metric '{metric}'"
        raise InputError(f"Run {run_id} has no series of {what}; it has: {', '.join(known[:12])}"
                         f"{', ...' if len(known) > 12 else ''}.", hint="Pass --task / --metric with one of those.")
    return series, run_id


def _refuse_lone_failure(frame: object) -> None:
    """One series asked for and no forecast possible: exit 2 with the reason rather than a table."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    if len(frame) == 1 and str(frame.note.iloc[0]).startswith("no forecast"):
        row = frame.iloc[0]
        raise InputError(f"Series {row.series} / {row.task} / {row.setting} / {row.metric}: {row.note}.",
                         hint="A forecast needs at least 4 checkpoints after step 0 with a trend above the "
                              "untrained model; evaluate more checkpoints, or pick another task / metric.")


def _emit(rendered: object, fmt: str, output: Path | None, force: bool, inputs: list[Path]) -> None:
    from rich.console import Console

    if output is not None:
        from evalkit.outputs import output_file

        with output_file(output, force=force, inputs=inputs) as temporary:
            with temporary.open("w", encoding="utf-8") as handle:
                if fmt == "rich":
                    Console(file=handle, width=160, color_system=None).print(rendered)
                else:
                    handle.write(str(rendered))
        click.echo(f"Wrote {output}", err=True)
        return
    if fmt != "rich":
        click.echo(str(rendered), nl=False)
        return
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160
    console.print(rendered)
