"""`--precision`: float32 decisions at bfloat16 speed ("fast-exact"), and when it applies.

fast-exact scores every multiple-choice request in bfloat16, then re-scores in float32 every
document whose decision could differ from float32's: a document is safe only when, for every
decision its metrics make (acc: argmax of the summed log-likelihoods; acc_norm: of the sums
divided by the choice's length in characters; acc_bytes: in UTF-8 bytes), the bfloat16 winner
beats every other choice by more than the measured bound on the error of that difference
(calibration.py: choices of one document share their context, so most bf16 error cancels in it).
What has no argmax decision is scored in float32 as `exact` does: loglikelihood_rolling
(perplexity is a continuous value), plain loglikelihood tasks (their `acc` is the greedy flag),
multiple-choice metrics that read values (brier_score, likelihood, exact_match,
acc_mutual_info), custom process_results or filters, encoder-decoder models, and generation.
Nothing here imports torch at module level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.errors import InputError

PRECISIONS = ("exact", "fast-exact")
PRECISION_CHOICES = ("auto", *PRECISIONS)  # auto: fast-exact where measured safe (default_precision)
# The default stays `exact`: bench/precision_fast_exact.py shows float32 decisions on every
# document but no gain on SmolLM2-135M (a sound bound re-scores ~60% of documents, so float32
# work alone exceeds half of exact's; README). Flip this only when the bench shows >= 2x.
FAST_EXACT_MEASURED_SAFE = False
# Decisions lm-eval's multiple-choice process_results makes by argmax, and what each divides by.
DECISION_METRICS = {"acc": "raw", "f1": "raw", "mcc": "raw", "acc_norm": "chars", "acc_bytes": "bytes"}
PRECISION_HELP = ("exact: compute at --dtype. fast-exact: score multiple-choice requests in bfloat16 and "
                  "re-score in float32 the documents whose decision is within the measured bf16 error, so "
                  "every decision equals float32's (needs a float32 model and fast bf16 hardware).")


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a run's cells use and the dtype their model is loaded with."""

    precision: str
    dtype: str


def resolve_precision(precision: str, dtype: str, device: str) -> PrecisionChoice:
    """`--precision` with `--dtype` and `--device`, checked at the door (before any model loads):
    auto becomes default_precision where the dtype allows it, fast-exact needs float32 (or auto)
    and a device with fast bf16; InputError (exit 2) otherwise."""
    if precision == "auto":
        usable = FAST_EXACT_MEASURED_SAFE and dtype in ("auto", "float32")
        precision = default_precision(resolved_device(device)) if usable else "exact"
    load_dtype = check_precision(precision, dtype)
    if precision == "fast-exact":
        check_fast_bf16(resolved_device(device))
    return PrecisionChoice(precision, load_dtype)


def resolved_device(device: str) -> str:
    """`auto` as evalkit.models.loading resolves it (cuda, then mps, then cpu)."""
    if device != "auto":
        return device
    from evalkit.models.loading import resolve_device

    return resolve_device(device)


def check_precision(precision: str, dtype: str) -> str:
    """The dtype to load the model with for `precision`; InputError (exit 2) when the two conflict.
    fast-exact decides in float32, so its model is float32 (`auto` included)."""
    if precision not in PRECISIONS:
        raise InputError(f"Unknown --precision '{precision}'.", hint=f"Use one of: {', '.join(PRECISIONS)}.")
    if precision == "exact":
        return dtype
    if dtype not in ("auto", "float32"):
        raise InputError(f"--precision fast-exact computes float32 decisions, but --dtype {dtype} was given.",
                         hint="Leave --dtype at auto (or float32) with fast-exact, or use --precision exact "
                              f"to compute everything in {dtype}.")
    return "float32"


