"""Benchmark the shared-prefix cache: a 5-shot task with a fixed shot set, three backends, one process.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/shared_prefix.py --limit 150

The task is bench/tasks/arc_easy_first_n (the built-in arc_easy, 5-shot, lm-eval's
`fewshot_config: {sampler: first_n}`), loaded the way `evalkit run` loads it, evaluated on its
validation split. On the same float32 model object run, alternating every --chunk-docs documents:
lm-eval's HFLM (batch 16), evalkit with the prefix cache (the default) and evalkit without it
(today's path: prefix trie within each context only, EVALKIT_PREFIX_CACHE=off). Printed and
written to reports/bench/shared_prefix.{md,json}: seconds, tokens pushed through the decoder
(one hook on it, padding included), evalkit's own counters (prefix tokens computed once, prefix
tokens read from the cache), the speed ratios, lm-eval's accuracies, and the checks: every
per-request log-likelihood within 1e-4 of HFLM's and of the uncached path's, every is_greedy and
every per-document decision (acc, acc_norm) identical. Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_support import TokenCounter, accuracy, load_task  # noqa: E402

SIDES = ("hf", "evalkit", "evalkit_no_cache")
LABELS = {"hf": "lm-eval HFLM", "evalkit": "evalkit, prefix cache", "evalkit_no_cache": "evalkit, no prefix cache"}
TOLERANCE = 1e-4


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch
    from lm_eval.models.huggingface import HFLM

    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec
    from evalkit.scoring import EvalkitLM

    torch.set_num_threads(args.threads)
    loaded = load_model(resolve_model_spec(args.model, dtype="float32", device="cpu"))
    task, docs, instances = load_task(ROOT / "bench" / "tasks", args.task, "validation", args.limit)
    sides = {"hf": HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=args.hf_batch_size),
             "evalkit": EvalkitLM.from_loaded(loaded), "evalkit_no_cache": EvalkitLM.from_loaded(loaded)}
    sides["evalkit"]._causal.prefix_cache = True
    sides["evalkit_no_cache"]._causal.prefix_cache = False
    _warm_up(loaded.model)
    load_before = os.getloadavg()
    runs, seconds, tokens = _alternate(sides, instances, args.chunk_docs)
    report = {
        "model": args.model, "task": args.task, "docs": len(docs), "requests": len(instances),
        "threads": args.threads, "hf_batch_size": args.hf_batch_size, "chunk_docs": args.chunk_docs,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "sides": {side: {"seconds": round(seconds[side], 2), "decoder_tokens": tokens[side],
                         "speedup_vs_hf": round(seconds["hf"] / seconds[side], 2),
                         "acc": accuracy(task, docs, instances, runs[side]),
                         **({"counters": sides[side].stats.as_dict()} if side != "hf" else {})}
                  for side in SIDES},
        "checks": _checks(task, docs, instances, runs),
    }
    markdown = render(report)
    print(markdown)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "shared_prefix.json").write_text(json.dumps(report, indent=2))
    (out / "shared_prefix.md").write_text(markdown)
    print(f"written: {out / 'shared_prefix.md'}, {out / 'shared_prefix.json'}")
    return 0 if all(report["checks"]["passed"].values()) else 1


def _warm_up(model: Any) -> None:
    """One forward pass before any timing: the first one pays for paging the weights in."""
    import torch

    with torch.inference_mode():
        model(input_ids=torch.arange(100, 164)[None])


def _alternate(sides: dict[str, Any], instances: list, chunk_docs: int) -> tuple[dict, dict, dict]:
    """Each backend on every chunk of documents, the order rotating per chunk so that a change in
    the machine's load hits all alike. Results come back in instance order."""
    chunks: dict[int, list] = defaultdict(list)
    for inst in instances:
        chunks[inst.doc_id // chunk_docs if chunk_docs > 0 else 0].append(inst)
    counter = TokenCounter(sides["hf"].model)
    results: dict[str, dict[int, Any]] = {side: {} for side in SIDES}
    seconds = dict.fromkeys(SIDES, 0.0)
    tokens = dict.fromkeys(SIDES, 0)
    for k, key in enumerate(sorted(chunks)):
        chunk = chunks[key]
        for side in SIDES[k % 3:] + SIDES[: k % 3]:
            gc.collect()
            counter.reset()
            start = time.perf_counter()
            scores = sides[side].loglikelihood(chunk)
            seconds[side] += time.perf_counter() - start
            tokens[side] += counter.tokens
            results[side].update({id(inst): score for inst, score in zip(chunk, scores)})
        print(f"chunk {k + 1}/{len(chunks)}: " + ", ".join(f"{s} {seconds[s]:.1f}s" for s in SIDES), flush=True)
    counter.remove()
    runs = {side: [results[side][id(inst)] for inst in instances] for side in SIDES}
    return runs, seconds, tokens


def _checks(task: Any, docs: list, instances: list, runs: dict[str, list]) -> dict[str, Any]:
    """The cached path against HFLM and against the uncached path: log-likelihoods, greedy flags, decisions."""
    cached = runs["evalkit"]
    figures: dict[str, Any] = {"passed": {}}
    for other in ("hf", "evalkit_no_cache"):
        diff = max(abs(a[0] - b[0]) for a, b in zip(cached, runs[other]))
        same_greedy = all(a[1] == b[1] for a, b in zip(cached, runs[other]))
        same_decisions = _decisions(task, docs, instances, cached) == _decisions(task, docs, instances, runs[other])
        figures[f"max_abs_diff_vs_{other}"] = diff
        figures["passed"][f"loglikelihoods_vs_{other}"] = diff <= TOLERANCE
        figures["passed"][f"is_greedy_vs_{other}"] = same_greedy
        figures["passed"][f"decisions_vs_{other}"] = same_decisions
    return figures


def _decisions(task: Any, docs: list, instances: list, scores: list) -> dict[int, dict[str, float]]:
    """lm-eval's per-document metric values (acc, acc_norm: the decisions), by document."""
    grouped: dict[int, list] = defaultdict(list)
    for inst, score in sorted(zip(instances, scores), key=lambda p: (p[0].doc_id, p[0].idx)):
        grouped[inst.doc_id].append(score)
    return {doc_id: task.process_results(docs[doc_id], results) for doc_id, results in grouped.items()}


def render(report: dict) -> str:
    """The benchmark table as markdown."""
    hf = report["sides"]["hf"]
    lines = [
        f"{report['task']}: {report['docs']} documents, {report['requests']} requests; model {report['model']} "
        f"(float32), {report['threads']} threads, HFLM batch {report['hf_batch_size']}, backends alternating every "
        f"{report['chunk_docs']} documents; load average before/after "
        f"{report['load_average_before'][0]:.1f} / {report['load_average_after'][0]:.1f}.",
        "",
        "| backend | seconds | vs HFLM | decoder tokens | prefix tokens computed | prefix tokens read from cache "
        "| acc | acc_norm |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for side in SIDES:
        s = report["sides"][side]
        counters = s.get("counters", {})
        lines.append(f"| {LABELS[side]} | {s['seconds']:.1f} | {hf['seconds'] / s['seconds']:.2f}x "
                     f"| {s['decoder_tokens']:,} | {counters.get('prefix_tokens', '-')} "
                     f"| {counters.get('prefix_reused_tokens', '-')} | {s['acc'].get('acc', 0):.4f} "
                     f"| {s['acc'].get('acc_norm', 0):.4f} |")
    checks = report["checks"]
    lines += ["", f"max |Δ loglikelihood| cached vs HFLM {checks['max_abs_diff_vs_hf']:.1e}, vs uncached "
                  f"{checks['max_abs_diff_vs_evalkit_no_cache']:.1e}; checks: "
                  + ", ".join(f"{name} {'ok' if ok else 'FAILED'}" for name, ok in checks["passed"].items())]
    return "\n".join(lines) + "\n"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=150, help="documents (default 150)")
    parser.add_argument("--task", default="arc_easy_first_n", help="a task under bench/tasks")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--hf-batch-size", type=int, default=16)
    parser.add_argument("--chunk-docs", type=int, default=50,
                        help="rotate the backends every N documents (0: one run each)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
