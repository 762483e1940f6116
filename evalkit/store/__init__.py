"""The results store: the public surface the rest of evalkit uses, imported lazily (PEP 562) so
`import evalkit.store` stays cheap and a test that patches a name in its module (e.g.
`evalkit.store.writer.write_cell`) is seen by callers that import it from here at call time.
Doors: open_for_reading / open_for_writing (schema), location parsing (location), writes (writer),
reads and frames (reader, frames), baselines, export, push, and the record types (records)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalkit.store.baseline import load_baseline
    from evalkit.store.columns import METRICS
    from evalkit.store.export import (
        EXPORT_FORMATS, EXPORT_SUFFIXES, TIDY_SUFFIXES, export_run, samples_sibling, suffix_text,
    )
    from evalkit.store.frames import read_frame
    from evalkit.store.jsontext import finite
    from evalkit.store.location import (
        PostgresURL, StoreLocation, location_files, parse_store, require_store_name, store_location,
    )
    from evalkit.store.push import push_runs
    from evalkit.store.reader import (
        cells_frame, check_run_name, cluster_counts, list_runs, load_results, metrics_frame,
        resolve_run_ref, run_row, samples_frame,
    )
    from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord
    from evalkit.store.resume_cells import StoredCell, stored_cells, stored_record
    from evalkit.store.schema import open_for_reading, open_for_writing, store_files
    from evalkit.store.scores import (
        ABSENT, BAD, CORPUS, MAX_ABS_SCORE, OK, describe_score, is_mean_aggregated,
        mean_disagreement, score_kind,
    )
    from evalkit.store.writer import begin_run, finish_run, write_cell, write_complete_runs

_PUBLIC: dict[str, tuple[str, ...]] = {  # module -> the names it offers through this facade
    "baseline": ("load_baseline",),
    "columns": ("METRICS",),
    "export": (
        "EXPORT_FORMATS", "EXPORT_SUFFIXES", "TIDY_SUFFIXES", "export_run", "samples_sibling",
        "suffix_text",
    ),
    "frames": ("read_frame",),
    "jsontext": ("finite",),
    "location": (
        "PostgresURL", "StoreLocation", "location_files", "parse_store", "require_store_name",
        "store_location",
    ),
    "push": ("push_runs",),
    "reader": (
        "cells_frame", "check_run_name", "cluster_counts", "list_runs", "load_results",
        "metrics_frame", "resolve_run_ref", "run_row", "samples_frame",
    ),
    "records": ("CellRecord", "MetricRecord", "RunInfo", "SampleRecord",),
    "resume_cells": ("StoredCell", "stored_cells", "stored_record",),
    "schema": ("open_for_reading", "open_for_writing", "store_files",),
    "scores": (
        "ABSENT", "BAD", "CORPUS", "MAX_ABS_SCORE", "OK", "describe_score", "is_mean_aggregated",
        "mean_disagreement", "score_kind",
    ),
    "writer": ("begin_run", "finish_run", "write_cell", "write_complete_runs",),
}
_HOMES = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name from the store module that owns it (not cached: a patched name is seen)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'evalkit.store' has no attribute {name!r}")
    return getattr(import_module(f"evalkit.store.{home}"), name)