def check_fast_bf16(device: str) -> None:
    """InputError when `device` has no fast bfloat16 arithmetic (fast-exact would only be slower)."""
    if not fast_bf16_available(device):
        raise InputError(f"--precision fast-exact needs fast bfloat16 arithmetic, which device '{device}' lacks "
                         "(CPU: avx512_bf16 or amx_bf16; CUDA: bf16 support).",
                         hint="Use --precision exact (float32 decisions at float32 speed) on this machine.")


def fast_bf16_available(device: str) -> bool:
    """True on a CPU with avx512_bf16/amx_bf16 (Linux flags) and on CUDA devices with bf16."""
    kind = device.split(":", 1)[0]
    if kind == "cpu":
        return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
    if kind == "cuda":
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return False


def cpu_flags() -> set[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def default_precision(device: str) -> str:
    """fast-exact where bf16 is fast and it was measured safe (FAST_EXACT_MEASURED_SAFE), else exact."""
    return "fast-exact" if FAST_EXACT_MEASURED_SAFE and fast_bf16_available(device) else "exact"


@dataclass(frozen=True)
class DecisionRule:
    """The argmax decisions a multiple-choice task's metrics make, and how to read its choices."""

    task: Any  # lm-eval ConfigurableTask: doc_to_choice gives the lengths lm-eval divides by
    divisors: tuple[str, ...]  # "raw", "chars", "bytes"

    def choice_lengths(self, doc: dict) -> list[list[float]]:
        """One divisor vector per decision, as lm-eval's process_results computes them."""
        choices = [str(c) for c in self.task.doc_to_choice(doc)]
        vectors = {"raw": [1.0] * len(choices), "chars": [float(len(c)) for c in choices],
                   "bytes": [float(len(c.encode("utf-8"))) for c in choices]}
        return [vectors[d] for d in self.divisors]


def decision_rule(task: Any) -> DecisionRule | None:
    """The task's decision rule, or None when fast-exact does not apply (score in float32)."""
    config = getattr(task, "config", None)
    if getattr(task, "OUTPUT_TYPE", None) != "multiple_choice" or config is None:
        return None
    if callable(getattr(config, "process_results", None)) or getattr(config, "filter_list", None):
        return None
    metrics = list(getattr(task, "_metric_fn_list", {}).keys())
    if not metrics or any(m not in DECISION_METRICS for m in metrics):
        return None
    divisors = tuple(dict.fromkeys(DECISION_METRICS[m] for m in metrics))
    return DecisionRule(task, divisors)


PairError = Callable[[int, int], float]  # (i, j) -> bound on the error of scaled[i] - scaled[j]


def decision_is_safe(values: Sequence[float], divisors: Sequence[float], pair_error: PairError) -> bool:
    """True when argmax(values / divisors) is certainly float32's argmax: the bf16 winner beats every
    other choice j by more than the bound on the error of that difference (pair_error(best, j), in
    the divided units). A tie, NaN or a zero length is never safe."""
    if len(values) < 2:
        return len(values) == 1 and math.isfinite(values[0])
    if any(d <= 0 for d in divisors) or not all(math.isfinite(v) for v in values):
        return False
    scaled = [v / d for v, d in zip(values, divisors)]
    best = max(range(len(scaled)), key=lambda i: scaled[i])
    return all(scaled[best] - scaled[j] > pair_error(best, j) for j in range(len(scaled)) if j != best)


def document_is_safe(rule: DecisionRule, doc: dict, values: Sequence[float], n_tokens: Sequence[int],
                     bound: Callable[[int, float, int, float], float]) -> bool:
    """Every decision the rule's metrics make on this document is certain (see decision_is_safe);
    bound(n_i, L_i, n_j, L_j) is the error bound of v_i/L_i - v_j/L_j (calibration.ErrorBound.pair)."""
    lengths = rule.choice_lengths(doc)
    if any(len(vector) != len(values) for vector in lengths):
        return False  # not the shape process_results expects (e.g. unconditional requests): re-score
    return all(decision_is_safe(values, vector, lambda i, j, L=vector: bound(n_tokens[i], L[i], n_tokens[j], L[j]))
               for vector in lengths)
