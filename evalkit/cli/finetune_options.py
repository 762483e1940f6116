"""The --ft-* options of `evalkit run` (used by the fine-tuned settings), and --transfer."""

from __future__ import annotations

import math
from typing import Any, Callable

import click

from evalkit.plan import FINETUNE_METHODS, FINETUNE_OBJECTIVES, FineTuneOptions
from evalkit.plan.settings import ALL_SOURCES, TRANSFER_PREFIX

_DEFAULTS = FineTuneOptions()


class PositiveFinite(click.ParamType):
    """A number above 0 that is neither NaN nor infinite (click's FloatRange lets both through)."""

    name = "FLOAT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number.", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} must be a positive finite number.", param, ctx)
        return number

_OPTIONS = [
    click.option("--train-split", default=None, help="Split to fine-tune on (default: the task's training_split)."),
    click.option("--ft-max-examples", type=click.IntRange(min=1), default=_DEFAULTS.max_examples, show_default=True,
                 help="Use at most this many training examples (a seeded sample)."),
    click.option("--ft-method", type=click.Choice(FINETUNE_METHODS), default=_DEFAULTS.method, show_default=True),
    click.option("--ft-objective", type=click.Choice(FINETUNE_OBJECTIVES), default=_DEFAULTS.objective,
                 show_default=True, help="auto: choice-ce for multiple-choice tasks, nll otherwise."),
    click.option("--ft-epochs", type=PositiveFinite(), default=_DEFAULTS.epochs, show_default=True),
    click.option("--ft-max-steps", type=click.IntRange(min=1), default=None,
                 help="Train exactly this many optimiser steps (overrides --ft-epochs)."),
    click.option("--ft-lr", type=PositiveFinite(), default=None,
                 help="Learning rate (default: 3e-3 for LoRA, 2e-5 for full fine-tuning)."),
    click.option("--ft-batch-size", type=click.IntRange(min=1), default=_DEFAULTS.batch_size, show_default=True),
    click.option("--ft-grad-accum", type=click.IntRange(min=1), default=_DEFAULTS.grad_accum, show_default=True,
                 metavar="N", help="Split each batch into N micro-batches per process (gradient accumulation): "
                                   "the same optimiser step with less memory; --ft-batch-size stays the batch of "
                                   "one step, over all processes."),
    click.option("--ft-lora-r", type=click.IntRange(min=1), default=_DEFAULTS.lora_r, show_default=True),
    click.option("--ft-eval-steps", type=click.IntRange(min=1), default=None, metavar="N",
                 help="Also evaluate the fine-tuned setting's adapter every N optimiser steps (settings "
                      "fine-tuned@step:N; see `evalkit trajectory RUN`)."),
    click.option("--transfer", is_flag=True,
                 help="The transfer matrix: zero-shot on every task, and for each task with a training split, "
                      "fine-tune on it and evaluate every task (see `evalkit transfer RUN`)."),
    click.option("--retrain", is_flag=True, help="Ignore cached fine-tuned adapters and train again."),
    click.option("--keep-overlap", is_flag=True,
                 help="Keep training examples that also appear in the evaluation split (excluded by default)."),
]


def finetune_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def finetune_options_from(values: dict[str, Any]) -> FineTuneOptions:
    return FineTuneOptions(
        method=values["ft_method"], objective=values["ft_objective"], epochs=values["ft_epochs"],
        max_steps=values["ft_max_steps"], lr=values["ft_lr"], batch_size=values["ft_batch_size"],
        lora_r=values["ft_lora_r"], max_examples=values["ft_max_examples"], train_split=values["train_split"],
        retrain=values["retrain"], exclude_overlap=not values["keep_overlap"], eval_steps=values["ft_eval_steps"],
        grad_accum=values["ft_grad_accum"])


def with_transfer(settings: list[str], transfer: bool) -> list[str]:
    """--transfer adds zero-shot (the baseline) and fine-tuned-on:* (one row per task with a training split)."""
    if not transfer:
        return settings
    return list(dict.fromkeys([*settings, "zero-shot", f"{TRANSFER_PREFIX}{ALL_SOURCES}"]))
