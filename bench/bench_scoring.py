"""Benchmark evalkit's scoring backend against lm-eval's HFLM, in one process, on one model.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/bench_scoring.py [--limit N]

For each task (sst2 dev, arc_easy dev, openbookqa validation, hellaswag 500-doc subset) the
two backends run alternately on the same float32 model object and the same lm-eval requests.
Printed and written to reports/bench/scoring.{md,json}: requests; tokens each side pushed
through the decoder (counted by one hook on the decoder, padding included); distinct tokens
(the issue's count: each distinct context once plus every continuation token) and trie inputs
(the prefix trie of all model inputs, the least any exact method feeds the model); wall
seconds; speed ratio; accuracy each side (lm-eval's process_results); per-document agreement;
and the compute floor, trie inputs / the peak throughput of evalkit's own forward batches (every
batch of the run is timed, the fastest are timed again at the end, the best tokens/s counts), so
"evalkit / floor" is at least 1 and says how far the whole backend is from running only the
unavoidable tokens at its best speed. A bfloat16 pass of evalkit follows (speed, agreement with float32). Heavy (~15 min on 2 cores): run it alone on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_support import (  # noqa: E402
    ForwardProbe, TokenCounter, accuracy, agreement, distinct_tokens, load_task, render_markdown,
    token_requests, trie_inputs,
)

# (task, split evaluated): the benchmark set.
TASKS = [("sst2", "validation"), ("arc_easy", "validation"), ("openbookqa", "validation"),
         ("hellaswag", "validation")]


@dataclass
class TaskResult:
    task: str
    docs: int
    requests: int
    distinct_tokens: int
    trie_inputs: int
    hf_tokens: int = 0
    evalkit_tokens: int = 0
    hf_seconds: float = 0.0
    evalkit_seconds: float = 0.0
    hf_acc: dict[str, float] = field(default_factory=dict)
    evalkit_acc: dict[str, float] = field(default_factory=dict)
    doc_agreement: float = 0.0
    max_abs_diff: float = 0.0
    floor_seconds: float = 0.0
    bf16_seconds: float | None = None
    bf16_acc: dict[str, float] | None = None
    bf16_agreement: float | None = None

    @property
    def speedup(self) -> float:
        return self.hf_seconds / self.evalkit_seconds if self.evalkit_seconds else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    torch.set_num_threads(args.threads)
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec

    loaded = load_model(resolve_model_spec(args.model, dtype=args.dtype, device="cpu"))
    load_before = os.getloadavg()
    selected = [(name, split) for name, split in TASKS if name in args.tasks]
    results = [_run_task(loaded, name, split, args) for name, split in selected]
    peak = _peak(args.probes)
    print(f"peak forward throughput: {peak['tokens_per_s']:.0f} tokens/s (batch {peak['shape']})", flush=True)
    for result in results:
        result.floor_seconds = result.trie_inputs / peak["tokens_per_s"]
    if not args.no_bf16:
        _bf16_pass(args, results)
    report = {"model": args.model, "dtype": args.dtype, "threads": args.threads, "limit": args.limit,
              "hf_batch_size": args.hf_batch_size, "chunk_docs": args.chunk_docs, "peak_tokens_per_s": peak,
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "tasks": [asdict(r) | {"speedup": r.speedup} for r in results]}
    markdown = render_markdown(report)
    print(markdown)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scoring.json").write_text(json.dumps(report, indent=2))
    (out / "scoring.md").write_text(markdown)
    print(f"written: {out / 'scoring.md'}, {out / 'scoring.json'}")
    return 0


def _run_task(loaded: Any, name: str, split: str, args: argparse.Namespace) -> TaskResult:
    from lm_eval.models.huggingface import HFLM

    from evalkit.scoring import EvalkitLM

    task, docs, instances = load_task(ROOT / "tasks", name, split, args.limit)
    sides = {"hf": HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=args.hf_batch_size),
             "evalkit": EvalkitLM.from_loaded(loaded)}
    args.probes.append(ForwardProbe(sides["evalkit"]))
    requests = token_requests(sides["evalkit"], instances)
    result = TaskResult(task=name, docs=len(docs), requests=len(instances), distinct_tokens=distinct_tokens(requests),
                        trie_inputs=trie_inputs(requests, sides["evalkit"].max_length))
    runs = _alternate(sides, instances, args.chunk_docs, result)
    result.hf_acc = accuracy(task, docs, instances, runs["hf"])
    result.evalkit_acc = accuracy(task, docs, instances, runs["evalkit"])
    result.doc_agreement, result.max_abs_diff = agreement(instances, runs["hf"], runs["evalkit"])
    args.float32_runs[name] = (task, docs, instances, runs["evalkit"])
    print(f"{name}: HFLM {result.hf_seconds:.1f}s ({result.hf_tokens} tokens), evalkit {result.evalkit_seconds:.1f}s "
          f"({result.evalkit_tokens} tokens): {result.speedup:.2f}x", flush=True)
    return result


def _peak(probes: list[ForwardProbe]) -> dict[str, Any]:
    """The best tokens/s of any evalkit forward batch, over every task, after re-timing the fastest."""
    for probe in probes:
        probe.rerun()
        probe.remove()
    peaks = [probe.peak() for probe in probes]
    best = max(peaks, key=lambda p: p["tokens_per_s"])
    return {**best, "batches_timed": sum(p["batches_timed"] for p in peaks)}


def _chunks(instances: list, chunk_docs: int) -> list[list]:
    """Instances in runs of `chunk_docs` whole documents (all in one run when 0)."""
    if chunk_docs <= 0:
        return [instances]
    chunks: dict[int, list] = {}
    for inst in instances:
        chunks.setdefault(inst.doc_id // chunk_docs, []).append(inst)
    return [chunks[k] for k in sorted(chunks)]


def _alternate(sides: dict[str, Any], instances: list, chunk_docs: int, result: TaskResult) -> dict[str, list]:
    """Run both backends chunk by chunk, alternating which goes first, so that a change in the
    machine's load hits both alike. Returns each side's results in instance order."""
    chunks = _chunks(instances, chunk_docs)
    counter = TokenCounter(next(iter(sides.values())).model)
    runs: dict[str, list] = {side: [] for side in sides}
    for k, chunk in enumerate(chunks):
        for side in (["hf", "evalkit"] if k % 2 == 0 else ["evalkit", "hf"]):
            gc.collect()
            counter.reset()
            start = time.perf_counter()
            runs[side].extend(sides[side].loglikelihood(chunk))
            setattr(result, f"{side}_seconds", getattr(result, f"{side}_seconds") + time.perf_counter() - start)
            setattr(result, f"{side}_tokens", getattr(result, f"{side}_tokens") + counter.tokens)
    counter.remove()
    order = [inst for chunk in chunks for inst in chunk]
    position = {id(inst): i for i, inst in enumerate(order)}
    return {side: [scores[position[id(inst)]] for inst in instances] for side, scores in runs.items()}


def _bf16_pass(args: argparse.Namespace, results: list[TaskResult]) -> None:
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec
    from evalkit.scoring import EvalkitLM

    gc.collect()
    loaded = load_model(resolve_model_spec(args.model, dtype="bfloat16", device="cpu"))
    lm = EvalkitLM.from_loaded(loaded)
    for result in results:
        task, docs, instances, fp32 = args.float32_runs[result.task]
        start = time.perf_counter()
        scores = lm.loglikelihood(instances)
        result.bf16_seconds = time.perf_counter() - start
        result.bf16_acc = accuracy(task, docs, instances, scores)
        result.bf16_agreement, _ = agreement(instances, fp32, scores)
        print(f"  {result.task} bf16: {result.bf16_seconds:.1f}s agreement {result.bf16_agreement:.4f}", flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="documents per task (default: all)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--tasks", nargs="+", default=[t for t, _ in TASKS])
    parser.add_argument("--hf-batch-size", type=int, default=16)
    parser.add_argument("--chunk-docs", type=int, default=100,
                        help="alternate the backends every N documents (0: one run per backend and task)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-bf16", action="store_true", help="skip the bfloat16 pass")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    args = parser.parse_args(argv)
    args.float32_runs = {}
    args.probes = []
    return args


if __name__ == "__main__":
    raise SystemExit(main())
