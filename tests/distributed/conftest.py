"""Data parallel runs (evalkit.engine.processes): real processes started through accelerate's launcher on
the CPU (gloo) with the tiny model. Marked `distributed` (pytest -m distributed to run only these)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")  # multiple choice: loglikelihood
GEN = str(FIXTURES / "toy_gen" / "toy_gen.yaml")  # generate_until
ROLLING_DOCS = ["alpha beta gamma delta epsilon", "Paris is the capital of France.",
                "unflinchingly bleak and desperate",
                "Question: Is this sentence positive?", "it 's a charming and often affecting journey .",
                "A man is sitting on a roof. he starts pulling up roofing on a roof."]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/distributed" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.distributed)
            item.add_marker(pytest.mark.multiprocess)


@dataclass
class Launched:
    exit_code: int
    output: str


def launch_evalkit(*args: object, env: dict[str, str] | None = None, timeout: float = 600) -> Launched:
    """`python -m evalkit ARGS` as a user starts it (its own process: --processes relaunches sys.argv)."""
    done = subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=timeout)
    return Launched(done.returncode, done.stdout + done.stderr)


@pytest.fixture
def evalkit_processes() -> Callable[..., Launched]:
    return launch_evalkit


@pytest.fixture
def rolling_task(tmp_path: Path) -> str:
    """A loglikelihood_rolling task over a few short documents."""
    import json

    folder = tmp_path / "rolling"
    folder.mkdir()
    (folder / "test.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in ROLLING_DOCS))
    (folder / "toy_rolling.yaml").write_text(
        "task: toy_rolling\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
        "output_type: loglikelihood_rolling\ntest_split: test\ndoc_to_text: ''\ndoc_to_target: '{{text}}'\n"
        "metric_list:\n  - metric: word_perplexity\nmetadata:\n  version: 1.0\n")
    return str(folder / "toy_rolling.yaml")


def stored_runs(store: Path) -> list[dict[str, Any]]:
    from evalkit.store.reader import list_runs
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(store)
    try:
        return list_runs(conn).to_dict("records")
    finally:
        conn.close()


def run_rows(store: Path, run_id: str) -> dict[str, Any]:
    """What a run stored, without what legitimately differs between runs (ids, times, details)."""
    from evalkit.store.reader import cells_frame, metrics_frame, samples_frame
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(store)
    try:
        # The cell id covers the options (--no-cache included), so it is not what is compared.
        metrics = metrics_frame(conn, [run_id]).drop(columns=["run_id", "run_name", "created_at", "cell_id"])
        cells = cells_frame(conn, [run_id]).to_dict("records")
        samples = {cell["task"]: samples_frame(conn, run_id, cell["cell_id"]).drop(columns=["run_id", "cell_id"])
                   .to_dict("records") for cell in cells}
    finally:
        conn.close()
    return {"metrics": metrics.to_dict("records"), "samples": samples,
            "details": {cell["task"]: cell for cell in cells}}
