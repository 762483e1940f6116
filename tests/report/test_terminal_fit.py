"""Every terminal table at 80, 100 and 120 columns: a number, a decision or a step label is never cut,
folded or ellipsised; a table that cannot fit leaves out whole optional columns and says which."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from evalkit.report import ReportDocument, render
from evalkit.report.rich_fit import BREAK, Column, FittedTable
from evalkit.report.rich_render import _stacked, rich_table
from evalkit.report.study_render import render_study, study_tables
from evalkit.report.study_tables import plain
from evalkit.report.tables import TextTable, comparison_tables, flips_table, results_table
from evalkit.store.schema import open_for_reading
from evalkit.studies import trajectory_frame, transfer_frame
from tests.studies.synthetic import study_store

WIDTHS = (80, 100, 120)


def rendered(renderable: object, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def pieces(value: str) -> list[str]:
    """What of a whole cell must appear unbroken: its lines, split only where it may break."""
    return [piece for line in _stacked(value).split("\n") for piece in line.split(BREAK) if piece]


def left_out_names(flat: str) -> set[str]:
    """The column headers a rendering's note says were left out."""
    if "Left out to fit" not in flat:
        return set()
    listed = flat.split("Left out to fit", 1)[1].split(" columns: ", 1)[1].split(". To see them", 1)[0]
    return {name for group in listed.split(", ") for name in group.split(" + ")}


def assert_fits_whole(table: TextTable, width: int) -> None:
    text = rendered(rich_table(table), width)
    flat = " ".join(text.split())
    assert all(len(line) <= width for line in text.splitlines()), text
    assert "…" not in text, text
    left_out = left_out_names(flat)
    for index, header in enumerate(table.headers):
        if index not in table.numeric | table.whole:
            continue
        if header in left_out and any(index in group for group in table.optional):
            continue  # (a kept column of the same header, "p adj", is still checked)
        for row in table.rows:
            for piece in pieces(row[index]):
                assert piece in text, f"{piece!r} ({header}) cut at width {width}:\n{text}"


@pytest.fixture
def study_db(tmp_path: Path) -> Path:
    return study_store(tmp_path / "study.db")


def every_table(gate_doc: ReportDocument, three_runs_doc: ReportDocument, study_db: Path) -> list[TextTable]:
    tables: list[TextTable] = []
    for doc in (gate_doc, three_runs_doc):
        if doc.results is not None:
            tables.append(results_table(doc.results))
        for comparison in doc.all_comparisons:
            tables += comparison_tables(comparison)
            flips = flips_table(comparison.flips)
            tables += [flips] if flips is not None else []
    conn = open_for_reading(study_db)
    try:
        tables += [plain(t) for t in study_tables(trajectory_frame(conn, "aaaa0000-ckpt"), "trajectory")]
        tables += [plain(t) for t in study_tables(trajectory_frame(conn, "bbbb0000-ft"), "trajectory")]
        tables += [plain(t) for t in study_tables(transfer_frame(conn, "cccc0000-matrix"), "transfer")]
    finally:
        conn.close()
    return tables


@pytest.mark.parametrize("width", WIDTHS)
def test_every_report_table_keeps_numbers_and_decisions_whole(gate_doc: ReportDocument,
                                                                three_runs_doc: ReportDocument, study_db: Path,
                                                                width: int) -> None:
    tables = every_table(gate_doc, three_runs_doc, study_db)
    assert len(tables) >= 10  # results, long, wide, flips, trajectory summaries and steps, matrix, LM table
    for table in tables:
        assert_fits_whole(table, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_trajectory_ship_answer_is_whole_and_reads_as_in_markdown(study_db: Path, width: int) -> None:
    conn = open_for_reading(study_db)
    try:
        frame = trajectory_frame(conn, "aaaa0000-ckpt")
    finally:
        conn.close()
    summary = study_tables(frame, "trajectory")[0]
    ships = [row[-1] for row in plain(summary).rows]
    assert ships == ["step 200 (best beats last)", "step 300 (best not significantly better)"]
    markdown = render_study(frame, "trajectory", "markdown")
    text = rendered(render_study(frame, "trajectory", "rich"), width)
    for ship in ships:
        assert f"| {ship} |" in markdown
        step, reason = ship.split(" ", 2)[:2], ship.split(" ", 2)[2]
        assert " ".join(step) in text and reason in text
    assert "step 2 " not in text.replace("step 200", "").replace("step 300", "")


def test_a_narrow_table_names_what_it_left_out() -> None:
    table = TextTable(title="t", headers=["Task", "A", "B", "Note"], rows=[["sst2", "0.123456", "0.654321", "x" * 30]],
                      numeric=frozenset({1, 2}), optional=((2,),))
    text = rendered(rich_table(table), 30)
    flat = " ".join(text.split())
    assert "0.123456" in text and "0.654321" not in text
    assert "Left out to fit 30 columns: B. To see them:" in flat and "--format markdown" in flat


def test_ascii_console_gets_ascii_symbols_and_box(gate_doc: ReportDocument) -> None:
    handle = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    console = Console(file=handle, width=100, color_system=None)
    assert console.options.ascii_only
    console.print(rich_table(TextTable(title="Δ ± →", headers=["Δ [95% CI]", "Trend"],
                                       rows=[["+0.010 [-0.018, +0.038]", "▁█▂"]], numeric=frozenset({0}))))
    handle.flush()
    text = handle.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert "d +/- ->" in text and "_#." in text and "[-0.018, +0.038]" in text
    assert "─" not in text and "-----" in text


def test_fitted_table_keeps_row_styles_and_literal_text() -> None:
    table = FittedTable(title="Runs", columns=(Column("name"), Column("cells", whole=True, justify="right")),
                        rows=((("[red]x", ""), ("12", "")),), row_styles=("yellow",), style={})
    text = rendered(table, 40)
    assert "[red]x" in text and "12" in text


def test_results_table_left_out_columns_are_whole_metrics(three_runs_doc: ReportDocument) -> None:
    results = results_table(three_runs_doc.results)
    assert results is not None
    wide = pd.concat([three_runs_doc.results.assign(task=f"task{i}") for i in range(6)], ignore_index=True)
    table = results_table(wide)
    assert table is not None
    text = " ".join(rendered(rich_table(table), 80).split())
    assert "Left out to fit 80 columns: task5 acc" in text
    assert_fits_whole(table, 80)


def test_text_cells_are_never_restacked_or_broken_at_marks() -> None:
    table = TextTable(title="t", headers=["Prediction", "Ship"], rows=[["x [1 2] y", "step 15 (best beats last)"]],
                      whole=frozenset({1}))
    text = rendered(rich_table(table), 100)
    assert "x [1 2] y" in text and "step 15 (best beats last)" in text and "\x1f" not in text
