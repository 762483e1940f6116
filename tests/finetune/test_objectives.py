"""Tokenised batches (prompt masked, answer labelled) and both objectives reducing the loss."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from evalkit.finetune.examples import TrainingExample, build_training_set
from evalkit.finetune.methods import trainable_copy
from evalkit.finetune.objectives import IGNORE, PairEncoder, choice_scores, collate, reference_loss, resolve_objective
from evalkit.finetune.scored import forward_inputs, make_forward
from evalkit.finetune.training import TrainingPlan, batch_order, train


def _encoder(loaded) -> PairEncoder:
    from evalkit.scoring import make_backend

    return PairEncoder(make_backend(loaded))


def test_pairs_are_encoded_like_lm_eval(tiny_loaded):
    encoder = _encoder(tiny_loaded)
    tok = tiny_loaded.tokenizer
    context, continuation = encoder.encode_pair("Answer: ", "positive")  # trailing space moves over
    assert tok.decode(context) == "Answer:"
    assert tok.decode(continuation) == " positive"
    assert context + continuation == tok.encode("Answer: positive")


def test_nll_batch_masks_the_prompt_and_labels_the_answer(tiny_loaded):
    encoder = _encoder(tiny_loaded)
    tok = tiny_loaded.tokenizer
    example = TrainingExample((("great fun\nAnswer:", " negative"), ("great fun\nAnswer:", " positive")), gold=1)
    encoded = encoder.encode_example(example, gold_only=True)
    batch = collate([encoded, encoder.encode_example(
        TrainingExample((("a much longer prompt than the first one\nAnswer:", " no"),), 0), gold_only=True)], pad_id=0)
    context_ids, answer_ids = encoder.encode_pair("great fun\nAnswer:", " positive")
    row = batch.input_ids[0][batch.attention_mask[0].bool()].tolist()
    assert row == (context_ids + answer_ids)[:-1]  # the model reads the prompt and all but the last answer token
    labels = batch.labels[0].tolist()
    labelled = [t for t in labels if t != IGNORE]
    assert labelled == answer_ids and tok.decode(labelled) == " positive"
    # labels sit at the last positions of the row: every earlier (prompt) position is masked
    assert labels[: len(labels) - len(answer_ids)] == [IGNORE] * (len(labels) - len(answer_ids))
    assert batch.keep == max(len(answer_ids), len(encoder.encode_pair("x\nAnswer:", " no")[1]))


def test_single_token_choices_share_one_row(tiny_loaded):
    encoder = _encoder(tiny_loaded)
    prompt = "Question: Is this sentence positive or negative?\nAnswer:"
    encoded = encoder.encode_example(TrainingExample(((prompt, " no"), (prompt, " positive")), 1), gold_only=False)
    assert [len(c) for _, c in encoded.pairs] == [1, 1]  # one token each in the tiny tokenizer
    assert len(encoded.rows) == 1 and [row for row, _ in encoded.pairs] == [0, 0]
    multi = encoder.encode_example(TrainingExample(((prompt, " negative"), (prompt, " positive")), 0), gold_only=False)
    assert len(multi.rows) == 2  # " negative" has three tokens: its own row


def test_choice_scores_equal_summed_log_likelihoods(tiny_loaded):
    encoder = _encoder(tiny_loaded)
    example = TrainingExample((("Q: sky?\nA:", " blue sky"), ("Q: sky?\nA:", " green")), 0)
    encoded = [encoder.encode_example(example, gold_only=False)]
    model = tiny_loaded.model
    with torch.no_grad():
        pair_logprobs = make_forward("packed", model)(**forward_inputs("packed", encoded, 0, torch.float32,
                                                                        torch.device("cpu")))
        scores = choice_scores(pair_logprobs, encoded)[0]
        for index, (context, continuation) in enumerate(example.pairs):
            ctx, cont = encoder.encode_pair(context, continuation)
            logits = model(torch.tensor([ctx + cont])).logits[0].log_softmax(-1)
            expected = sum(float(logits[len(ctx) - 1 + j, t]) for j, t in enumerate(cont))
            assert float(scores[index]) == pytest.approx(expected, abs=1e-4)


def test_objective_resolution():
    assert resolve_objective("auto", "multiple_choice") == "choice-ce"
    assert resolve_objective("auto", "generate_until") == "nll"
    assert resolve_objective("nll", "multiple_choice") == "nll"
    from evalkit.errors import InputError

    with pytest.raises(InputError, match="multiple-choice"):
        resolve_objective("choice-ce", "generate_until")


def test_batches_are_seeded_and_cover_the_data():
    from evalkit.finetune.objectives import EncodedExample

    examples = [EncodedExample(((1,) * (i % 5 + 1),), ((0, (2,)),), 0) for i in range(20)]
    plan = TrainingPlan("lora", "nll", 1e-3, 1.0, None, 4, seed=3)
    order = batch_order(examples, plan, plan.total_steps(20))
    assert sorted(i for b in order for i in b) == list(range(20))
    assert order == batch_order(examples, plan, 5)
    assert order != batch_order(examples, dataclasses.replace(plan, seed=4), 5)


@pytest.mark.parametrize("objective", ["nll", "choice-ce"])
def test_both_objectives_reduce_the_training_loss(tiny_loaded, toy_sentiment, objective):
    training = build_training_set(toy_sentiment, split=None, num_fewshot=0, max_examples=None, seed=1,
                                  exclude_overlap=True)
    encoder = _encoder(tiny_loaded)
    encoded = [encoder.encode_example(e, gold_only=objective == "nll") for e in training.examples]
    plan = TrainingPlan("lora", objective, lr=1e-2, epochs=4, max_steps=None, batch_size=8, seed=1,
                        target_modules=("q_proj", "k_proj", "v_proj", "o_proj"), autocast=None)
    model = trainable_copy(tiny_loaded.model, plan)
    with torch.no_grad():
        before = float(reference_loss(model, encoded, objective))
    result = train(model, encoded, plan, pad_id=0, report=lambda *a: None)
    with torch.no_grad():
        after = float(reference_loss(model, encoded, objective))
    assert result.steps == plan.total_steps(len(encoded))
    assert after < before * 0.9, (before, after)
