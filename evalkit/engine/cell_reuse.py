"""Resume at cell granularity: a cell of the plan already stored by an earlier run of the same store
(same cell id, same task definition, same model files) is copied into the new run instead of
being computed; `--rerun` computes every cell. A stored cell is always whole (one transaction),
so the earlier run's status does not matter: a killed run's finished cells count.

Copying (rather than the new run pointing at the old rows) keeps every run self-contained, so
readers, comparisons, gates and exports need no notion of borrowed cells; the copy says where it
came from in details["reused_from"].
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.engine.compute import with_reused_compute
from evalkit.models.spec import ModelSpec
from evalkit.plan import Cell
from evalkit.engine.door import PreparedRun
from evalkit.store import CellRecord
from evalkit.store import StoredCell, stored_cells, stored_record

SOURCE_KEY = "source_fingerprint"  # details key: the model's files when the cell was computed
DOCUMENTS_KEY = "task_documents"  # details key: the task's documents (and a training source's) then


@dataclass
class ReusePlan:
    reused: list[tuple[Cell, StoredCell]]
    to_run: list[Cell]


def source_fingerprint(spec: ModelSpec) -> str:
    """The model's files as they are now, without loading weights (file hashes are memoised):
    a local checkpoint, adapter, GGUF or separate tokenizer folder by content; a hub model by the
    commit its revision names now (evalkit.models.hub_revision), else its id and revision."""
    from evalkit.models.fingerprint import combine, directory_fingerprint, file_sha256, tokenizer_fingerprint

    if spec.kind == "local":
        parts = [directory_fingerprint(Path(spec.location))]
    elif spec.kind == "gguf":
        parts = [file_sha256(Path(spec.location))]
    elif spec.kind == "hub":
        from evalkit.models.hub_revision import hub_commit

        commit = hub_commit(spec.location, spec.revision, ask_hub_first=True)
        parts = [f"hub:{spec.location}@{commit}" if commit else f"hub:{spec.location}@{spec.revision or ''}"]
    else:
        parts = [f"{spec.kind}:{spec.location}@{spec.revision or ''}"]
    if spec.adapter:
        parts.append(directory_fingerprint(Path(spec.adapter)))
    if spec.tokenizer:
        parts.append(f"tokenizer:{spec.tokenizer}:{tokenizer_fingerprint(Path(spec.tokenizer))}")
    return combine(*parts)


def plan_reuse(conn: sqlite3.Connection, prepared: PreparedRun, fingerprints: dict[ModelSpec, str], *,
               rerun: bool) -> ReusePlan:
    """Which cells are copied from the store and which are computed."""
    if rerun:
        return ReusePlan([], list(prepared.cells))
    found = stored_cells(conn, [c.cell_id for c in prepared.cells])
    reused, to_run = [], []
    for cell in prepared.cells:
        match = next((s for s in found.get(cell.cell_id, []) if _still_valid(s, cell, prepared, fingerprints)), None)
        if match is None:
            to_run.append(cell)
        else:
            reused.append((cell, match))
    return ReusePlan(reused, to_run)


def _still_valid(stored: StoredCell, cell: Cell, prepared: PreparedRun, fingerprints: dict[ModelSpec, str]) -> bool:
    """The stored cell was computed from the same task definition, the same documents and the same
    model files (a cell stored before documents were recorded is computed again)."""
    return (stored.task_config_hash == prepared.tasks[cell.task].config_hash
            and stored.details.get(SOURCE_KEY) == fingerprints[cell.model]
            and stored.details.get(DOCUMENTS_KEY) == documents_identity(cell, prepared))


def documents_identity(cell: Cell, prepared: PreparedRun) -> str:
    """The documents the cell's numbers come from: its task's, and for fine-tuned-on:TASK the training
    task's definition and documents (evalkit.tasks.data_identity)."""
    from evalkit.models.fingerprint import combine

    parts = [prepared.tasks[cell.task].documents_hash]
    source = prepared.sources.get(cell.setting.trained_on) if cell.setting.trained_on else None
    if source is not None:
        parts += [source.config_hash, source.documents_hash]
    return combine(*parts)


def reused_record(conn: sqlite3.Connection, stored: StoredCell) -> CellRecord:
    """The stored cell as the new run's copy: it names the run that computed it, and its request
    counts say that this run computed none of them."""
    record = stored_record(conn, stored.run_id, stored.cell_id)
    details: dict[str, Any] = dict(record.details)
    details.setdefault("reused_from", {"run_id": stored.run_id})
    requests = details.get("requests")
    if isinstance(requests, dict):
        total = int(requests.get("computed", 0)) + int(requests.get("reused", 0))
        details["requests"] = {**requests, "computed": 0, "reused": total, "saved": 0}
    details = with_reused_compute(details)
    return dataclasses.replace(record, details=details)


def with_source(record: CellRecord, fingerprint: str, documents: str) -> CellRecord:
    """A computed cell's record with the model-files fingerprint and the documents identity a later
    run checks reuse against."""
    return dataclasses.replace(record, details={**record.details, SOURCE_KEY: fingerprint, DOCUMENTS_KEY: documents})
