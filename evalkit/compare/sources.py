"""Where the runs being compared come from: a results store (id, name, `latest`, `latest~N`)
or an exported results file. Both end up as a `RunSide` over an SQLite connection."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import InputError
from evalkit.home import default_store_path
from evalkit.store.baseline import load_baseline
from evalkit.store.reader import cells_frame, metrics_frame, resolve_run_ref, run_row, samples_frame
from evalkit.store.schema import open_for_reading

FILE_SUFFIXES = (".json", ".parquet", ".csv")


@dataclass
class RunSide:
    """One run taking part in a comparison, with its cells and metrics loaded."""

    conn: sqlite3.Connection
    run_id: str
    label: str
    source: str
    run: dict[str, Any]
    cells: pd.DataFrame
    metrics: pd.DataFrame
    from_file: bool = False  # an exported results file (source is its path) rather than a run in a store
    _samples: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def samples(self, cell_id: str) -> pd.DataFrame:
        """Per-document rows of one cell (cached: a cell is compared once per metric).

        InputError, naming the document, for JSON text that does not parse or a doc_id that is not an integer.
        """
        if cell_id not in self._samples:
            try:
                frame = samples_frame(self.conn, self.run_id, cell_id)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                raise self._unreadable(cell_id, _first_unparsable(self.conn, self.run_id, cell_id)) from exc
            odd = [d for d in frame.doc_id if isinstance(d, bool) or not isinstance(d, (int, np.integer))]
            if odd:
                raise self._unreadable(cell_id, f"doc_id {odd[0]!r} is not an integer")
            self._samples[cell_id] = frame
        return self._samples[cell_id]

    def _unreadable(self, cell_id: str, what: str) -> InputError:
        cell = self.cells[self.cells.cell_id == cell_id]
        name = " / ".join(str(v) for v in cell.iloc[0][["model", "task", "setting"]]) if len(cell) else cell_id
        return InputError(f"{self.where}: a document of {name} cannot be read: {what}.",
                          hint="Export the baseline again with `evalkit results export RUN -o FILE`.")

    @property
    def where(self) -> str:
        """Where a user goes to fix this run's data: "Results file 'PATH'" or "Run 'LABEL' in store 'PATH'"."""
        if self.from_file:
            return f"Results file '{self.source}'"
        return f"Run '{self.label}' in store '{self.source}'"

    @property
    def models(self) -> list[str]:
        """Distinct model names in this run, in cell order."""
        return list(dict.fromkeys(self.cells["model"]))


def is_file_ref(ref: str) -> bool:
    """A reference names a results file when it has an export suffix or a path separator."""
    return Path(ref).suffix.lower() in FILE_SUFFIXES or "/" in ref or "\\" in ref


class RunOpener:
    """Opens run references; the store is opened once, and only when a reference needs it."""

    def __init__(self, store: Path | None) -> None:
        self.store_path = Path(store) if store else default_store_path()
        self._store: sqlite3.Connection | None = None
        self._opened: list[sqlite3.Connection] = []

    def open(self, ref: str) -> RunSide:
        """Load the run behind `ref`: an exported file, or a run in the store."""
        if is_file_ref(ref):
            baseline = load_baseline(ref)
            self._opened.append(baseline.conn)
            return _side(baseline.conn, baseline.run_id, source=str(baseline.path), file_name=Path(ref).name)
        if self._store is None:
            self._store = open_for_reading(self.store_path)
            self._opened.append(self._store)
        run_id = resolve_run_ref(self._store, ref)
        return _side(self._store, run_id, source=str(self.store_path), file_name=None)

    def close(self) -> None:
        """Close every connection this opener made."""
        for conn in self._opened:
            conn.close()
        self._opened.clear()
        self._store = None

    def __enter__(self) -> "RunOpener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_runs(opener: RunOpener, refs: list[str]) -> list[RunSide]:
    """Load several references and give them distinct display labels."""
    sides = [opener.open(ref) for ref in refs]
    counts = pd.Series([s.label for s in sides]).value_counts()
    for side in sides:
        if counts[side.label] > 1:
            side.label = f"{side.label}@{side.run_id[:8]}"
    return sides


def _side(conn: sqlite3.Connection, run_id: str, *, source: str, file_name: str | None) -> RunSide:
    run = {k: (None if pd.isna(v) else v) for k, v in run_row(conn, run_id).to_dict().items()}
    label = str(run.get("name") or run_id[:8])
    if file_name:
        label = f"{label} ({file_name})"
    side = RunSide(conn=conn, run_id=run_id, label=label, source=source, run=run,
                   cells=cells_frame(conn, [run_id]),
                   metrics=metrics_frame(conn, [run_id], include_incomplete=True), from_file=file_name is not None)
    _check_directions(side)
    return side


def _first_unparsable(conn: sqlite3.Connection, run_id: str, cell_id: str) -> str:
    """Which document's scores or outputs JSON text fails to parse (only asked after a failure)."""
    rows = conn.execute("SELECT doc_id, scores_json, outputs_json FROM samples WHERE run_id = ? AND cell_id = ? "
                        "ORDER BY doc_id", (run_id, cell_id))
    for doc_id, scores, outputs in rows:
        for column, text in (("scores", scores), ("outputs", outputs)):
            if column == "outputs" and not text:
                continue  # outputs are optional
            try:
                json.loads(text)
            except (TypeError, ValueError) as exc:
                return f"doc_id {doc_id} has {column} that are not valid JSON ({exc})"
    return "its JSON text does not parse"


def _check_directions(side: RunSide) -> None:
    """Every metric's higher_is_better must be a real 0/1: the reader's bool() would turn 'false' into True."""
    bad = side.conn.execute("SELECT m.metric, m.higher_is_better, c.model, c.task, c.setting FROM metrics m "
                       "JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id "
                       "WHERE m.run_id = ? AND (typeof(m.higher_is_better) != 'integer' "
                       "OR m.higher_is_better NOT IN (0, 1)) LIMIT 1", (side.run_id,)).fetchone()
    if bad:
        metric, value, model, task, setting = bad
        raise InputError(f"{side.where}: metric '{metric}' of {model} / {task} / {setting} has "
                         f"higher_is_better = {value!r}, not true or false.",
                         hint="Export the baseline again with `evalkit results export RUN -o FILE`.")
