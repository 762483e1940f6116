"""The study renderers: the same numbers in rich, markdown, JSON and HTML; a sparkline per
trajectory, the best step marked, a coloured matrix, text from the store escaped."""

from __future__ import annotations

import base64
import io
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from evalkit.report.study_render import render_study
from evalkit.report.study_tables import sparkline, transfer_matrix
from evalkit.studies import trajectory_frame, transfer_frame
from tests.studies.synthetic import Cell, add_run, binary, checkpoint


def rich_text(renderable: object, width: int = 220) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.fixture
def trajectory(conn: sqlite3.Connection) -> pd.DataFrame:
    return trajectory_frame(conn, "aaaa0000-ckpt")


@pytest.fixture
def matrix(conn: sqlite3.Connection) -> pd.DataFrame:
    return transfer_frame(conn, "cccc0000-matrix")


def test_sparkline_scales_between_min_and_max() -> None:
    assert sparkline([0.5, 0.9, 0.55]) == "▁█▂"
    assert sparkline([1.0, 1.0]) == "▄▄"
    assert sparkline([0.0, float("nan"), 1.0]) == "▁ █"


def test_rich_trajectory_shows_sparkline_best_step_and_ship(trajectory: pd.DataFrame) -> None:
    text = rich_text(render_study(trajectory, "trajectory", "rich"))
    summary = next(line for line in text.splitlines() if line.startswith("out") and "sst2" in line)
    assert "▁█▂" in summary and "0.900 (200)" in summary and "step 200 (best beats last)" in summary
    assert "<0.001*" in summary
    assert "Holm across 6 tests" in text
    step_200 = next(line for line in text.splitlines() if line.strip().startswith("200") and "0.900" in line)
    assert step_200.rstrip().endswith("★")
    assert "Bits/byte" in text and "1.200" in text


def test_markdown_and_json_show_the_same_numbers(trajectory: pd.DataFrame) -> None:
    markdown = render_study(trajectory, "trajectory", "markdown")
    assert "| out | sst2 | zero-shot | acc (higher is better) | 100–300 (3) | ▁█▂ |" in markdown
    assert "+0.400 \\[+0.229, +0.545\\]" in markdown
    data = json.loads(render_study(trajectory, "trajectory", "json"))
    assert data["format"] == "evalkit-trajectory" and data["tests"] == 6 and data["correction"] == "holm"
    first = data["rows"][0]
    assert first["step"] == 100 and first["vs_prev_delta"] is None  # NaN as null
    assert data["rows"][1]["vs_prev_delta"] == pytest.approx(0.4)


def test_html_trajectory_embeds_one_figure_per_metric(trajectory: pd.DataFrame) -> None:
    html = render_study(trajectory, "trajectory", "html")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 2  # acc and loglikelihood
    assert base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert "Trajectories (value at every step" in html and "★" in html


def test_rich_matrix_colours_significant_cells(matrix: pd.DataFrame) -> None:
    tone = transfer_matrix(matrix, "tiny")
    assert tone.table.headers == ["Fine-tuned on", "sst2 (acc)", "rte (acc)", "wiki (loglikelihood)"]
    assert [row[0] for row in tone.table.rows] == ["zero-shot (base)", "sst2", "rte"]
    assert tone.tones[1][1:3] == ["good", "bad"]  # in-task gain, forgetting on rte
    assert tone.tones[2][1] == "good-weak"  # +0.1, not significant
    console = Console(file=io.StringIO(), width=200, color_system="truecolor", force_terminal=True)
    console.print(render_study(matrix, "transfer", "rich"))
    coloured = console.file.getvalue()  # type: ignore[attr-defined]
    assert re.search(r"\x1b\[1;32m *\+0\.400", coloured)  # right-aligned over its stacked interval
    assert re.search(r"\x1b\[1;31m *-0\.400", coloured) and re.search(r"\x1b\[(1;)?31m *-2\.000", coloured)


def test_transfer_markdown_json_html(matrix: pd.DataFrame) -> None:
    markdown = render_study(matrix, "transfer", "markdown")
    assert "| sst2 | +0.400 \\[+0.141, +0.602\\] \\* (diag) | -0.400 \\[-0.553, -0.196\\] \\* |" in markdown
    assert "Language modelling (bits per byte" in markdown and "| tiny | wiki | sst2 | 1.300 | 1.350 | +0.050 |" in markdown
    rows = json.loads(render_study(matrix, "transfer", "json"))["rows"]
    assert len(rows) == 6 and rows[0]["base_bits_per_byte"] is None and rows[2]["bits_per_byte"] == 1.35
    html = render_study(matrix, "transfer", "html")
    assert '<table class="heatmap">' in html and 'style="background: #f08080">-0.400' in html
    assert "<img" not in html


def test_text_from_the_store_is_escaped(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    evil = "<script>alert(1)</script>"
    add_run(conn, "evil", [Cell(evil, {"acc": binary(4, [0])}, model="m1", trajectory=checkpoint("s|*x*", 1)),
                           Cell(evil, {"acc": binary(4, [0, 1])}, model="m2", trajectory=checkpoint("s|*x*", 2))])
    frame = trajectory_frame(conn, "evil")
    conn.close()
    html = render_study(frame, "trajectory", "html")
    assert evil not in html and "&lt;script&gt;" in html
    markdown = render_study(frame, "trajectory", "markdown")
    assert evil not in markdown and "s\\|\\*x\\*" in markdown
    assert "[bold]" not in rich_text(render_study(frame, "trajectory", "rich"))


def test_unknown_view_or_format_is_refused(matrix: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown study format"):
        render_study(matrix, "transfer", "junit")
    with pytest.raises(ValueError, match="unknown study view"):
        render_study(matrix, "matrix", "rich")


def test_corpus_metric_entry_shows_the_untested_difference(tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "corpus", [Cell("t", {"x": [1.0] * 3}, corpus={"f1": 0.5}),
                             Cell("t", {"x": [1.0] * 3}, setting="fine-tuned-on:u", corpus={"f1": 0.7})])
    frame = transfer_frame(conn, "corpus", metric="f1")
    conn.close()
    assert frame.attrs["tests"] == 0 and frame.method.iloc[0] == "no per-document scores"
    assert transfer_matrix(frame, "tiny").table.rows[1][1] == "+0.200 (no per-document scores)"
