from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evalkit.cli.main import cli
from evalkit.cli.results_export import default_export_path, export_command
from evalkit.store.schema import connect
from tests.compare.synthetic import CellSpec, add_run, binary


def test_report_of_one_run_shows_results(store: Path, evalkit) -> None:
    code, out, _ = evalkit("report", "base", "--store", str(store))
    assert code == 0
    assert "sst2 acc (n=200)" in out and "0.750 ± 0.060" in out and "A = " not in out


def test_report_of_one_run_with_settings_compares_them(tmp_path: Path, evalkit) -> None:
    conn = connect(tmp_path / "s.db")
    add_run(conn, "r", [CellSpec("rte", {"acc": binary(100, 50)}),
                        CellSpec("rte", {"acc": binary(100, 80)}, setting="fine-tuned")], name="r")
    conn.close()
    code, out, _ = evalkit("report", "r", "--format", "markdown", "--store", str(tmp_path / "s.db"))
    assert code == 0
    assert "### A = zero-shot, B = fine-tuned (model tiny-model)" in out
    assert "| rte | acc | 0.500 | 0.800 |" in out and "better" in out


def test_report_html_file_for_several_runs(store: Path, tmp_path: Path, evalkit) -> None:
    path = tmp_path / "reports" / "r.html"
    code, _, _ = evalkit("report", "base", "noise", "drop", "--format", "html", "-o", str(path), "--store", str(store))
    page = path.read_text(encoding="utf-8")
    assert code == 0 and "Comparison: base vs noise vs drop" in page and page.count("data:image/png") == 2


def test_report_json_through_click_runner(store: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "base", "drop", "--format", "json", "--store", str(store)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert len(doc["results"]) == 4 and doc["comparisons"][0]["labels"] == ["base", "drop"]


def test_export_defaults_to_json_under_reports(store: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(export_command, ["latest~1", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert result.output == "Wrote reports/drop.json\n"
    assert json.loads((tmp_path / "reports" / "drop.json").read_text())["run"]["name"] == "drop"
    assert default_export_path("my run/1", "csv") == Path("reports") / "my-run-1.csv"
