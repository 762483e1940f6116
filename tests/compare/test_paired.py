from __future__ import annotations

import math
from pathlib import Path

import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, compare_settings, decide_gate, open_runs
from evalkit.compare.paired import NO_ITEM_SCORES
from evalkit.errors import IncomparableRunsError
from evalkit.stats import adjust_pvalues, mcnemar_exact, minimum_detectable_difference
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import SCRIPT_PAYLOAD, CellSpec, add_run, binary


def _compare(store: Path, refs: list[str], **options: object):
    with RunOpener(store) as opener:
        return compare_runs(open_runs(opener, refs), CompareOptions(**options))


def test_two_runs_give_paired_rows_with_holm_adjustment_and_mde(store: Path) -> None:
    comparison = _compare(store, ["base", "drop"])
    rows = comparison.rows.set_index("task")
    sst2 = rows.loc["sst2"]
    assert (sst2.value_a, sst2.value_b, sst2.delta) == pytest.approx((0.75, 0.60, -0.15))
    assert sst2.ci_low < -0.15 < sst2.ci_high < 0
    assert sst2.p_value == pytest.approx(mcnemar_exact(0, 30))
    assert (sst2.n, sst2.improved, sst2.worsened, sst2.method) == (200, 0, 30, "mcnemar-exact")
    assert sst2.mde == pytest.approx(minimum_detectable_difference(200, discordance=30 / 200))
    adjusted = adjust_pvalues(list(comparison.rows.p_value), "holm")
    assert list(comparison.rows.p_adjusted) == pytest.approx(adjusted)
    assert list(rows.change) == ["worse", ""]
    assert comparison.labels == ["base", "drop"] and comparison.kind == "runs"


def test_bh_correction_is_selectable(store: Path) -> None:
    comparison = _compare(store, ["base", "noise", "drop"], correction="bh")
    assert list(comparison.rows.p_adjusted) == pytest.approx(adjust_pvalues(list(comparison.rows.p_value), "bh"))
    assert comparison.correction == "bh"


def test_three_runs_compare_each_against_the_first_adjusting_across_all(store: Path) -> None:
    comparison = _compare(store, ["base", "noise", "drop"])
    assert comparison.labels == ["base", "noise", "drop"]
    assert list(zip(comparison.rows.b, comparison.rows.task)) == [
        ("noise", "sst2"), ("noise", "rte"), ("drop", "sst2"), ("drop", "rte")]
    noise_sst2 = comparison.rows.iloc[0]
    assert noise_sst2.p_value == pytest.approx(0.125)
    # Holm over four p-values: the smallest is multiplied by 4.
    assert comparison.rows.p_adjusted.min() == pytest.approx(min(1.0, 4 * mcnemar_exact(0, 30)))


