"""The trajectory view's numbers: ordering, paired tests against hand-computed values, one Holm
correction across the view, best vs last, fine-tuning steps starting at zero-shot, bad input."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

import evalkit.studies as studies
from evalkit.errors import InputError, UnknownRunError
from evalkit.studies import setting_family, trajectory_frame
from tests.studies.reference import holm, mcnemar, paired_t_p, sign_flip_p
from tests.studies.synthetic import SST2_RIGHT, WIKI_LL, Cell, add_run, binary, checkpoint, ft_step


def test_points_are_ordered_by_step_with_their_training_position(conn: sqlite3.Connection) -> None:
    frame = trajectory_frame(conn, "aaaa0000-ckpt")
    sst2 = frame[frame.task == "sst2"]
    assert list(sst2.step) == [100, 200, 300]  # written 300, 100, 200
    assert list(sst2.model) == ["out/checkpoint-100", "out/checkpoint-200", "out/checkpoint-300"]
    assert list(sst2.value) == pytest.approx([0.5, 0.9, 0.55])
    assert list(sst2.tokens_seen) == [51200, 102400, 153600]
    assert list(sst2.epoch) == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert set(frame.series) == {"out"} and set(frame.setting) == {"zero-shot"}


def test_consecutive_first_and_best_tests_match_mcnemar(conn: sqlite3.Connection) -> None:
    sst2 = trajectory_frame(conn, "aaaa0000-ckpt").query("task == 'sst2'").reset_index(drop=True)
    r = SST2_RIGHT
    assert math.isnan(sst2.vs_prev_delta[0])
    assert sst2.vs_prev_delta[1] == pytest.approx(0.4) and sst2.vs_prev_delta[2] == pytest.approx(-0.35)
    assert sst2.vs_prev_p_value[1] == pytest.approx(mcnemar(r[100], r[200], 40))
    assert sst2.vs_prev_p_value[2] == pytest.approx(mcnemar(r[200], r[300], 40))
    assert sst2.vs_first_p_value[2] == pytest.approx(mcnemar(r[100], r[300], 40)) == pytest.approx(0.5)
    assert sst2.vs_first_delta[2] == pytest.approx(0.05)
    # against the best (step 200): this step minus the best, the same test read the other way round
    assert sst2.vs_best_delta[0] == pytest.approx(-0.4)
    assert (sst2.vs_best_ci_low[0], sst2.vs_best_ci_high[0]) == pytest.approx(
        (-sst2.vs_prev_ci_high[1], -sst2.vs_prev_ci_low[1]))
    assert math.isnan(sst2.vs_best_delta[1]) and list(sst2.vs_best_step.fillna(-1)) == [200, -1, 200]
    assert set(sst2.vs_prev_method.dropna()) == {"mcnemar-exact"}


def test_lm_task_is_tested_on_per_document_loglikelihood_with_bits_per_byte(conn: sqlite3.Connection) -> None:
    wiki = trajectory_frame(conn, "aaaa0000-ckpt").query("task == 'wiki'").reset_index(drop=True)
    assert list(wiki.metric.unique()) == ["loglikelihood"]  # perplexities are folded into the LM row
    assert list(wiki.bits_per_byte) == pytest.approx([1.30, 1.20, 1.25])
    assert wiki.value[0] == pytest.approx(np.mean(WIKI_LL[100])) and bool(wiki.higher_is_better[0])
    d = list(np.subtract(WIKI_LL[200], WIKI_LL[100]))
    assert wiki.vs_prev_delta[1] == pytest.approx(np.mean(d))
    assert wiki.vs_prev_p_value[1] == pytest.approx(paired_t_p(d))
    d13 = list(np.subtract(WIKI_LL[300], WIKI_LL[100]))
    assert wiki.vs_first_p_value[2] == pytest.approx(paired_t_p(d13))
    assert wiki.vs_prev_method[1] == "paired-t"


def test_holm_runs_across_every_test_of_the_view(conn: sqlite3.Connection) -> None:
    frame = trajectory_frame(conn, "aaaa0000-ckpt")
    # 3 unique tests per trajectory (100-200, 200-300, 100-300); the vs-best tests repeat them
    assert frame.attrs["tests"] == 6
    r = SST2_RIGHT
    raw = [mcnemar(r[100], r[200], 40), mcnemar(r[200], r[300], 40), mcnemar(r[100], r[300], 40),
           paired_t_p(list(np.subtract(WIKI_LL[200], WIKI_LL[100]))),
           paired_t_p(list(np.subtract(WIKI_LL[300], WIKI_LL[200]))),
           paired_t_p(list(np.subtract(WIKI_LL[300], WIKI_LL[100])))]
    expected = holm(raw)
    sst2, wiki = frame[frame.task == "sst2"], frame[frame.task == "wiki"]
    got = [sst2.vs_prev_p_adjusted.iloc[1], sst2.vs_prev_p_adjusted.iloc[2], sst2.vs_first_p_adjusted.iloc[2],
           wiki.vs_prev_p_adjusted.iloc[1], wiki.vs_prev_p_adjusted.iloc[2], wiki.vs_first_p_adjusted.iloc[2]]
    assert got == pytest.approx(expected)
    assert sst2.vs_best_p_adjusted.iloc[2] == pytest.approx(expected[1])  # the same test, counted once


def test_bh_correction_is_used_when_asked(conn: sqlite3.Connection) -> None:
    holm_frame = trajectory_frame(conn, "aaaa0000-ckpt", correction="holm")
    bh_frame = trajectory_frame(conn, "aaaa0000-ckpt", correction="bh")
    assert bh_frame.attrs["correction"] == "bh"
    assert (bh_frame.vs_prev_p_adjusted.dropna() <= holm_frame.vs_prev_p_adjusted.dropna() + 1e-12).all()
    assert (bh_frame.vs_prev_p_adjusted.dropna() < holm_frame.vs_prev_p_adjusted.dropna() - 1e-9).any()


def test_best_step_and_whether_it_beats_the_last(conn: sqlite3.Connection) -> None:
    frame = trajectory_frame(conn, "aaaa0000-ckpt")
    sst2, wiki = frame[frame.task == "sst2"].iloc[-1], frame[frame.task == "wiki"].iloc[-1]
    assert (sst2.best_step, sst2.last_step) == (200, 300)
    assert bool(sst2.best_beats_last) and sst2.ship_step == 200  # 14 documents lost, Holm p < 0.05
    assert (wiki.best_step, wiki.last_step) == (200, 300)
    assert not bool(wiki.best_beats_last) and wiki.ship_step == 300
    assert list(frame[frame.task == "sst2"].is_best) == [False, True, False]


def test_lower_is_better_metric_picks_the_smallest_value(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    losses = {10: [3.0, 2.0, 4.0, 1.0], 20: [2.0, 1.0, 2.5, 0.5], 30: [2.5, 1.5, 3.0, 1.0]}
    add_run(conn, "loss-run", [Cell("t", {"loss": losses[s]}, model=f"ck-{s}", higher_is_better={"loss": False},
                                    trajectory=checkpoint("ck", s)) for s in (10, 20, 30)])
    frame = trajectory_frame(conn, "loss-run")
    conn.close()
    assert list(frame.best_step.unique()) == [20] and list(frame.is_best) == [False, True, False]
    assert not bool(frame.best_beats_last.iloc[0]) and frame.ship_step.iloc[0] == 30  # n=4: p >= 0.125
    assert frame.vs_best_delta.iloc[2] == pytest.approx(np.mean(np.subtract(losses[30], losses[20])))


def test_fine_tuning_trajectory_starts_at_zero_shot(conn: sqlite3.Connection) -> None:
    frame = trajectory_frame(conn, "bbbb0000-ft")
    assert list(frame.step) == [0, 50, 100, 150]
    assert list(frame.setting_label) == ["zero-shot", "fine-tuned@step:50", "fine-tuned@step:100", "fine-tuned"]
    assert set(frame.setting) == {"fine-tuned"} and list(frame.kind) == ["base"] + ["fine-tuning"] * 3
    assert list(frame.value) == pytest.approx([0.3, 0.6, 0.9, 0.8])
    assert frame.vs_first_p_value.iloc[2] == pytest.approx(binomtest(0, 6, 0.5).pvalue)
    assert frame.attrs["tests"] == 5
    assert frame.best_step.iloc[0] == 100 and frame.ship_step.iloc[0] == 150


def test_setting_family_strips_the_step_suffix() -> None:
    assert setting_family("fine-tuned@step:50") == "fine-tuned"
    assert setting_family("fine-tuned+few-shot:5@step:7") == "fine-tuned+few-shot:5"
    assert setting_family("zero-shot") == "zero-shot"


def test_documents_are_paired_on_hash_and_unmatched_counted(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "shift", [
        Cell("t", {"acc": binary(10, [0, 1, 2, 3, 4])}, model="a", trajectory=checkpoint("s", 1), doc_ids=list(range(10))),
        Cell("t", {"acc": binary(10, list(range(10)))}, model="b", trajectory=checkpoint("s", 2),
             doc_ids=list(range(2, 12)))])
    row = trajectory_frame(conn, "shift").iloc[1]
    conn.close()
    # docs 2..9 in common: a right on 2,3,4; b right on all 8 -> 5 improved
    assert (row.vs_prev_n, row.vs_prev_unmatched) == (8, 4)
    assert row.vs_prev_delta == pytest.approx(5 / 8)
    assert row.vs_prev_p_value == pytest.approx(binomtest(0, 5, 0.5).pvalue)


@pytest.mark.parametrize("bad", [float("nan"), None, "oops"])
def test_a_non_numeric_per_document_score_is_an_input_error(tmp_path: Path, bad: object) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    scores = binary(6, [0, 1, 2])
    scores[4] = bad  # type: ignore[call-overload]
    add_run(conn, "broken-run", [Cell("t", {"acc": binary(6, [0])}, model="a", trajectory=checkpoint("s", 1)),
                                 Cell("t", {"acc": scores}, model="b", trajectory=checkpoint("s", 2))])
    with pytest.raises(InputError) as info:
        trajectory_frame(conn, "broken-run")
    conn.close()
    message = info.value.message
    assert "broken-run" in message and "'t'" in message and "'acc'" in message and "document 4" in message


def test_the_same_step_twice_is_an_input_error(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "twice", [Cell("t", {"acc": binary(4, [0])}, model=m, trajectory=checkpoint("s", 5)) for m in "ab"])
    with pytest.raises(InputError, match="step 5 more than once"):
        trajectory_frame(conn, "twice")
    conn.close()


def test_run_without_trajectory_cells_and_unknown_metric(conn: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="no trajectory cells"):
        trajectory_frame(conn, "dddd0000-plain")
    with pytest.raises(InputError, match="no trajectory of metric f1"):
        trajectory_frame(conn, "aaaa0000-ckpt", metrics=("f1",))
    only = trajectory_frame(conn, "aaaa0000-ckpt", metrics=("acc",))
    assert set(only.metric) == {"acc"} and only.attrs["tests"] == 3


def test_public_api_resolves_run_references(store: Path) -> None:
    frame = studies.trajectory(store, "latest~3")  # the oldest of four complete runs: ckpt
    assert frame.attrs["run_id"] == "aaaa0000-ckpt" and len(frame) == 6
    assert len(studies.trajectory(str(store), "ft")) == 4
    with pytest.raises(UnknownRunError):
        studies.trajectory(store, "no-such-run")


def test_fine_tuning_steps_without_a_base_cell_keep_their_own_first_step(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "nobase", [Cell("t", {"acc": binary(4, [0])}, setting="fine-tuned@step:5", trajectory=ft_step("m", 5)),
                             Cell("t", {"acc": binary(4, [0, 1])}, setting="fine-tuned", trajectory=ft_step("m", 9))])
    frame = trajectory_frame(conn, "nobase")
    conn.close()
    assert list(frame.step) == [5, 9] and "base" not in set(frame.kind)


def test_lm_eval_perplexity_on_a_loglikelihood_task_is_never_tested_backwards(tmp_path: Path) -> None:
    """lm-eval keeps each document's log-likelihood under `perplexity` (lower is better for the metric):
    the view shows the metric from its aggregate, untested, and tests the log-likelihoods as their own
    row (higher is better). Round three tested the log-likelihoods as if lower were better."""
    from evalkit.store.schema import open_for_writing as open_store
    from tests.studies.synthetic import Cell, add_run, checkpoint

    lls = {100: [-9.0, -8.0, -10.0, -7.0, -9.5, -8.5], 200: [-3.0, -2.5, -3.5, -2.0, -3.2, -2.8]}
    conn = open_store(tmp_path / "s.db")
    cells = [Cell("lambada", {"perplexity": lls[step]}, model=f"out/checkpoint-{step}",
                  higher_is_better={"perplexity": False}, trajectory=checkpoint("out", step)) for step in (100, 200)]
    add_run(conn, "ppl-run", cells)
    frame = trajectory_frame(conn, "ppl-run").set_index(["metric", "step"])
    conn.close()
    ll = frame.loc[("loglikelihood", 200)]
    assert bool(ll.higher_is_better) and ll.vs_prev_delta == pytest.approx(35 / 6) and ll.vs_prev_change == "better"
    assert math.isnan(frame.loc[("perplexity", 200)].vs_prev_p_value)
