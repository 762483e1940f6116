"""Comparing runs: which cells and documents match, whether runs are comparable, paired statistics
per (model, task, setting, metric), and the CI gate's decision."""

from __future__ import annotations

from evalkit.compare.gate import decide_gate, require_complete, require_distinct
from evalkit.compare.paired import compare_runs, compare_settings
from evalkit.compare.result import FLIP_COLUMNS, ROW_COLUMNS, CompareOptions, Comparison, GateOutcome
from evalkit.compare.sources import RunOpener, RunSide, open_runs

__all__ = [
    "FLIP_COLUMNS",
    "ROW_COLUMNS",
    "CompareOptions",
    "Comparison",
    "GateOutcome",
    "RunOpener",
    "RunSide",
    "compare_runs",
    "compare_settings",
    "decide_gate",
    "open_runs",
    "require_complete",
    "require_distinct",
]
