from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tiny_lm(tiny_model_dir: Path) -> tuple[Any, Any]:
    """The tiny random Llama and its tokenizer, loaded once (read-only)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def tiny_hflm(tiny_lm: tuple[Any, Any]) -> Any:
    """lm-eval's own HFLM on the same model object: the reference."""
    from lm_eval.models.huggingface import HFLM

    model, tokenizer = tiny_lm
    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4)


def instances(request_type: str, args: list[tuple]) -> list[Any]:
    from lm_eval.api.instance import Instance

    return [Instance(request_type, {}, a if isinstance(a, tuple) else (a,), i) for i, a in enumerate(args)]
