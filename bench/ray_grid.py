"""Benchmark: a grid of cells on a local 2-CPU Ray cluster against the local executor.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/ray_grid.py [--cells 6] [--models 2] [--limit 8]

Builds tiny random checkpoints (tests/tiny_model.py) and a grid of --cells cells over --models
models on the fixture task toy_sentiment (a seed per cell, so every cell is distinct; request
cache off, so every cell is computed), then runs it through evalkit's runner twice into fresh
stores: the local executor (one process, cells one after another) and the Ray executor (one
actor per model, 1 CPU each, on `ray.init(num_cpus=2)`; cluster start-up timed apart). Printed:
wall time of each, the sum of in-cell time (CellRecord.duration_s), the overhead per cell
((wall - in-cell time / parallel actors) / cells) and the ratio Ray / local. Not a timed test;
run it alone on the machine (two heavy processes on 2 cores slow each other far more than 2x).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FIXTURE_TASKS = REPO / "tests" / "fixtures" / "tasks"


def tiny_models(work: Path, count: int) -> list[Path]:
    from tests.tiny_model import save_tiny_checkpoint

    return [save_tiny_checkpoint(work / f"tiny-{i}", seed=i) for i in range(count)]


def grid_cells(models: list[Path], cells: int, limit: int) -> list[Any]:
    """`cells` distinct cells (a seed each) spread evenly over the models, model-major."""
    from evalkit.api import build_cells

    per_model = [cells // len(models) + (1 if i < cells % len(models) else 0) for i in range(len(models))]
    plan = []
    for model, count in zip(models, per_model):
        [cell] = build_cells([str(model)], ["toy_sentiment"], settings=["zero-shot"], limit=limit,
                             request_cache=False)
        plan += [dataclasses.replace(cell, seed=1000 + i) for i in range(count)]
    return plan


def run_grid(cells: list[Any], store: Path, executor: Any) -> tuple[float, Any]:
    """(wall seconds, RunResult) of one run through evalkit's runner."""
    from evalkit.engine.runner import execute
    from evalkit.tasks.discovery import TaskRegistry

    registry = TaskRegistry.discover([FIXTURE_TASKS])
    start = time.perf_counter()
    result = execute(cells, registry, store, name=None, executor=executor)
    return time.perf_counter() - start, result


def overhead_per_cell(wall: float, result: Any, parallel: int) -> float:
    inside = sum(r.duration_s for r in result.cells)
    return (wall - inside / parallel) / max(len(result.cells), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=6)
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--limit", type=int, default=8, help="documents per cell")
    args = parser.parse_args(argv)
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    import ray

    from evalkit.engine.executors import ExecutorOptions

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["EVALKIT_HOME"] = str(work / "home")
        cells = grid_cells(tiny_models(work, args.models), args.cells, args.limit)
        local_wall, local = run_grid(cells, work / "local.db", ExecutorOptions())
        start = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - start
        try:
            ray_wall, remote = run_grid(cells, work / "ray.db", ExecutorOptions(kind="ray"))
        finally:
            ray.shutdown()
    parallel = min(args.models, 2)
    print(f"{len(cells)} cells, {args.models} model(s), {args.limit} documents each")
    print(f"local executor: {local_wall:7.2f} s wall, {sum(r.duration_s for r in local.cells):7.2f} s in cells, "
          f"overhead {overhead_per_cell(local_wall, local, 1):.3f} s/cell")
    print(f"ray executor:   {ray_wall:7.2f} s wall, {sum(r.duration_s for r in remote.cells):7.2f} s in cells, "
          f"overhead {overhead_per_cell(ray_wall, remote, parallel):.3f} s/cell "
          f"({parallel} actors in parallel; cluster start-up {startup:.1f} s not included)")
    print(f"ray / local wall time: {ray_wall / local_wall:.2f}x")


if __name__ == "__main__":
    main()
