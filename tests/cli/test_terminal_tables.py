"""The CLI's own tables (results list, results show's compute table, tasks list) at 80, 100 and 120
columns: identifiers and numbers whole, nothing past the edge, left-out columns named."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.inspection import list_rows
from tests.compare.synthetic import standard_store

WIDTHS = (80, 100, 120)


def assert_within(text: str, width: int) -> None:
    assert all(len(line) <= width for line in text.splitlines()), text
    assert "…" not in text, text


@pytest.mark.parametrize("width", WIDTHS)
def test_results_list_keeps_run_ids_and_counts_whole(evalkit_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    width: int) -> None:
    store = standard_store(tmp_path / "store.db")
    monkeypatch.setenv("COLUMNS", str(width))
    listing = evalkit_cli("results", "list", "--store", store)
    assert listing.exit_code == 0, listing.output
    assert_within(listing.stdout, width)
    for run_id, day in (("00000000-base", 1), ("11111111-noise", 2), ("22222222-drop", 3), ("33333333-newconfig", 4)):
        assert run_id in listing.stdout and f"2025-01-0{day}" in listing.stdout
    assert "00:00:00+00:00" in listing.stdout
    assert "complete" in listing.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_results_show_tables_fit(evalkit_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    store = standard_store(tmp_path / "store.db")
    monkeypatch.setenv("COLUMNS", str(width))
    shown = evalkit_cli("results", "show", "base", "--store", store)
    assert shown.exit_code == 0, shown.output
    table_lines = "\n".join(line for line in shown.stdout.splitlines() if not line.startswith(("evalkit ", "command")))
    assert_within(table_lines, width)
    assert "0.750 ± 0.060" in shown.stdout and "0.600 ± 0.097" in shown.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_tasks_list_keeps_task_names_whole(evalkit_cli, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    listing = evalkit_cli("tasks", "list")
    assert listing.exit_code == 0, listing.output
    assert_within(listing.stdout, width)
    for row in list_rows(TaskRegistry.discover()):
        assert row.name in listing.stdout
        for split in row.splits.split():  # 'validation=570' never folds into 'validation=57' / '0'
            assert split in listing.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_compute_table_keeps_its_figures_whole(width: int) -> None:
    import io
    import json

    import pandas as pd
    from rich.console import Console

    from evalkit.cli.results import compute_table

    details = {"compute": {"requests": {"loglikelihood": 123456}, "forward_tokens": 98765432, "model_seconds": 1234.5,
                           "cell_seconds": 2345.25, "tokens_per_second": 80005.0}, "requests": {"reused": 17}}
    cells = pd.DataFrame([{"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "task": f"task{i}", "setting": "few-shot:5",
                           "details_json": json.dumps(details)} for i in range(2)])
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(compute_table(cells))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert_within(text, width)
    for figure in ("123,456", "246,912", "98,765,432", "197,530,864", "80,005", "80,004"):  # rows, then the total
        assert figure in text, (figure, text)
    flat = " ".join(text.split())
    for header, figures in (("model s", ("1234.50", "2469.00")), ("cell s", ("2345.25", "4690.50"))):
        assert all(f in text for f in figures) or f"columns: note, {header}" in flat or ", model s." in flat, text
