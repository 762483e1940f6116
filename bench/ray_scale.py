"""Scale beyond this machine, simulated: a large grid of a tiny random model on a two-node local
Ray cluster (ray.cluster_utils.Cluster), with workers killed at random during the run.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/ray_scale.py [--cells 1000] \
        [--models 2] [--kill-rate 0.01] [--limit 2]

For each grid size 10, 100, 1000, ... up to --cells (the last size is --cells itself), a fresh run
through evalkit's runner with the Ray executor (one actor per model, 1 CPU each; the head node
and one more node with 1 CPU each) into a fresh SQLite store. Every worker process carries a
hook (Ray's worker_process_setup_hook) that makes it exit (os._exit, like a crash) at the start
of a cell's scoring with probability --kill-rate; the actor is restarted and its cells retried.
Checked: every planned cell stored exactly once, none lost, none twice, the run complete.
Printed per size: wall time, cells/s, workers killed, and the scheduling overhead per cell
((wall - in-cell time / 2 parallel actors) / cells, actor start-ups and restarts included).
Not a timed test; run it alone on the machine.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ray_grid import grid_cells, overhead_per_cell, run_grid, tiny_models  # noqa: E402

KILL_RATE_ENV = "EVALKIT_BENCH_KILL_RATE"
KILLS_ENV = "EVALKIT_BENCH_KILLS_DIR"


def install_random_kills() -> None:
    """Runs in every Ray worker process: exit at random inside a cell's scoring (after the model
    and task are loaded), leaving a marker file so the driver can count the deaths."""
    import random

    import evalkit.engine.cell as cell_module

    rate = float(os.environ.get(KILL_RATE_ENV, "0"))
    original = cell_module.evaluate_task
    chance = random.Random()  # its own generator: each cell seeds the global one with its seed

    def maybe_die(*args: Any, **kwargs: Any) -> Any:
        if chance.random() < rate:
            Path(os.environ[KILLS_ENV], f"killed-{os.getpid()}-{time.time_ns()}").touch()
            os._exit(1)
        return original(*args, **kwargs)

    cell_module.evaluate_task = maybe_die


def sizes_up_to(cells: int) -> list[int]:
    sizes = [n for n in (10, 100, 1000, 10000) if n < cells]
    return sizes + [cells]


def check_stored_once(store: Path, cells: list[Any], run_id: str) -> None:
    with sqlite3.connect(store) as conn:
        rows = [c for (c,) in conn.execute("SELECT cell_id FROM cells WHERE run_id = ?", (run_id,))]
        status = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
    planned = {c.cell_id for c in cells}
    assert len(planned) == len(cells), "the plan has duplicate cells"
    assert len(rows) == len(set(rows)), "a cell was stored twice"
    assert set(rows) == planned, f"{len(planned - set(rows))} cells lost"
    assert status == "complete", status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--kill-rate", type=float, default=0.01, help="chance a worker dies at each cell")
    parser.add_argument("--limit", type=int, default=2, help="documents per cell")
    args = parser.parse_args(argv)
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    from ray.cluster_utils import Cluster

    import ray

    from evalkit.engine.executors import ExecutorOptions

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        kills = work / "kills"
        kills.mkdir()
        os.environ.update({"EVALKIT_HOME": str(work / "home"), KILL_RATE_ENV: str(args.kill_rate),
                           KILLS_ENV: str(kills)})
        models = tiny_models(work, args.models)
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=bool(os.environ.get("EVALKIT_BENCH_WORKER_LOGS")),
                 runtime_env={"worker_process_setup_hook": install_random_kills})
        # Enough restarts for every kill the rate can plausibly cause in the largest grid.
        executor = ExecutorOptions(kind="ray", max_retries=max(10, int(args.cells * args.kill_rate * 5)))
        try:
            print(f"two nodes x 1 CPU, {args.models} model(s), {args.limit} documents per cell, "
                  f"kill rate {args.kill_rate:g} per cell")
            print(f"{'cells':>6} {'wall s':>8} {'cells/s':>8} {'killed':>6} {'overhead s/cell':>16}")
            for size in sizes_up_to(args.cells):
                before = len(list(kills.iterdir()))
                cells = grid_cells(models, size, args.limit)
                wall, result = run_grid(cells, work / f"scale-{size}.db", executor)
                check_stored_once(work / f"scale-{size}.db", cells, result.run_id)
                killed = len(list(kills.iterdir())) - before
                print(f"{size:>6} {wall:>8.1f} {size / wall:>8.2f} {killed:>6} "
                      f"{overhead_per_cell(wall, result, min(args.models, 2)):>16.3f}")
            print("every cell stored exactly once, none lost, every run complete")
        finally:
            ray.shutdown()
            cluster.shutdown()


if __name__ == "__main__":
    main()
