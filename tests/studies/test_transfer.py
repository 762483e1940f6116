"""The transfer / forgetting matrix: its shape, the diagonal equal to the fine-tuned setting's
comparison, the LM column, direction-adjusted gain, one correction across the matrix, bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import evalkit.studies as studies
from evalkit.compare import CompareOptions, RunOpener, compare_settings, open_runs
from evalkit.errors import InputError
from evalkit.stats import paired_compare
from evalkit.studies import transfer_frame
from tests.studies.synthetic import (N, TUNED, WIKI_TUNED, WIKI_ZS, ZS, Cell, add_run, binary, transfer_cells)
from tests.studies.reference import holm, mcnemar, paired_t_p, sign_flip_p


def test_matrix_shape_rows_fine_tuned_on_columns_evaluated(conn: sqlite3.Connection) -> None:
    frame = transfer_frame(conn, "cccc0000-matrix")
    matrix = frame.pivot(index="trained_on", columns="task", values="delta")
    assert matrix.shape == (2, 3)
    assert list(dict.fromkeys(frame.trained_on)) == ["sst2", "rte"]
    assert list(dict.fromkeys(frame.task)) == ["sst2", "rte", "wiki"]
    assert list(frame.diagonal) == [True, False, False, False, True, False]
    assert dict(zip(frame.task, frame.metric)) == {"sst2": "acc", "rte": "acc", "wiki": "loglikelihood"}


def test_every_acc_entry_matches_mcnemar_against_zero_shot(conn: sqlite3.Connection) -> None:
    frame = transfer_frame(conn, "cccc0000-matrix").set_index(["trained_on", "task"])
    for (source, task), right in TUNED.items():
        row = frame.loc[(source, task)]
        assert row.delta == pytest.approx((len(right) - len(ZS[task])) / N[task])
        assert row.p_value == pytest.approx(mcnemar(ZS[task], right, N[task]))
        assert (row.n, row.unmatched, row.method) == (N[task], 0, "mcnemar-exact")


def test_diagonal_equals_the_fine_tuned_settings_comparison(store: Path, conn: sqlite3.Connection) -> None:
    frame = transfer_frame(conn, "cccc0000-matrix")
    with RunOpener(store) as opener:
        settings = compare_settings(open_runs(opener, ["matrix"])[0], CompareOptions(metrics=("acc",))).rows
    for row in frame[frame.metric == "acc"].itertuples(index=False):
        expected = settings[(settings.task == row.task) & (settings.b == row.setting)].iloc[0]
        assert (row.delta, row.ci_low, row.ci_high, row.p_value) == pytest.approx(
            (expected.delta, expected.ci_low, expected.ci_high, expected.p_value))
    diagonal = frame[frame.diagonal]
    assert list(diagonal.setting) == ["fine-tuned", "fine-tuned"]
    direct = paired_compare(binary(20, ZS["sst2"]), binary(20, TUNED[("sst2", "sst2")]))
    assert diagonal.delta.iloc[0] == pytest.approx(direct.delta) and diagonal.p_value.iloc[0] == direct.p_value


def test_diagonal_from_fine_tuned_on_itself_gives_the_same_numbers(tmp_path: Path, conn: sqlite3.Connection) -> None:
    from evalkit.store.schema import open_for_writing

    other = open_for_writing(tmp_path / "other.db")
    add_run(other, "self-run", transfer_cells(diagonal_setting="fine-tuned-on"))
    own = transfer_frame(other, "self-run")
    other.close()
    base = transfer_frame(conn, "cccc0000-matrix")
    assert list(own[own.diagonal].setting) == ["fine-tuned-on:sst2", "fine-tuned-on:rte"]
    assert list(own.delta) == pytest.approx(list(base.delta))
    assert list(own.p_adjusted) == pytest.approx(list(base.p_adjusted))


def test_lm_column_uses_per_document_loglikelihood_and_shows_bits_per_byte(conn: sqlite3.Connection) -> None:
    frame = transfer_frame(conn, "cccc0000-matrix").set_index(["trained_on", "task"])
    row = frame.loc[("sst2", "wiki")]
    d = list(np.subtract(WIKI_TUNED["sst2"], WIKI_ZS))
    assert row.metric == "loglikelihood" and bool(row.higher_is_better)
    assert row.delta == pytest.approx(-2.0) == pytest.approx(np.mean(d))
    assert row.p_value == pytest.approx(paired_t_p(d))
    assert (row.base_bits_per_byte, row.bits_per_byte) == pytest.approx((1.30, 1.35))
    assert row.gain == pytest.approx(-2.0)


def test_holm_across_the_matrix_and_effect_labels(conn: sqlite3.Connection) -> None:
    frame = transfer_frame(conn, "cccc0000-matrix")
    assert frame.attrs["tests"] == 6
    assert list(frame.p_adjusted) == pytest.approx(holm(list(frame.p_value)))
    effects = dict(zip(zip(frame.trained_on, frame.task), frame.effect))
    assert effects[("sst2", "sst2")] == "gain"
    assert effects[("sst2", "rte")] == "forgetting"  # 12 documents lost, Holm p < 0.05
    assert effects[("rte", "sst2")] == ""  # +2 documents: not significant
    bh = transfer_frame(conn, "cccc0000-matrix", correction="bh")
    assert (bh.p_adjusted <= frame.p_adjusted + 1e-12).all()


def test_gain_is_turned_for_a_lower_is_better_metric(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    zero = [3.0, 2.0, 4.0, 1.0, 2.0, 3.0, 5.0, 2.0]
    tuned = [v - 1.0 for v in zero]
    hib = {"loss": False}
    add_run(conn, "loss-run", [Cell("a", {"loss": zero}, higher_is_better=hib),
                               Cell("b", {"loss": zero}, higher_is_better=hib),
                               Cell("a", {"loss": tuned}, setting="fine-tuned", higher_is_better=hib),
                               Cell("b", {"loss": tuned}, setting="fine-tuned-on:a", higher_is_better=hib)])
    frame = transfer_frame(conn, "loss-run")
    conn.close()
    off = frame[~frame.diagonal].iloc[0]
    assert off.delta == pytest.approx(-1.0) and off.gain == pytest.approx(1.0)
    assert (off.gain_low, off.gain_high) == pytest.approx((-off.ci_high, -off.ci_low))
    assert off.p_value == pytest.approx(2 / 256)  # every document exactly 1.0 better: the sign test
    assert off.effect == "transfer" and off.change == "better"


def test_metric_option_prefers_the_named_metric(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "two-metrics", [Cell("a", {"acc": binary(4, [0]), "acc_norm": binary(4, [0, 1])}),
                                  Cell("a", {"acc": binary(4, [0, 1]), "acc_norm": binary(4, [0, 1, 2])},
                                       setting="fine-tuned-on:x")])
    assert list(transfer_frame(conn, "two-metrics").metric) == ["acc"]
    chosen = transfer_frame(conn, "two-metrics", metric="acc_norm")
    assert list(chosen.metric) == ["acc_norm"] and chosen.delta.iloc[0] == pytest.approx(0.25)
    with pytest.raises(InputError, match="metric 'f1'"):
        transfer_frame(conn, "two-metrics", metric="f1")
    conn.close()


def test_missing_zero_shot_baseline_is_an_input_error(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "nobase", [Cell("sst2", {"acc": binary(4, [0])}),
                             Cell("rte", {"acc": binary(4, [0])}, setting="fine-tuned-on:sst2")])
    with pytest.raises(InputError, match="no 'zero-shot' cell of model tiny on task 'rte'"):
        transfer_frame(conn, "nobase")
    conn.close()


def test_run_without_transfer_cells_is_an_input_error(conn: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="no transfer cells"):
        transfer_frame(conn, "bbbb0000-ft")  # fine-tuned cells alone are no matrix


def test_public_api(store: Path) -> None:
    frame = studies.transfer(store, "matrix")
    assert len(frame) == 6 and frame.attrs["run_id"] == "cccc0000-matrix"
