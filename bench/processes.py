"""One cell in 1 process vs N processes (`evalkit run --processes N`), whole runs, wall clock.

Each run is the real command line in its own fresh EVALKIT_HOME (so the request cache answers nothing)
and its own store; the N-process run is accelerate's launcher starting N processes, each with
cores // N threads. Prints both times, the speed-up and whether the stored metrics agree.

    python bench/processes.py --model ~/.evalkit/models/gguf-XXXX -t sst2 --limit 100 --processes 2
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(model: str, task: str, limit: int, processes: int, batch_size: str, work: Path) -> tuple[float, dict]:
    """Seconds of one whole `evalkit run` and its stored metrics {metric: value}."""
    home, store = work / f"home-{processes}", work / f"store-{processes}.db"
    cores = len(os.sched_getaffinity(0))
    env = {**os.environ, "EVALKIT_HOME": str(home), "OMP_NUM_THREADS": str(max(1, cores // processes)),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [sys.executable, "-m", "evalkit", "run", "-m", model, "-t", task, "--limit", str(limit),
               "--batch-size", batch_size, "--store", str(store), "--processes", str(processes)]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    with sqlite3.connect(store) as conn:
        metrics = dict(conn.execute("SELECT metric, value FROM metrics").fetchall())
        details = json.loads(conn.execute("SELECT details_json FROM cells").fetchone()[0])
    return seconds, {"metrics": metrics, "requests": details.get("requests")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Model directory (or any evalkit model spec).")
    parser.add_argument("-t", "--task", default="sst2")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch-size", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="evalkit-bench-processes-") as folder:
        work = Path(folder)
        one, one_result = timed_run(args.model, args.task, args.limit, 1, args.batch_size, work)
        many, many_result = timed_run(args.model, args.task, args.limit, args.processes, args.batch_size, work)
    print(f"{args.task}, {args.limit} documents, {len(os.sched_getaffinity(0))} cores, batch size {args.batch_size}")
    print(f"1 process:             {one:7.1f} s   {one_result['metrics']}")
    print(f"{args.processes} processes:           {many:7.1f} s   {many_result['metrics']}")
    same = one_result["metrics"] == many_result["metrics"]
    print(f"speed-up:              {one / many:7.2f}x   metrics identical: {same}")


if __name__ == "__main__":
    main()
