"""evalkit.studies: multi-step views of one run, as tidy DataFrames (rendered by evalkit.report).

`trajectory(store, run)`: a metric at every checkpoint / fine-tuning step with paired tests
against the previous, first and best step. `transfer(store, run)`: the fine-tuned-on x evaluated
matrix of paired differences against zero-shot (transfer and forgetting).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from evalkit.studies.trajectory import setting_family, trajectory_frame
from evalkit.studies.transfer import transfer_frame

__all__ = ["open_run", "setting_family", "trajectory", "trajectory_frame", "transfer", "transfer_frame"]


@contextmanager
def open_run(store: Any, run: str) -> Iterator[tuple[Any, str]]:
    """An open store connection (store: a path, a postgresql:// URL, None for the default) and the
    run id that `run` (id, prefix, name, latest, latest~N) names; or, for a JSON export of a run
    (`evalkit results export RUN -o FILE.json`), the run it holds (the store is not read)."""
    from evalkit.store import store_location
    from evalkit.store import resolve_run_ref
    from evalkit.store import open_for_reading

    if _export_suffix(run):
        baseline = _load_export(run)
        conn, run_id = baseline.conn, baseline.run_id
    else:
        conn = open_for_reading(store_location(store))
        run_id = None
    try:
        yield conn, run_id or resolve_run_ref(conn, run)
    finally:
        conn.close()


def _export_suffix(run: str) -> str | None:
    """The export suffix of a reference that names a results file (run names never have one), else None."""
    from evalkit.store import EXPORT_SUFFIXES

    suffix = Path(run).suffix.lower()
    return suffix if suffix in EXPORT_SUFFIXES else None


def _load_export(run: str) -> Any:
    """A JSON export loaded as an in-memory store; a Parquet / CSV export keeps no cell details (the
    trajectory points, the sources trained on), so the views cannot be built from it."""
    from evalkit.errors import InputError
    from evalkit.store import load_baseline
    from evalkit.store import TIDY_SUFFIXES

    if _export_suffix(run) in TIDY_SUFFIXES:
        raise InputError(f"'{run}' is a {Path(run).suffix} results export: it keeps no cell details (where the "
                         "trajectory view finds its steps), so these views read a run in a store or a JSON export.",
                         hint="Pass the run in its store (id, name, `latest`; --store PATH), or a JSON export "
                              "(`evalkit results export RUN --format json -o FILE.json`).")
    return load_baseline(run)


def trajectory(store: str | Path | None, run: str, *, metrics: tuple[str, ...] = (), correction: str = "holm",
               alpha: float = 0.05) -> pd.DataFrame:
    """The tidy DataFrame behind `evalkit trajectory RUN` (see evalkit.studies.trajectory)."""
    with open_run(store, run) as (conn, run_id):
        return trajectory_frame(conn, run_id, metrics=metrics, correction=correction, alpha=alpha)


def transfer(store: str | Path | None, run: str, *, metric: str | None = None, correction: str = "holm",
             alpha: float = 0.05) -> pd.DataFrame:
    """The tidy DataFrame behind `evalkit transfer RUN` (see evalkit.studies.transfer)."""
    with open_run(store, run) as (conn, run_id):
        return transfer_frame(conn, run_id, metric=metric, correction=correction, alpha=alpha)
