"""The shipped tasks' prompts as evalkit builds them: they render, build few-shot contexts,
equal lm-eval 0.4's standard prompts where lm-eval has one, and score 1.0 with oracle answers."""

from __future__ import annotations

import inspect
import re

import pytest
from lm_eval.tasks._yaml_loader import load_yaml

from evalkit.tasks.loading import resolved_config
from tests.tasks_builtin.shipped import (
    CHOICE_NAMES, EXPECTED, LM_EVAL_TASKS, NAMES, NO_GOLD, ORACLE_METRICS, PROMPT_KEYS, SPLIT_DEVIATIONS, TASKS_DIR, gold_index, registry,
)
from tests.tasks_builtin.shipped import task as built


def _normalise(value):
    """Comparable form of a config value: functions by source code, containers recursively."""
    if callable(value):
        return inspect.getsource(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


@pytest.mark.parametrize("name", NAMES)
def test_first_docs_render(name):
    task = built(name)
    docs = task.eval_docs
    for i in range(3):
        doc = docs[i]
        text = task.doc_to_text(doc)
        # a language-modelling task, or a sentence-pair bias task, scores whole texts with an empty prompt
        assert isinstance(text, str) and (text.strip() or task.OUTPUT_TYPE == "loglikelihood_rolling" or name in NO_GOLD)
        target = task.doc_to_target(doc)
        if task.OUTPUT_TYPE == "multiple_choice":
            choices = task.doc_to_choice(doc)
            assert isinstance(choices, list) and all(isinstance(c, str) and c for c in choices)
            gold_index(task, doc)
        else:
            assert isinstance(target, str) and target
        ctx = task.fewshot_context(doc, 0)
        assert ctx.endswith(text)


@pytest.mark.parametrize("name", NAMES)
def test_fewshot_context_builds(name):
    task = built(name)
    task.set_fewshot_seed(1234)
    doc = task.eval_docs[0]
    ctx = task.fewshot_context(doc, 2)
    assert isinstance(ctx, str)
    assert ctx.endswith(task.doc_to_text(doc))
    assert ctx.count(task.config.fewshot_delimiter) >= 2


@pytest.mark.parametrize("name", [n for n in NAMES if EXPECTED[n]["lm_eval_yaml"]])
def test_prompt_identical_to_lm_eval(name):
    ours = resolved_config(registry().resolve(name))  # evalkit's loader: hooks imported from tasks/ only
    theirs = load_yaml(LM_EVAL_TASKS / EXPECTED[name]["lm_eval_yaml"], resolve_func=True)  # the reference
    for key in PROMPT_KEYS:
        assert _normalise(ours.get(key)) == _normalise(theirs.get(key)), key
    # Everything else in lm-eval's YAML is data source / split / bookkeeping.
    other = {"tag", "task", "dataset_path", "dataset_name", "dataset_kwargs", "metadata",
             "training_split", "validation_split", "test_split", "fewshot_split"}
    assert set(theirs) - set(PROMPT_KEYS) <= other
    assert ours["task"] == theirs["task"]
    # evalkit adds only the field grouping the documents (tests/tasks_builtin/test_builtin_clusters.py)
    assert {k: v for k, v in ours["metadata"].items() if k != "cluster"} == theirs["metadata"]
    # Split use: identical to lm-eval except for these documented deviations.
    deviations = SPLIT_DEVIATIONS.get(name, {})
    for key in ("training_split", "validation_split", "test_split", "fewshot_split"):
        if key in deviations:
            assert (theirs.get(key), ours.get(key)) == deviations[key], key
        elif key == "fewshot_split" and theirs.get(key) is None:
            # lm-eval draws few-shot examples from training_split when fewshot_split is unset;
            # evalkit states it explicitly.
            assert ours.get(key) in (None, ours.get("training_split")), key
        else:
            assert ours.get(key) == theirs.get(key), key


def test_sst2_doc0_prompt():
    task = built("sst2")
    doc = task.eval_docs[0]
    assert task.fewshot_context(doc, 0) == (
        "it 's a charming and often affecting journey . \nQuestion: Is this sentence positive or negative?\nAnswer:"
    )
    assert task.doc_to_target(doc) == 1
    assert task.doc_to_choice(doc) == ["negative", "positive"]


def test_arc_easy_doc0_prompt():
    task = built("arc_easy")
    doc = task.eval_docs[0]
    assert doc["id"] == "MCAS_2000_4_6"
    assert task.fewshot_context(doc, 0) == "Question: Which technology was developed most recently?\nAnswer:"
    assert task.doc_to_choice(doc) == ["cellular telephone", "television", "refrigerator", "airplane"]
    assert task.doc_to_target(doc) == 0
    # items with numeric labels map to the right index
    numeric = next(d for d in task.eval_docs if d["answerKey"].isdigit())
    assert task.doc_to_target(numeric) == int(numeric["answerKey"]) - 1


def test_rte_labels_map_to_glue_choices():
    task = built("rte")
    doc = task.eval_docs[0]  # SuperGLUE val idx 0: not_entailment
    assert doc["sentence2"] == "Christopher Reeve had an accident."
    assert task.doc_to_choice(doc)[task.doc_to_target(doc)] == "False"
    doc = task.eval_docs[1]  # idx 1: entailment
    assert task.doc_to_choice(doc)[task.doc_to_target(doc)] == "True"


def test_cb_and_boolq_labels():
    cb = built("cb")
    doc = cb.eval_docs[0]  # 'Valence was helping': contradiction
    assert cb.doc_to_choice(doc)[cb.doc_to_target(doc)] == "False"
    assert cb.doc_to_choice(cb.eval_docs[1])[cb.doc_to_target(cb.eval_docs[1])] == "Neither"
    boolq = built("boolq")
    doc = boolq.eval_docs[0]  # 'does ethanol take more energy make that produces': false
    assert boolq.fewshot_context(doc, 0).endswith("\nQuestion: does ethanol take more energy make that produces?\nAnswer:")
    assert boolq.doc_to_choice(doc)[boolq.doc_to_target(doc)] == "no"


def test_copa_prompt():
    task = built("copa")
    doc = task.eval_docs[0]
    assert task.doc_to_text(doc) == "The man turned on the faucet therefore"
    assert task.doc_to_choice(doc) == [" the toilet filled with water.", " water flowed from the spout."]
    assert task.doc_to_target(doc) == " water flowed from the spout."


def test_hellaswag_process_docs():
    task = built("hellaswag")
    doc = task.eval_docs[0]
    assert doc["query"] == "Roof shingle removal: A man is sitting on a roof. He"
    assert task.doc_to_target(doc) == 3
    assert task.doc_to_choice(doc)[3] == "starts pulling up roofing on a roof."


def test_gsm8k_generation_setup():
    task = built("gsm8k")
    doc = task.eval_docs[0]
    assert task.fewshot_context(doc, 0).startswith("Question: Janet’s ducks lay 16 eggs per day.")
    assert task.doc_to_target(doc).endswith("#### 18")
    assert task.config.num_fewshot == 5
    assert [f.name for f in task._filters] == ["strict-match", "flexible-extract"]
    assert task.config.generation_kwargs["until"] == ["Question:", "</s>", "<|im_end|>"]


def test_custom_prompts_render():
    expected = {
        "agnews": (
            "Classify the news articles into the categories of World, Sports, Business, and Technology.\n\n"
            "Article: Unions representing workers at Turner   Newall say they are 'disappointed' after talks "
            "with stricken parent firm Federal Mogul.\nAnswer:",
            "Business",
        ),
        "trec": (
            "Classify the questions based on whether their answer type is an abbreviation, a description, "
            "an entity, a human, a location, or a number.\n\nQuestion: How far is it from Denver to Aspen ?\nAnswer type:",
            "number",
        ),
        "emotion": (
            "Classify the emotion expressed in each text as sadness, joy, love, anger, fear, or surprise.\n\n"
            "Text: im feeling rather rotten so im not very ambitious right now\nEmotion:",
            "sadness",
        ),
    }
    for name, (prompt, answer) in expected.items():
        task = built(name)
        doc = task.eval_docs[0]
        assert task.fewshot_context(doc, 0) == prompt, name
        assert task.doc_to_choice(doc)[task.doc_to_target(doc)] == answer, name


@pytest.mark.parametrize(
    ("name", "hook_file", "lm_eval_file"),
    [
        ("copa", "utils.py", "super_glue/copa/utils.py"),
        ("hellaswag", "utils.py", "hellaswag/utils.py"),
        ("cb", "utils.py", "super_glue/cb/aggregate.py"),
        ("crows_pairs_english", "utils.py", "crows_pairs/utils.py"),
        ("bbq", "utils.py", "bbq/utils.py"),
        ("wikitext", "preprocess_wikitext.py", "wikitext/preprocess_wikitext.py"),
    ],
)
def test_utils_copied_verbatim(name, hook_file, lm_eval_file):
    ours = (TASKS_DIR / name / hook_file).read_text(encoding="utf-8")
    # drop our leading provenance comment lines
    lines = ours.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    assert "".join(lines) == (LM_EVAL_TASKS / lm_eval_file).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [n for n in CHOICE_NAMES if n not in NO_GOLD])
