"""The worker side of the Ray executor: one CellWorker actor per model group. It rebuilds what the
driver's door prepared (the task registry's sources, each task loaded by the same reference),
loads the model once, evaluates the cells sent to it, and returns CellRecords; it never writes
to the store. Kept free of heavy imports at module level: Ray imports this module in every worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from evalkit.plan import Cell
from evalkit.store import CellRecord
from evalkit.tasks.discovery import TaskSource

# The driver's environment a worker needs to behave the same (same home, same offline mode).
FORWARDED_ENV = ("EVALKIT_HOME", "HF_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE",
                 "TOKENIZERS_PARALLELISM")


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs besides its cells; plain, picklable data."""

    registry_sources: tuple[TaskSource, ...]
    task_refs: tuple[str, ...]  # the references the cells name their tasks by
    source_refs: dict[str, str]  # name of a task trained on -> the reference that loads it
    env: dict[str, str] = field(default_factory=dict)


def forwarded_env() -> dict[str, str]:
    return {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}


class WorkerState:
    """Tasks loaded on first use; the model loader keeps the current model between cells."""

    def __init__(self, setup: WorkerSetup) -> None:
        os.environ.update(setup.env)
        self.setup = setup
        self.tasks: dict[str, Any] | None = None
        self.sources: dict[str, Any] = {}
        self.loader: Any = None

    def load_tasks(self) -> None:
        from evalkit.models.adapter_switch import SharedBaseLoader
        from evalkit.engine.door import load_task_entry
        from evalkit.quiet import quiet_libraries
        from evalkit.tasks.discovery import TaskRegistry

        quiet_libraries()
        registry = TaskRegistry(self.setup.registry_sources)
        # The door (evalkit.engine.door) has checked the documents already: load only.
        self.tasks = {ref: load_task_entry(registry, ref) for ref in self.setup.task_refs}
        for name, ref in self.setup.source_refs.items():
            self.sources[name] = self.tasks.get(ref) or load_task_entry(registry, ref)
        self.loader = SharedBaseLoader()


def evaluate_on_worker(state: WorkerState, cell: Cell, run_id: str) -> CellRecord:
    """One cell on the worker, its model loaded (or kept) by the worker's loader."""
    from evalkit.engine.cell import evaluate_cell
    from evalkit.engine.executors.base import SilentProgress

    if state.tasks is None:
        state.load_tasks()
    assert state.tasks is not None
    loaded = state.loader.load(cell.model)
    return evaluate_cell(cell, loaded, state.tasks[cell.task], SilentProgress(), sources=state.sources,
                         run_id=run_id)


class CellWorker:
    """The actor class (made remote by the driver with the requested resources)."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.state = WorkerState(setup)

    def evaluate(self, cell: Cell, run_id: str) -> tuple[CellRecord, str]:
        """The cell's record and the node it was computed on."""
        import platform

        return evaluate_on_worker(self.state, cell, run_id), platform.node()
