"""`evalkit calibrate RUN --nuisance KEY=VALUE`: the noise of a run's scores under one nuisance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from evalkit.cli.options import store_option


@click.command("calibrate")
@click.argument("run_ref", metavar="RUN")
@click.option("--nuisance", "nuisance_text", required=True, metavar="KEY=VALUE",
              help="The one option to change: batch-size=N, dtype=bfloat16, processes=N or seed=N "
                   "(the sampling seed of sampled generation; the few-shot examples stay the run's).")
@click.option("--name", default=None, help="A name for the re-run (usable as a run reference).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the noise table as JSON (a gate policy's `calibration:` can name it).")
@click.option("--force", is_flag=True, help="Replace an existing --json file.")
@store_option
@click.pass_context
def command(ctx: click.Context, run_ref: str, nuisance_text: str, name: str | None, json_path: Path | None,
            force: bool, store: Any) -> None:
    """Re-run RUN's cells with one nuisance changed and show, per task and metric, the flip rate (0/1 metrics:
    documents whose score changed) and the drift (re-run minus RUN, per document and of the aggregate).

    The re-run is stored as a run whose config says {"calibration_of": RUN_ID, "nuisance": {...}}. Nothing is
    reused: no cached request, no copied cell. Exit 2: unknown run, unknown nuisance, the value RUN already
    used, or a run imported without a model to re-run.

    \b
    Examples:
      evalkit calibrate latest --nuisance batch-size=1
      evalkit calibrate nightly --nuisance dtype=bfloat16 --json noise.json
    """
    from evalkit.calibrate import parse_nuisance
    from evalkit.cli.report_output import report_inputs
    from evalkit.outputs import check_output_path

    nuisance = parse_nuisance(nuisance_text)
    if json_path is not None:
        check_output_path(json_path, force=force, inputs=report_inputs(store, [run_ref]), option="--json")
    source_id, config = _source(store, run_ref, nuisance)
    if nuisance.key == "processes" and _relaunched(ctx, int(nuisance.value)):
        return
    _calibrate(store, source_id, config, nuisance, name, json_path, force)


def _source(store: Any, run_ref: str, nuisance: Any) -> tuple[str, dict[str, Any]]:
    """The source run's id and config, checked at the door (read only: nothing is written yet)."""
    from evalkit.calibrate import check_changed, rerun_config
    from evalkit.compare.sources import RunOpener

    with RunOpener(store) as opener:
        side = opener.open(run_ref)
        config = rerun_config(side.run.get("config_json") or side.run.get("config") or {}, side.where)
        check_changed(config, nuisance, side.where, [_details(d) for d in side.cells.get("details_json", [])])
        return side.run_id, config


def _details(text: Any) -> dict[str, Any]:
    """One cell's stored details (what its options resolved to), {} when unreadable."""
    import json

    try:
        value = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _relaunched(ctx: click.Context, processes: int) -> bool:
    """processes=N: run this command line in N processes (accelerate), as `evalkit run --processes N` does."""
    from evalkit.engine.processes import check_process_count, launch, launched_size

    if launched_size() > 1:
        return False  # this is one of the launched processes
    check_process_count(processes, executor="local")
    ctx.exit(launch(sys.argv[1:], processes))
    return True


def _calibrate(store: Any, source_id: str, config: dict[str, Any], nuisance: Any, name: str | None,
               json_path: Path | None, force: bool) -> None:
    from evalkit.calibrate import calibrate
    from evalkit.cli.progress import RichProgress
    from evalkit.compare.calibration import noise_frame, noise_records
    from evalkit.compare.sources import RunOpener
    from evalkit.engine.processes import current_processes
    from evalkit.outputs import output_file
    from evalkit.report.noise import noise_table
    from evalkit.report.rich_render import rich_table

    console = Console()
    main_process = current_processes().is_main
    rerun_id = calibrate(config, source_id, nuisance, store=store, name=name,
                         progress=RichProgress(console) if main_process else None)
    if not main_process:
        return
    with RunOpener(store) as opener:
        frame = noise_frame(opener.open(source_id), opener.open(rerun_id))
    console.print(rich_table(noise_table(frame, nuisance.label)))
    if json_path is not None:
        with output_file(json_path, force=force, option="--json") as temporary:
            temporary.write_text(noise_records(frame), encoding="utf-8")
    console.print(f"Calibration run [bold]{rerun_id}[/] (of {source_id}, {nuisance.label}) stored.")
