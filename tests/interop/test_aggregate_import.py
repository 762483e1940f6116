"""`evalkit results import` of aggregate-only lm-eval results (the published Pythia files): one
checkpoint series run, read by trajectory and forecast, refused by compare and gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

PYTHIA = Path(__file__).resolve().parents[1] / "fixtures" / "pythia_160m"


@pytest.fixture
def pythia_store(tmp_path: Path, evalkit_cli) -> Path:
    store = tmp_path / "s.db"
    result = evalkit_cli("results", "import", PYTHIA, "--name", "pythia-160m", "--store", store)
    assert result.exit_code == 0, result.output
    assert "27 checkpoints (steps 0..143000), 87 tasks; aggregate scores only" in result.stdout
    return store


def test_the_trajectory_view_shows_the_imported_series(pythia_store: Path, evalkit_cli) -> None:
    result = evalkit_cli("trajectory", "pythia-160m", "--metric", "acc", "--format", "json", "--store", pythia_store)
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.stdout)["rows"] if r["task"] == "piqa"]
    assert [r["step"] for r in rows][:4] == [0, 1, 2, 4] and rows[-1]["step"] == 143000
    assert rows[-1]["value"] == pytest.approx(0.6273122959738846)
    assert rows[-1]["series"] == "EleutherAI/pythia-v1.1-160m"
    assert rows[-1]["ci_high"] - rows[-1]["value"] == pytest.approx(1.96 * 0.011281998871734985, rel=1e-3)


def test_compare_and_gate_refuse_an_aggregate_only_run_by_name(pythia_store: Path, tmp_path: Path,
                                                                evalkit_cli) -> None:
    one = evalkit_cli("results", "import", PYTHIA / "160m_step1000.json", "--name", "one", "--store", pythia_store)
    assert one.exit_code == 0, one.output
    for args in (["compare", "pythia-160m", "one"], ["gate", "--baseline", "one", "--candidate", "pythia-160m"]):
        result = evalkit_cli(*args, "--store", pythia_store)
        assert result.exit_code == 2, result.output
        assert "imported from aggregate-only lm-eval results" in result.output
        assert "no per-document scores" in result.output


def test_the_step_comes_from_the_file_name_or_the_option(tmp_path: Path, evalkit_cli) -> None:
    data = json.loads((PYTHIA / "160m_step3000.json").read_text())
    data["config"]["model_args"] = "pretrained=EleutherAI/pythia-v1.1-160m"
    named, unnamed = tmp_path / "ckpt_step3000.json", tmp_path / "plain" / "results.json"
    unnamed.parent.mkdir()
    named.write_text(json.dumps(data))
    unnamed.write_text(json.dumps(data))
    store = tmp_path / "s.db"
    assert "steps 3000..3000" in evalkit_cli("results", "import", named, "--store", store).stdout
    refused = evalkit_cli("results", "import", unnamed, "--store", store)
    assert refused.exit_code == 2 and "names no training step" in refused.output and "--step" in refused.output
    given = evalkit_cli("results", "import", unnamed, "--step", "5000", "--store", tmp_path / "other.db")
    assert given.exit_code == 0 and "steps 5000..5000" in given.stdout


def test_an_lm_eval_04_results_file_without_samples_is_read(tmp_path: Path, evalkit_cli) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for step, acc in ((1000, 0.30), (2000, 0.35)):
        (folder / f"results_step{step}.json").write_text(json.dumps({
            "results": {"piqa": {"alias": "piqa", "acc,none": acc, "acc_stderr,none": 0.01}},
            "config": {"model": "hf", "model_args": f"pretrained=org/m,revision=step{step}"}, "n-shot": {"piqa": 5}}))
    store = tmp_path / "s.db"
    assert evalkit_cli("results", "import", folder, "--name", "m", "--store", store).exit_code == 0
    result = evalkit_cli("trajectory", "m", "--format", "json", "--store", store)
    rows = json.loads(result.stdout)["rows"]
    assert [(r["metric"], r["step"], r["value"]) for r in rows] == [("acc", 1000, 0.30), ("acc", 2000, 0.35)]
    assert {r["setting"] for r in rows} == {"few-shot:5"}


def test_forecast_of_the_imported_series(pythia_store: Path, evalkit_cli) -> None:
    result = evalkit_cli("forecast", "pythia-160m", "--task", "piqa", "--metric", "acc", "--at", "286000",
                         "--format", "json", "--store", pythia_store)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["rows"][0]
    assert row["at_step"] == 286000 and row["low"] < row["forecast"] < row["high"]
    assert 0.55 < row["forecast"] < 0.7 and row["last_value"] == pytest.approx(0.6273122959738846)
    chance = evalkit_cli("forecast", "pythia-160m", "--task", "hendrycksTest-virology", "--metric", "acc",
                         "--store", pythia_store)
    assert chance.exit_code == 2 and "no forecast: at chance level" in chance.output


def test_a_backtest_reports_errors_against_both_baselines(pythia_store: Path, evalkit_cli) -> None:
    result = evalkit_cli("forecast", "pythia-160m", "--task", "arc_easy", "--metric", "acc", "--backtest",
                         "--format", "markdown", "--store", pythia_store)
    assert result.exit_code == 0, result.output
    assert "MAE forecast | MAE last value | MAE linear log-step | 95% coverage" in result.stdout
    assert "| 42,900 | 143,000 | 0.4352 |" in result.stdout


@pytest.mark.parametrize("metric, higher", [("acc", True), ("acc,none", True), ("pct_stereotype", True),
                                            ("ppl", False), ("likelihood_difference", False),
                                            ("bits_per_byte", False), ("word_perplexity,none", False)])
def test_the_direction_of_an_aggregate_metric(metric: str, higher: bool) -> None:
    from evalkit.interop.aggregate_import import higher_is_better

    assert higher_is_better(metric) is higher


def test_the_backtest_page_is_written_with_its_figure(pythia_store: Path, tmp_path: Path, evalkit_cli) -> None:
    page = tmp_path / "bt.html"
    result = evalkit_cli("forecast", "pythia-160m", "--task", "piqa", "--backtest", "--format", "html", "-o", page,
                         "--store", pythia_store)
    assert result.exit_code == 0, result.output
    assert page.read_text().count("data:image/png;base64,") == 2  # acc and acc_norm
    both = evalkit_cli("forecast", "pythia-160m", "--at", "5", "--backtest", "--store", pythia_store)
    assert both.exit_code == 2 and "one of --at, --target and --backtest" in both.output
