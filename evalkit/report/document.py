"""What a report holds: run results, comparisons and a gate verdict. Every renderer takes one."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.compare.result import Comparison, GateOutcome


@dataclass(frozen=True)
class StudyView:
    """A study view of one run (evalkit.studies): 'trajectory' or 'transfer', its frame and a title."""

    view: str
    frame: pd.DataFrame
    title: str


@dataclass(frozen=True)
class ReportDocument:
    """The input of every renderer; any part may be absent.

    results: tidy metrics (evalkit.store.reader.metrics_frame) with a `run` label column.
    studies: trajectory / transfer views of the runs that have such cells, shown after the comparisons.
    comment_id: names the pull-request comment a gate's markdown report is (its first line's marker).
    """

    title: str
    results: pd.DataFrame | None = None
    comparisons: tuple[Comparison, ...] = ()
    gate: GateOutcome | None = None
    warnings: tuple[str, ...] = ()
    studies: tuple[StudyView, ...] = ()
    comment_id: str = "default"

    @property
    def all_comparisons(self) -> tuple[Comparison, ...]:
        """The gate's judged comparison first (when there is a gate), then the others."""
        return ((self.gate.comparison,) if self.gate else ()) + self.comparisons

    @property
    def all_warnings(self) -> list[str]:
        """Document warnings followed by each comparison's own warnings, without repeats."""
        found = list(self.warnings)
        for comparison in self.all_comparisons:
            found += comparison.warnings
        return list(dict.fromkeys(found))
