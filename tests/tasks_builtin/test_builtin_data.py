"""The shipped tasks' data as evalkit loads it: split sizes and label distributions match
SOURCE.txt, declared splits are as documented, and every gold answer is a valid choice."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from tests.tasks_builtin.shipped import CHOICE_NAMES, EXPECTED, NAMES, TASKS_DIR, gold_index, task


@pytest.mark.parametrize("name", NAMES)
def test_task_builds_with_expected_splits(name: str) -> None:
    exp = EXPECTED[name]
    built = task(name)
    assert built.config.task == name
    assert set(built.dataset.keys()) == set(exp["rows"])
    for split, n in exp["rows"].items():
        assert built.dataset[split].num_rows == n, split
        # JSONL: one row per line; evalkit made the path absolute, relative to the YAML
        path = Path(built.config.dataset_kwargs["data_files"][split])
        assert path.is_absolute() and path.parent == TASKS_DIR / name
        assert path.read_bytes().count(b"\n") == n
    for key, value in exp["declared"].items():
        assert built.config[key] == value, key
    assert len(built.eval_docs) == exp["rows"][exp["eval"]]
    if exp["declared"]["training_split"]:
        assert built.has_training_docs()


@pytest.mark.parametrize("name", NAMES)
def test_label_distribution_matches_source(name: str) -> None:
    exp = EXPECTED[name]
    built = task(name)
    for split, dist in exp["labels"].items():
        assert Counter(built.dataset[split][exp["label_field"]]) == dist, split


@pytest.mark.parametrize("name", CHOICE_NAMES)
def test_every_target_is_a_valid_choice(name: str) -> None:
    """For the eval split and every other declared split (few-shot / fine-tuning data).

    (Duplicate choice texts do occur in the original data, e.g. one OpenBookQA train item;
    they are only a problem where the target is a choice string, which gold_index checks.)"""
    built = task(name)
    assert built.OUTPUT_TYPE == "multiple_choice"
    splits = {s for s in (built.config.training_split, built.config.validation_split, built.config.test_split) if s}
    for split in splits:
        docs = built.config.process_docs(built.dataset[split]) if built.config.process_docs else built.dataset[split]
        for doc in docs:
            gold_index(built, doc)


def test_copa_train_split_is_clean() -> None:
    built = task("copa")
    train = built.dataset["train"]
    first = train[0]  # XML id 1: most-plausible-alternative 1
    assert first["premise"] == "My body cast a shadow over the grass." and first["label"] == 0
    assert first["choice1"] == "The sun was rising."
    for d in list(train) + list(built.dataset["validation"]):
        assert d["premise"].endswith(".") and d["premise"] == d["premise"].strip()
        assert d["choice1"] == d["choice1"].strip() and d["choice2"] == d["choice2"].strip()
    assert [d["idx"] for d in train] == list(range(400))


def test_trec_conversion_is_lossless() -> None:
    raw = Path(os.environ.get("EVALKIT_SHARED_DATA", "/work/shared/data")) / "trec" / "TREC.train"
    rows = [json.loads(line) for line in (TASKS_DIR / "trec" / "train.jsonl").open(encoding="utf-8")]
    rebuilt = "".join(f"{r['fine']} {r['text']}\n" for r in rows)
    if raw.exists():
        assert rebuilt.encode("latin-1") == raw.read_bytes()
    assert all(r["fine"].split(":")[0] == r["coarse"] for r in rows)
    assert len(rows) == task("trec").dataset["train"].num_rows
