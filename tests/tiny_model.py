"""A tiny randomly initialised causal LM and a byte-level BPE tokenizer, built offline in
milliseconds, for fast tests. Saved as a normal checkpoint directory so every loading path
(evalkit, lm-eval's HFLM) can read it."""

from __future__ import annotations

from pathlib import Path

_CORPUS = [
    "The capital of France is Paris.",
    "Question: Is this sentence positive or negative?\nAnswer: positive",
    "it 's a charming and often affecting journey .",
    "unflinchingly bleak and desperate",
    "Which technology was developed most recently? cellular telephone television",
    "A man is sitting on a roof. he starts pulling up roofing on a roof.",
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day. #### 18",
    "true false yes no neither entailment contradiction World Sports Business Science",
] * 4


def build_tokenizer():
    """Byte-level BPE tokenizer (every string is encodable) wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                   bos_token="<|endoftext|>", pad_token="<|endoftext|>")


def build_model(vocab_size: int, seed: int = 0):
    """A 2-layer Llama with random weights (fixed seed)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=True,
                         bos_token_id=0, eos_token_id=0, pad_token_id=0)
    model = LlamaForCausalLM(config)
    model.eval()
    return model


def save_tiny_checkpoint(directory: Path, seed: int = 0) -> Path:
    """Write a tiny model + tokenizer checkpoint to `directory` and return it."""
    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer), seed=seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
