"""The local executor: cells one after another in this process, model by model (each model
loaded once; the checkpoints of an adapter series share one base model)."""

from __future__ import annotations

from typing import Any, Iterator

from evalkit.engine.executors.base import GridWork
from evalkit.plan import Cell
from evalkit.store import CellRecord


class LocalExecutor:
    """Evaluates the work's cells in plan order, yielding each record as it finishes."""

    def records(self, work: GridWork, sink: Any) -> Iterator[CellRecord]:
        from evalkit.engine.cell import evaluate_cell
        from evalkit.models.adapter_switch import SharedBaseLoader
        from evalkit.quiet import quiet_libraries

        quiet_libraries()
        loader = SharedBaseLoader()
        loaded = None
        for cell in work.cells:
            if loaded is None or loaded.spec != cell.model:
                loaded = None  # free the previous model before loading the next (the loader drops its own)
                sink.message(loading_message(cell, reuses_base=loader.holds_base_of(cell.model)))
                loaded = loader.load(cell.model)
            yield evaluate_cell(cell, loaded, work.prepared.tasks[cell.task], sink,
                                sources=work.prepared.sources, run_id=work.run_id)


def loading_message(cell: Cell, *, reuses_base: bool) -> str:
    if reuses_base:
        return f"Switching to adapter checkpoint {cell.model.label} (base model already loaded) ..."
    return f"Loading model {cell.model.label} ..."
