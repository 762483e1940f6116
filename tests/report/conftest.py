from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, decide_gate, open_runs
from evalkit.report import ReportDocument
from tests.compare.synthetic import standard_store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The four-run store described in tests.compare.synthetic.standard_store."""
    return standard_store(tmp_path / "store.db")


@pytest.fixture
def gate_doc(store: Path) -> ReportDocument:
    """A failing gate: base against drop, one flipped document listed each way."""
    with RunOpener(store) as opener:
        comparison = compare_runs(open_runs(opener, ["base", "drop"]), CompareOptions(flips=1))
    return ReportDocument(title="gate", gate=decide_gate(comparison, 0.01))


@pytest.fixture
def three_runs_doc(store: Path) -> ReportDocument:
    """base against noise and drop, with the results of all three runs."""
    with RunOpener(store) as opener:
        sides = open_runs(opener, ["base", "noise", "drop"])
        comparison = compare_runs(sides, CompareOptions())
    results = pd.concat([s.metrics.assign(run=s.label) for s in sides], ignore_index=True)
    return ReportDocument(title="three runs", results=results, comparisons=(comparison,))
