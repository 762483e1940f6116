"""Fine-tuning trains on exactly the token ids evaluation scores: one encoder (the scoring
backend's), checked on tokenizers with a BOS token, without one, and adding one by default,
for both objectives."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.finetune.examples import TrainingExample
from evalkit.finetune.objectives import PairEncoder

BOS = "<|endoftext|>"  # the tiny tokenizer's only special token (id 0)


def _tokenizer(kind: str) -> Any:
    """The tiny tokenizer as it is (BOS not added), without a BOS token, or adding BOS by default."""
    from tokenizers import processors

    from tests.tiny_model import build_tokenizer

    tokenizer = build_tokenizer()
    if kind == "no-bos":
        tokenizer.bos_token = None
    elif kind == "adds-bos":
        tokenizer._tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{BOS} $A", special_tokens=[(BOS, tokenizer.convert_tokens_to_ids(BOS))])
        assert tokenizer.encode("hi")[0] == tokenizer.convert_tokens_to_ids(BOS)
    return tokenizer


def _examples() -> list[TrainingExample]:
    prompt = "great fun\nQuestion: Is this sentence positive or negative?\nAnswer:"
    return [
        TrainingExample(((prompt, " negative"), (prompt, " positive")), gold=1),
        TrainingExample((("Answer: ", "yes"), ("Answer: ", "no")), gold=0),  # trailing space moves over
        TrainingExample(((BOS + "Question: sky?\nAnswer:", " blue"), (BOS + "Question: sky?\nAnswer:", " red")), 1),
        TrainingExample((("", "The capital of France is Paris."),), gold=0),  # rolling-style empty context
    ]


def _evaluation_token_requests(lm: Any, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """The (context, continuation) ids the backend's loglikelihood hands to its scorer."""
    from lm_eval.api.instance import Instance

    seen: list[tuple[list[int], list[int]]] = []

    def record(requests, **kwargs):  # noqa: ANN001, ANN003
        seen.extend((list(c), list(t)) for _, c, t in requests)
        return [(0.0, True)] * len(requests)

    lm._loglikelihood_tokens = record
    lm.loglikelihood([Instance("loglikelihood", {}, pair, i) for i, pair in enumerate(pairs)])
    return seen


@pytest.mark.parametrize("kind", ["bos", "no-bos", "adds-bos"])
@pytest.mark.parametrize("objective", ["nll", "choice-ce"])
def test_training_ids_equal_evaluation_ids(tiny_loaded, kind, objective):
    from evalkit.scoring.backend import EvalkitLM

    lm = EvalkitLM(tiny_loaded.model, _tokenizer(kind))
    encoder = PairEncoder(lm)
    gold_only = objective == "nll"
    for example in _examples():
        encoded = encoder.encode_example(example, gold_only=gold_only)
        pairs = [example.pairs[example.gold]] if gold_only else list(example.pairs)
        expected = _evaluation_token_requests(lm, pairs)
        assert len(encoded.pairs) == len(expected)
        for (row_index, continuation), (context_ids, continuation_ids) in zip(encoded.pairs, expected):
            # the row the model reads is evaluation's input: (context + continuation)[-(L + 1):][:-1]
            assert list(encoded.rows[row_index]) == (context_ids + continuation_ids)[:-1], (kind, example)
            assert list(continuation) == continuation_ids, (kind, example)


def test_the_bos_rule_is_the_backends(tiny_loaded):
    """A tokenizer that adds BOS: a context already starting with BOS gets no second one, and an
    empty context is the prefix token alone (a bare tokenizer.encode gets both wrong)."""
    from evalkit.scoring.backend import EvalkitLM

    tokenizer = _tokenizer("adds-bos")
    bos_id = tokenizer.convert_tokens_to_ids(BOS)
    encoder = PairEncoder(EvalkitLM(tiny_loaded.model, tokenizer))
    context, _ = encoder.encode_pair(BOS + "Question: sky?\nAnswer:", " blue")
    assert context[0] == bos_id and context[1] != bos_id
    context, continuation = encoder.encode_pair("", "Paris.")
    assert context == [bos_id] and bos_id not in continuation


def test_no_bos_tokenizer_conditions_empty_contexts_on_eos(tiny_loaded):
    from evalkit.scoring.backend import EvalkitLM

    tokenizer = _tokenizer("no-bos")
    lm = EvalkitLM(tiny_loaded.model, tokenizer)
    assert lm.prefix_token_id == tokenizer.eos_token_id
    assert PairEncoder(lm).encode_pair("", "Paris.")[0] == [tokenizer.eos_token_id]
