"""Evaluated metrics as TensorBoard scalars at the training step they belong to, so evaluation
lines up with the training curves: a checkpoint of a series at its training step, a fine-tuned
cell at the number of optimiser steps it was trained for.

Layout: `<root>/<run_id>/<series>/` holds one event file per stored cell, where root is the folder
`tensorboard/` beside the run's SQLite store (`reports/tensorboard/` for the default store
`reports/evalkit.db`; for a PostgreSQL store, which has no folder, `./reports/tensorboard/`); each
scalar is tagged `<task>/<setting family>/<metric>` (`sst2/zero-shot/acc`). A cell with no step
(a plain model evaluated zero-shot) has no place on a training axis and writes nothing.
tensorboard comes with the `models` extra; without it nothing is written and nothing is said.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from evalkit.models.series import MAX_STEP
from evalkit.plan.settings import setting_family
from evalkit.store import CellRecord

TENSORBOARD_ROOT = Path("reports") / "tensorboard"  # a PostgreSQL store's, and the default store's
_UNSAFE = re.compile(r"[^\w.@+=-]+")
_root = TENSORBOARD_ROOT  # where the running run writes: set by logging_beside for the length of a run


def tensorboard_root(store: object) -> Path:
    """Where a run's TensorBoard logs go: `<folder of the SQLite store>/tensorboard`; for a PostgreSQL
    store (a URL, no folder) `./reports/tensorboard` in the working directory."""
    return store.parent / "tensorboard" if isinstance(store, Path) else TENSORBOARD_ROOT


@contextmanager
def logging_beside(store: object) -> Iterator[Path]:
    """While the block runs, evaluation scalars and training curves go to `tensorboard_root(store)`."""
    global _root
    previous, _root = _root, tensorboard_root(store)
    try:
        yield _root
    finally:
        _root = previous


def scalar_step(details: Mapping[str, Any]) -> int | None:
    """The training step of a cell: its trajectory step, else its fine-tuning steps, else None."""
    trajectory = details.get("trajectory")
    if isinstance(trajectory, Mapping) and _is_step(trajectory.get("step")):
        return int(trajectory["step"])
    steps = details.get("train_steps")
    return int(steps) if _is_step(steps) else None


def _is_step(value: Any) -> bool:
    """A step an event file can hold (a signed 64-bit integer); the door refuses others (series.checked_step)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_STEP


def fine_tuning_series(model_label: str, task: str) -> str:
    """The name of the series a fine-tuning of `model_label` on `task` forms (its curves and evaluations)."""
    return f"{model_label} fine-tuned on {task}"


def run_folder(run_id: str, name: str, root: Path | None = None) -> Path:
    """`<root>/<run_id>/<name made safe for a folder>`: one TensorBoard run per series (root: the
    running run's, see logging_beside)."""
    return (root or _root) / run_id / (_UNSAFE.sub("_", name).strip("._") or "model")


def series_name(record: CellRecord) -> str:
    """A cell's series: its trajectory's, else the fine-tuning it evaluates (so a fine-tuned cell's
    scalars sit beside that training's loss curve), else its model."""
    trajectory = record.details.get("trajectory")
    series = trajectory.get("series") if isinstance(trajectory, Mapping) else None
    trained_on = record.details.get("trained_on")
    if series is None and trained_on:
        series = fine_tuning_series(record.model, str(trained_on))
    return str(series or record.model)


def scalar_tag(task: str, setting: str, metric: str) -> str:
    """`<task>/<setting family>/<metric>`: the steps of a fine-tuning trajectory share one tag."""
    return f"{task}/{setting_family(setting)}/{metric}"


def scalars(record: CellRecord) -> list[tuple[str, float]]:
    """(tag, value) for every finite metric of the cell."""
    return [(scalar_tag(record.task, record.setting, m.metric), float(m.value)) for m in record.metrics
            if isinstance(m.value, (int, float)) and math.isfinite(m.value)]


def log_cell(run_id: str, record: CellRecord, root: Path | None = None) -> Path | None:
    """Write the cell's metrics at its step; returns the folder written, None when nothing was
    (no step, no finite metric, or tensorboard not installed)."""
    step = scalar_step(record.details)
    values = scalars(record)
    if step is None or not values:
        return None
    writer_class = _summary_writer()
    if writer_class is None:
        return None
    folder = run_folder(run_id, series_name(record), root)
    folder.mkdir(parents=True, exist_ok=True)
    writer = writer_class(log_dir=str(folder))
    try:
        for tag, value in values:
            writer.add_scalar(tag, value, global_step=step)
    finally:
        writer.close()
    return folder


def _summary_writer() -> Any | None:
    """torch's SummaryWriter class, or None when torch or tensorboard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter
