"""`evalkit report RUN` shows a run's trajectory view and transfer matrix beside its results, in every
format, with the same numbers as `evalkit trajectory` / `evalkit transfer`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from evalkit.store.schema import open_for_writing
from tests.studies.synthetic import Cell, add_run, binary, study_store

Cli = Callable[..., Any]


@pytest.fixture
def study_db(tmp_path: Path) -> Path:
    """Runs 'ckpt' (checkpoint series), 'ft' (fine-tuning steps), 'matrix' (transfer), 'plain'."""
    return study_store(tmp_path / "study.db")


def report(cli: Cli, store: Path, *args: object) -> str:
    result = cli("report", *args, "--store", store)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_report_holds_the_trajectory_view_with_its_numbers(evalkit_cli: Cli, study_db: Path) -> None:
    data = json.loads(report(evalkit_cli, study_db, "ckpt", "--format", "json"))
    view = json.loads(evalkit_cli("trajectory", "ckpt", "--store", study_db, "--format", "json").stdout)
    assert [s["format"] for s in data["studies"]] == ["evalkit-trajectory"]
    assert data["studies"][0]["rows"] == view["rows"] and data["studies"][0]["tests"] == view["tests"]
    assert len(data["results"]) == 12 and data["comparisons"] == []  # the results are all still there


def test_markdown_and_rich_reports_show_the_trajectory(evalkit_cli: Cli, study_db: Path) -> None:
    markdown = report(evalkit_cli, study_db, "ckpt", "--format", "markdown")
    assert "## Trajectories: run ckpt" in markdown and "step 200 (best beats last)" in markdown
    assert markdown.index("### Results") < markdown.index("## Trajectories")
    rich = report(evalkit_cli, study_db, "ckpt")
    assert "Trajectories: run ckpt" in rich and "▁█▂" in rich


def test_html_report_has_the_trajectory_figure_and_the_heat_map(evalkit_cli: Cli, study_db: Path,
                                                                tmp_path: Path) -> None:
    ckpt, matrix, plain = tmp_path / "ckpt.html", tmp_path / "matrix.html", tmp_path / "plain.html"
    for run, path in (("ckpt", ckpt), ("matrix", matrix), ("plain", plain)):
        report(evalkit_cli, study_db, run, "-o", path)
    page = ckpt.read_text()
    assert "<h2>Trajectories: run ckpt</h2>" in page and page.count("<img") > page.count("<h2>Results") >= 1
    heat = matrix.read_text()
    assert "<h2>Transfer / forgetting: run matrix</h2>" in heat and 'class="heatmap"' in heat
    assert "Trajectories" not in plain.read_text() and "heatmap" not in plain.read_text()


def test_transfer_matrix_in_the_report(evalkit_cli: Cli, study_db: Path) -> None:
    data = json.loads(report(evalkit_cli, study_db, "matrix", "--format", "json"))
    view = json.loads(evalkit_cli("transfer", "matrix", "--store", study_db, "--format", "json").stdout)
    assert [s["format"] for s in data["studies"]] == ["evalkit-transfer"]
    assert data["studies"][0]["rows"] == view["rows"]


def test_a_plain_run_report_has_no_study(evalkit_cli: Cli, study_db: Path) -> None:
    data = json.loads(report(evalkit_cli, study_db, "plain", "--format", "json"))
    assert "studies" not in data and not data["warnings"]
    assert "Trajectories" not in report(evalkit_cli, study_db, "plain", "--format", "markdown")


def test_metric_option_narrows_the_trajectory(evalkit_cli: Cli, study_db: Path) -> None:
    data = json.loads(report(evalkit_cli, study_db, "ckpt", "--metric", "acc", "--format", "json"))
    assert {row["metric"] for row in data["studies"][0]["rows"]} == {"acc"}


def test_a_view_that_cannot_be_built_is_a_warning(evalkit_cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    conn = open_for_writing(store)
    try:  # a transfer cell without the zero-shot baseline it is compared with
        add_run(conn, "eeee0000-nobase", [Cell("sst2", {"acc": binary(10, [1, 2])}, setting="fine-tuned-on:rte")],
                name="nobase", created_at="2025-01-05T00:00:00+00:00")
    finally:
        conn.close()
    data = json.loads(report(evalkit_cli, store, "nobase", "--format", "json"))
    assert "studies" not in data
    assert any("No transfer view for run nobase" in w and "zero-shot" in w for w in data["warnings"])
