"""Benchmark evaluating a checkpoint series: what K checkpoints cost against one evaluation.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/checkpoint_series.py MODEL_DIR \
        [--k 4] [--task sst2] [--limit 64] [--batch-size 16] [--work DIR]

From MODEL_DIR (a full checkpoint written by save_pretrained) it builds a fake Trainer output
directory twice: K LoRA adapter checkpoints (r=8 on q_proj/v_proj, random, a seed per step) and
K full checkpoints (copies of MODEL_DIR). Each is expanded and checked with evalkit's series
code, then evaluated three ways on one task, in this process, one after another:

  adapters, switched   base loaded once, adapters swapped on it (evalkit's SharedBaseLoader)
  adapters, reloaded   base + adapter loaded afresh for every checkpoint (what a script does)
  full checkpoints     each checkpoint loaded afresh (nothing to share)

Printed per member: load seconds, evaluation seconds, load / one evaluation; per mode: total,
number of base loads, and total / (K x one evaluation), where "one evaluation" is the median
evaluation time of the members (loading excluded). The issue's bound: a series costs at most
K x (one evaluation) + one model load per checkpoint, with no base reload for adapters.
Loads after the first read files from the OS page cache; run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass
class MemberTiming:
    """Seconds spent on one checkpoint."""

    step: int
    load_s: float
    eval_s: float
    accuracy: float


def main(argv: list[str] | None = None) -> int:
    """Build the two series, evaluate them three ways, print the table; return the exit code."""
    from evalkit.quiet import quiet_libraries

    quiet_libraries()
    args = _parse(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="evalkit-series-bench-"))
    adapters = build_adapter_series(args.model_dir, work / "adapter-run", args.k)
    full = build_full_series(args.model_dir, work / "full-run", args.k)
    task = _load_task(args.task)
    modes = [("adapters, switched", adapters, _shared_base_loader),
             ("adapters, reloaded", adapters, FreshLoader),
             ("full checkpoints", full, FreshLoader)]
    report = {name: _evaluate_series(out, loader, task, args) for name, out, loader in modes}
    _print(report, args.k)
    if args.json:
        data = {mode: {"members": [t.__dict__ for t in timings], "base_loads": loads}
                for mode, (timings, loads) in report.items()}
        Path(args.json).write_text(json.dumps(data, indent=2))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def build_adapter_series(model_dir: Path, out: Path, k: int) -> Path:
    """K random LoRA adapter checkpoints on `model_dir`, at steps 10, 20, ..."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    for index in range(1, k + 1):
        base = AutoModelForCausalLM.from_pretrained(model_dir)
        torch.manual_seed(index)
        config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        folder = out / f"checkpoint-{index * 10}"
        get_peft_model(base, config).save_pretrained(folder)
        _write_state(folder, index * 10)
    return out


def build_full_series(model_dir: Path, out: Path, k: int) -> Path:
    """K full checkpoints (copies of `model_dir`, tokenizer included, as Trainer saves them with a processing_class)."""
    out.mkdir(parents=True, exist_ok=True)
    for index in range(1, k + 1):
        folder = out / f"checkpoint-{index * 10}"
        shutil.copytree(model_dir, folder)
        _write_state(folder, index * 10)
    return out


def _write_state(folder: Path, step: int) -> None:
    """A minimal trainer_state.json."""
    state = {"global_step": step, "epoch": step / 100, "log_history": [{"step": step, "loss": 1.0}]}
    (folder / "trainer_state.json").write_text(json.dumps(state))


def _load_task(name: str) -> Any:
    """A task loaded the way a run loads it."""
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    return load_task(TaskRegistry.discover(()).resolve(name))


def _specs(out: Path, args: argparse.Namespace) -> list[tuple[int, Any]]:
    """(step, ModelSpec) for every member of a series, as the runner would build them."""
    from evalkit.models.series import expand_model_refs
    from evalkit.models.spec import member_spec

    return [(member.step or 0, member_spec(member, dtype=args.dtype, device=args.device))
            for member in expand_model_refs([str(out)])]


class FreshLoader:
    """Loads every spec afresh (base and adapter each time), counting base loads."""

    def __init__(self) -> None:
        self.base_loads = 0

    def load(self, spec: Any) -> Any:
        """A LoadedModel read from disk."""
        from evalkit.models.loading import load_model

        self.base_loads += 1
        return load_model(spec)


def _shared_base_loader() -> Any:
    """evalkit's loader for a series: the base once, adapters swapped on it."""
    from evalkit.models.adapter_switch import SharedBaseLoader

    return SharedBaseLoader()


def _evaluate_series(out: Path, make_loader: Callable[[], Any], task: Any,
                     args: argparse.Namespace) -> tuple[list[MemberTiming], int]:
    """Load and evaluate every member; return the timings and the number of base loads."""
    from evalkit.engine.evaluation import evaluate_task
    from evalkit.scoring import make_backend

    loader = make_loader()
    timings = []
    for step, spec in _specs(out, args):
        start = time.perf_counter()
        loaded = loader.load(spec)
        loaded_at = time.perf_counter()
        outcome = evaluate_task(make_backend(loaded, batch_size=args.batch_size), task, num_fewshot=0,
                                limit=args.limit, seed=1234)
        timings.append(MemberTiming(step, loaded_at - start, time.perf_counter() - loaded_at, _accuracy(outcome)))
    return timings, loader.base_loads


def _accuracy(outcome: Any) -> float:
    """The first metric's value (a sanity check that members differ)."""
    return float(outcome.metrics[0].value) if outcome.metrics else float("nan")


def _print(report: dict[str, tuple[list[MemberTiming], int]], k: int) -> None:
    """Per member and per mode, in plain text."""
    evals = [t.eval_s for timings, _ in report.values() for t in timings]
    one = statistics.median(evals)
    print(f"one evaluation (median over all members, loading excluded): {one:.3f} s\n")
    print(f"{'mode':<20} {'step':>6} {'load s':>8} {'eval s':>8} {'load/eval':>10} {'metric':>8}")
    for mode, (timings, base_loads) in report.items():
        for t in timings:
            print(f"{mode:<20} {t.step:>6} {t.load_s:>8.3f} {t.eval_s:>8.3f} {t.load_s / one:>10.2f} "
                  f"{t.accuracy:>8.4f}")
        total = sum(t.load_s + t.eval_s for t in timings)
        print(f"{mode:<20} {'total':>6} {total:>8.3f} s  base loads {base_loads}  "
              f"total / ({k} x one evaluation) = {total / (k * one):.2f}\n")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="A full checkpoint directory (config.json, weights, tokenizer).")
    parser.add_argument("--k", type=int, default=4, help="Checkpoints per series.")
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--work", default=None, help="Keep the built series here (default: a temporary folder).")
    parser.add_argument("--json", default=None, help="Also write the timings to this JSON file.")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
