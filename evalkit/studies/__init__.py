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
    run id that `run` (id, prefix, name, latest, latest~N) names."""
    from evalkit.store.location import store_location
    from evalkit.store.reader import resolve_run_ref
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(store_location(store))
    try:
        yield conn, resolve_run_ref(conn, run)
    finally:
        conn.close()


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
