"""Executors: how a run's cells are computed. `local` evaluates them one after another in this
process; `ray` spreads them over a Ray cluster (one actor per model group). Either way the
driver alone writes to the store, one transaction per cell, as each cell arrives.
The contract (GridWork, Executor, ExecutorOptions) is in base.py; the factory that picks one is here."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from evalkit.engine.executors.base import EXECUTORS, Executor, ExecutorOptions, GridWork

__all__ = ["EXECUTORS", "Executor", "ExecutorOptions", "GridWork", "open_executor"]


@contextmanager
def open_executor(options: ExecutorOptions | None, sink: Any) -> Iterator[Executor]:
    """The chosen executor, ready to use: Ray imported and connected (or started) here, so a
    missing install or an unreachable cluster is exit 2 before the run is recorded."""
    options = options or ExecutorOptions()
    if options.kind == "local":
        from evalkit.engine.executors.local import LocalExecutor

        yield LocalExecutor()
        return
    from evalkit.engine.executors.ray_executor import RayExecutor, ray_session

    with ray_session(options, sink) as ray:
        yield RayExecutor(ray, options)
