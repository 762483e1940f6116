"""Executing a plan, writing each finished cell to the store.

Steps: check every input up front (so bad input costs no compute), pick the executor (Ray
connected here, so a missing install is exit 2 before anything is recorded), open the store and
record the run as 'running', copy the cells an earlier run already stored (resume at cell
granularity; `rerun` computes them again), let the executor compute the rest (evalkit.engine.executors:
local, or a Ray cluster), commit each cell as it arrives (and write its metrics to TensorBoard at
its training step), and mark the run 'complete' only at the end. Started in several processes
(evalkit.engine.processes), every process computes and only the main one opens and writes the store.
"""

from __future__ import annotations

import platform
import secrets
import sqlite3
import sys
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from evalkit.engine.processes import Processes, current_processes
from evalkit.errors import InputError
from evalkit.engine.executors import open_executor
from evalkit.engine.executors.base import ExecutorOptions, GridWork, ProgressSink, SilentProgress
from evalkit.models.series import check_series_cells
from evalkit.plan import Cell
from evalkit.engine.door import PreparedRun, check_inputs, prepare_run
from evalkit.provenance import git_commit, versions
from evalkit.store import CellRecord, RunInfo
from evalkit.tasks.discovery import TaskRegistry
from evalkit.engine.tensorboard import logging_beside

__all__ = ["ProgressSink", "RunResult", "SilentProgress", "check_inputs", "execute", "run_info"]


@dataclass
class RunResult:
    run_id: str
    cells: list[CellRecord]
    computed: int = 0  # cells evaluated by this run (the others were copied from earlier runs)
    reused: int = 0


def execute(cells: list[Cell], registry: TaskRegistry, store_path: Path, *, name: str | None,
            progress: ProgressSink | None = None, config: dict[str, Any] | None = None,
            executor: ExecutorOptions | None = None, rerun: bool = False) -> RunResult:
    """Run all cells and store them under one run id; an interrupted run stays 'failed'. Cells an
    earlier run of the store computed from the same inputs are copied, not computed, unless `rerun`."""
    from evalkit.engine.cell_reuse import source_fingerprint
    from evalkit.store import open_for_writing
    from evalkit.store import begin_run

    processes = current_processes()  # several (accelerate): every one computes, only the main one stores
    check_executor_for_processes(executor, processes)
    sink = (progress or SilentProgress()) if processes.is_main else SilentProgress()
    with main_first(processes):  # the main process fills the file-hash memo; the others then only read it
        prepared = prepare_run(cells, registry, sink)  # study settings expanded, every input checked
        check_series_cells(prepared.cells)  # again: expanding study settings (--transfer) may add fine-tuned cells
        fingerprints = {spec: source_fingerprint(spec) for spec in dict.fromkeys(c.model for c in prepared.cells)}
    with open_executor(executor, sink) as chosen, logging_beside(store_path):  # TensorBoard beside the store
        if not processes.is_main:
            return _follow_main(processes, prepared, registry, chosen, sink)
        conn = open_for_writing(store_path)
        try:
            _check_name(conn, name, sink)
            info = run_info(name, seed=prepared.cells[0].seed if prepared.cells else 0, config=config or {})
            begin_run(conn, info)
        except BaseException:
            conn.close()
            raise
        try:
            return _run_cells(conn, info.run_id, prepared, registry, chosen, fingerprints, sink, rerun=rerun,
                              processes=processes)
        finally:
            conn.close()


def _mark_failed(conn: Any, run_id: str) -> None:
    """Mark the run 'failed'; when the store cannot be written (disk full, server gone) that write
    fails too, and must not hide the error that ended the run."""
    from evalkit.errors import RunFailedError
    from evalkit.store import finish_run

    try:
        finish_run(conn, run_id, "failed")
    except RunFailedError:
        pass


def check_executor_for_processes(executor: ExecutorOptions | None, processes: Processes) -> None:
    """Several processes split each cell (accelerate); Ray places whole cells: not both at once."""
    if processes.distributed and executor is not None and executor.kind != "local":
        raise InputError(f"This run was started in {processes.size} processes (accelerate launch), which split each "
                         f"cell among them; --executor {executor.kind} spreads whole cells instead.",
                         hint="Use one of them: leave out --executor, or start evalkit as a single process.")


@contextmanager
def main_first(processes: Processes) -> Iterator[None]:
    """The block runs on the main process, then on all the others at once: files the block may write
    (the file-hash memo, a GGUF conversion) are written by one process, and only read by the rest."""
    if not processes.is_main:
        processes.barrier()
    yield
    if processes.is_main:
        processes.barrier()


