"""Brief LoRA fine-tuning of the real SmolLM2-135M on SST-2: the loss on held-out documents falls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm(real_model_home: Path) -> Any:
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVALKIT_HOME", str(real_model_home))
        return load_model(resolve_model_spec("smollm2-135m", dtype="float32", device="cpu"))


def _held_out_loss(model: Any, examples: Any) -> float:
    import torch

    from evalkit.finetune.objectives import reference_loss

    with torch.no_grad():
        return float(reference_loss(model, examples, "choice-ce"))


def test_twelve_lora_steps_on_sst2_reduce_the_held_out_loss(smollm: Any, sink: Any) -> None:
    from evalkit.finetune import finetuned_model
    from evalkit.finetune.examples import render_example
    from evalkit.finetune.objectives import PairEncoder
    from evalkit.plan import Cell, FineTuneOptions
    from evalkit.scoring import make_backend
    from evalkit.plan.settings import Setting
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    task = load_task(TaskRegistry.discover().resolve("sst2"))
    options = FineTuneOptions(max_steps=12, batch_size=8, max_examples=400)
    cell = Cell(smollm.spec, "sst2", Setting(fine_tuned=True), 64, 1234, 16, options)
    tuned, adapter, details = finetuned_model(smollm, task, cell, sink)
    assert details["train_steps"] == 12 and details["cache_hit"] is False and details["objective"] == "choice-ce"
    assert Path(adapter, "adapter_model.safetensors").is_file()

    encoder = PairEncoder(make_backend(smollm))
    held_out = [render_example(task, doc, i, 0) for i, doc in enumerate(list(task.task.eval_docs)[:40])]
    examples = [encoder.encode_example(e, gold_only=False) for e in held_out]
    before, after = _held_out_loss(smollm.model, examples), _held_out_loss(tuned.model, examples)
    assert after < before - 0.05, (before, after)
