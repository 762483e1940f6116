"""Fault injection for the Ray tests, installed in every worker process of the test cluster (Ray's
worker_process_setup_hook), armed per test by a marker file: `die-once` in the directory named by
EVALKIT_TEST_FAULTS_DIR makes the first worker that starts scoring a cell exit at once (os._exit,
as a crash or the OOM killer would), after claiming the marker so that only one worker dies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FAULTS_ENV = "EVALKIT_TEST_FAULTS_DIR"
DIE_ONCE = "die-once"


def install() -> None:
    import evalkit.engine.executors.ray_worker as worker

    original = worker.evaluate_on_worker

    def evaluate(state: Any, cell: Any, run_id: str) -> Any:
        directory = os.environ.get(FAULTS_ENV)
        if directory and (Path(directory) / DIE_ONCE).exists():
            _die_while_scoring(Path(directory))
        return original(state, cell, run_id)

    worker.evaluate_on_worker = evaluate


def _die_while_scoring(directory: Path) -> None:
    """Make this process exit inside its next cell's scoring (model and task loaded: mid-cell)."""
    import evalkit.engine.cell as cell_module

    original = cell_module.evaluate_task

    def die(*args: Any, **kwargs: Any) -> Any:
        try:
            os.rename(directory / DIE_ONCE, directory / f"died-{os.getpid()}")
        except FileNotFoundError:  # another worker claimed it
            return original(*args, **kwargs)
        os._exit(1)

    cell_module.evaluate_task = die
