"""Training examples: rendered like evaluation, sampled with a seed, guarded against overlap."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalkit.errors import TaskError
from evalkit.finetune.examples import build_training_set
from evalkit.finetune.overlap import find_overlap, normalise
from tests.finetune.conftest import FIXTURES

QUESTION = "\nQuestion: Is this sentence positive or negative?\nAnswer:"


def _build(task, **overrides):
    options = dict(split=None, num_fewshot=0, max_examples=None, seed=1, exclude_overlap=True)
    return build_training_set(task, **{**options, **overrides})


def test_multiple_choice_examples_use_the_evaluation_prompt_and_gold(toy_sentiment):
    training = _build(toy_sentiment, exclude_overlap=False)
    docs = toy_sentiment.task.dataset["train"].to_list()
    assert len(training.examples) == len(docs) == 48
    by_sentence = {doc["sentence"]: doc["label"] for doc in docs}
    for example in training.examples:
        (context, negative), (context_2, positive) = example.pairs
        assert context == context_2 and context.endswith(QUESTION)
        assert (negative, positive) == (" negative", " positive")
        assert example.gold == by_sentence[context[: -len(QUESTION)]]


def test_overlap_guard_finds_the_duplicated_document_and_excludes_it(toy_sentiment):
    kept = _build(toy_sentiment, exclude_overlap=True)
    assert kept.overlap.exact == 1 and kept.overlap.normalised == 1
    assert kept.overlap.eval_docs == 24
    assert kept.overlap.excluded == kept.overlap.training_matches >= 1
    assert len(kept.examples) == 48 - kept.overlap.excluded
    duplicated = toy_sentiment.task.dataset["validation"][0]["sentence"]
    assert all(e.pairs[0][0] != duplicated + QUESTION for e in kept.examples)
    allowed = _build(toy_sentiment, exclude_overlap=False)
    assert allowed.overlap.exact == 1 and allowed.overlap.excluded == 0 and len(allowed.examples) == 48


def test_overlap_is_checked_against_the_whole_evaluation_split(toy_sentiment, monkeypatch):
    """Whatever --limit a cell evaluates, the training set (and so the adapter) is the same: the guard
    compares with every evaluation document, including the last one, far past any small limit."""
    import evalkit.finetune.examples as examples

    docs = list(toy_sentiment.task.eval_docs)
    split_docs = examples._split_docs
    monkeypatch.setattr(examples, "_split_docs", lambda loaded, split: split_docs(loaded, split) + [docs[-1]])
    guarded = _build(toy_sentiment)
    assert guarded.overlap.eval_docs == len(docs) == 24 and guarded.overlap.exact == 2
    assert all(e.pairs[0][0] != docs[-1]["sentence"] + QUESTION for e in guarded.examples)


def test_normalised_overlap_ignores_case_and_whitespace():
    report, keep = find_overlap(["A  film\tIt is", "other"], ["a film it is", "x"], exclude=True)
    assert (report.exact, report.normalised, report.excluded) == (0, 1, 1)
    assert keep == [1]
    assert normalise("  Hello\n World ") == "hello world"


def test_sample_is_seeded_and_bounded(toy_sentiment):
    first = _build(toy_sentiment, max_examples=10, seed=7)
    again = _build(toy_sentiment, max_examples=10, seed=7)
    other = _build(toy_sentiment, max_examples=10, seed=8)
    assert len(first.examples) == 10
    assert first.examples == again.examples and first.data_hash == again.data_hash
    assert first.data_hash != other.data_hash


def test_generation_examples_label_the_target_then_the_delimiter(toy_gen):
    training = _build(toy_gen, exclude_overlap=False)
    doc = toy_gen.task.dataset["train"][0]
    first = next(e for e in training.examples if e.pairs[0][0] == f"Question: {doc['question']}\nAnswer:")
    assert first.pairs[0][1] == f"  {doc['answer']}\n\n"  # target_delimiter + doc_to_target + fewshot_delimiter
    assert training.overlap.exact == 2 and training.overlap.eval_docs == len(toy_gen.task.dataset["test"])


def test_few_shot_setting_renders_few_shot_contexts(toy_sentiment):
    training = _build(toy_sentiment, num_fewshot=2)
    context = training.examples[0].pairs[0][0]
    assert context.count("Question: Is this sentence positive or negative?") == 3


def test_train_split_override_must_exist(toy_sentiment):
    with pytest.raises(TaskError, match="'nope' is not in its data.*train, validation"):
        _build(toy_sentiment, split="nope")
    assert _build(toy_sentiment, split="validation", exclude_overlap=False).split == "validation"


def test_every_document_overlapping_is_an_error(toy_sentiment):
    with pytest.raises(TaskError, match="nothing is left"):
        _build(toy_sentiment, split="validation")


def test_task_without_training_split_says_how_to_declare_one(tmp_path: Path):
    config = yaml.safe_load((FIXTURES / "toy_sentiment" / "toy_sentiment.yaml").read_text())
    del config["training_split"]
    data = FIXTURES / "toy_sentiment" / "data"
    config["dataset_kwargs"]["data_files"] = {"validation": str(data / "validation.jsonl")}
    config["task"] = "toy_no_train"
    path = tmp_path / "toy_no_train.yaml"
    path.write_text(yaml.safe_dump(config))
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    task = load_task(TaskRegistry.discover().resolve(str(path)))
    with pytest.raises(TaskError) as info:
        _build(task)
    assert "declares no training split" in info.value.message
    assert "training_split" in info.value.hint and "--train-split" in info.value.hint
