"""Executing a plan cell by cell, writing each finished cell to the store.

Steps: check every input up front (so bad input costs no compute), open the store and
record the run as 'running', evaluate cells model by model (each model loaded once),
commit each cell as it finishes, and mark the run 'complete' only at the end.
"""

from __future__ import annotations

import platform
import secrets
import subprocess
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from evalkit.plan import Cell
from evalkit.store.records import CellRecord, RunInfo
from evalkit.tasks.discovery import TaskEntry, TaskRegistry


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


def check_inputs(cells: list[Cell], registry: TaskRegistry) -> dict[str, TaskEntry]:
    """Resolve and load every task, and check the documents to be evaluated, before any model
    is loaded or any run is recorded: bad input costs no compute and leaves no trace."""
    from evalkit.evaluation import check_documents
    from evalkit.quiet import quiet_libraries
    from evalkit.tasks.loading import check_keys, load_task

    quiet_libraries()
    entries: dict[str, TaskEntry] = {}
    for cell in cells:
        if cell.task not in entries:
            entry = registry.resolve(cell.task)
            if entry.source != "lm_eval":
                check_keys(entry)
                check_documents(load_task(entry), max((c.limit or 0 for c in cells), default=0) or None)
            entries[cell.task] = entry
    return entries


def execute(cells: list[Cell], registry: TaskRegistry, store_path: Path, *, name: str | None,
            progress: ProgressSink | None = None, config: dict[str, Any] | None = None) -> RunResult:
    """Run all cells and store them under one run id; an interrupted run stays 'failed'."""
    from evalkit.store.schema import connect
    from evalkit.store.writer import begin_run, finish_run, write_cell

    sink = progress or SilentProgress()
    entries = check_inputs(cells, registry)
    conn = connect(store_path)
    info = run_info(name, seed=cells[0].seed if cells else 0, config=config or {})
    begin_run(conn, info)
    records: list[CellRecord] = []
    try:
        for cell, record in _evaluate_all(cells, entries, sink):
            write_cell(conn, info.run_id, record)
            records.append(record)
        finish_run(conn, info.run_id, "complete")
    except BaseException:
        finish_run(conn, info.run_id, "failed")
        raise
    finally:
        conn.close()
    return RunResult(info.run_id, records)


def _evaluate_all(cells: list[Cell], entries: dict[str, TaskEntry],
                  sink: ProgressSink) -> Iterator[tuple[Cell, CellRecord]]:
    from evalkit.cell import evaluate_cell
    from evalkit.models.loading import load_model
    from evalkit.quiet import quiet_libraries

    quiet_libraries()
    loaded = None
    for cell in cells:
        if loaded is None or loaded.spec != cell.model:
            loaded = None  # free the previous model before loading the next
            sink.message(f"Loading model {cell.model.label} ...")
            loaded = load_model(cell.model)
        yield cell, evaluate_cell(cell, loaded, entries[cell.task], sink)


def run_info(name: str | None, *, seed: int, config: dict[str, Any]) -> RunInfo:
    now = datetime.now(timezone.utc)
    return RunInfo(
        run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
        created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv), seed=seed,
        versions=versions(), git_commit=git_commit(), host=platform.node(), config=config)


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for key, dist in [("evalkit", "evalkit"), ("lm_eval", "lm_eval"), ("transformers", "transformers"),
                      ("torch", "torch"), ("peft", "peft")]:
        try:
            found[key] = version(dist)
        except PackageNotFoundError:
            found[key] = None
    return found


def git_commit(directory: Path | None = None) -> str | None:
    """HEAD of the working directory's git repository, with '-dirty' when it has changes."""
    cwd = str(directory or Path.cwd())
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None
