"""Executing a plan cell by cell, writing each finished cell to the store.

Steps: check every input up front (so bad input costs no compute), open the store and
record the run as 'running', evaluate cells model by model (each model loaded once; the
checkpoints of an adapter series share one base model), commit each cell as it finishes (and
write its metrics to TensorBoard at its training step), and mark the run 'complete' only at the end.
"""

from __future__ import annotations

import platform
import secrets
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from evalkit.models.series import check_series_cells
from evalkit.plan import Cell
from evalkit.preflight import PreparedRun, check_inputs, prepare_run
from evalkit.provenance import git_commit, versions
from evalkit.store.records import CellRecord, RunInfo
from evalkit.tasks.discovery import TaskRegistry

__all__ = ["ProgressSink", "RunResult", "SilentProgress", "check_inputs", "execute", "run_info"]


class ProgressSink(Protocol):
    """Receives progress; the CLI shows it with rich, the Python API ignores it."""

    def cell(self, label: str) -> AbstractContextManager[Callable[[str, int, int], None]]: ...

    def message(self, text: str) -> None: ...


class SilentProgress:
    def cell(self, label: str) -> AbstractContextManager[Callable[[str, int, int], None]]:
        return nullcontext(lambda kind, done, total: None)

    def message(self, text: str) -> None:
        return None


@dataclass
class RunResult:
    run_id: str
    cells: list[CellRecord]


def execute(cells: list[Cell], registry: TaskRegistry, store_path: Path, *, name: str | None,
            progress: ProgressSink | None = None, config: dict[str, Any] | None = None) -> RunResult:
    """Run all cells and store them under one run id; an interrupted run stays 'failed'."""
    from evalkit.store.schema import open_for_writing
    from evalkit.store.writer import begin_run, finish_run, write_cell

    sink = progress or SilentProgress()
    prepared = prepare_run(cells, registry, sink)  # study settings expanded, every input checked
    cells = prepared.cells
    check_series_cells(cells)  # again: expanding study settings (--transfer) may add fine-tuned cells
    conn = open_for_writing(store_path)
    try:
        _check_name(conn, name, sink)
        info = run_info(name, seed=cells[0].seed if cells else 0, config=config or {})
        begin_run(conn, info)
    except BaseException:
        conn.close()
        raise
    records: list[CellRecord] = []
    try:
        for cell, record in _evaluate_all(prepared, sink, info.run_id):
            write_cell(conn, info.run_id, record)
            records.append(record)
            _log_scalars(info.run_id, record, sink)
        finish_run(conn, info.run_id, "complete")
    except BaseException:
        finish_run(conn, info.run_id, "failed")
        raise
    finally:
        conn.close()
    return RunResult(info.run_id, records)


def _check_name(conn: Any, name: str | None, sink: ProgressSink) -> None:
    """The store refuses a reserved name (one that is also a run reference) and warns about
    a name an earlier run already has."""
    from evalkit.store.reader import check_run_name

    warning = check_run_name(conn, name)
    if warning:
        sink.message(warning)


def _evaluate_all(prepared: PreparedRun, sink: ProgressSink, run_id: str) -> Iterator[tuple[Cell, CellRecord]]:
    from evalkit.cell import evaluate_cell
    from evalkit.models.adapter_switch import SharedBaseLoader
    from evalkit.quiet import quiet_libraries

    quiet_libraries()
    loader = SharedBaseLoader()
    loaded = None
    for cell in prepared.cells:
        if loaded is None or loaded.spec != cell.model:
            loaded = None  # free the previous model before loading the next (the loader drops its own)
            sink.message(_loading_message(cell, reuses_base=loader.holds_base_of(cell.model)))
            loaded = loader.load(cell.model)
        yield cell, evaluate_cell(cell, loaded, prepared.tasks[cell.task], sink, sources=prepared.sources,
                                  run_id=run_id)


def _loading_message(cell: Cell, *, reuses_base: bool) -> str:
    if reuses_base:
        return f"Switching to adapter checkpoint {cell.model.label} (base model already loaded) ..."
    return f"Loading model {cell.model.label} ..."


def _log_scalars(run_id: str, record: CellRecord, sink: ProgressSink) -> None:
    """The stored cell's metrics in TensorBoard; a failure to write them costs a warning, not the run."""
    from evalkit.tensorboard_log import log_cell

    try:
        log_cell(run_id, record)
    except OSError as exc:
        sink.message(f"Warning: cannot write TensorBoard scalars for {record.model} / {record.task}: {exc}")


def run_info(name: str | None, *, seed: int, config: dict[str, Any]) -> RunInfo:
    now = datetime.now(timezone.utc)
    return RunInfo(
        run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
        created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv), seed=seed,
        versions=versions(), git_commit=git_commit(), host=platform.node(), config=config)
