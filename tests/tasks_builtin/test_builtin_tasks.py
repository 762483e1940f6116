"""Checks for evalkit's built-in lm-eval tasks in tasks/<name>/.

Every task folder is loaded the way evalkit loads it (lm-eval's YAML loader, data_files made
absolute relative to the YAML's folder) and built as an lm-eval ConfigurableTask. The tests
check split sizes and label distributions against the numbers in SOURCE.txt, that prompts
render, that every gold index is a valid choice, and that prompts copied from lm-eval are
identical to lm-eval 0.4.13's own task YAMLs.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections import Counter
from pathlib import Path

import pytest

lm_eval = pytest.importorskip("lm_eval")
pytest.importorskip("datasets")

from lm_eval.api.task import ConfigurableTask, TaskConfig  # noqa: E402
from lm_eval.tasks._yaml_loader import load_yaml  # noqa: E402

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"
LM_EVAL_TASKS = Path(lm_eval.__file__).resolve().parent / "tasks"

# name -> expected data splits (rows), declared lm-eval splits, eval split, label field and
# label distribution per split (numbers from the dataset's SOURCE.txt, in our label encoding).
EXPECTED: dict[str, dict] = {
    "sst2": {
        "rows": {"train": 67349, "validation": 872},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "label",
        "labels": {"train": {1: 37569, 0: 29780}, "validation": {1: 444, 0: 428}},
        "lm_eval_yaml": "glue/sst2/default.yaml",
    },
    "rte": {
        "rows": {"train": 2490, "validation": 277},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "label",
        # 0 = entailment, 1 = not_entailment (GLUE)
        "labels": {"train": {0: 1249, 1: 1241}, "validation": {0: 146, 1: 131}},
        "lm_eval_yaml": "glue/rte/default.yaml",
    },
    "cb": {
        "rows": {"train": 250, "validation": 56},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "label",
        # 0 entailment, 1 contradiction, 2 neutral
        "labels": {"train": {1: 119, 0: 115, 2: 16}, "validation": {1: 28, 0: 23, 2: 5}},
        "lm_eval_yaml": "super_glue/cb/default.yaml",
    },
    "boolq": {
        "rows": {"validation": 3270},
        "declared": {"training_split": None, "validation_split": "validation", "test_split": None, "fewshot_split": None},
        "eval": "validation",
        "label_field": "label",
        "labels": {"validation": {1: 2033, 0: 1237}},
        "lm_eval_yaml": "super_glue/boolq/default.yaml",
    },
    "copa": {
        "rows": {"train": 400, "validation": 100},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "label",
        "labels": {"train": {1: 205, 0: 195}, "validation": {0: 55, 1: 45}},
        "lm_eval_yaml": "super_glue/copa/default.yaml",
    },
    "arc_easy": {
        "rows": {"train": 2251, "validation": 570, "test": 2376},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "answerKey",
        "labels": {
            "train": {"B": 566, "C": 545, "A": 523, "D": 513, "3": 33, "1": 25, "2": 22, "4": 22, "E": 2},
            "validation": {"A": 152, "B": 145, "C": 137, "D": 115, "2": 7, "1": 6, "3": 5, "4": 3},
            "test": {"C": 610, "A": 570, "B": 563, "D": 535, "1": 26, "4": 26, "3": 23, "2": 22, "E": 1},
        },
        "lm_eval_yaml": "arc/arc_easy.yaml",
    },
    "openbookqa": {
        "rows": {"train": 4957, "validation": 500, "test": 500},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": "test", "fewshot_split": "train"},
        "eval": "test",
        "label_field": "answerKey",
        "labels": {
            "train": {"A": 1378, "D": 1221, "B": 1212, "C": 1146},
            "validation": {"B": 138, "A": 126, "D": 126, "C": 110},
            "test": {"A": 138, "C": 132, "B": 126, "D": 104},
        },
        "lm_eval_yaml": "openbookqa/openbookqa.yaml",
    },
    "hellaswag": {
        "rows": {"validation": 500},
        "declared": {"training_split": None, "validation_split": "validation", "test_split": None, "fewshot_split": None},
        "eval": "validation",
        "label_field": "label",
        "labels": {"validation": {"0": 132, "1": 124, "2": 124, "3": 120}},
        "lm_eval_yaml": "hellaswag/hellaswag.yaml",
    },
    "agnews": {
        "rows": {"train": 10001, "test": 7600},
        "declared": {"training_split": "train", "validation_split": None, "test_split": "test", "fewshot_split": "train"},
        "eval": "test",
        "label_field": "label",
        # 0 World, 1 Sports, 2 Business, 3 Sci/Tech
        "labels": {"train": {3: 2538, 0: 2509, 2: 2496, 1: 2458}, "test": {0: 1900, 1: 1900, 2: 1900, 3: 1900}},
        "lm_eval_yaml": None,
    },
    "trec": {
        "rows": {"train": 5452, "test": 500},
        "declared": {"training_split": "train", "validation_split": None, "test_split": "test", "fewshot_split": "train"},
        "eval": "test",
        "label_field": "label",
        # 0 ABBR, 1 DESC, 2 ENTY, 3 HUM, 4 LOC, 5 NUM
        "labels": {
            "train": {2: 1250, 3: 1223, 1: 1162, 5: 896, 4: 835, 0: 86},
            "test": {1: 138, 5: 113, 2: 94, 4: 81, 3: 65, 0: 9},
        },
        "lm_eval_yaml": None,
    },
    "emotion": {
        "rows": {"train": 16000, "validation": 2000, "test": 2000},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": "test", "fewshot_split": "train"},
        "eval": "test",
        "label_field": "label",
        # 0 sadness, 1 joy, 2 love, 3 anger, 4 fear, 5 surprise
        "labels": {
            "train": {1: 5362, 0: 4666, 3: 2159, 4: 1937, 2: 1304, 5: 572},
            "validation": {1: 704, 0: 550, 3: 275, 4: 212, 2: 178, 5: 81},
            "test": {1: 695, 0: 581, 3: 275, 4: 224, 2: 159, 5: 66},
        },
        "lm_eval_yaml": None,
    },
    "gsm8k": {
        "rows": {"train": 7473, "test": 1319},
        "declared": {"training_split": "train", "validation_split": None, "test_split": "test", "fewshot_split": "train"},
        "eval": "test",
        "label_field": None,
        "labels": {},
        "lm_eval_yaml": "gsm8k/gsm8k.yaml",
    },
    "cola": {
        "rows": {"train": 8551, "validation": 527},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "label",
        "labels": {"train": {1: 6023, 0: 2528}, "validation": {1: 365, 0: 162}},
        "lm_eval_yaml": "glue/cola/default.yaml",
    },
    "mrpc": {
        "rows": {"train": 3668, "validation": 408},
        "declared": {"training_split": "train", "validation_split": "validation", "test_split": None, "fewshot_split": "train"},
        "eval": "validation",
        "label_field": "label",
        # GLUE train = MSR train (2753/1323) minus GLUE validation (279/129)
        "labels": {"train": {1: 2474, 0: 1194}, "validation": {1: 279, 0: 129}},
        "lm_eval_yaml": "glue/mrpc/default.yaml",
    },
}

# (lm-eval's value, evalkit's value) where evalkit's split use differs from lm-eval's YAML.
SPLIT_DEVIATIONS = {
    # evaluate on the 570-row Dev file (evalkit's reference numbers), not lm-eval's 2,376-row test
    "arc_easy": {"test_split": ("test", None)},
    # no training data available locally
    "boolq": {"training_split": ("train", None)},
    "hellaswag": {"training_split": ("train", None)},
}

REQUIRED = ["sst2", "rte", "cb", "boolq", "copa", "arc_easy", "openbookqa", "hellaswag", "agnews", "trec", "emotion", "gsm8k"]
NAMES = sorted(EXPECTED)

# Keys that define the prompt/scoring and must match lm-eval's YAML exactly.
PROMPT_KEYS = [
    "output_type",
    "doc_to_text",
    "doc_to_target",
    "doc_to_choice",
    "process_docs",
    "target_delimiter",
    "fewshot_delimiter",
    "description",
    "metric_list",
    "generation_kwargs",
    "filter_list",
    "num_fewshot",
    "repeats",
    "should_decontaminate",
    "doc_to_decontamination_query",
    "process_results",
    "gen_prefix",
]


def yaml_path(name: str) -> Path:
    return TASKS_DIR / name / f"{name}.yaml"


def load_config(path: Path) -> dict:
    cfg = load_yaml(path, resolve_func=True)
    files = cfg.get("dataset_kwargs", {}).get("data_files")
    if isinstance(files, dict):
        cfg["dataset_kwargs"]["data_files"] = {k: str((path.parent / v).resolve()) for k, v in files.items()}
    return cfg


@functools.cache
def build(name: str) -> ConfigurableTask:
    return ConfigurableTask(config=load_config(yaml_path(name)))


def gold_index(task: ConfigurableTask, doc: dict) -> int:
    """The gold choice index, resolved the way lm-eval's process_results does (an int index,
    or a target string that must be one of the choices); fails where lm-eval would score -100."""
    choices = task.doc_to_choice(doc)
    target = task.doc_to_target(doc)
    if isinstance(target, str):
        assert choices.count(target) == 1, (target, choices)
        target = choices.index(target)
    assert isinstance(target, int) and 0 <= target < len(choices), (target, choices)
    return target


def _normalise(value):
    """Comparable form of a config value: functions by source code, containers recursively."""
    if callable(value):
        return inspect.getsource(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def test_task_folders_match_expected():
    folders = sorted(p.name for p in TASKS_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert folders == NAMES
    assert set(REQUIRED) <= set(folders)
    for name in folders:
        d = TASKS_DIR / name
        assert yaml_path(name).is_file()
        assert list(d.glob("*.yaml")) == [yaml_path(name)]
        source = (d / "SOURCE.txt").read_text(encoding="utf-8")
        assert "evalkit notes" in source


@pytest.mark.parametrize("name", NAMES)
def test_yaml_is_valid_task_config(name):
    raw = load_yaml(yaml_path(name), resolve_func=False)
    unknown = set(raw) - set(TaskConfig.__dataclass_fields__)
    assert not unknown, unknown
    assert raw["task"] == name
    assert raw["dataset_path"] == "json"
    files = raw["dataset_kwargs"]["data_files"]
    assert set(files) == set(EXPECTED[name]["rows"])
    for rel in files.values():
        assert not Path(rel).is_absolute()
        assert (yaml_path(name).parent / rel).is_file()


@pytest.mark.parametrize("name", NAMES)
def test_task_builds_with_expected_splits(name):
    exp = EXPECTED[name]
    task = build(name)
    assert task.config.task == name
    assert set(task.dataset.keys()) == set(exp["rows"])
    for split, n in exp["rows"].items():
        assert task.dataset[split].num_rows == n, split
        # JSONL: one row per line
        path = Path(task.config.dataset_kwargs["data_files"][split])
        assert path.read_bytes().count(b"\n") == n
    for key, value in exp["declared"].items():
        assert task.config[key] == value, key
    assert len(task.eval_docs) == exp["rows"][exp["eval"]]
    if exp["declared"]["training_split"]:
        assert task.has_training_docs()


@pytest.mark.parametrize("name", NAMES)
def test_label_distribution_matches_source(name):
    exp = EXPECTED[name]
    task = build(name)
    for split, dist in exp["labels"].items():
        assert Counter(task.dataset[split][exp["label_field"]]) == dist, split


@pytest.mark.parametrize("name", NAMES)
def test_first_docs_render(name):
    task = build(name)
    docs = task.eval_docs
    for i in range(3):
        doc = docs[i]
        text = task.doc_to_text(doc)
        assert isinstance(text, str) and text.strip()
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
    task = build(name)
    task.set_fewshot_seed(1234)
    doc = task.eval_docs[0]
    ctx = task.fewshot_context(doc, 2)
    assert isinstance(ctx, str)
    assert ctx.endswith(task.doc_to_text(doc))
    assert ctx.count(task.config.fewshot_delimiter) >= 2


@pytest.mark.parametrize("name", [n for n in NAMES if n != "gsm8k"])
def test_every_target_is_a_valid_choice(name):
    """For the eval split and every other declared split (few-shot / fine-tuning data).

    (Duplicate choice texts do occur in the original data, e.g. one OpenBookQA train item;
    they are only a problem where the target is a choice string, which gold_index checks.)"""
    task = build(name)
    assert task.OUTPUT_TYPE == "multiple_choice"
    splits = {s for s in (task.config.training_split, task.config.validation_split, task.config.test_split) if s}
    for split in splits:
        docs = task.config.process_docs(task.dataset[split]) if task.config.process_docs else task.dataset[split]
        for doc in docs:
            gold_index(task, doc)


@pytest.mark.parametrize("name", [n for n in NAMES if EXPECTED[n]["lm_eval_yaml"]])
def test_prompt_identical_to_lm_eval(name):
    ours = load_yaml(yaml_path(name), resolve_func=True)
    theirs = load_yaml(LM_EVAL_TASKS / EXPECTED[name]["lm_eval_yaml"], resolve_func=True)
    for key in PROMPT_KEYS:
        assert _normalise(ours.get(key)) == _normalise(theirs.get(key)), key
    # Everything else in lm-eval's YAML is data source / split / bookkeeping.
    other = {"tag", "task", "dataset_path", "dataset_name", "dataset_kwargs", "metadata",
             "training_split", "validation_split", "test_split", "fewshot_split"}
    assert set(theirs) - set(PROMPT_KEYS) <= other
    assert ours["task"] == theirs["task"]
    assert ours["metadata"] == theirs["metadata"]
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
    task = build("sst2")
    doc = task.eval_docs[0]
    assert task.fewshot_context(doc, 0) == (
        "it 's a charming and often affecting journey . \nQuestion: Is this sentence positive or negative?\nAnswer:"
    )
    assert task.doc_to_target(doc) == 1
    assert task.doc_to_choice(doc) == ["negative", "positive"]


def test_arc_easy_doc0_prompt():
    task = build("arc_easy")
    doc = task.eval_docs[0]
    assert doc["id"] == "MCAS_2000_4_6"
    assert task.fewshot_context(doc, 0) == "Question: Which technology was developed most recently?\nAnswer:"
    assert task.doc_to_choice(doc) == ["cellular telephone", "television", "refrigerator", "airplane"]
    assert task.doc_to_target(doc) == 0
    # items with numeric labels map to the right index
    numeric = next(d for d in task.eval_docs if d["answerKey"].isdigit())
    assert task.doc_to_target(numeric) == int(numeric["answerKey"]) - 1


def test_rte_labels_map_to_glue_choices():
    task = build("rte")
    doc = task.eval_docs[0]  # SuperGLUE val idx 0: not_entailment
    assert doc["sentence2"] == "Christopher Reeve had an accident."
    assert task.doc_to_choice(doc)[task.doc_to_target(doc)] == "False"
    doc = task.eval_docs[1]  # idx 1: entailment
    assert task.doc_to_choice(doc)[task.doc_to_target(doc)] == "True"


def test_cb_and_boolq_labels():
    cb = build("cb")
    doc = cb.eval_docs[0]  # 'Valence was helping': contradiction
    assert cb.doc_to_choice(doc)[cb.doc_to_target(doc)] == "False"
    assert cb.doc_to_choice(cb.eval_docs[1])[cb.doc_to_target(cb.eval_docs[1])] == "Neither"
    boolq = build("boolq")
    doc = boolq.eval_docs[0]  # 'does ethanol take more energy make that produces': false
    assert boolq.fewshot_context(doc, 0).endswith("\nQuestion: does ethanol take more energy make that produces?\nAnswer:")
    assert boolq.doc_to_choice(doc)[boolq.doc_to_target(doc)] == "no"


def test_copa_prompt_and_train_labels():
    task = build("copa")
    doc = task.eval_docs[0]
    assert task.doc_to_text(doc) == "The man turned on the faucet therefore"
    assert task.doc_to_choice(doc) == [" the toilet filled with water.", " water flowed from the spout."]
    assert task.doc_to_target(doc) == " water flowed from the spout."
    train = task.dataset["train"]
    first = train[0]  # XML id 1: most-plausible-alternative 1
    assert first["premise"] == "My body cast a shadow over the grass." and first["label"] == 0
    assert first["choice1"] == "The sun was rising."
    for d in list(train) + list(task.dataset["validation"]):
        assert d["premise"].endswith(".") and d["premise"] == d["premise"].strip()
        assert d["choice1"] == d["choice1"].strip() and d["choice2"] == d["choice2"].strip()
    assert [d["idx"] for d in train] == list(range(400))


def test_hellaswag_process_docs():
    task = build("hellaswag")
    doc = task.eval_docs[0]
    assert doc["query"] == "Roof shingle removal: A man is sitting on a roof. He"
    assert task.doc_to_target(doc) == 3
    assert task.doc_to_choice(doc)[3] == "starts pulling up roofing on a roof."


def test_gsm8k_generation_setup():
    task = build("gsm8k")
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
        task = build(name)
        doc = task.eval_docs[0]
        assert task.fewshot_context(doc, 0) == prompt, name
        assert task.doc_to_choice(doc)[task.doc_to_target(doc)] == answer, name


def test_trec_conversion_is_lossless():
    raw = Path(os.environ.get("EVALKIT_SHARED_DATA", "/work/shared/data")) / "trec" / "TREC.train"
    rows = [json.loads(line) for line in (TASKS_DIR / "trec" / "train.jsonl").open(encoding="utf-8")]
    rebuilt = "".join(f"{r['fine']} {r['text']}\n" for r in rows)
    if raw.exists():
        assert rebuilt.encode("latin-1") == raw.read_bytes()
    assert all(r["fine"].split(":")[0] == r["coarse"] for r in rows)


@pytest.mark.parametrize(
    ("name", "lm_eval_file"),
    [
        ("copa", "super_glue/copa/utils.py"),
        ("hellaswag", "hellaswag/utils.py"),
        ("cb", "super_glue/cb/aggregate.py"),
    ],
)
def test_utils_copied_verbatim(name, lm_eval_file):
    ours = (TASKS_DIR / name / "utils.py").read_text(encoding="utf-8")
    # drop our leading provenance comment lines
    lines = ours.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    assert "".join(lines) == (LM_EVAL_TASKS / lm_eval_file).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [n for n in NAMES if n != "gsm8k"])
def test_scoring_with_oracle_loglikelihoods(name):
    """Fake log-likelihoods that favour the gold choice must score 1.0 on every metric."""
    task = build(name)
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
        assert aggregations[metric](values) == pytest.approx(1.0), metric
