"""Copy whole runs (run row, cells, metrics, per-document samples) from one store to another: a
local store to the team store. Idempotent: a run already there with the same content is skipped;
one there with different content is refused, naming it, before anything is written. Each run is
written in one transaction, so a team store never holds part of a pushed run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from evalkit.errors import InputError
from evalkit.store.columns import CELLS, METRICS, RESULT_TABLES, RUNS, SAMPLES
from evalkit.store.dialect import integrity_errors
from evalkit.store.frames import read_rows
from evalkit.store.schema import store_file
from evalkit.store.writer import insert_rows

RunRows = dict[str, list[dict[str, Any]]]  # table name -> rows (column -> value), parents first


@dataclass(frozen=True)
class PushOutcome:
    run_id: str
    name: str | None
    cells: int
    pushed: bool  # False: the target already held an identical copy


def run_rows(conn: Any, run_id: str) -> RunRows:
    """Every described column of the run's rows in each result table, in insertion order."""
    rows: RunRows = {}
    for table in RESULT_TABLES:
        names, found = read_rows(conn, f"SELECT {table.select_list} FROM {table.name} WHERE run_id = ? "
                                 "ORDER BY rowid", (run_id,))
        rows[table.name] = [dict(zip(names, values)) for values in found]
    return rows


def push_runs(source: Any, target: Any, run_ids: Sequence[str], *, include_incomplete: bool = False
              ) -> list[PushOutcome]:
    """Copy `run_ids` from `source` to `target`; every run is checked (complete unless
    `include_incomplete`, not in conflict with the target's copy) before the first is written."""
    copies = {run_id: run_rows(source, run_id) for run_id in dict.fromkeys(run_ids)}
    for run_id, rows in copies.items():
        _check_complete(source, run_id, rows, include_incomplete)
    present = {run_id for run_id, rows in copies.items() if _same_or_absent(target, run_id, rows)}
    outcomes = []
    for run_id, rows in copies.items():
        pushed = run_id not in present and _insert_unless_there(target, run_id, rows)
        run = rows[RUNS.name][0]
        outcomes.append(PushOutcome(run_id, run["name"], len(rows[CELLS.name]), pushed))
    return outcomes


def _check_complete(source: Any, run_id: str, rows: RunRows, include_incomplete: bool) -> None:
    status = rows[RUNS.name][0]["status"]
    if status != "complete" and not include_incomplete:
        raise InputError(f"Run {run_id} in '{store_file(source)}' is {status}, not complete; nothing was pushed.",
                         hint="Push complete runs (re-run it until it completes), or pass --include-incomplete "
                              "to copy it as it is now.")


def _same_or_absent(target: Any, run_id: str, rows: RunRows) -> bool:
    """True when the target holds an identical copy, False when it holds none; InputError when its copy differs."""
    there = run_rows(target, run_id)
    if not there[RUNS.name]:
        return False
    differing = [t.name for t in RESULT_TABLES if _canonical(there[t.name]) != _canonical(rows[t.name])]
    if differing:
        raise InputError(f"Run {run_id} is already in '{store_file(target)}' with different content "
                         f"(its {', '.join(differing)} differ); nothing was pushed.",
                         hint="A run id names one run everywhere: compare the two copies (`evalkit results show "
                              f"{run_id} --store ...`), and push only runs that are not already there.")
    return True


def _insert_unless_there(target: Any, run_id: str, rows: RunRows) -> bool:
    """Insert the run; when another pusher stored it meanwhile (a duplicate key), compare with its copy."""
    try:
        insert_rows(target, {t.name: rows[t.name] for t in (RUNS, CELLS, METRICS, SAMPLES)})
    except integrity_errors():
        if _same_or_absent(target, run_id, rows):
            return False
        raise
    return True


def _canonical(rows: list[dict[str, Any]]) -> list[str]:
    """Rows in an order-free, type-stable form (1 and 1.0 are one value, as SQLite and PostgreSQL keep them)."""
    return sorted(repr(sorted((k, float(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                              for k, v in row.items())) for row in rows)
