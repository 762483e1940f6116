"""A threshold the user gave (--alpha, --max-drop) is echoed exactly as given, never rounded by 'g'."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.report.formatting import fmt_given
from evalkit.report.study_render import render_study
from evalkit.store.schema import open_for_reading
from evalkit.studies import trajectory_frame, transfer_frame
from tests.studies.synthetic import study_store


@pytest.mark.parametrize(("value", "text"), [(0.4999999, "0.4999999"), (0.01, "0.01"), (1.0, "1"),
                                             (0.1 + 0.2, "0.30000000000000004"), (1e-7, "1e-07"),
                                             (float("nan"), "n/a")])
def test_fmt_given_reads_back_as_the_same_float(value: float, text: str) -> None:
    assert fmt_given(value) == text
    if text != "n/a":
        assert float(fmt_given(value)) == value


def test_study_notes_echo_alpha_exactly(tmp_path: Path) -> None:
    conn = open_for_reading(study_store(tmp_path / "study.db"))
    try:
        trajectory = trajectory_frame(conn, "aaaa0000-ckpt", alpha=0.04999999)
        transfer = transfer_frame(conn, "cccc0000-matrix", alpha=0.04999999)
    finally:
        conn.close()
    assert format(0.04999999, "g") == "0.05"  # what the notes used to print
    for frame, view in ((trajectory, "trajectory"), (transfer, "transfer")):
        markdown = render_study(frame, view, "markdown")
        assert "α = 0.04999999" in markdown and "α = 0.05" not in markdown


def test_compare_and_gate_reports_echo_alpha_and_tolerance_exactly(evalkit_cli, tmp_path: Path) -> None:
    from tests.compare.synthetic import standard_store

    store = standard_store(tmp_path / "store.db")
    compared = evalkit_cli("compare", "base", "drop", "--alpha", "0.04999999", "--store", store, "--format", "markdown")
    assert compared.exit_code == 0, compared.output
    assert "α = 0.04999999" in compared.stdout and "α = 0.05" not in compared.stdout
    gated = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--alpha", "0.04999999",
                        "--max-drop", "0.1499999", "--store", store, "--format", "github")
    assert "0.1499999" in gated.stdout and "0.15." not in gated.stdout
    assert "at most 0.04999999" in evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--alpha",
                                               "0.04999999", "--store", store, "--format", "markdown").stdout
