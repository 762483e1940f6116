"""Fixtures: fake Trainer output directories (see tests/series/trainer_dirs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.series.trainer_dirs import STEPS, TrainerRun, trainer_state, write_state


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> TrainerRun:
    """Full checkpoints (different random weights per step); tokenizer in OUT and in checkpoint-9 only."""
    from tests.tiny_model import build_model, build_tokenizer

    out = tmp_path_factory.mktemp("full-run").resolve()
    tokenizer = build_tokenizer()
    tokenizer.save_pretrained(out)
    for step in STEPS:
        folder = out / f"checkpoint-{step}"
        build_model(len(tokenizer), seed=step).save_pretrained(folder)
        write_state(folder, trainer_state(step, tokens_in_state=False))
    tokenizer.save_pretrained(out / "checkpoint-9")
    return TrainerRun(out, STEPS)


@pytest.fixture(scope="session")
def adapter_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainerRun:
    """LoRA adapter checkpoints on `tiny_model_dir`, randomly initialised with a seed per step."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("adapter-run").resolve()
    for step in STEPS:
        folder = out / f"checkpoint-{step}"
        base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
        torch.manual_seed(step)
        config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        get_peft_model(base, config).save_pretrained(folder)
        write_state(folder, trainer_state(step, tokens_in_state=True))
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out / "checkpoint-5")
    return TrainerRun(out, STEPS)
