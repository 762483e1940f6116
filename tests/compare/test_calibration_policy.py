"""A gate policy's `calibration:` (a calibration run or its noise table) with `noise_multiple: K` widens a
row's tolerance to K x the calibrated |aggregate drift|, and the gate shows each row's noise."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, decide_gate, open_runs
from evalkit.compare.policy import load_policy
from evalkit.errors import InputError
from evalkit.report.tables import gate_lines
from evalkit.store.records import RunInfo
from evalkit.store.schema import open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.compare.synthetic import VERSIONS, CellSpec, add_run, binary


def _store(path: Path) -> Path:
    """a: 150/200; b: 144/200 (drop 0.03); cal: a re-run of a with 146/200 (noise 0.02)."""
    conn = open_for_writing(path)
    add_run(conn, "a", [CellSpec("t", {"acc": binary(200, 150)})], name="a", created_at="2025-01-01")
    add_run(conn, "b", [CellSpec("t", {"acc": binary(200, 144)})], name="b", created_at="2025-01-02")
    info = RunInfo(run_id="cal", name="cal", created_at="2025-01-03", command="evalkit calibrate", seed=0,
                   versions=VERSIONS, git_commit=None, host="test",
                   config={"calibration_of": "a", "nuisance": {"batch-size": 1}})
    begin_run(conn, info)
    write_cell(conn, "cal", CellSpec("t", {"acc": binary(200, 146)}).record(0))
    finish_run(conn, "cal", "complete")
    conn.close()
    return path


def _gate(store: Path, policy):  # type: ignore[no-untyped-def]
    with RunOpener(store) as opener:
        return decide_gate(compare_runs(open_runs(opener, ["a", "b"]), CompareOptions()), policy)


def test_noise_multiple_widens_the_tolerance_from_a_calibration_run(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    plain = tmp_path / "plain.yaml"
    plain.write_text("defaults: {tolerance: 0.01}\n")
    assert _gate(store, load_policy(plain, store=store)).comparison.rows.iloc[0].tolerance == 0.01
    policy = tmp_path / "p.yaml"
    policy.write_text("defaults: {tolerance: 0.01, noise_multiple: 3}\ncalibration: cal\n")
    outcome = _gate(store, load_policy(policy, store=store))
    row = outcome.comparison.rows.iloc[0]
    assert row.noise == pytest.approx(0.02) and row.tolerance == pytest.approx(0.06)
    assert any("calibrated noise 0.0200 (drop / noise 1.5)" in line for line in gate_lines(outcome))


def test_a_noise_table_file_beside_the_policy_is_read(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    (tmp_path / "noise.json").write_text(json.dumps({"evalkit_noise": [
        {"model": "m", "task": "t", "setting": "zero-shot", "metric": "acc", "n": 200, "flip_rate": 0.1,
         "drift_mean": -0.05, "drift_sd": 0.3, "aggregate_drift": -0.05}]}))
    policy = tmp_path / "p.yaml"
    policy.write_text("calibration: noise.json\nrules:\n  - {task: t, noise_multiple: 2}\n")
    row = _gate(store, load_policy(policy, store=store)).comparison.rows.iloc[0]
    assert row.noise == pytest.approx(0.05) and row.tolerance == pytest.approx(0.1)


def test_without_calibration_the_noise_column_is_empty(tmp_path: Path) -> None:
    row = _gate(_store(tmp_path / "s.db"), 0.01).comparison.rows.iloc[0]
    assert math.isnan(row.noise)


@pytest.mark.parametrize("text, message", [
    ("defaults: {noise_multiple: 2}\n", "line 1: 'noise_multiple' needs a top-level 'calibration'"),
    ("rules:\n  - {task: t, noise_multiple: -1}\ncalibration: cal\n", "line 2: 'noise_multiple' must be a finite"),
    ("defaults: {tolerance: 0.01}\ncalibration: nosuchrun\n", "line 2: 'calibration': "),
    ("defaults: {tolerance: 0.01}\ncalibration: b\n", "line 2: 'calibration': Run 'b'"),
])
def test_calibration_errors_name_the_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    store = _store(tmp_path / "s.db")
    policy = tmp_path / "p.yaml"
    policy.write_text(text)
    with pytest.raises(InputError, match="Gate policy .*p.yaml, " + message.replace("(", r"\(")):
        load_policy(policy, store=store)


def test_the_gate_command_finds_the_calibration_run_in_its_store(tmp_path: Path, evalkit_cli) -> None:
    store = _store(tmp_path / "s.db")
    policy = tmp_path / "p.yaml"
    policy.write_text("defaults: {tolerance: 0.01, noise_multiple: 3}\ncalibration: cal\n")
    r = evalkit_cli("gate", "--baseline", "a", "--candidate", "b", "--policy", policy, "--store", store)
    assert r.exit_code in (0, 3), r.output
    assert "calibrated noise 0.0200 (drop / noise 1.5)" in r.output
