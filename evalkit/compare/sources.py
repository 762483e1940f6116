"""Where the runs being compared come from: a results store (id, name, `latest`, `latest~N`)
or an exported results file. Both end up as a `RunSide` over a store connection (a file's is an
in-memory SQLite store; a store's is SQLite or PostgreSQL)."""

from __future__ import annotations

import json

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import InputError, UnknownRunError
from evalkit.report.formatting import printable
from evalkit.store import load_baseline
from evalkit.store import EXPORT_SUFFIXES, suffix_text
from evalkit.store import cells_frame, metrics_frame, resolve_run_ref, run_row, samples_frame
from evalkit.store import PostgresURL, StoreLocation, store_location
from evalkit.store import open_for_reading

FILE_SUFFIXES = EXPORT_SUFFIXES


@dataclass
class RunSide:
    """One run taking part in a comparison, with its cells and metrics loaded."""

    conn: Any  # sqlite3.Connection or evalkit.store.postgres.PostgresConnection
    run_id: str
    label: str
    source: str
    run: dict[str, Any]
    cells: pd.DataFrame
    metrics: pd.DataFrame
    from_file: bool = False  # an exported results file (source is its path) rather than a run in a store
    _samples: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def samples(self, cell_id: str) -> pd.DataFrame:
        """Per-document rows of one cell (cached: a cell is compared once per metric). Their JSON
        and doc ids were checked where they came in: `load_baseline` for a file, the reader for a store."""
        if cell_id not in self._samples:
            self._samples[cell_id] = samples_frame(self.conn, self.run_id, cell_id)
        return self._samples[cell_id]

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

    def __init__(self, store: Path | PostgresURL | str | None) -> None:
        self.store_path: StoreLocation = store_location(store)
        self._store: Any = None
        self._opened: list[Any] = []

    def open(self, ref: str) -> RunSide:
        """Load the run behind `ref`: an exported file, or a run in the store."""
        if is_file_ref(ref):
            baseline = load_baseline(ref)
            self._opened.append(baseline.conn)
            return _side(baseline.conn, baseline.run_id, source=str(baseline.path), file_name=Path(ref).name)
        if self._store is None:
            self._store = open_for_reading(self.store_path)
            self._opened.append(self._store)
        try:
            run_id = resolve_run_ref(self._store, ref)
        except UnknownRunError as exc:
            if Path(ref).exists():  # a file or folder no export could be: say what a results file is called
                what = "a directory" if Path(ref).is_dir() else "a file"
                raise UnknownRunError(f"{exc.message} '{ref}' is {what}, but not a results file: those end in "
                                      f"{suffix_text()}.",
                                      hint="Pass a file written by `evalkit results export RUN -o FILE`, "
                                           "or a run id, name, `latest` or `latest~N`.") from exc
            raise
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
    _refuse_self_comparison(refs, sides)
    if len(sides) > 1:
        refuse_aggregate_only(sides)
    counts = pd.Series([s.label for s in sides]).value_counts()
    for side in sides:
        if counts[side.label] > 1:
            side.label = f"{side.label}@{side.run_id}"
    return sides


def _side(conn: Any, run_id: str, *, source: str, file_name: str | None) -> RunSide:
    run = {k: (None if pd.isna(v) else v) for k, v in run_row(conn, run_id).to_dict().items()}
    label = printable(run.get("name") or run_id)  # ids start with the date: a prefix would not tell runs apart
    if file_name:
        label = f"{label} ({file_name})"
    side = RunSide(conn=conn, run_id=run_id, label=label, source=source, run=run,
                   cells=cells_frame(conn, [run_id]),
                   metrics=metrics_frame(conn, [run_id], include_incomplete=True), from_file=file_name is not None)
    return side


def refuse_aggregate_only(sides: list[RunSide]) -> None:
    """A run imported from aggregate-only results (no per-document scores) cannot be paired document by
    document: compare and gate refuse it by name rather than show untested rows."""
    for side in sides:
        for details in side.cells.get("details_json", pd.Series(dtype=object)):
            if isinstance(details, str) and "per_document_scores" in details and \
                    json.loads(details).get("per_document_scores") is False:
                raise InputError(f"{side.where} was imported from aggregate-only lm-eval results: it has no "
                                 "per-document scores, so a paired comparison or a gate cannot use it.",
                                 hint="Read it with `evalkit trajectory` or `evalkit forecast`; to compare or "
                                      "gate, re-run lm-eval with --log_samples (or `evalkit run`) and import that.")


def _refuse_self_comparison(refs: list[str], sides: list[RunSide]) -> None:
    """Two references to one stored run (or to one file) compare a run with itself: every difference
    is 0 and every p-value 1, a table that says nothing (and a gate that always passes). That is
    almost always a reference that resolved to a run the user did not mean, so it is refused."""
    seen: dict[tuple[str, str], str] = {}
    for ref, side in zip(refs, sides):
        key = (str(Path(side.source).resolve()) if side.from_file else side.source, side.run_id)
        if key in seen:
            raise InputError(f"'{seen[key]}' and '{ref}' name the same run ({side.run_id}): a run compared with "
                             "itself shows no difference.",
                             hint="Name two different runs (see `evalkit results list`); a name means its newest "
                                  "complete run, and `latest` the newest complete run of the store.")
        seen[key] = ref