def test_scoring_with_oracle_loglikelihoods(name):
    """Fake log-likelihoods that favour the gold choice must score 1.0 on every metric."""
    task = built(name)
    docs = [task.eval_docs[i] for i in range(min(40, len(task.eval_docs)))]
    items: dict[str, list] = {}
    for doc in docs:
        gold = gold_index(task, doc)
        n = len(task.doc_to_choice(doc))
        results = [(0.0 if i == gold else -1000.0, i == gold) for i in range(n)]
        for metric, value in task.process_results(doc, results).items():
            items.setdefault(metric, []).append(value)
    aggregations = task.aggregation()
    assert set(items) == set(aggregations)
    for metric, values in items.items():
        if metric in ORACLE_METRICS.get(name, items):
            assert aggregations[metric](values) == pytest.approx(1.0), metric


def test_wikitext_scores_detokenised_articles_with_lm_evals_word_and_byte_counts():
    """62 articles split at top-level headings; the target is lm-eval's detokenised page, and
    process_results counts words and bytes on the original page, as lm-eval's wikitext does."""
    task = built("wikitext")
    docs = list(task.eval_docs)
    assert len(docs) == 62
    assert docs[0]["page"].startswith(" = Robert Boulter = ")
    assert all(d["page"].lstrip().startswith("= ") for d in docs)
    target = task.doc_to_target(docs[0])
    assert " @-@ " in docs[0]["page"] and " @-@ " not in target
    words, size = len(re.split(r"\s+", docs[0]["page"])), len(docs[0]["page"].encode("utf-8"))
    assert task.process_results(docs[0], [-123.0]) == {
        "word_perplexity": (-123.0, words), "byte_perplexity": (-123.0, size), "bits_per_byte": (-123.0, size)}
    assert task.higher_is_better() == {"word_perplexity": False, "byte_perplexity": False, "bits_per_byte": False}
