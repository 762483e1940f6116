"""The fast training forward (packed prefix tries, output head at scored positions only) computes
exactly the plain loss: each row alone, full logits everywhere (objectives.reference_loss)."""

from __future__ import annotations

import pytest
import torch

from evalkit.finetune.examples import TrainingExample
from evalkit.finetune.methods import trainable_copy
from evalkit.finetune.objectives import PairEncoder, objective_count, objective_sum, reference_loss
from evalkit.finetune.scored import example_rows, forward_inputs, make_forward, pack
from evalkit.finetune.training import TrainingPlan, choose_forward

PROMPTS = ["great fun\nAnswer:", "a dull, long and entirely forgettable film about nothing\nAnswer:",
           "Q: what colour is the sky on a clear day?\nA:", "ok\nAnswer:", "Q: 2+2?\nA:"]
CHOICES = [" negative", " positive", " blue sky", " no", " four or five"]


def _examples(loaded, *, gold_only: bool) -> list:
    from evalkit.scoring import make_backend

    encoder = PairEncoder(make_backend(loaded))
    examples = []
    for i, prompt in enumerate(PROMPTS):
        pairs = tuple((prompt, choice) for choice in CHOICES[: 2 + i % 3])
        examples.append(encoder.encode_example(TrainingExample(pairs, gold=i % 2), gold_only=gold_only))
    return examples


@pytest.fixture
def lora_model(tiny_loaded):
    plan = TrainingPlan("lora", "nll", 1e-2, 1.0, None, 8, seed=5, target_modules=("q_proj", "v_proj"))
    model = trainable_copy(tiny_loaded.model, plan)
    with torch.no_grad():  # LoRA's B starts at zero: make the adapter matter
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05)
    return model.eval()


@pytest.mark.parametrize("kind", ["packed", "padded"])
@pytest.mark.parametrize("objective", ["nll", "choice-ce"])
def test_fast_loss_equals_the_plain_full_logits_loss(tiny_loaded, lora_model, kind, objective):
    examples = _examples(tiny_loaded, gold_only=objective == "nll")
    forward = make_forward(kind, lora_model)
    with torch.no_grad():
        inputs = forward_inputs(kind, examples, 0, torch.float32, torch.device("cpu"))
        fast = objective_sum(objective, forward(**inputs), examples) / objective_count(examples, objective)
        plain = reference_loss(lora_model, examples, objective)
    assert float(fast) == pytest.approx(float(plain), abs=1e-5)


def test_the_gradient_equals_the_plain_gradient(tiny_loaded, lora_model):
    examples = _examples(tiny_loaded, gold_only=False)
    params = [p for p in lora_model.parameters() if p.requires_grad]
    forward = make_forward("packed", lora_model)
    inputs = forward_inputs("packed", examples, 0, torch.float32, torch.device("cpu"))
    fast = torch.autograd.grad(objective_sum("choice-ce", forward(**inputs), examples) / len(examples), params)
    plain = torch.autograd.grad(reference_loss(lora_model, examples, "choice-ce"), params)
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)


def test_a_shared_prompt_is_computed_once_and_short_tries_share_a_row(tiny_loaded):
    examples = _examples(tiny_loaded, gold_only=False)
    tries = example_rows(examples)
    for example, trie in zip(examples, tries):
        separate = sum(len(example.rows[row]) for row, _ in example.pairs)
        assert len(trie) < separate  # the choices branch off one copy of the prompt
    batch = pack(examples, 0, torch.float32)
    assert batch.input_ids.shape[0] < len(examples)  # several tries side by side in one row
    assert batch.attention_mask is not None and batch.n_pairs == sum(len(e.pairs) for e in examples)
    # only scored positions reach the output head: one per distinct (position, answer token)
    assert len(batch.nodes) <= sum(len(c) for e in examples for _, c in e.pairs)


def test_the_probe_picks_the_packed_forward_for_a_llama(tiny_loaded, lora_model):
    assert choose_forward(lora_model, _examples(tiny_loaded, gold_only=False), "choice-ce", 0) == "packed"


def test_the_probe_falls_back_when_the_packed_pass_is_wrong(tiny_loaded, lora_model, monkeypatch):
    from evalkit.finetune import scored

    monkeypatch.setattr(scored, "trie_mask", lambda rows, width, dtype: torch.zeros(len(rows), 1, width, width))
    assert choose_forward(lora_model, _examples(tiny_loaded, gold_only=False), "choice-ce", 0) == "padded"
