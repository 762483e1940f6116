"""`evalkit run`'s options for where cells are computed (--executor, Ray's address and resources)
and whether cells already stored are computed again (--rerun); one decorator adds them all."""

from __future__ import annotations

from typing import Any, Callable

import click

from evalkit.engine.executors.base import EXECUTORS, ExecutorOptions

_NAMES = ("executor", "ray_address", "cpus_per_cell", "gpus_per_cell", "rerun")


def executor_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the executor options to a click command (their values reach it in **kwargs)."""
    options = [
        click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
                     help="Where cells are computed: one after another in this process (local), or on a Ray "
                          "cluster, one actor per model (ray; needs the ray extra)."),
        click.option("--ray-address", default=None, metavar="ADDR",
                     help="Ray cluster to use (host:6379 or ray://host:10001); default: start a local one."),
        click.option("--cpus-per-cell", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
                     help="CPUs each Ray actor (one model's cells) reserves."),
        click.option("--gpus-per-cell", type=click.FloatRange(min=0), default=0.0, show_default=True,
                     help="GPUs each Ray actor reserves (fractions share a GPU)."),
        click.option("--rerun", is_flag=True,
                     help="Compute every cell again (by default a cell an earlier run of the store computed "
                          "from the same model files, task and options is copied into this run)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def executor_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """Take the executor options out of a command's **kwargs, as evalkit.run's keyword arguments."""
    executor, address, cpus, gpus, rerun = (values.pop(name) for name in _NAMES)
    return {"executor": ExecutorOptions(kind=executor, ray_address=address, cpus_per_cell=cpus,
                                        gpus_per_cell=gpus), "rerun": rerun}
