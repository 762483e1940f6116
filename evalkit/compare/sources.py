"""Where the runs being compared come from: a results store (id, name, `latest`, `latest~N`)
or an exported results file. Both end up as a `RunSide` over an SQLite connection."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.home import default_store_path
from evalkit.store.baseline import load_baseline
from evalkit.store.reader import cells_frame, metrics_frame, resolve_run_ref, run_row, samples_frame
from evalkit.store.schema import connect

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
    _samples: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def samples(self, cell_id: str) -> pd.DataFrame:
        """Per-document rows of one cell (cached: a cell is compared once per metric)."""
        if cell_id not in self._samples:
            self._samples[cell_id] = samples_frame(self.conn, self.run_id, cell_id)
        return self._samples[cell_id]

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
            self._store = connect(self.store_path, create=False)
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
    return RunSide(conn=conn, run_id=run_id, label=label, source=source, run=run,
                   cells=cells_frame(conn, [run_id]),
                   metrics=metrics_frame(conn, [run_id], include_incomplete=True))
