"""A comparison never passes over scores it could not read (issue 9): null / NaN / text / missing
per-document scores, a flipped higher_is_better, bad levels, runs that are not complete."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, compare_settings, decide_gate, open_runs
from evalkit.compare.gate import require_complete
from evalkit.compare.paired import NO_ITEM_SCORES
from evalkit.errors import IncomparableRunsError, InputError
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run, binary


def _store(path: Path, scores_a: dict[str, list[Any]], scores_b: dict[str, list[Any]], *,
           status_b: str = "complete", direction_b: dict[str, bool] | None = None) -> Path:
    """Runs 'a' and 'b' with one sst2 cell each; non-numeric (or huge) scores get a stored aggregate of 0.5."""
    conn = open_for_writing(path)
    for run_id, scores, status, direction in (("a", scores_a, "complete", None),
                                              ("b", scores_b, status_b, direction_b)):
        aggregates = {m: 0.5 for m, v in scores.items()  # also for scores too large to average
                      if not all(isinstance(x, (int, float)) and abs(x) <= 1 for x in v)}
        add_run(conn, run_id, [CellSpec("sst2", scores, aggregates=aggregates, higher_is_better=direction or {})],
                name=run_id, created_at=f"2025-01-0{1 if run_id == 'a' else 2}", status=status)
    conn.close()
    return path


def _compare(store: Path, **options: Any):
    with RunOpener(store) as opener:
        return compare_runs(open_runs(opener, ["a", "b"]), CompareOptions(**options))


def _with(values: list[Any], **at: Any) -> list[Any]:
    out = list(values)
    for index, value in at.items():
        out[int(index.lstrip("i"))] = value
    return out


@pytest.mark.parametrize(("bad", "described"), [
    (None, "the score is null"),
    (math.nan, "the score is null"),  # the store writes NaN as null
    ("oops", "the score is the text 'oops'"),
    (10 ** 400, "the score is an integer of 401 digits, too large to compare"),  # was an OverflowError, exit 1
    (1e308, "the score is 1e+308, too large to compare"),  # finite, but its square overflowed: exit 1
])
def test_one_unreadable_candidate_score_is_an_input_error_naming_run_cell_metric_and_doc(
        tmp_path: Path, bad: Any, described: str) -> None:
    drop = binary(200, 120)
    store = _store(tmp_path / "s.db", {"acc": binary(200, 150)}, {"acc": _with(drop, i7=bad)})
    with pytest.raises(InputError) as caught:
        _compare(store)
    message = caught.value.message
    assert message.startswith(f"Run 'b' in store '{store}': metric 'acc' of tiny-model / sst2 / zero-shot")
    assert f"doc_id 7: {described}" in message
    assert "finite number" in (caught.value.hint or "")


def test_the_count_of_unreadable_documents_is_given_and_the_baseline_side_is_named(tmp_path: Path) -> None:
    base = _with(binary(200, 150), i3=None, i50=None, i199="x")
    store = _store(tmp_path / "s.db", {"acc": base}, {"acc": binary(200, 120)})
    with pytest.raises(InputError, match=r"Run 'a' in store .* doc_id 3: the score is null \(3 of 200 documents"):
        _compare(store)


def test_a_missing_score_and_an_unmatched_document_are_still_refused(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [CellSpec("t", {"acc": binary(20, 10)})], name="a", created_at="1")
    spec = CellSpec("t", {"acc": binary(21, 10)})
    record = spec.record(0)
    del record.samples[20].scores["acc"]  # doc 20 is only in b: never compared, but unreadable all the same
    add_run(conn, "b", [record], name="b", created_at="2")
    conn.close()
    with pytest.raises(InputError, match="doc_id 20: the score is missing"):
        _compare(tmp_path / "s.db")


def test_corpus_items_that_contradict_the_stored_aggregate_are_compared_on_aggregates_and_not_gated(
        tmp_path: Path) -> None:
    pairs = [[1, 0]] * 30  # (gold, prediction) per document: F1 0, while the stored aggregates say 0.5
    store = _store(tmp_path / "s.db", {"f1": pairs, "acc": binary(300, 100)[:30]},
                   {"f1": pairs, "acc": binary(300, 100)[:30]})
    comparison = _compare(store)
    assert comparison.rows.set_index("metric").loc["f1", "method"] == NO_ITEM_SCORES
    outcome = decide_gate(comparison, 0.01)
    assert outcome.not_gated == ["not gated: tiny-model / sst2 / zero-shot / f1 is compared on its stored aggregates "
                                 "only (0.500 → 0.500): its per-document items are missing, of an unknown "
                                 "aggregation, or do not reproduce the stored values"]
    assert outcome.not_gated[0] in outcome.comparison.warnings


def test_a_gate_with_only_untestable_metrics_has_nothing_to_judge(tmp_path: Path) -> None:
    pairs = [[1, 0]] * 30
    store = _store(tmp_path / "s.db", {"f1": pairs}, {"f1": pairs})
    with pytest.raises(InputError, match="nothing it can judge"):
        decide_gate(_compare(store), 0.01)


def test_all_null_scores_are_not_mistaken_for_a_corpus_level_metric(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", {"acc": [None] * 10}, {"acc": [None] * 10})
    with pytest.raises(InputError, match=r"doc_id 0: the score is null \(10 of 10"):
        _compare(store)


def test_a_list_among_numbers_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", {"acc": binary(10, 5)}, {"acc": _with(binary(10, 5), i4=[1, 0])})
    with pytest.raises(InputError, match="doc_id 4: the score is a list, not a number"):
        _compare(store)


def test_settings_comparisons_refuse_unreadable_scores_too(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "r", [CellSpec("rte", {"acc": binary(10, 5)}),
                        CellSpec("rte", {"acc": _with(binary(10, 8), i2=None)}, setting="fine-tuned",
                                 aggregates={"acc": 0.8})], name="r")
    conn.close()
    with RunOpener(tmp_path / "s.db") as opener:
        (side,) = open_runs(opener, ["r"])
        with pytest.raises(InputError, match="rte / fine-tuned has no readable per-document score for doc_id 2"):
            compare_settings(side, CompareOptions())


def test_a_flipped_higher_is_better_is_refused_even_with_allow_incomparable(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", {"acc": binary(50, 40)}, {"acc": binary(50, 20)}, direction_b={"acc": False})
    for allow in (False, True):
        with pytest.raises(IncomparableRunsError,
                           match="'acc' .* higher_is_better=True in a but higher_is_better=False in b"):
            _compare(store, allow_incomparable=allow)


@pytest.mark.parametrize("options", [{"alpha": math.nan}, {"alpha": 0.0}, {"confidence": math.inf},
                                     {"power": 1.0}, {"n_boot": 0}, {"n_perm": 2.5}, {"flips": -1}])
def test_compare_options_refuse_levels_that_would_silence_every_test(options: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="Invalid"):
        CompareOptions(**options)


@pytest.mark.parametrize("max_drop", [math.nan, math.inf, -0.01])
def test_decide_gate_refuses_a_tolerance_that_is_not_finite_and_non_negative(tmp_path: Path,
                                                                               max_drop: float) -> None:
    store = _store(tmp_path / "s.db", {"acc": binary(50, 40)}, {"acc": binary(50, 20)})
    with pytest.raises(InputError, match="Invalid --max-drop"):
        decide_gate(_compare(store), max_drop)


@pytest.mark.parametrize("status", ["failed", "running"])
def test_the_gate_requires_complete_runs(tmp_path: Path, status: str) -> None:
    store = _store(tmp_path / "s.db", {"acc": binary(50, 40)}, {"acc": binary(50, 40)}, status_b=status)
    with RunOpener(store) as opener:
        sides = open_runs(opener, ["a", "b"])
        with pytest.raises(InputError, match=f"Run 'b' in store '{store}' has status '{status}'"):
            require_complete(sides)
