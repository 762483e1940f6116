"""Executing a plan, writing each finished cell to the store.

Steps: check every input up front (so bad input costs no compute), pick the executor (Ray
connected here, so a missing install is exit 2 before anything is recorded), open the store and
record the run as 'running', copy the cells an earlier run already stored (resume at cell
granularity; `rerun` computes them again), let the executor compute the rest (evalkit.executors:
local, or a Ray cluster), commit each cell as it arrives (and write its metrics to TensorBoard at
its training step), and mark the run 'complete' only at the end.
"""

from __future__ import annotations

import platform
import secrets
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.executors.base import ExecutorOptions, GridWork, ProgressSink, SilentProgress, open_executor
from evalkit.models.series import check_series_cells
from evalkit.plan import Cell
from evalkit.preflight import PreparedRun, check_inputs, prepare_run
from evalkit.provenance import git_commit, versions
from evalkit.store.records import CellRecord, RunInfo
from evalkit.tasks.discovery import TaskRegistry

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
    from evalkit.executors.reuse import source_fingerprint
    from evalkit.store.schema import open_for_writing
    from evalkit.store.writer import begin_run

    sink = progress or SilentProgress()
    prepared = prepare_run(cells, registry, sink)  # study settings expanded, every input checked
    check_series_cells(prepared.cells)  # again: expanding study settings (--transfer) may add fine-tuned cells
    fingerprints = {spec: source_fingerprint(spec) for spec in dict.fromkeys(c.model for c in prepared.cells)}
    with open_executor(executor, sink) as chosen:
        conn = open_for_writing(store_path)
        try:
            _check_name(conn, name, sink)
            info = run_info(name, seed=prepared.cells[0].seed if prepared.cells else 0, config=config or {})
            begin_run(conn, info)
        except BaseException:
            conn.close()
            raise
        try:
            return _run_cells(conn, info.run_id, prepared, registry, chosen, fingerprints, sink, rerun=rerun)
        finally:
            conn.close()


def _run_cells(conn: sqlite3.Connection, run_id: str, prepared: PreparedRun, registry: TaskRegistry, executor: Any,
               fingerprints: dict[Any, str], sink: ProgressSink, *, rerun: bool) -> RunResult:
    """Copy the reusable cells, compute the others, commit each once; 'complete' only at the end."""
    from evalkit.executors.reuse import plan_reuse, reused_record, with_source
    from evalkit.store.writer import finish_run

    stored = CellLedger(conn, run_id, sink)
    try:
        plan = plan_reuse(conn, prepared, fingerprints, rerun=rerun)
        if plan.reused:
            sink.message(f"Reusing {len(plan.reused)} of {len(prepared.cells)} cells stored by earlier runs "
                         "(--rerun computes them again).")
        for _, earlier in plan.reused:
            stored.commit(reused_record(conn, earlier))
        work = GridWork(plan.to_run, prepared, registry, run_id, total=len(prepared.cells), reused=len(plan.reused))
        by_id = {c.cell_id: c for c in plan.to_run}
        with closing(executor.records(work, sink)) as records:
            for record in records:
                stored.commit(with_source(record, fingerprints[by_id[record.cell_id].model]))
        finish_run(conn, run_id, "complete")
    except BaseException:
        finish_run(conn, run_id, "failed")
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
        from evalkit.store.writer import write_cell

        if record.cell_id in self.ids:
            self.sink.message(f"Warning: cell {record.cell_id} ({record.model} / {record.task} / {record.setting}) "
                              "arrived twice; the first copy is kept.")
            return
        write_cell(self.conn, self.run_id, record)
        self.ids.add(record.cell_id)
        self.records.append(record)
        _log_scalars(self.run_id, record, self.sink)


def _check_name(conn: Any, name: str | None, sink: ProgressSink) -> None:
    """The store refuses a reserved name (one that is also a run reference) and warns about
    a name an earlier run already has."""
    from evalkit.store.reader import check_run_name

    warning = check_run_name(conn, name)
    if warning:
        sink.message(warning)


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
