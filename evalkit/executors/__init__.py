"""Executors: how a run's cells are computed. `local` evaluates them one after another in this
process; `ray` spreads them over a Ray cluster (one actor per model group). Either way the
driver alone writes to the store, one transaction per cell, as each cell arrives."""

from evalkit.executors.base import EXECUTORS, Executor, ExecutorOptions, GridWork, open_executor

__all__ = ["EXECUTORS", "Executor", "ExecutorOptions", "GridWork", "open_executor"]