def _follow_main(processes: Processes, prepared: PreparedRun, registry: TaskRegistry, executor: Any,
                 sink: ProgressSink) -> RunResult:
    """A process other than the main one: compute its share of the cells the main process chose
    (cells reused from the store are not computed by anyone); the main process stores them."""
    run_id, ids = processes.from_main(None)
    by_id = {c.cell_id: c for c in prepared.cells}
    to_run = [by_id[cell_id] for cell_id in ids]
    work = GridWork(to_run, prepared, registry, run_id, total=len(prepared.cells),
                    reused=len(prepared.cells) - len(to_run))
    with closing(executor.records(work, sink)) as records:
        computed = list(records)
    processes.barrier()  # the main process has marked the run complete
    return RunResult(run_id, computed, computed=len(to_run), reused=len(prepared.cells) - len(to_run))


def _run_cells(conn: sqlite3.Connection, run_id: str, prepared: PreparedRun, registry: TaskRegistry, executor: Any,
               fingerprints: dict[Any, str], sink: ProgressSink, *, rerun: bool,
               processes: Processes | None = None) -> RunResult:
    """Copy the reusable cells, compute the others, commit each once; 'complete' only at the end.
    With several processes, the others are told the run id and the cells to compute."""
    from evalkit.engine.cell_reuse import documents_identity, plan_reuse, reused_record, with_source
    from evalkit.store import finish_run

    stored = CellLedger(conn, run_id, sink)
    try:
        plan = plan_reuse(conn, prepared, fingerprints, rerun=rerun)
        if plan.reused:
            sink.message(f"Reusing {len(plan.reused)} of {len(prepared.cells)} cells stored by earlier runs "
                         "(--rerun computes them again).")
        for _, earlier in plan.reused:
            stored.commit(reused_record(conn, earlier))
        processes = processes or Processes()
        processes.from_main((run_id, [c.cell_id for c in plan.to_run]))
        work = GridWork(plan.to_run, prepared, registry, run_id, total=len(prepared.cells), reused=len(plan.reused))
        by_id = {c.cell_id: c for c in plan.to_run}
        with closing(executor.records(work, sink)) as records:
            for record in records:
                cell = by_id[record.cell_id]
                stored.commit(with_source(record, fingerprints[cell.model], documents_identity(cell, prepared)))
        finish_run(conn, run_id, "complete")
        processes.barrier()
    except BaseException:
        _mark_failed(conn, run_id)
        raise
    return RunResult(run_id, stored.records, computed=len(plan.to_run), reused=len(plan.reused))


class CellLedger:
    """Commits each cell of the run once: a cell id already committed by this run is refused
    explicitly (a retried worker's duplicate), besides the store's (run_id, cell_id) primary key."""

    def __init__(self, conn: sqlite3.Connection, run_id: str, sink: ProgressSink) -> None:
        self.conn, self.run_id, self.sink = conn, run_id, sink
        self.records: list[CellRecord] = []
        self.ids: set[str] = set()

    def commit(self, record: CellRecord) -> None:
        from evalkit.store import write_cell

        if record.cell_id in self.ids:
            self.sink.message(f"Warning: cell {record.cell_id} ({record.model} / {record.task} / {record.setting}) "
                              "arrived twice; the first copy is kept.")
            return
        write_cell(self.conn, self.run_id, record)
        self.ids.add(record.cell_id)
        self.records.append(record)
        _log_scalars(self.run_id, record, self.sink)
        _warn_truncation(record, self.sink)


def _check_name(conn: Any, name: str | None, sink: ProgressSink) -> None:
    """The store refuses a reserved name (one that is also a run reference) and warns about
    a name an earlier run already has."""
    from evalkit.store import check_run_name

    warning = check_run_name(conn, name)
    if warning:
        sink.message(warning)


def _warn_truncation(record: CellRecord, sink: ProgressSink) -> None:
    """A cell whose prompts were cut to the model's context saw less than its setting says (fewer shots)."""
    from evalkit.report.truncation import truncation_line

    line = truncation_line(record.details or {})
    if line:
        sink.message(f"Warning: task {record.task} {record.setting} (model {record.model}): {line}.")


def _log_scalars(run_id: str, record: CellRecord, sink: ProgressSink) -> None:
    """The stored cell's metrics in TensorBoard; a failure to write them (a full disk, a value tensorboard
    refuses) costs a warning, never the run: the cell is computed and committed already."""
    from evalkit.engine.tensorboard import log_cell

    try:
        log_cell(run_id, record)
    except Exception as exc:  # tensorboard and protobuf raise many unrelated types
        sink.message(f"Warning: cannot write TensorBoard scalars for {record.model} / {record.task}: "
                     f"{type(exc).__name__}: {exc}")


def run_info(name: str | None, *, seed: int, config: dict[str, Any]) -> RunInfo:
    now = datetime.now(timezone.utc)
    return RunInfo(
        run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
        created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv), seed=seed,
        versions=versions(), git_commit=git_commit(), host=platform.node(), config=config)