def test_metric_filter_keeps_only_the_named_metrics(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    for run_id, shift in (("a", 0.0), ("b", 0.1)):
        add_run(conn, run_id, [CellSpec("qa", {"em": binary(50, 20), "f1": [0.5 + shift] * 50})], name=run_id,
                created_at=f"2025-01-0{1 if run_id == 'a' else 2}")
    conn.close()
    comparison = _compare(tmp_path / "s.db", ["a", "b"], metrics=("f1",))
    assert list(comparison.rows.metric) == ["f1"]
    row = comparison.rows.iloc[0]
    assert row.method == "paired-t" and row.delta == pytest.approx(0.1)


def test_metric_without_numeric_item_scores_falls_back_to_aggregates(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    pairs = [[1, 0]] * 30  # lm-eval keeps (gold, prediction) per item for corpus-level F1
    # the stored aggregates contradict the items (F1 of these items is 0): only the aggregates are shown
    add_run(conn, "a", [CellSpec("mrpc", {"f1": pairs, "acc": binary(30, 10)}, aggregates={"f1": 0.5})],
            name="a", created_at="1")
    add_run(conn, "b", [CellSpec("mrpc", {"f1": pairs, "acc": binary(30, 12)}, aggregates={"f1": 0.62})],
            name="b", created_at="2")
    conn.close()
    rows = _compare(tmp_path / "s.db", ["a", "b"]).rows.set_index("metric")
    assert rows.loc["f1", "method"] == NO_ITEM_SCORES
    assert (rows.loc["f1", "value_a"], rows.loc["f1", "delta"]) == pytest.approx((0.5, 0.12))
    assert math.isnan(rows.loc["f1", "p_value"]) and math.isnan(rows.loc["f1", "p_adjusted"])
    assert rows.loc["acc", "p_adjusted"] == pytest.approx(rows.loc["acc", "p_value"])  # one tested row


def test_lower_is_better_metrics_count_an_increase_as_worse(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    lower = {"error": False}
    add_run(conn, "a", [CellSpec("t", {"error": binary(100, 10)}, higher_is_better=lower)], name="a", created_at="1")
    add_run(conn, "b", [CellSpec("t", {"error": binary(100, 40)}, higher_is_better=lower)], name="b", created_at="2")
    conn.close()
    comparison = _compare(tmp_path / "s.db", ["a", "b"], flips=2)
    assert comparison.rows.iloc[0].change == "worse"
    outcome = decide_gate(comparison, 0.01)
    assert not outcome.passed and outcome.failing.iloc[0]["drop"] == pytest.approx(0.30)
    # For a lower-is-better 0/1 metric, "right" is 0: docs 10.. went 0 -> 1, i.e. right -> wrong.
    assert list(comparison.flips.direction) == ["right → wrong", "right → wrong"]
    assert list(comparison.flips.doc_id) == [10, 11]


def test_flips_list_n_each_way_with_prompt_target_and_predictions(store: Path) -> None:
    comparison = _compare(store, ["base", "drop"], flips=2)
    flips = comparison.flips
    assert list(zip(flips.task, flips.direction, flips.doc_id)) == [
        ("sst2", "right → wrong", 120), ("sst2", "right → wrong", 121), ("rte", "wrong → right", 60)]
    first = flips.iloc[0]
    assert (first.prompt, first.target) == ("Question 120 of sst2?", "answer 120")
    assert first.prediction_a == "pred 120 by tiny-model" and first.prediction_b == SCRIPT_PAYLOAD


def test_no_flips_unless_asked(store: Path) -> None:
    assert _compare(store, ["base", "drop"]).flips.empty


def test_gate_fails_on_a_real_drop_and_passes_noise(store: Path) -> None:
    drop = decide_gate(_compare(store, ["base", "drop"], flips=3), 0.01)
    assert not drop.passed
    assert list(drop.failing.task) == ["sst2"]
    assert list(drop.comparison.flips.task) == ["sst2"] * 3  # only the failing row's flips
    noise = decide_gate(_compare(store, ["base", "noise"]), 0.01)
    # dropped 0.02 > 0.01 but not established (McNemar p = 0.125): neither a pass nor a failure
    assert noise.verdict == "INCONCLUSIVE" and noise.failing.empty
    row = noise.comparison.rows.iloc[0]
    assert row["drop"] == pytest.approx(0.02) and row.verdict == "INCONCLUSIVE"
    assert "straddles the tolerance 0.01" in row.reason and "documents at this spread would decide it" in row.reason


def test_gate_tolerates_a_significant_drop_within_max_drop(store: Path) -> None:
    assert decide_gate(_compare(store, ["base", "drop"]), 0.2).passed


def test_compare_settings_within_one_run(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "r", [CellSpec("rte", {"acc": binary(100, 50)}),
                        CellSpec("rte", {"acc": binary(100, 80)}, setting="fine-tuned")], name="r")
    conn.close()
    with RunOpener(tmp_path / "s.db") as opener:
        (side,) = open_runs(opener, ["r"])
        comparison = compare_settings(side, CompareOptions())
    assert comparison is not None and comparison.kind == "settings"
    row = comparison.rows.iloc[0]
    assert (row.a, row.b, row.setting, row.change) == ("zero-shot", "fine-tuned", None, "better")
    assert row.delta == pytest.approx(0.3)


def test_runs_without_common_cells_are_refused(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [CellSpec("rte", {"acc": binary(10, 5)})], name="a", created_at="1")
    add_run(conn, "b", [CellSpec("sst2", {"acc": binary(10, 5)})], name="b", created_at="2")
    conn.close()
    with pytest.raises(IncomparableRunsError, match="no \\(task, setting, metric\\) with documents in common"):
        _compare(tmp_path / "s.db", ["a", "b"])


def test_a_baseline_cell_the_candidate_lacks_fails_the_gate_unless_allowed(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [CellSpec("rte", {"acc": binary(20, 10)}), CellSpec("sst2", {"acc": binary(20, 10)})],
            name="a", created_at="1")
    add_run(conn, "b", [CellSpec("rte", {"acc": binary(20, 10)})], name="b", created_at="2")
    conn.close()
    strict = decide_gate(_compare(tmp_path / "s.db", ["a", "b"]), 0.01)
    assert not strict.passed and strict.failing.empty  # a candidate that stopped running sst2 does not pass
    assert strict.missing == ["tiny-model / sst2 / zero-shot has no counterpart in b"]
    outcome = decide_gate(_compare(tmp_path / "s.db", ["a", "b"]), 0.01, allow_missing=True)
    # identical scores on 20 documents cannot show a drop below 0.01 either: inconclusive, not NO-GO
    assert outcome.verdict == "INCONCLUSIVE" and outcome.missing == []
    assert outcome.comparison.warnings == ["not gated: tiny-model / sst2 / zero-shot has no counterpart in b"]
    assert outcome.comparison.notes == ["tiny-model / sst2 / zero-shot is only in a",
                                        "tiny-model / rte / zero-shot: a and b have identical per-document scores on 20 documents (acc)"]


def test_gate_lists_a_metric_the_candidate_does_not_report_as_not_gated(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [CellSpec("arc", {"acc": binary(20, 10), "acc_norm": binary(20, 12)})], name="a",
            created_at="1")
    add_run(conn, "b", [CellSpec("arc", {"acc": binary(20, 10)})], name="b", created_at="2")
    conn.close()
    assert decide_gate(_compare(tmp_path / "s.db", ["a", "b"]), 0.01).missing == [
        "tiny-model / arc / zero-shot / acc_norm is not reported by b"]
    outcome = decide_gate(_compare(tmp_path / "s.db", ["a", "b"]), 0.01, allow_missing=True)
    assert outcome.verdict == "INCONCLUSIVE"  # acc unchanged on 20 documents; acc_norm silently vanished before
    assert outcome.not_gated == ["not gated: tiny-model / arc / zero-shot / acc_norm is not reported by b"]
    assert outcome.not_gated[0] in outcome.comparison.warnings


def test_gate_lists_a_cell_without_documents_in_common_as_not_gated(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [CellSpec("rte", {"acc": binary(20, 10)}), CellSpec("sst2", {"acc": binary(20, 10)})],
            name="a", created_at="1")
    add_run(conn, "b", [CellSpec("rte", {"acc": binary(20, 10)}), CellSpec("sst2", {"acc": binary(20, 0)},
                                                                              doc_offset=1000)],
            name="b", created_at="2")
    conn.close()
    comparison = _compare(tmp_path / "s.db", ["a", "b"], allow_incomparable=True)
    assert decide_gate(comparison, 0.01).missing == ["tiny-model / sst2 / zero-shot has no documents in common with b"]
    outcome = decide_gate(comparison, 0.01, allow_missing=True)
    assert "not gated: tiny-model / sst2 / zero-shot has no documents in common with b" in outcome.not_gated
