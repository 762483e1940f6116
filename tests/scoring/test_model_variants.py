"""Models the fast path must not get wrong: PEFT-wrapped, post-processed logits, models that
ignore position ids (no sharing possible), and encoder-decoders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scoring.conftest import instances

REQUESTS = [
    ("Question: Which technology was developed most recently?\nAnswer:", " cellular telephone"),
    ("Question: Which technology was developed most recently?\nAnswer:", " television"),
    ("Question: Which technology was developed most recently?\nAnswer:", " airplane"),
    ("The capital of France is ", "Paris."),
    ("", "hello world"),
    ("é漢字 🙂", " ünïcode"),
]


def _compare(model: Any, tokenizer: Any, *, generate: bool = False) -> Any:
    from lm_eval.models.huggingface import HFLM

    from evalkit.scoring import EvalkitLM

    reqs = instances("loglikelihood", REQUESTS)
    expected = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4).loglikelihood(reqs)
    lm = EvalkitLM(model, tokenizer)
    got = lm.loglikelihood(reqs)
    for (lp_e, g_e), (lp_g, g_g) in zip(expected, got, strict=True):
        assert abs(lp_e - lp_g) <= 1e-4 and g_e == g_g
    if generate:
        gens = instances("generate_until", [("The capital", {"until": ["."], "max_gen_toks": 8}),
                                            ("A man is", {"until": ["\n"], "max_gen_toks": 5})])
        hf = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4)
        assert lm.generate_until(gens) == hf.generate_until(gens)
    return lm


def test_lora_wrapped_model_uses_the_fast_path(tiny_model_dir):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.eval()
    lm = _compare(model, AutoTokenizer.from_pretrained(tiny_model_dir))
    assert lm._causal.scorer.mode.share and lm._causal.scorer.mode.head_only


def _subclass(tiny_model_dir, forward):
    from transformers import AutoTokenizer, LlamaForCausalLM

    cls = type("Variant", (LlamaForCausalLM,), {"forward": forward})
    model = cls.from_pretrained(tiny_model_dir)
    model.eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


def test_post_processed_logits_fall_back_to_full_logits(tiny_model_dir):
    from transformers import LlamaForCausalLM

    def forward(self, *args, **kwargs):  # logit soft-capping, as Gemma 2 does
        out = LlamaForCausalLM.forward(self, *args, **kwargs)
        out.logits = 0.05 * (out.logits / 0.05).tanh()
        return out

    lm = _compare(*_subclass(tiny_model_dir, forward))
    assert lm._causal.scorer.mode.share and not lm._causal.scorer.mode.head_only


def test_model_ignoring_position_ids_gets_no_sharing(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.eval()
    original = model.model.forward

    def forward(*args, position_ids=None, attention_mask=None, **kwargs):
        if attention_mask is not None and attention_mask.dim() == 4:
            attention_mask = None  # as if only 2D padding masks were understood
        return original(*args, attention_mask=attention_mask, **kwargs)

    model.model.forward = forward
    lm = _compare(model, AutoTokenizer.from_pretrained(tiny_model_dir))
    assert not lm._causal.scorer.mode.share


@pytest.fixture(scope="module")
def tiny_t5(tiny_model_dir):
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                      pad_token_id=0, eos_token_id=0, decoder_start_token_id=0)
    model = T5ForConditionalGeneration(config)
    model.eval()
    return model, tokenizer


def test_encoder_decoder_matches_hflm(tiny_t5):
    lm = _compare(*tiny_t5, generate=True)
    assert lm.backend == "seq2seq"
