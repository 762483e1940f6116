"""A two-process run killed halfway resumes with one process and computes only what was not saved."""

from __future__ import annotations

import json

from evalkit.engine.processes import CRASH_ENV
from tests.distributed.conftest import SENTIMENT, run_rows, stored_runs

REQUESTS = 24 * 2  # toy_sentiment: 24 validation documents, two choices each


def test_killed_two_process_run_resumes_with_one_process(tiny_model_dir, tmp_path, evalkit_cli, evalkit_processes):
    store = tmp_path / "r.db"
    # The main process computes its share in chunks (8 here, 3 requests each) and is killed after its first.
    killed = evalkit_processes("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--processes", "2", "--store", store,
                               env={CRASH_ENV: "0:1"})
    assert killed.exit_code == 137, killed.output  # SIGKILL, passed on by the launcher
    assert [r["status"] for r in stored_runs(store)] == ["running"] and stored_runs(store)[0]["cells"] == 0

    resumed = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--processes", "1", "--store", store)
    assert resumed.exit_code == 0, resumed.output
    run = next(r for r in stored_runs(store) if r["status"] == "complete")
    rows = run_rows(store, run["run_id"])
    requests = json.loads(rows["details"]["toy_sentiment"]["details_json"])["requests"]
    assert requests["reused"] + requests["computed"] == REQUESTS
    assert requests["reused"] >= 3  # at least the main process's first chunk was saved before the kill
    assert 0 < requests["computed"] <= REQUESTS - 3  # the killed process's other chunks are computed again

    fresh = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--no-cache", "--store", tmp_path / "f.db")
    assert fresh.exit_code == 0, fresh.output
    expected = run_rows(tmp_path / "f.db", stored_runs(tmp_path / "f.db")[0]["run_id"])
    assert rows["metrics"] == expected["metrics"]  # accuracy: identical
    assert [r["scores"] for r in rows["samples"]["toy_sentiment"]] == \
        [r["scores"] for r in expected["samples"]["toy_sentiment"]]
