"""LoRA (through peft) and full fine-tuning: making a trainable copy of the base model, saving
what was learned, and rebuilding the fine-tuned model from the cache.

The base model is never modified: the runner reuses it for the next cells (e.g. the same
task's zero-shot cell), so training always happens on a deep copy.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from evalkit.finetune.training import TrainingPlan


def trainable_copy(base: Any, plan: TrainingPlan) -> Any:
    """A deep copy of the base model, wrapped with fresh LoRA weights or fully trainable."""
    import torch

    torch.manual_seed(plan.seed)  # LoRA initialisation is random
    model = copy.deepcopy(base)
    if plan.method == "full":
        for param in model.parameters():
            param.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    targets = "all-linear" if plan.target_modules == ("all-linear",) else list(plan.target_modules)
    config = LoraConfig(task_type="CAUSAL_LM", r=plan.lora_r, lora_alpha=plan.lora_alpha,
                        lora_dropout=plan.lora_dropout, target_modules=targets)
    return get_peft_model(model, config)


def save_trained(model: Any, directory: Path) -> None:
    """LoRA: the adapter only (a few MB); full: the whole checkpoint."""
    model.save_pretrained(directory)


def for_evaluation(trained: Any, plan: TrainingPlan) -> Any:
    """The model the scoring backend sees: LoRA weights merged into the copy (a plain
    transformers model again, so evaluation costs what the base model's does)."""
    model = trained.merge_and_unload() if plan.method == "lora" else trained
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def load_trained(base: Any, directory: Path, plan: TrainingPlan) -> Any:
    """Rebuild the fine-tuned model from a cached adapter (on a copy of base) or checkpoint."""
    if plan.method == "lora":
        from peft import PeftModel

        return for_evaluation(PeftModel.from_pretrained(copy.deepcopy(base), str(directory)), plan)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(directory), dtype=base.dtype)
    return for_evaluation(model.to(base.device), plan)
