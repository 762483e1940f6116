"""`evalkit trajectory` and `evalkit transfer` through the real entry point: formats, -o through
the output guard, and every bad input with exit code 2 and a message naming the culprit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.studies.synthetic import Cell, add_run, binary, checkpoint

Cli = Callable[..., Any]


def test_trajectory_rich_on_the_terminal(study_cli: Cli, store: Path) -> None:
    result = study_cli("trajectory", "ckpt", "--store", store)
    assert result.exit_code == 0, result.output
    assert "Trajectories" in result.stdout and "▁█▂" in result.stdout and "step 200 (best beats last)" in result.stdout


def test_store_comes_from_the_environment(study_cli: Cli, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_STORE", str(store))
    result = study_cli("transfer", "matrix", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "evalkit-transfer" and len(data["rows"]) == 6


def test_trajectory_metric_and_correction_options(study_cli: Cli, store: Path) -> None:
    result = study_cli("trajectory", "ckpt", "--store", store, "--metric", "acc", "--correction", "bh",
                       "--alpha", "0.01", "--format", "json")
    data = json.loads(result.stdout)
    assert (data["correction"], data["alpha"], data["tests"]) == ("bh", 0.01, 3)
    assert {row["metric"] for row in data["rows"]} == {"acc"}


def test_output_file_needs_force_to_be_replaced(study_cli: Cli, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "traj.html"
    first = study_cli("trajectory", "ckpt", "--store", store, "-o", out)
    assert first.exit_code == 0, first.output and out.read_text().startswith("<!DOCTYPE html>")
    out.write_text("keep me")
    again = study_cli("trajectory", "ckpt", "--store", store, "-o", out)
    assert again.exit_code == 2 and "already exists" in again.stderr and out.read_text() == "keep me"
    forced = study_cli("transfer", "matrix", "--store", store, "-o", out, "--force")
    assert forced.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>") and "transfer" in out.read_text()
    mixed = study_cli("transfer", "matrix", "--store", store, "-o", out, "--force", "--format", "markdown")
    assert mixed.exit_code == 2 and "names the html format, but --format markdown" in mixed.stderr


def test_output_suffix_chooses_the_format(study_cli: Cli, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "matrix.json"
    assert study_cli("transfer", "matrix", "--store", store, "-o", out).exit_code == 0
    assert json.loads(out.read_text())["run_id"] == "cccc0000-matrix"


def test_the_store_is_never_the_output(study_cli: Cli, store: Path) -> None:
    before = store.read_bytes()
    result = study_cli("trajectory", "ckpt", "--store", store, "-o", store, "--force")
    assert result.exit_code == 2 and "input of this command" in result.stderr
    assert store.read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (("trajectory", "no-such-run"), "Unknown run 'no-such-run'"),
    (("trajectory", "plain"), "has no trajectory cells"),
    (("trajectory", "ckpt", "--metric", "f1"), "no trajectory of metric f1"),
    (("transfer", "ckpt"), "has no transfer cells"),
    (("transfer", "matrix", "--metric", "bleu"), "metric 'bleu'"),
    (("trajectory", "ckpt", "--alpha", "nan"), "not a finite number"),
    (("transfer", "matrix", "--format", "junit"), "'junit' is not one of"),
])
def test_bad_input_exits_2_with_a_message(study_cli: Cli, store: Path, args: tuple[str, ...], message: str) -> None:
    result = study_cli(*args, "--store", store)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_missing_store_exits_2(study_cli: Cli, tmp_path: Path) -> None:
    result = study_cli("transfer", "latest", "--store", tmp_path / "absent.db")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "absent.db").exists()


def test_nan_per_document_score_exits_2_naming_the_document(study_cli: Cli, tmp_path: Path) -> None:
    from evalkit.store.schema import open_for_writing

    path = tmp_path / "s.db"
    conn = open_for_writing(path)
    scores = binary(5, [0, 1])
    scores[3] = float("nan")
    add_run(conn, "nan-run", [Cell("sst2", {"acc": binary(5, [0])}, model="a", trajectory=checkpoint("s", 1)),
                              Cell("sst2", {"acc": scores}, model="b", trajectory=checkpoint("s", 2))])
    conn.close()
    result = study_cli("trajectory", "nan-run", "--store", path)
    assert result.exit_code == 2
    assert "nan-run" in result.stderr and "'sst2'" in result.stderr and "'acc'" in result.stderr
    # the store keeps a NaN score as null (evalkit.store.jsontext); either way it is named, never skipped
    assert "document 3 has no numeric per-document score (the score is" in result.stderr


@pytest.mark.parametrize("view, run", [("trajectory", "ckpt"), ("transfer", "matrix")])
def test_a_json_export_of_a_run_gives_the_same_view_as_the_stored_run(study_cli: Cli, store: Path, tmp_path: Path,
                                                                      view: str, run: str) -> None:
    exported = tmp_path / f"{run}.json"
    assert study_cli("results", "export", run, "--store", store, "-o", exported).exit_code == 0
    from_store = study_cli(view, run, "--store", store, "--format", "json")
    from_file = study_cli(view, exported, "--format", "json")  # was: "Unknown run 'ckpt.json'"
    assert from_file.exit_code == 0, from_file.output
    assert json.loads(from_file.stdout)["rows"] == json.loads(from_store.stdout)["rows"]


def test_a_tidy_export_is_named_as_one_not_an_unknown_run(study_cli: Cli, store: Path, tmp_path: Path) -> None:
    exported = tmp_path / "ckpt.csv"
    assert study_cli("results", "export", "ckpt", "--store", store, "-o", exported).exit_code == 0
    result = study_cli("trajectory", exported, "--store", store)
    assert result.exit_code == 2, result.output
    assert "is a .csv results export" in result.stderr and "JSON export" in result.stderr
    assert "Unknown run" not in result.output
