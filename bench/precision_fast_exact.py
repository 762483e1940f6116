"""Benchmark `--precision fast-exact` against evalkit's float32 path and lm-eval's HFLM float32.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/precision_fast_exact.py [--limit N] [--tasks ...]

One float32 model object (the embedded SmolLM2-135M by default) serves all sides, one after the
other per task, on the same lm-eval requests: HFLM float32, EvalkitLM exact (float32), EvalkitLM
fast-exact with the bound measured in the run (a temporary EVALKIT_HOME, so calibration is inside
the timing), and fast-exact again with that bound cached (what a later run of the model costs).
Printed and written to reports/bench/precision_fast_exact.{md,json}: documents, requests, seconds
of each side, fast-exact's speed-up over evalkit float32 (goal >= 2x) and over HFLM, the share of
documents re-scored, the share whose lm-eval metrics (acc, acc_norm) equal float32's on both
fast-exact runs (must be 1.0; exit 1 otherwise), the forward tokens fast-exact put through each
precision, and the break-even: how many times faster than float32 the bf16 forward must be for
fast-exact to reach 2x (hardware-independent; compare it with the device's bf16 speed).
Heavy (sst2 + arc_easy + hellaswag(500), four passes each): run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_support import load_task  # noqa: E402

TASKS = [("sst2", "validation"), ("arc_easy", "validation"), ("hellaswag", "validation")]


@dataclass
class PrecisionResult:
    task: str
    docs: int
    requests: int
    hf_seconds: float | None
    float32_seconds: float
    fast_seconds: float
    decisions_identical: float  # share of documents whose metrics equal float32's
    rescored_documents: int
    calibration_documents: int
    bound_coefficient: float | None
    cached_seconds: float  # fast-exact again, the bound now cached (a later run of the same model)
    float32_tokens: int  # forward tokens of evalkit's float32 path
    fast_float32_tokens: int  # of fast-exact: through the float32 weights (calibration + re-scoring)
    fast_bf16_tokens: int  # through the bf16 weights
    cached_rescored_documents: int  # the same, in the run with the bound cached
    cached_float32_tokens: int
    cached_bf16_tokens: int

    @property
    def break_even(self) -> float | None:
        """How many times faster than float32 the bf16 forward must be for fast-exact (bound
        measured) to reach 2x: float32 / (fast_float32 + fast_bf16 / r) >= 2."""
        return _break_even(self.float32_tokens, self.fast_float32_tokens, self.fast_bf16_tokens)

    @property
    def cached_break_even(self) -> float | None:
        return _break_even(self.float32_tokens, self.cached_float32_tokens, self.cached_bf16_tokens)

    @property
    def speedup(self) -> float:
        return self.float32_seconds / self.fast_seconds

    @property
    def cached_speedup(self) -> float:
        return self.float32_seconds / self.cached_seconds

    @property
    def vs_hflm(self) -> float | None:
        return self.hf_seconds / self.fast_seconds if self.hf_seconds else None


def _break_even(float32: int, fast_float32: int, fast_bf16: int) -> float | None:
    spare = float32 / 2 - fast_float32
    return fast_bf16 / spare if spare > 0 else None


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    torch.set_num_threads(args.threads)
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec

    loaded = load_model(resolve_model_spec(args.model, dtype="float32", device=args.device))
    if not args.keep_home:  # after loading (the converted GGUF stays where it is): bounds measured afresh
        os.environ["EVALKIT_HOME"] = tempfile.mkdtemp(prefix="evalkit-bench-home-")
    results = [_run_task(loaded, name, split, args) for name, split in TASKS if name in args.tasks]
    report = {"model": args.model, "device": loaded.device, "threads": args.threads, "limit": args.limit,
              "safety_factor": os.environ.get("EVALKIT_FAST_EXACT_FACTOR", "3 (default)"),
              "fast_bf16": _fast_bf16(loaded.device),
              "tasks": [asdict(r) | {"speedup": r.speedup, "cached_speedup": r.cached_speedup, "vs_hflm": r.vs_hflm,
                                     "break_even": r.break_even, "cached_break_even": r.cached_break_even}
                        for r in results]}
    markdown = render(report)
    print(markdown)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "precision_fast_exact.json").write_text(json.dumps(report, indent=2))
    (out / "precision_fast_exact.md").write_text(markdown)
    print(f"written: {out / 'precision_fast_exact.md'}")
    return 0 if all(r.decisions_identical == 1.0 for r in results) else 1


def _run_task(loaded: Any, name: str, split: str, args: argparse.Namespace) -> PrecisionResult:
    from evalkit.scoring import EvalkitLM

    task, docs, instances = load_task(ROOT / "tasks", name, split, args.limit)
    hf_seconds = None if args.no_hflm else _timed(_hflm(loaded, args), instances)[1]
    exact_lm = EvalkitLM.from_loaded(loaded)
    exact, float32_seconds = _timed(exact_lm, instances)
    fast_lm = EvalkitLM.from_loaded(loaded, precision="fast-exact")
    fast_lm.register_task(task.config.task, task)
    fast, fast_seconds = _timed(fast_lm, instances)
    report = fast_lm.precision_details()
    again_lm = EvalkitLM.from_loaded(loaded, precision="fast-exact")
    again_lm.register_task(task.config.task, task)
    again, cached_seconds = _timed(again_lm, instances)
    cached = again_lm.precision_details()
    result = PrecisionResult(
        task=name, docs=len(docs), requests=len(instances), hf_seconds=hf_seconds,
        float32_seconds=float32_seconds, fast_seconds=fast_seconds,
        decisions_identical=min(identical_metrics(task, docs, instances, exact, fast),
                                identical_metrics(task, docs, instances, exact, again)),
        rescored_documents=report["rescored_documents"], calibration_documents=report["calibration_documents"],
        bound_coefficient=(report["bound"] or {}).get("coefficient"), cached_seconds=cached_seconds,
        float32_tokens=exact_lm.stats.forward_tokens, fast_float32_tokens=report["float32_forward_tokens"],
        fast_bf16_tokens=report["bf16_forward_tokens"], cached_rescored_documents=cached["rescored_documents"],
        cached_float32_tokens=cached["float32_forward_tokens"], cached_bf16_tokens=cached["bf16_forward_tokens"])
    print(f"{name}: float32 {float32_seconds:.1f}s, fast-exact {fast_seconds:.1f}s ({result.speedup:.2f}x; "
          f"bound cached {cached_seconds:.1f}s, {result.cached_speedup:.2f}x), re-scored "
          f"{result.rescored_documents}/{result.docs} (cached: {result.cached_rescored_documents}), "
          f"identical {result.decisions_identical:.4f}", flush=True)
    return result


def _fast_bf16(device: str) -> bool:
    from evalkit.scoring.precision import fast_bf16_available

    return fast_bf16_available(device)


def _hflm(loaded: Any, args: argparse.Namespace) -> Any:
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=args.hf_batch_size)


def _timed(lm: Any, instances: list) -> tuple[list, float]:
    start = time.perf_counter()
    scores = lm.loglikelihood(instances)
    return scores, time.perf_counter() - start


def identical_metrics(task: Any, docs: list, instances: list, first: list, second: list) -> float:
    """Share of documents whose lm-eval process_results (acc, acc_norm, ...) are the same both ways."""
    def per_doc(scores: list) -> dict[int, list]:
        grouped: dict[int, list] = {}
        for inst, score in sorted(zip(instances, scores), key=lambda p: (p[0].doc_id, p[0].idx)):
            grouped.setdefault(inst.doc_id, []).append(score)
        return grouped

    a, b = per_doc(first), per_doc(second)
    same = sum(task.process_results(docs[d], a[d]) == task.process_results(docs[d], b[d]) for d in a)
    return same / max(1, len(a))


def render(report: dict) -> str:
    lines = [f"Model {report['model']} on {report['device']} (fast bf16: {report['fast_bf16']}), "
             f"{report['threads']} threads, limit {report['limit'] or 'none'}, safety factor "
             f"{report['safety_factor']}. fast-exact s: bound measured in the run (then cached: a later run).",
             "Break-even: bf16/float32 forward speed at which fast-exact reaches 2x (bound measured / cached).", "",
             "| task | docs | requests | HFLM fp32 s | evalkit fp32 s | fast-exact s | vs evalkit fp32 | vs HFLM "
             "| re-scored docs | calibration docs | decisions = fp32 | bound c | fp32 / bf16 tokens of fast-exact "
             "(fp32 path) | break-even |", "|" + "---|" * 14]
    for t in report["tasks"]:
        hf = f"{t['hf_seconds']:.1f}" if t["hf_seconds"] else "-"
        vs = f"{t['vs_hflm']:.2f}x" if t["vs_hflm"] else "-"
        bound = f"{t['bound_coefficient']:.2e}" if t["bound_coefficient"] is not None else "-"
        even = " / ".join(f"{t[k]:.2f}x" if t[k] else "never" for k in ("break_even", "cached_break_even"))
        lines.append(f"| {t['task']} | {t['docs']} | {t['requests']} | {hf} | {t['float32_seconds']:.1f} "
                     f"| {t['fast_seconds']:.1f} (then {t['cached_seconds']:.1f}) | **{t['speedup']:.2f}x** "
                     f"(then {t['cached_speedup']:.2f}x) | {vs} "
                     f"| {t['rescored_documents'] / t['docs']:.1%} "
                     f"(then {t['cached_rescored_documents'] / t['docs']:.1%}) "
                     f"| {t['calibration_documents']} "
                     f"| {t['decisions_identical']:.4f} | {bound} | {t['fast_float32_tokens']:,} / "
                     f"{t['fast_bf16_tokens']:,} ({t['float32_tokens']:,}) | {even} |")
    return "\n".join(lines) + "\n"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="documents per task (default: all)")
    parser.add_argument("--tasks", nargs="+", default=[t for t, _ in TASKS], choices=[t for t, _ in TASKS])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--hf-batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-hflm", action="store_true", help="skip the HFLM float32 side")
    parser.add_argument("--keep-home", action="store_true",
                        help="reuse the bounds cached in EVALKIT_HOME (default: measure afresh)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
