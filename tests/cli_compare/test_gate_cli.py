"""`evalkit gate` exit codes: 0 passed, 1 regression, 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli.results_export import export_command


def test_a_real_drop_fails_with_exit_1_listing_rows_and_flips(store: Path, evalkit) -> None:
    code, out, err = evalkit("gate", "--baseline", "base", "--candidate", "drop", "--store", str(store))
    assert code == 1
    assert "Gate FAILED: 1 of 2 compared rows" in out
    assert "tiny-model / sst2 / zero-shot / acc: 0.750 → 0.600" in out
    assert "Flipped documents" in out and "<script>document.title='pwned'</script>" in out
    assert err.startswith("Error: Gate failed: 1 metric(s) regressed beyond --max-drop 0.01: sst2 / zero-shot / acc.")


def test_a_noise_level_drop_passes_with_exit_0(store: Path, evalkit) -> None:
    code, out, _ = evalkit("gate", "--baseline", "base", "--candidate", "noise", "--store", str(store))
    assert code == 0
    assert "Gate PASSED" in out


def test_candidate_defaults_to_latest(store: Path, evalkit) -> None:
    code, _, err = evalkit("gate", "--baseline", "base", "--store", str(store))  # latest = newconfig
    assert code == 2 and "not comparable" in err


def test_an_incomparable_baseline_gives_exit_2_with_the_override(store: Path, evalkit) -> None:
    code, out, err = evalkit("gate", "--baseline", "base", "--candidate", "newconfig", "--store", str(store))
    assert code == 2 and out == ""
    assert "task config hash differs" in err and "--allow-incomparable" in err
    code, out, _ = evalkit("gate", "--baseline", "base", "--candidate", "newconfig", "--allow-incomparable",
                           "--store", str(store))
    assert code == 0 and "Warning: base and newconfig are not comparable" in out


def test_a_malformed_baseline_file_gives_exit_2(store: Path, tmp_path: Path, evalkit) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text('{"format": "evalkit-results", "version": 1, "run": {"run_id"', encoding="utf-8")
    code, _, err = evalkit("gate", "--baseline", str(bad), "--candidate", "drop", "--store", str(store))
    assert code == 2 and f"Baseline file '{bad}' is not valid JSON" in err


def test_a_missing_baseline_file_gives_exit_2(store: Path, tmp_path: Path, evalkit) -> None:
    code, _, err = evalkit("gate", "--baseline", str(tmp_path / "nope.json"), "--store", str(store))
    assert code == 2 and "does not exist" in err


def test_an_unknown_ref_gives_exit_2(store: Path, evalkit) -> None:
    code, _, err = evalkit("gate", "--baseline", "bsae", "--candidate", "drop", "--store", str(store))
    assert code == 2 and "Unknown run 'bsae'. Did you mean: base?" in err


def test_a_missing_store_gives_exit_2(tmp_path: Path, evalkit) -> None:
    code, _, err = evalkit("gate", "--baseline", "base", "--store", str(tmp_path / "absent.db"))
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("fmt", ["json", "parquet", "csv"])
def test_gate_against_an_exported_baseline_without_the_baseline_in_the_store(store: Path, tmp_path: Path,
                                                                             evalkit, fmt: str) -> None:
    path = tmp_path / "ci" / f"baseline.{fmt}"
    result = CliRunner().invoke(export_command, ["base", "--format", fmt, "-o", str(path), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.output
    assert evalkit("gate", "--baseline", str(path), "--candidate", "noise", "--store", str(store))[0] == 0
    assert evalkit("gate", "--baseline", str(path), "--candidate", "drop", "--store", str(store))[0] == 1


def test_gate_appends_markdown_to_the_github_step_summary(store: Path, tmp_path: Path, evalkit,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, _, _ = evalkit("gate", "--baseline", "base", "--candidate", "drop", "--store", str(store))
    text = summary.read_text(encoding="utf-8")
    assert code == 1
    assert text.startswith("# earlier step\n## evalkit gate: drop against baseline base")
    assert "**❌ Gate FAILED" in text and "&lt;script&gt;" in text


def test_gate_writes_junit_and_json_files(store: Path, tmp_path: Path, evalkit) -> None:
    junit, report = tmp_path / "out" / "gate.xml", tmp_path / "gate.json"
    code, out, _ = evalkit("gate", "--baseline", "base", "--candidate", "drop", "-o", str(junit),
                           "--store", str(store))
    assert code == 1 and "Gate FAILED" in out  # the terminal still shows the table
    assert 'failures="1"' in junit.read_text(encoding="utf-8")
    code, out, _ = evalkit("gate", "--baseline", "base", "--candidate", "noise", "--format", "json",
                           "--store", str(store))
    assert code == 0 and json.loads(out)["gate"]["passed"] is True
    assert not report.exists()


def test_max_drop_and_alpha_options_change_the_verdict(store: Path, evalkit) -> None:
    args = ["gate", "--baseline", "base", "--candidate", "drop", "--store", str(store)]
    assert evalkit(*args, "--max-drop", "0.2")[0] == 0
    assert evalkit(*args, "--alpha", "1e-12")[0] == 0  # p ≈ 1.9e-9 is not below 1e-12
    assert evalkit(*args, "--max-drop", "-1")[0] == 2  # usage error


def test_gate_between_two_exported_files_needs_no_database(store: Path, tmp_path: Path, evalkit) -> None:
    for ref in ("base", "drop"):
        result = CliRunner().invoke(export_command, [ref, "-o", str(tmp_path / f"{ref}.json"), "--store", str(store)])
        assert result.exit_code == 0, result.output
    code, out, _ = evalkit("gate", "--baseline", str(tmp_path / "base.json"), "--candidate",
                           str(tmp_path / "drop.json"), "--store", str(tmp_path / "no-such.db"))
    assert code == 1 and "base (base.json)" in out and not (tmp_path / "no-such.db").exists()
