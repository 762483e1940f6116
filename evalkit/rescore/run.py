"""The rescore of one stored run: checks at the door, then lm-eval's evaluator on replayed outputs."""

from __future__ import annotations

import platform
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.rescore.cells import plan_cells, rescore_cell
from evalkit.rescore.options import RescoreOptions, check_metric, filter_chain
from evalkit.store import CellRecord, RunInfo


def run_info(source_id: str, seed: int, name: str | None, changed: dict[str, Any]) -> RunInfo:
    from evalkit.provenance import git_commit, versions

    now = datetime.now(timezone.utc)
    return RunInfo(run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
                   created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv), seed=seed,
                   versions=versions(), git_commit=git_commit(), host=platform.node(),
                   config={"rescore_of": source_id, "changed": changed})


def rescore_run(store: Path, ref: str, options: RescoreOptions) -> tuple[RunInfo, list[CellRecord]]:
    """Check everything, rescore every chosen cell, store the new run complete; return it."""
    from evalkit.store import check_run_name, resolve_run_ref, run_row
    from evalkit.store import open_for_reading, open_for_writing
    from evalkit.store import write_complete_runs

    check_metric(options.metric)
    filter_chain(options.filters)
    conn = open_for_reading(store)
    try:
        source_id = resolve_run_ref(conn, ref)
        seed = int(run_row(conn, source_id).seed)
        planned = plan_cells(conn, source_id, options)
    finally:
        conn.close()
    records, changed = [], {}
    for item in planned:
        record, what = rescore_cell(item, seed, options)
        records.append(record)
        changed[f"{record.task}/{record.setting}/{record.model}"] = what
    info = run_info(source_id, seed, options.name, changed)
    conn = open_for_writing(store)
    try:
        check_run_name(conn, options.name)
        write_complete_runs(conn, [(info, records)])
    finally:
        conn.close()
    return info, records
