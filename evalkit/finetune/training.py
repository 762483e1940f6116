"""The training loop on accelerate: AdamW with transformers' linear warm-up/decay schedule,
seeded shuffling, gradient clipping, gradient accumulation, DDP under a multi-process launch,
progress with the running loss, and TensorBoard scalars.

A small custom loop rather than transformers' Trainer: the choice-ce objective scores several
(context, choice) rows per example and takes a softmax across them, and the fast forward packs
prefix tries with a 4D mask and projects only scored positions onto the vocabulary; Trainer's
one-sequence-one-label batches express neither without overriding its collator, sampler and
loss anyway. accelerate supplies the rest of what Trainer would (device and process handling,
DDP, autocast); the loop reports progress through evalkit's own sink.

The training examples are not put through accelerate's sharded DataLoader: its even_batches
repeats examples to equalise the processes' batches, which would change the loss. Every process
computes the same seeded batch order instead and takes its own share of each batch (`micro_batches`).
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from evalkit.finetune.objectives import EncodedExample, objective_count, objective_sum, reference_loss
from evalkit.finetune.scored import forward_inputs, make_forward

log = logging.getLogger(__name__)

Report = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainingPlan:
    """Every resolved hyper-parameter of one fine-tuning run (part of the cache key)."""

    method: str
    objective: str
    lr: float
    epochs: float
    max_steps: int | None
    batch_size: int
    seed: int
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    scheduler: str = "linear"
    autocast: str | None = None  # "bfloat16": matmuls in bf16 under torch.autocast, weights fp32
    length_bucketing: bool = True

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        if self.method != "lora":
            for key in ("lora_r", "lora_alpha", "lora_dropout", "target_modules"):
                data.pop(key)
        return data

    def total_steps(self, n_examples: int) -> int:
        return total_steps(n_examples, epochs=self.epochs, max_steps=self.max_steps, batch_size=self.batch_size)


def total_steps(n_examples: int, *, epochs: float, max_steps: int | None, batch_size: int) -> int:
    """max_steps when set (overriding epochs, as in transformers' TrainingArguments), else
    epochs x batches per epoch (also used at the door, before any model is loaded)."""
    if max_steps:
        return max_steps
    return max(1, math.ceil(epochs * math.ceil(n_examples / batch_size)))


def epoch_at(step: int, n_examples: int, batch_size: int) -> float:
    """Epochs completed after `step` optimiser steps (fractional, as Trainer's state reports it)."""
    return round(step / max(1, math.ceil(n_examples / batch_size)), 6)


Snapshot = Callable[[Any, int, "TrainingResult"], None]


@dataclass
class TrainingResult:
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    tokens: list[int] = field(default_factory=list)  # input tokens seen after each step (cumulative)

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def tokens_seen(self) -> int:
        return self.tokens[-1] if self.tokens else 0


def train(model: Any, examples: Sequence[EncodedExample], plan: TrainingPlan, *, pad_id: int,
          report: Report, writer: Any | None = None, snapshot_at: Sequence[int] = (),
          snapshot: Snapshot | None = None, grad_accum: int = 1) -> TrainingResult:
    """Optimise the model's trainable parameters on the examples; returns the loss per step.

    The loop runs on an accelerate.Accelerator: under a multi-process launch the model is wrapped
    for DDP, every process computes the same seeded batch order and takes its share of each batch
    (every `size`-th example), and gradients are averaged across processes. Each share is split
    into `grad_accum` micro-batches whose gradients accumulate before the one optimiser step. Every
    piece's loss is its sum divided by the whole step's count (answer tokens or examples), so the
    step's gradient is the one-process, one-batch gradient whatever the layout.
    After each step in `snapshot_at`, `snapshot(model, step, result)` saves what was learned so far
    (it must neither draw random numbers nor touch the optimiser, so training is unchanged)."""
    import torch
    from transformers import get_scheduler

    torch.manual_seed(plan.seed)
    device = next(model.parameters()).device
    kind = choose_forward(model, examples[:_PROBE_EXAMPLES], plan.objective, pad_id)
    accelerator, autocast = _accelerator(plan, device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=plan.lr, weight_decay=plan.weight_decay)
    total = plan.total_steps(len(examples))
    scheduler = get_scheduler(plan.scheduler, optimizer, num_warmup_steps=int(plan.warmup_ratio * total),
                              num_training_steps=total)
    forward, prepared_optimizer = accelerator.prepare(make_forward(kind, model), optimizer)
    step_of = StepRunner(forward, accelerator, autocast, kind, plan.objective, pad_id, device, grad_accum,
                         _mask_dtype(model))
    result = TrainingResult()
    start = time.perf_counter()
    model.train()
    report("fine-tuning", 0, total)
    for step, indices in enumerate(batch_order(examples, plan, total), start=1):
        loss = step_of([examples[i] for i in indices])
        accelerator.clip_grad_norm_(params, plan.max_grad_norm)
        prepared_optimizer.step()
        scheduler.step()
        prepared_optimizer.zero_grad(set_to_none=True)
        result.losses.append(loss)
        result.tokens.append(result.tokens_seen + sum(len(r) for i in indices for r in examples[i].rows))
        if snapshot is not None and step in snapshot_at:
            snapshot(model, step, result)
        _log_step(writer, step, result.losses[-1], scheduler.get_last_lr()[0])
        report(f"fine-tuning · loss {_smoothed(result.losses):.4f}", step, total)
    model.eval()
    accelerator.free_memory()
    result.seconds = round(time.perf_counter() - start, 3)
    return result


_PROBE_EXAMPLES = 4
# The packed forward must reproduce the plain loss this closely (float32, no autocast) on the probe.
_PROBE_TOLERANCE = 1e-4


def choose_forward(model: Any, probe: Sequence[EncodedExample], objective: str, pad_id: int) -> str:
    """'packed' when the packed, head-at-scored-positions forward reproduces the plain full-logits
    loss (objectives.reference_loss) on the probe examples, else 'padded'. No random numbers are
    drawn (eval mode, no gradients), so training is the same with or without the probe."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            forward = make_forward("packed", model)
            inputs = forward_inputs("packed", probe, pad_id, _mask_dtype(model), next(model.parameters()).device)
            got = float(objective_sum(objective, forward(**inputs), probe)) / objective_count(probe, objective)
            want = float(reference_loss(model, probe, objective))
    except Exception as exc:  # noqa: BLE001 - any failure of the packed pass means "use the fallback"
        log.debug("packed training forward unavailable: %s", exc)
        return "padded"
    finally:
        model.train(was_training)
    if abs(got - want) > _PROBE_TOLERANCE * max(1.0, abs(want)):
        log.debug("packed training forward differs from the plain loss (%s vs %s)", got, want)
        return "padded"
    return "packed"


class StepRunner:
    """Forward and backward of one optimiser step's examples on this process; returns the step's
    loss (over all processes)."""

    def __init__(self, forward: Any, accelerator: Any, autocast: Callable[[], Any], kind: str, objective: str,
                 pad_id: int, device: Any, grad_accum: int, mask_dtype: Any) -> None:
        self.forward, self.accelerator, self.autocast = forward, accelerator, autocast
        self.kind, self.objective, self.pad_id, self.device = kind, objective, pad_id, device
        self.grad_accum, self.mask_dtype = grad_accum, mask_dtype

    def __call__(self, batch: list[EncodedExample]) -> float:
        import torch

        accelerator = self.accelerator
        count = objective_count(batch, self.objective)
        pieces = micro_batches(batch, accelerator.process_index, accelerator.num_processes, self.grad_accum)
        total = torch.zeros((), device=self.device)
        for number, (piece, weight) in enumerate(pieces, start=1):
            syncing = number == len(pieces)
            with nullcontext() if syncing else accelerator.no_sync(self.forward):
                with self.autocast():
                    logprobs = self.forward(**forward_inputs(self.kind, piece, self.pad_id, self.mask_dtype,
                                                             self.device))
                part = objective_sum(self.objective, logprobs, piece) * (weight / count)
                # DDP averages the processes' gradients: scaling by their number makes it a sum.
                accelerator.backward(part * accelerator.num_processes)
            total += part.detach()
        if accelerator.num_processes > 1:
            total = accelerator.reduce(total, reduction="sum")
        return float(total)


def micro_batches(batch: Sequence[EncodedExample], rank: int, size: int,
                  grad_accum: int) -> list[tuple[list[EncodedExample], float]]:
    """This process's share of a step's batch (every `size`-th example from `rank`), cut into
    `grad_accum` micro-batches, each with its weight in the loss (1.0). A piece left empty (fewer
    examples than pieces) runs the first example with weight 0.0: every process must run the same
    number of forward and backward passes, or DDP's gradient exchange would wait forever."""
    share = list(batch[rank::size])
    pieces = []
    for k in range(grad_accum):
        piece = share[k::grad_accum]
        pieces.append((piece, 1.0) if piece else ([batch[0]], 0.0))
    return pieces


def _accelerator(plan: TrainingPlan, device: Any) -> tuple[Any, Callable[[], Any]]:
    """An Accelerator for this model's device (weights stay where they are) and the autocast
    context for the plan's precision. accelerate keeps one process-wide state whose mixed
    precision cannot change once set; when an earlier Accelerator of this process fixed another,
    its own autocast is switched off and torch.autocast applies the plan's precision instead."""
    from accelerate import Accelerator
    from accelerate.utils import AutocastKwargs

    wanted = "bf16" if plan.autocast == "bfloat16" else "no"
    try:
        accelerator = Accelerator(mixed_precision=wanted, cpu=device.type == "cpu", device_placement=False)
        return accelerator, accelerator.autocast
    except ValueError:
        accelerator = Accelerator(device_placement=False, kwargs_handlers=[AutocastKwargs(enabled=False)])
        return accelerator, lambda: _autocast(plan.autocast, device)


def _mask_dtype(model: Any) -> Any:
    return next(model.parameters()).dtype


def batch_order(examples: Sequence[EncodedExample], plan: TrainingPlan, total: int) -> list[list[int]]:
    """`total` batches of example indices: a seeded shuffle per epoch, and (when bucketing)
    batches formed from length-sorted windows of 8 batches, so little compute goes to padding."""
    import torch

    generator = torch.Generator().manual_seed(plan.seed)
    batches: list[list[int]] = []
    while len(batches) < total:
        order = torch.randperm(len(examples), generator=generator).tolist()
        epoch = _bucketed(order, examples, plan.batch_size) if plan.length_bucketing else \
            [order[i:i + plan.batch_size] for i in range(0, len(order), plan.batch_size)]
        shuffled = torch.randperm(len(epoch), generator=generator).tolist()
        batches.extend(epoch[i] for i in shuffled)
    return batches[:total]


def _bucketed(order: list[int], examples: Sequence[EncodedExample], size: int) -> list[list[int]]:
    window = size * 8
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: max(len(r) for r in examples[i].rows))
        batches.extend(chunk[i:i + size] for i in range(0, len(chunk), size))
    return batches


def autocast_dtype(device: str, dtype: str) -> str | None:
    """bfloat16 autocast when the weights are float32 and the hardware computes bf16 natively
    (measured: about 3x faster training on an avx512_bf16 CPU); otherwise None."""
    import torch

    if dtype != "float32":
        return None
    if device == "cpu":
        return "bfloat16" if _cpu_has_native_bf16() else None
    if device == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bfloat16"
    return None


def _cpu_has_native_bf16() -> bool:
    """avx512_bf16 or amx_bf16 among the CPU flags (Linux); elsewhere assume not."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _autocast(dtype: str | None, device: Any) -> Any:
    import torch

    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, dtype))


def _smoothed(losses: list[float], window: int = 10) -> float:
    recent = losses[-window:]
    return sum(recent) / len(recent)


def _log_step(writer: Any | None, step: int, loss: float, lr: float) -> None:
    if writer is not None:
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/learning_rate", lr, step)
