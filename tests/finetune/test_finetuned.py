"""The fine-tuned setting end to end on the tiny model: training, the adapter cache, --retrain,
TensorBoard logs, and the base model left untouched."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from evalkit.finetune import finetuned_model
from evalkit.finetune.cache import METADATA
from evalkit.finetune.finetuned import DEFAULT_LR
from tests.finetune.conftest import make_cell

FAST = dict(max_steps=3, batch_size=8, max_examples=24)


def _logits(model, tokenizer) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([tokenizer.encode("great fun\nQuestion: Is this positive?\nAnswer:")])).logits


def test_first_run_trains_and_caches_then_second_run_hits_the_cache(tiny_loaded, toy_sentiment, sink, tmp_path):
    cell = make_cell(tiny_loaded.spec, "toy_sentiment", **FAST)
    model, adapter, details = finetuned_model(tiny_loaded, toy_sentiment, cell, sink)
    assert details["cache_hit"] is False
    assert details["train_steps"] == 3 and details["training_examples"] == 24
    assert details["objective"] == "choice-ce" and details["method"] == "lora"
    assert details["overlap_exact"] == 1 and details["overlap_excluded"] == 1
    assert details["hyperparameters"]["lr"] == DEFAULT_LR["lora"] and details["hyperparameters"]["lora_r"] == 8
    assert details["hyperparameters"]["target_modules"] == ["all-linear"]
    assert isinstance(details["train_loss_first"], float) and isinstance(details["train_seconds"], float)
    directory = Path(adapter)
    assert (directory / "adapter_config.json").is_file() and (directory / METADATA).is_file()
    assert json.loads((directory / METADATA).read_text())["training"]["train_steps"] == 3
    events = list((tmp_path / details["tensorboard_dir"]).glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    assert model.fingerprint != tiny_loaded.fingerprint and model.tokenizer is tiny_loaded.tokenizer
    assert any("fine-tuning · loss" in kind for _, kind, _, _ in sink.reports)
    assert any("Overlap guard" in m and "1 of the 24 evaluation documents" in m for m in sink.messages)

    again, adapter_again, details_again = finetuned_model(tiny_loaded, toy_sentiment, cell, sink)
    assert details_again["cache_hit"] is True and adapter_again == adapter
    assert details_again["train_loss_first"] == details["train_loss_first"]
    assert again.fingerprint == model.fingerprint
    assert torch.allclose(_logits(again.model, again.tokenizer), _logits(model.model, model.tokenizer), atol=1e-5)


def test_retrain_trains_again_into_the_same_entry(tiny_loaded, toy_sentiment, sink):
    cell = make_cell(tiny_loaded.spec, "toy_sentiment", **FAST)
    _, adapter, _ = finetuned_model(tiny_loaded, toy_sentiment, cell, sink)
    forced = make_cell(tiny_loaded.spec, "toy_sentiment", retrain=True, **FAST)
    _, adapter_again, details = finetuned_model(tiny_loaded, toy_sentiment, forced, sink)
    assert details["cache_hit"] is False and adapter_again == adapter
    assert not [p for p in Path(adapter).parent.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_other_hyper_parameters_get_their_own_entry(tiny_loaded, toy_sentiment, sink):
    _, first, _ = finetuned_model(tiny_loaded, toy_sentiment, make_cell(tiny_loaded.spec, "toy_sentiment", **FAST), sink)
    _, other, details = finetuned_model(
        tiny_loaded, toy_sentiment, make_cell(tiny_loaded.spec, "toy_sentiment", objective="nll", **FAST), sink)
    assert other != first and details["cache_hit"] is False and details["objective"] == "nll"


def test_base_model_is_not_modified(tiny_loaded, toy_sentiment, sink):
    before = {k: v.clone() for k, v in tiny_loaded.model.state_dict().items()}
    logits_before = _logits(tiny_loaded.model, tiny_loaded.tokenizer)
    cell = make_cell(tiny_loaded.spec, "toy_sentiment", **{**FAST, "max_steps": 5})
    tuned, _, _ = finetuned_model(tiny_loaded, toy_sentiment, cell, sink)
    after = tiny_loaded.model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(_logits(tiny_loaded.model, tiny_loaded.tokenizer), logits_before)
    assert not torch.allclose(_logits(tuned.model, tuned.tokenizer), logits_before)
    assert not any(p.requires_grad for p in tuned.model.parameters())


def test_full_fine_tuning_caches_a_checkpoint(tiny_loaded, toy_gen, sink):
    cell = make_cell(tiny_loaded.spec, "toy_gen", method="full", lr=1e-3, max_steps=2, batch_size=4)
    model, adapter, details = finetuned_model(tiny_loaded, toy_gen, cell, sink)
    assert details["method"] == "full" and details["objective"] == "nll"
    assert (Path(adapter) / "config.json").is_file() and not (Path(adapter) / "adapter_config.json").exists()
    again, _, details_again = finetuned_model(tiny_loaded, toy_gen, cell, sink)
    assert details_again["cache_hit"] is True
    assert torch.allclose(_logits(again.model, again.tokenizer), _logits(model.model, model.tokenizer), atol=1e-5)


def test_same_seed_retrained_gives_identical_weights_and_losses(tiny_loaded, toy_sentiment, sink):
    """Determinism on CPU: retraining with the same seed reproduces the training exactly."""
    cell = make_cell(tiny_loaded.spec, "toy_sentiment", **FAST)
    first, _, details = finetuned_model(tiny_loaded, toy_sentiment, cell, sink)
    logits = _logits(first.model, first.tokenizer)
    forced = make_cell(tiny_loaded.spec, "toy_sentiment", retrain=True, **FAST)
    second, _, details_again = finetuned_model(tiny_loaded, toy_sentiment, forced, sink)
    assert details_again["cache_hit"] is False
    assert details_again["train_loss_first"] == details["train_loss_first"]
    assert details_again["train_loss_last"] == details["train_loss_last"]
    assert torch.equal(_logits(second.model, second.tokenizer), logits)
