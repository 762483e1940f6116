"""Fine-tuning trains on prompts rendered as evaluation renders them: with a chat template, a
system instruction and multi-turn few-shot examples, the training contexts of documents equal the
contexts lm-eval's evaluator sends evalkit's backend for the same documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.prompting.conftest import FIXTURES
from tests.prompting.recording import record_requests


@pytest.fixture
def toy_sentiment() -> Any:
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    return load_task(TaskRegistry.discover([FIXTURES]).resolve("toy_sentiment"))


def test_training_contexts_equal_evaluation_contexts_with_a_template(monkeypatch: pytest.MonkeyPatch,
                                                                     chat_model_dir: Path, toy_sentiment: Any) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from evalkit.engine.evaluation import evaluate_task
    from evalkit.finetune.examples import PromptRendering, render_example
    from evalkit.plan.prompts import make_prompt_options
    from evalkit.scoring.backend import EvalkitLM

    options = make_prompt_options(apply_chat_template=True, system_instruction="Rate it.")
    tokenizer = AutoTokenizer.from_pretrained(chat_model_dir)
    seen = record_requests(monkeypatch, EvalkitLM)
    backend = EvalkitLM(AutoModelForCausalLM.from_pretrained(chat_model_dir), tokenizer, batch_size=4)
    evaluate_task(backend, toy_sentiment, num_fewshot=2, limit=3, seed=7, prompt=options)

    toy_sentiment.task.set_fewshot_seed(seed=7)
    rendering = PromptRendering.for_prompt(options, tokenizer)
    docs = list(toy_sentiment.task.eval_docs)[:3]
    trained = [pair for i, doc in enumerate(docs) for pair in render_example(toy_sentiment, doc, i, 2, rendering).pairs]
    assert trained == seen["loglikelihood"]
    assert trained[0][0].startswith("<|system|>Rate it.<|end|>") and trained[0][1] == "negative"


def test_the_template_changes_what_is_trained_on(chat_model_dir: Path, toy_sentiment: Any) -> None:
    """So a chat-templated fine-tuning finds its own adapter in the cache, not the plain one."""
    from transformers import AutoTokenizer

    from evalkit.finetune.examples import PromptRendering, build_training_set
    from evalkit.plan.prompts import make_prompt_options

    tokenizer = AutoTokenizer.from_pretrained(chat_model_dir)
    common = dict(split=None, num_fewshot=0, max_examples=8, seed=1, exclude_overlap=True)
    plain = build_training_set(toy_sentiment, **common)
    chat = build_training_set(toy_sentiment, **common, rendering=PromptRendering.for_prompt(
        make_prompt_options(apply_chat_template=True), tokenizer))
    assert plain.data_hash != chat.data_hash
    assert chat.examples[0].pairs[0][0].endswith("<|assistant|>")
