"""EvalkitLM gives lm-eval's HFLM numbers on the same model object (tiny random Llama)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.scoring.conftest import instances

ATOL = 1e-4

QUESTION = "Question: Which technology was developed most recently?\nAnswer:"
SENTIMENT = "it 's a charming and often affecting journey .\nQuestion: Is this sentence positive or negative?\nAnswer:"
LL_REQUESTS = [
    *[(QUESTION, c) for c in (" cellular telephone", " television", " refrigerator", " airplane")],
    *[(SENTIMENT, c) for c in (" positive", " negative")],
    ("", "hello world"),
    ("", " The capital of France is Paris."),
    ("The capital of France is ", "Paris."),
    ("A man is sitting on a roof.  ", "he starts pulling up roofing"),
    ("word " * 700, " and then the end"),  # longer than max_length (512): truncated from the left
    ("word " * 700, " x"),
    ("é漢字 🙂 ünïcode: ", "ça va ✓ 日本"),
    ("Janet sells 16 - 3 - 4 = 9 duck eggs a day.", " #### 18"),
    (QUESTION, " television"),  # duplicate request
    ("true false yes no", " neither"),
]


def _greedy_continuation(model: Any, tokenizer: Any, context: str, n: int) -> str:
    """A continuation the model itself would produce, so that is_greedy is True for it."""
    import torch

    ids = tokenizer(context, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=0)
    return tokenizer.decode(out[0, ids.shape[1]:])


@pytest.fixture(scope="module")
def evalkit_lm(tiny_lm):
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    return EvalkitLM(model, tokenizer)


@pytest.fixture(scope="module")
def ll_requests(tiny_lm):
    model, tokenizer = tiny_lm
    greedy = [("The capital of France is", _greedy_continuation(model, tokenizer, "The capital of France is", 3)),
              ("Answer:", _greedy_continuation(model, tokenizer, "Answer:", 1))]
    return instances("loglikelihood", LL_REQUESTS + greedy)


def _assert_close(expected, got):
    assert len(expected) == len(got)
    for i, ((lp_e, g_e), (lp_g, g_g)) in enumerate(zip(expected, got)):
        assert abs(lp_e - lp_g) <= ATOL, (i, lp_e, lp_g)
        assert g_e == g_g, (i, g_e, g_g)


def test_loglikelihood_matches_hflm(evalkit_lm, tiny_hflm, ll_requests):
    expected = tiny_hflm.loglikelihood(ll_requests)
    got = evalkit_lm.loglikelihood(ll_requests)
    _assert_close(expected, got)
    assert any(greedy for _, greedy in expected), "the request set must exercise is_greedy=True"
    assert evalkit_lm._causal.scorer.mode.share and evalkit_lm._causal.scorer.mode.head_only


def test_results_follow_request_order(evalkit_lm, ll_requests):
    forward = evalkit_lm.loglikelihood(ll_requests)
    shuffled = list(range(len(ll_requests)))
    random.Random(0).shuffle(shuffled)
    again = evalkit_lm.loglikelihood([ll_requests[i] for i in shuffled])
    for k, i in enumerate(shuffled):
        assert again[k][0] == pytest.approx(forward[i][0], abs=1e-5) and again[k][1] == forward[i][1]


def test_auto_and_batch_size_one_agree(tiny_lm, evalkit_lm, ll_requests):
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    one = EvalkitLM(model, tokenizer, batch_size=1)
    auto = evalkit_lm.loglikelihood(ll_requests)
    single = one.loglikelihood(ll_requests)
    _assert_close(auto, single)
    assert one.stats.batches > 1  # one row per forward pass


def test_sharing_computes_fewer_tokens_than_separate_rows(tiny_lm):
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    lm = EvalkitLM(model, tokenizer)
    reqs = instances("loglikelihood", [(QUESTION, c) for c in (" cellular telephone", " television", " airplane")])
    lm.loglikelihood(reqs)
    context_tokens = len(tokenizer(QUESTION)["input_ids"])
    separate = sum(len(tokenizer(QUESTION + c)["input_ids"]) - 1 for _, c in (r.args for r in reqs))
    assert lm.stats.input_tokens < separate
    assert lm.stats.input_tokens >= context_tokens
    assert lm.stats.scored_positions < lm.stats.input_tokens  # vocabulary only where scored


def _rolling_texts() -> list[str]:
    rng = random.Random(1)
    words = "the capital of france is paris a man sitting on roof charming journey bleak eggs".split()
    long_text = " ".join(rng.choice(words) + str(rng.randint(0, 99)) for _ in range(900))
    return [long_text, "short text", "é漢字 🙂 " + " ".join(rng.choice(words) for _ in range(50))]


def test_loglikelihood_rolling_matches_hflm(evalkit_lm, tiny_hflm):
    reqs = instances("loglikelihood_rolling", _rolling_texts())
    expected = tiny_hflm.loglikelihood_rolling(reqs)
    got = evalkit_lm.loglikelihood_rolling(reqs)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert abs(e - g) <= 1e-3 * max(1.0, abs(e) / 1000), (e, g)


GEN_REQUESTS = [
    ("The capital of France is", {"until": ["."], "max_gen_toks": 20}),
    ("Question: Is this sentence positive or negative?\nAnswer:", {"until": ["\n"], "max_gen_toks": 30, "do_sample": False}),
    ("Janet sells", {"until": ["e", "s"], "max_gen_toks": 10, "temperature": 0}),
    ("A man", {"max_gen_toks": 25}),
    ("x", {"until": ["zz"], "max_gen_toks": 40}),
    ("word " * 600, {"until": ["\n\n"], "max_gen_toks": 16}),  # context truncated from the left
    ("é漢字 🙂", {"until": ["Paris"], "max_gen_toks": 12}),
    ("The capital of France is", {"until": ["."]}),  # default max_gen_toks
]


def test_generate_until_matches_hflm(evalkit_lm, tiny_hflm):
    reqs = instances("generate_until", GEN_REQUESTS)
    expected = tiny_hflm.generate_until(reqs)
    got = evalkit_lm.generate_until(reqs)
    assert got == expected
    for text, (_, kwargs) in zip(got, GEN_REQUESTS):
        assert not any(stop in text for stop in kwargs.get("until", []))


def test_progress_reports_every_batch(tiny_lm, ll_requests):
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    calls: list[tuple[str, int, int]] = []
    lm = EvalkitLM(model, tokenizer, batch_size=2, progress=lambda kind, done, total: calls.append((kind, done, total)))
    lm.loglikelihood(ll_requests)
    assert len(calls) == lm.stats.batches > 1
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)
    assert calls[-1] == ("loglikelihood", len(ll_requests), len(ll_requests))
