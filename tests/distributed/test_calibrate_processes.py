"""`evalkit calibrate RUN --nuisance processes=2` relaunches itself in two processes (as `run --processes`
does) and stores one calibration run, written by the main process only."""

from __future__ import annotations

import json
import sqlite3

from tests.distributed.conftest import SENTIMENT, stored_runs


def test_calibrating_the_process_count_runs_two_processes(tiny_model_dir, tmp_path, evalkit_cli, evalkit_processes):
    store = tmp_path / "s.db"
    single = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "6", "--store", store)
    assert single.exit_code == 0, single.output
    launched = evalkit_processes("calibrate", "latest", "--nuisance", "processes=2", "--store", store,
                                 "--json", tmp_path / "noise.json")
    assert launched.exit_code == 0, launched.output
    assert "share 1 of 2" in launched.output and launched.output.count("Noise under processes=2") == 1
    assert len(stored_runs(store)) == 2  # the re-run is stored once, by the main process
    conn = sqlite3.connect(store)
    (config,) = conn.execute("SELECT config_json FROM runs ORDER BY rowid DESC LIMIT 1").fetchone()
    conn.close()
    assert json.loads(config)["nuisance"] == {"processes": 2}
    (row,) = json.loads((tmp_path / "noise.json").read_text())["evalkit_noise"]
    assert row["n"] == 6 and row["flip_rate"] == 0
