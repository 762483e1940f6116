"""Settings compared within one run: baselines, paired differences, and the rendered table."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from evalkit.finetune.comparison import baseline_of, comparisons_from_store
from evalkit.store.schema import connect
from tests.compare.synthetic import CellSpec, add_run

ZERO = [1, 0, 0, 1, 0, 0, 1, 0, 0, 0] * 3  # 0.3
TUNED = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0] * 3  # 0.8; never worse than zero-shot on a document
FEW = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0] * 3  # 0.4
TUNED_FEW = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0] * 3  # 0.9


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    conn = connect(path)
    cells = [CellSpec("sst2", {"acc": ZERO}), CellSpec("sst2", {"acc": TUNED}, setting="fine-tuned"),
             CellSpec("sst2", {"acc": FEW}, setting="few-shot:2", num_fewshot=2),
             CellSpec("sst2", {"acc": TUNED_FEW}, setting="fine-tuned+few-shot:2", num_fewshot=2),
             CellSpec("copa", {"acc": ZERO})]  # a single setting: no comparison
    add_run(conn, "run-1", cells)
    conn.close()
    return path


def test_baselines():
    settings = ["zero-shot", "fine-tuned", "few-shot:5", "fine-tuned+few-shot:5", "fine-tuned+few-shot:3"]
    assert baseline_of("fine-tuned", settings) == "zero-shot"
    assert baseline_of("fine-tuned+few-shot:5", settings) == "few-shot:5"
    assert baseline_of("fine-tuned+few-shot:3", settings) is None
    assert baseline_of("few-shot:5", settings) == "zero-shot"
    assert baseline_of("zero-shot", settings) is None


def test_paired_differences_from_the_store(store: Path):
    conn = connect(store, create=False)
    try:
        (comparison,) = comparisons_from_store(conn, "run-1")
    finally:
        conn.close()
    assert (comparison.model, comparison.task) == ("tiny-model", "sst2")
    assert list(comparison.settings.setting) == ["zero-shot", "fine-tuned", "few-shot:2", "fine-tuned+few-shot:2"]
    diffs = comparison.differences.set_index("setting")
    tuned = diffs.loc["fine-tuned"]
    assert tuned.baseline == "zero-shot" and tuned.method == "mcnemar-exact" and tuned.n == 30
    assert tuned.delta == pytest.approx(0.5) and (tuned.improved, tuned.worsened) == (15, 0)
    assert tuned.p_value < 0.001 and 0 < tuned.ci_low < 0.5 < tuned.ci_high
    assert diffs.loc["fine-tuned+few-shot:2"].baseline == "few-shot:2"
    assert diffs.loc["fine-tuned+few-shot:2"].delta == pytest.approx(0.5)
    assert diffs.loc["few-shot:2"].delta == pytest.approx(0.1) and diffs.loc["few-shot:2"].p_value > 0.05
