"""Within one run each setting is compared with its reference: a fine-tuned setting with the
same prompt without fine-tuning, every other setting with zero-shot."""

from __future__ import annotations

from pathlib import Path

from evalkit.compare import CompareOptions, RunOpener, compare_settings, open_runs
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run

ZERO = [1, 0, 0, 1, 0, 0, 1, 0, 0, 0] * 3  # 0.3
TUNED = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0] * 3  # 0.8; never worse than zero-shot on a document
FEW = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0] * 3  # 0.4
TUNED_FEW = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0] * 3  # 0.9


def test_fine_tuned_settings_are_compared_with_their_own_prompt(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn = open_for_writing(path)
    add_run(conn, "run-1", [
        CellSpec("sst2", {"acc": ZERO}), CellSpec("sst2", {"acc": TUNED}, setting="fine-tuned"),
        CellSpec("sst2", {"acc": FEW}, setting="few-shot:2", num_fewshot=2),
        CellSpec("sst2", {"acc": TUNED_FEW}, setting="fine-tuned+few-shot:2", num_fewshot=2),
        CellSpec("copa", {"acc": ZERO})])  # a single setting: nothing to compare
    conn.close()
    with RunOpener(path) as opener:
        comparison = compare_settings(open_runs(opener, ["run-1"])[0], CompareOptions())
    rows = comparison.rows.set_index("b")
    assert set(comparison.rows.task) == {"sst2"}
    assert dict(rows.a) == {"fine-tuned": "zero-shot", "few-shot:2": "zero-shot",
                            "fine-tuned+few-shot:2": "few-shot:2"}
    tuned = rows.loc["fine-tuned"]
    assert round(tuned.delta, 6) == 0.5 and tuned.method == "mcnemar-exact"
    assert tuned.improved == 15 and tuned.worsened == 0 and tuned.p_value < 1e-3
    assert round(rows.loc["fine-tuned+few-shot:2"].delta, 6) == 0.5
