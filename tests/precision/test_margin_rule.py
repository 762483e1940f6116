"""The margin rule: a document is kept at bf16 only when every decision its metrics make is certain."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from evalkit.scoring.calibration import CalibrationDocument, ErrorBound, measure_bound
from evalkit.scoring.precision import DecisionRule, decision_is_safe, decision_rule, document_is_safe


def flat(bound: float):
    """The same error bound for every pair of choices."""
    return lambda i, j: bound


def test_a_near_tie_is_not_safe_and_a_clear_winner_is() -> None:
    assert not decision_is_safe([-1.0, -1.0005], [1.0, 1.0], flat(0.002))
    assert decision_is_safe([-1.0, -3.0], [1.0, 1.0], flat(0.002))


def test_every_other_choice_counts_not_only_the_runner_up() -> None:
    # The runner-up (-1.5) is far, but the pair with the third choice has a large error bound.
    assert decision_is_safe([-1.0, -1.5, -2.0], [1.0, 1.0, 1.0], flat(0.02))
    assert not decision_is_safe([-1.0, -1.5, -2.0], [1.0, 1.0, 1.0], lambda i, j: 1.5 if 2 in (i, j) else 0.02)


def test_the_margin_must_exceed_the_pair_bound() -> None:
    assert not decision_is_safe([-1.0, -1.15], [1.0, 1.0], flat(0.2))
    assert decision_is_safe([-1.0, -1.25], [1.0, 1.0], flat(0.2))


def test_length_normalisation_divides_the_values() -> None:
    # Raw: -2 beats -4 by 2. Per character (lengths 2 and 4): -1 vs -1, a tie.
    assert decision_is_safe([-2.0, -4.0], [1.0, 1.0], flat(0.1))
    assert not decision_is_safe([-2.0, -4.0], [2.0, 4.0], flat(0.1))


def test_ties_non_finite_values_and_zero_lengths_are_never_safe() -> None:
    assert not decision_is_safe([-1.0, -1.0], [1.0, 1.0], flat(0.0))
    assert not decision_is_safe([-1.0, math.nan], [1.0, 1.0], flat(0.0))
    assert not decision_is_safe([-1.0, -5.0], [1.0, 0.0], flat(0.0))
    assert decision_is_safe([-1.0], [1.0], flat(0.0))


def test_the_bound_scales_with_tokens_and_lengths() -> None:
    bound = ErrorBound(0.01, 0.5, 3.0, 64)
    assert bound.pair(1, 1.0, 1, 1.0) == pytest.approx(3 * 0.01 * math.sqrt(2))
    assert bound.pair(4, 2.0, 9, 3.0) == pytest.approx(3 * 0.01 * math.sqrt(4 / 4 + 9 / 9))


def test_calibration_measures_the_error_of_differences_not_of_values() -> None:
    """An error shared by every choice of a document (the context's) cancels in the decision."""
    shared = CalibrationDocument(fast=[-1.5, -2.5], exact=[-1.0, -2.0], n_tokens=[1, 1], divisors=[[1.0, 1.0]])
    apart = CalibrationDocument(fast=[-1.0, -2.1], exact=[-1.0, -2.0], n_tokens=[1, 1], divisors=[[1.0, 1.0]])
    assert measure_bound([shared], ["t"], factor=3.0).coefficient == 0.0
    assert measure_bound([shared], ["t"]).max_abs_error == 0.5
    assert measure_bound([shared, apart], ["t"]).coefficient == pytest.approx(0.1 / math.sqrt(2))


def test_each_task_is_bounded_by_its_own_coefficient_and_merging_keeps_the_larger(tmp_path) -> None:
    from evalkit.scoring.calibration import load_bound, save_bound

    def doc(error: float, task: str) -> CalibrationDocument:
        return CalibrationDocument(fast=[-1.0, -2.0 - error], exact=[-1.0, -2.0], n_tokens=[1, 1],
                                   divisors=[[1.0, 1.0]], task=task)

    bound = measure_bound([doc(0.1, "noisy"), doc(0.01, "calm")], ["noisy", "calm"], factor=1.0)
    assert bound.coefficient == pytest.approx(0.1 / math.sqrt(2))  # the fallback: the largest
    assert bound.pair_for("calm")(1, 1.0, 1, 1.0) == pytest.approx(0.01)
    assert bound.pair_for("noisy")(1, 1.0, 1, 1.0) == pytest.approx(0.1)
    assert bound.pair_for("unseen")(1, 1.0, 1, 1.0) == pytest.approx(0.1)
    later = bound.merged(measure_bound([doc(0.05, "calm")], ["calm"], factor=1.0))
    assert later.pair_for("calm")(1, 1.0, 1, 1.0) == pytest.approx(0.05)  # larger wins, per task
    assert later.pair_for("noisy")(1, 1.0, 1, 1.0) == pytest.approx(0.1)
    save_bound("k", later, tmp_path / "bounds.json")
    assert load_bound("k", tmp_path / "bounds.json") == later


def _task(metrics: list[str], choices: list[str], **config: object) -> SimpleNamespace:
    return SimpleNamespace(OUTPUT_TYPE="multiple_choice", _metric_fn_list={m: None for m in metrics},
                           config=SimpleNamespace(**{"process_results": None, "filter_list": None, **config}),
                           doc_to_choice=lambda doc: choices)


def test_a_document_is_re_scored_when_any_metric_decision_is_close() -> None:
    rule = decision_rule(_task(["acc", "acc_norm"], ["ab", "abcd"]))
    assert rule is not None and rule.divisors == ("raw", "chars")
    # acc is certain (-2 vs -4) but acc_norm is a tie (-1 vs -1 per character).
    bound = ErrorBound(0.03, 0.1, 1.0, 64).pair
    assert not document_is_safe(rule, {}, [-2.0, -4.0], [1, 1], bound)
    assert document_is_safe(DecisionRule(rule.task, ("raw",)), {}, [-2.0, -4.0], [1, 1], bound)


def test_acc_bytes_divides_by_utf8_bytes() -> None:
    rule = decision_rule(_task(["acc_bytes"], ["é", "ab"]))  # 1 character, 2 bytes each
    assert rule is not None and rule.choice_lengths({}) == [[2.0, 2.0]]


@pytest.mark.parametrize("task", [
    SimpleNamespace(OUTPUT_TYPE="loglikelihood_rolling", _metric_fn_list={"word_perplexity": None},
                    config=SimpleNamespace(process_results=None, filter_list=None)),
    SimpleNamespace(OUTPUT_TYPE="generate_until", _metric_fn_list={"exact_match": None},
                    config=SimpleNamespace(process_results=None, filter_list=None)),
    SimpleNamespace(OUTPUT_TYPE="loglikelihood", _metric_fn_list={"acc": None},
                    config=SimpleNamespace(process_results=None, filter_list=None)),
    _task(["acc", "brier_score"], ["a", "b"]),
    _task(["acc_mutual_info"], ["a", "b"]),
    _task(["acc"], ["a", "b"], process_results=lambda doc, results: {}),
], ids=["rolling", "generation", "loglikelihood", "brier", "mutual-info", "custom-process-results"])
def test_tasks_without_an_argmax_decision_get_no_rule(task: SimpleNamespace) -> None:
    assert decision_rule(task) is None


def test_a_bounds_file_that_cannot_be_written_or_read_is_only_a_cache_miss(tmp_path, caplog) -> None:
    from evalkit.scoring.calibration import load_bound, save_bound

    bound = ErrorBound(0.03, 0.1, 3.0, 64, ("t",))
    blocked = tmp_path / "bounds.json"
    blocked.mkdir()  # a folder where the file should be
    save_bound("k", bound, blocked)  # no exception: a warning, the run goes on
    assert "could not keep the measured bound" in caplog.text and blocked.is_dir()
    assert load_bound("k", blocked) is None and list(tmp_path.iterdir()) == [blocked]
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff{not json")
    assert load_bound("k", garbage) is None
    save_bound("k", bound, garbage)
    assert load_bound("k", garbage) == bound
