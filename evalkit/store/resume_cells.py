"""Cells already stored, for resuming at cell granularity: which earlier runs hold a cell id, and
one stored cell read back as the CellRecord it was written from (to copy it into a new run).
Built on the public readers only; every stored cell is whole (one transaction each), whatever
its run's status."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable

from evalkit.store.reader import cells_frame, metrics_frame, samples_frame
from evalkit.store.records import CellRecord, MetricRecord, SampleRecord


@dataclass(frozen=True)
class StoredCell:
    """Where a cell id is stored, and what its reuse is checked against."""

    run_id: str
    cell_id: str
    task_config_hash: str
    details: dict[str, Any]


def stored_cells(conn: Any, cell_ids: Iterable[str]) -> dict[str, list[StoredCell]]:
    """For each wanted cell id, the stored copies, newest first."""
    wanted = set(cell_ids)
    frame = cells_frame(conn)
    found: dict[str, list[StoredCell]] = {}
    for row in reversed(list(frame[frame.cell_id.isin(wanted)].itertuples())):
        found.setdefault(row.cell_id, []).append(
            StoredCell(str(row.run_id), str(row.cell_id), str(row.task_config_hash), _json(row.details_json, {})))
    return found


def stored_record(conn: Any, run_id: str, cell_id: str) -> CellRecord:
    """The stored cell (its metrics and per-document samples) as a CellRecord."""
    cells = cells_frame(conn, [run_id])
    row = next(r for r in cells.itertuples() if r.cell_id == cell_id)
    metrics = metrics_frame(conn, [run_id], include_incomplete=True)
    samples = samples_frame(conn, run_id, cell_id)
    return CellRecord(
        cell_id=cell_id, model=str(row.model), model_spec=_json(row.model_spec_json, {}),
        model_fingerprint=str(row.model_fingerprint), task=str(row.task), task_config_hash=str(row.task_config_hash),
        task_source=_text(row.task_source), setting=str(row.setting), num_fewshot=int(row.num_fewshot),
        metrics=[_metric(m) for m in metrics.itertuples() if m.cell_id == cell_id],
        samples=[_sample(s) for s in samples.itertuples()],
        duration_s=_number(row.duration_s) or 0.0, adapter=_text(row.adapter),
        details=_json(row.details_json, {}))


def _metric(m: Any) -> MetricRecord:
    return MetricRecord(metric=str(m.metric), value=_number(m.value), stderr=_number(m.stderr),  # type: ignore[arg-type]
                        ci_low=_number(m.ci_low), ci_high=_number(m.ci_high), n=int(m.n),
                        higher_is_better=bool(m.higher_is_better))


def _sample(s: Any) -> SampleRecord:
    return SampleRecord(doc_id=int(s.doc_id), doc_hash=str(s.doc_hash), prompt_hash=str(s.prompt_hash),
                        prompt=_text(s.prompt), target=_text(s.target), prediction=_text(s.prediction),
                        scores=dict(s.scores or {}), outputs=s.outputs, cluster=_text(s.cluster))


def _json(text: Any, empty: Any) -> Any:
    return json.loads(text) if isinstance(text, str) and text else empty


def _text(value: Any) -> Any:
    """A TEXT column's value; SQL NULL (None, or NaN where pandas made it one) stays None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
