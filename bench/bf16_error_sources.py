"""Where bf16's error in a decision comes from: the margin error of three bf16 arrangements.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/bf16_error_sources.py CHECKPOINT [--task sst2] [--limit 100]

Each request (context + continuation) of the task's first --limit validation documents is scored
one at a time (no batching, no padding: only the precision differs) with the float32 model and with
  bf16-cast    the whole model cast to bfloat16 (what `--precision fast-exact` runs),
  autocast     torch.autocast(bfloat16) over the float32 weights (float32 residual stream and norms),
  bf16-linear  bf16 weights and inputs only inside nn.Linear, float32 out and everywhere else.
Printed per arrangement: seconds, the error of every pairwise difference of two choices' log-
likelihoods against float32 (median, 95th percentile, worst; what a decision bound must cover), and
how many documents' argmax flips; beside the float32 median margin (best minus runner-up).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_support import load_task  # noqa: E402


def linear_only(model: Any) -> Any:
    """A copy of `model` whose nn.Linear layers compute in bf16 (weights and inputs), float32 out."""
    import torch

    class Bf16Linear(torch.nn.Module):
        def __init__(self, linear: Any) -> None:
            super().__init__()
            self.weight = linear.weight.detach().to(torch.bfloat16)
            self.bias = None if linear.bias is None else linear.bias.detach()

        def forward(self, x: Any) -> Any:
            y = torch.nn.functional.linear(x.to(torch.bfloat16), self.weight).float()
            return y if self.bias is None else y + self.bias

    copied = copy.deepcopy(model)
    for module in list(copied.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, Bf16Linear(child))
    return copied


def score(model: Any, tokenizer: Any, requests: list[tuple[str, str]], autocast: bool) -> list[float]:
    import torch

    values = []
    for context, continuation in requests:
        whole = tokenizer(context + continuation, add_special_tokens=False).input_ids
        n = len(whole) - len(tokenizer(context, add_special_tokens=False).input_ids)
        ids = torch.tensor([whole])
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            logits = model(ids).logits
        logprobs = torch.log_softmax(logits[0, -n - 1:-1].float(), -1)
        values.append(float(logprobs.gather(1, ids[0, -n:, None]).sum()))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.checkpoint)
    model = AutoModelForCausalLM.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
    _task, _docs, instances = load_task(ROOT / "tasks", args.task, "validation", args.limit)
    by_doc: dict[int, list[tuple[str, str]]] = {}
    for instance in instances:
        by_doc.setdefault(instance.doc_id, []).append(instance.args)
    sides = [("float32", model, False), ("bf16-cast", copy.deepcopy(model).to(torch.bfloat16), False),
             ("autocast", model, True), ("bf16-linear", linear_only(model), False)]
    scored: dict[str, tuple[dict[int, list[float]], float]] = {}
    for label, side, autocast in sides:
        start = time.perf_counter()
        scored[label] = ({d: score(side, tokenizer, r, autocast) for d, r in by_doc.items()},
                         time.perf_counter() - start)
    exact = scored["float32"][0]
    margins = [sorted(v)[-1] - sorted(v)[-2] for v in exact.values() if len(v) > 1]
    print(f"{args.task}: {len(exact)} documents; float32 {scored['float32'][1]:.1f} s, "
          f"median margin {statistics.median(margins):.4f}")
    for label, _side, _autocast in sides[1:]:
        values, seconds = scored[label]
        errors, flips = [], 0
        for doc, reference in exact.items():
            fast = values[doc]
            errors += [abs((fast[i] - fast[j]) - (reference[i] - reference[j]))
                       for i in range(len(fast)) for j in range(i + 1, len(fast))]
            flips += max(range(len(fast)), key=fast.__getitem__) != max(range(len(reference)), key=reference.__getitem__)
        errors.sort()
        print(f"{label:12s} {seconds:6.1f} s  pair-difference error median {statistics.median(errors):.4f} "
              f"p95 {errors[int(0.95 * (len(errors) - 1))]:.4f} worst {errors[-1]:.4f}  flips {flips}/{len(exact)}")


if __name__ == "__main__":
    main()
