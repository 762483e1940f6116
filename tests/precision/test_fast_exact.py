"""fast-exact on the tiny model: float32 decisions, bf16 values where safe, the bound measured and
cached, and float32 wherever there is no argmax decision."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evalkit.scoring.calibration import ErrorBound, bound_key, bounds_path, load_bound, save_bound

FINGERPRINT = "tiny-fingerprint"


def backend(tiny_lm: Any, precision: str = "fast-exact", **kwargs: Any) -> Any:
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    return EvalkitLM(model, tokenizer, batch_size=8, precision=precision, fingerprint=FINGERPRINT, **kwargs)


def evaluate(lm: Any, loaded: Any) -> dict[int, dict[str, float]]:
    from evalkit.engine.evaluation import evaluate_task

    lm.register_task(loaded.name, loaded.task)
    outcome = evaluate_task(lm, loaded, num_fewshot=0, limit=None, seed=1234)
    return {s.doc_id: s.scores for s in outcome.samples}


def noisy_copy(model: Any) -> Any:
    """A stand-in for the bf16 weights that is much further from float32 than bf16 is, so that a
    document whose decision is not re-scored really would flip."""
    import copy

    import torch

    noisy = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in noisy.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.05 * p.abs().mean())
    return noisy.eval()


def test_decisions_equal_float32_for_acc_and_acc_norm(tiny_lm, choice_task, monkeypatch) -> None:
    import evalkit.scoring.fast_exact as fast_exact

    monkeypatch.setattr(fast_exact, "bf16_copy", noisy_copy)
    monkeypatch.setenv("EVALKIT_FAST_EXACT_CALIBRATION", "8")  # 2 documents: the rest is decided by margin
    exact = evaluate(backend(tiny_lm, "exact"), choice_task)
    noisy = {i: s for i, s in evaluate(_exact_on(noisy_copy(tiny_lm[0]), tiny_lm[1]), choice_task).items()}
    assert any(noisy[i] != exact[i] for i in exact), "precondition: the stand-in weights flip some decision"
    lm = backend(tiny_lm)
    assert evaluate(lm, choice_task) == exact
    report = lm.precision_details()
    assert report["documents"] == len(exact) and report["calibration_documents"] == 2
    assert 0 < report["rescored_documents"] <= len(exact) - 2
    assert report["rescored_requests"] == 4 * report["rescored_documents"]
    assert report["bf16_requests"] + report["rescored_requests"] + report["calibration_requests"] == 4 * len(exact)
    assert report["rescored_fraction"] == report["rescored_documents"] / len(exact)
    assert report["bf16_forward_tokens"] > 0 and report["float32_forward_tokens"] > 0
    assert report["bf16_forward_tokens"] + report["float32_forward_tokens"] == lm.stats.forward_tokens


def _exact_on(model: Any, tokenizer: Any) -> Any:
    from evalkit.scoring import EvalkitLM

    return EvalkitLM(model, tokenizer, batch_size=8)


def _instances(task_name: str, docs: list[dict], contexts: list[str], choices: list[str]) -> list[Any]:
    from lm_eval.api.instance import Instance

    return [Instance("loglikelihood", doc, (context, " " + choice), k, metadata=(task_name, d, 1))
            for d, (doc, context) in enumerate(zip(docs, contexts)) for k, choice in enumerate(choices)]


def test_documents_near_a_tie_are_re_scored_and_far_ones_keep_bf16(tiny_lm, choice_task, monkeypatch) -> None:
    """bf16 values are scripted: document 0 is a near tie, document 1 a clear win under acc and
    acc_norm, document 2 clear under acc but a tie once divided by the choices' lengths."""
    save_bound(bound_key(FINGERPRINT, "cpu"), ErrorBound(0.01, 0.01, 3.0, 64, (choice_task.name,)))
    scripted = {0: [-1.0, -1.0005, -5.0, -5.0], 1: [-1.0, -9.0, -9.0, -9.0], 2: [-2.0, -10.0, -30.0, -8.004]}
    lm = backend(tiny_lm)
    lm.register_task(choice_task.name, choice_task.task)
    scorer = lm._fast_exact

    def fake_bf16(token_requests: list, indices: list[int]) -> dict:
        return {i: (scripted[i // 4][i % 4], False) for i in indices}

    monkeypatch.setattr(scorer, "_bf16", fake_bf16)
    docs = choice_task.task.eval_docs
    requests = _instances(choice_task.name, [docs[0], docs[1], docs[2]], ["a:", "b:", "c:"],
                          ["no", "is", "roof", "positive"])
    got = lm.loglikelihood(requests)
    float32 = backend(tiny_lm, "exact").loglikelihood(requests)
    assert [v for v, _ in got[4:8]] == scripted[1]  # kept: its bf16 values are stored
    # re-scored in float32: equal up to float32 rounding of a differently shaped batch (8 rows vs 12)
    for i in list(range(0, 4)) + list(range(8, 12)):
        assert got[i][0] == pytest.approx(float32[i][0], rel=1e-6, abs=1e-6) and got[i][1] == float32[i][1]
    report = lm.precision_details()
    assert report["rescored_documents"] == 2 and report["rescored_requests"] == 8
    assert report["bf16_requests"] == 4 and report["calibration_requests"] == 0
    assert report["bound_source"] == "cached"


def test_the_bound_is_measured_on_a_calibration_sample_and_cached(tiny_lm, choice_task) -> None:
    first = backend(tiny_lm)
    evaluate(first, choice_task)
    measured = first.precision_details()
    assert measured["bound_source"] == "measured" and measured["calibration_requests"] >= 64 // 4
    key = bound_key(FINGERPRINT, "cpu")
    stored = load_bound(key)
    assert stored is not None and stored.tasks == (choice_task.name,)
    assert stored.calibration_size == measured["calibration_requests"]
    assert 0 < stored.coefficient < 1 and stored.factor == 3.0
    assert json.loads(bounds_path().read_text())[key]["coefficient"] == measured["bound"]["coefficient"]
    second = backend(tiny_lm)
    evaluate(second, choice_task)
    cached = second.precision_details()
    assert cached["bound_source"] == "cached" and cached["calibration_requests"] == 0
    assert cached["bound"]["coefficient"] == measured["bound"]["coefficient"]


def test_requests_of_unregistered_tasks_are_scored_in_float32(tiny_lm, choice_task) -> None:
    from tests.scoring.conftest import instances

    requests = instances("loglikelihood", [("Answer:", " yes"), ("Answer:", " no")])
    lm = backend(tiny_lm)
    assert lm.loglikelihood(requests) == backend(tiny_lm, "exact").loglikelihood(requests)
    assert lm.precision_details()["float32_requests"] == 2 and lm.precision_details()["weights"] == "none"


def test_generation_and_rolling_requests_stay_float32(tiny_lm) -> None:
    from tests.scoring.conftest import instances

    generate = instances("generate_until", [("The capital of France is", {"until": ["\n"], "max_gen_toks": 5})])
    rolling = instances("loglikelihood_rolling", ["The capital of France is Paris."])
    lm, exact = backend(tiny_lm), backend(tiny_lm, "exact")
    assert lm.generate_until(generate) == exact.generate_until(generate)
    assert lm.loglikelihood_rolling(rolling) == exact.loglikelihood_rolling(rolling)
    assert lm.precision_details()["weights"] == "none"  # no bf16 weights were ever made


def test_autocast_weights_for_models_over_the_copy_limit(tiny_lm, choice_task) -> None:
    import evalkit.scoring.fast_exact as fast_exact

    lm = backend(tiny_lm)
    lm._fast_exact = fast_exact.FastExactScorer(lm, FINGERPRINT, copy_limit=0)
    assert evaluate(lm, choice_task) == evaluate(backend(tiny_lm, "exact"), choice_task)
    assert lm.precision_details()["weights"] == "autocast"


def test_a_non_float32_model_is_refused(tiny_lm) -> None:
    import copy

    import torch

    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    with pytest.raises(ValueError, match="float32"):
        EvalkitLM(copy.deepcopy(model).to(torch.bfloat16), tokenizer, precision="fast-exact")


def test_the_bf16_copy_is_made_once_per_model_while_its_weights_are_unchanged(tiny_lm, choice_task,
                                                                             monkeypatch) -> None:
    import torch

    import evalkit.scoring.fast_exact as fast_exact

    made: list[Any] = []
    original = fast_exact.bf16_copy
    monkeypatch.setattr(fast_exact, "bf16_copy", lambda model: made.append(model) or original(model))
    exact = evaluate(backend(tiny_lm, "exact"), choice_task)
    first, second = backend(tiny_lm), backend(tiny_lm)
    assert evaluate(first, choice_task) == exact and evaluate(second, choice_task) == exact
    assert len(made) == 1  # the second cell reuses the first cell's copy
    assert second._fast_exact._fast.scorer.mode == second._causal.scorer.mode  # mode probed once, in float32
    parameter = next(tiny_lm[0].parameters())
    with torch.no_grad():
        parameter.add_(0.0)  # an in-place update (a training step) makes the copy stale
    assert evaluate(backend(tiny_lm), choice_task) == exact and len(made) == 2
    other = backend(tiny_lm)
    other._fast_exact = fast_exact.FastExactScorer(other, "another-fingerprint")
    assert evaluate(other, choice_task) == exact and len(made) == 3  # an adapter switch changes the fingerprint
