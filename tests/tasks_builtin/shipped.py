"""What the shipped tasks must contain (numbers from each task's SOURCE.txt) and how every test
loads them: through evalkit's registry and loader, exactly as `evalkit run` does."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import lm_eval

from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import LoadedTask, load_task

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
    "bbq": {
        "rows": {"test": 11956},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "category",
        "labels": {"test": {"Age": 3680, "Nationality": 3080, "Physical_appearance": 1576, "Disability_status": 1556,
                            "Religion": 1200, "Sexual_orientation": 864}},
        "lm_eval_yaml": "bbq/bbq_multiple_choice.yaml",
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
    "crows_pairs_english": {
        "rows": {"test": 1508},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "bias_type",
        "labels": {"test": {"race-color": 516, "gender": 262, "socioeconomic": 172, "nationality": 159,
                            "religion": 105, "age": 87, "sexual-orientation": 84, "physical-appearance": 63,
                            "disability": 60}},
        "lm_eval_yaml": "crows_pairs/crows_pairs_english.yaml",
    },
    "winogender_all": {
        "rows": {"test": 720},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "gender",
        "labels": {"test": {"male": 240, "female": 240, "neutral": 240}},
        "lm_eval_yaml": "winogender/winogender.yaml",
    },
    "winobias_pro_type1": {
        "rows": {"test": 396},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "label",
        "labels": {"test": {0: 198, 1: 198}},
        "lm_eval_yaml": None,  # lm-eval has no WinoBias task (tests/tasks_builtin/test_builtin_bias.py)
    },
    "winobias_pro_type2": {
        "rows": {"test": 396},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "label",
        "labels": {"test": {0: 2, 1: 394}},
        "lm_eval_yaml": None,  # lm-eval has no WinoBias task (tests/tasks_builtin/test_builtin_bias.py)
    },
    "winobias_anti_type1": {
        "rows": {"test": 396},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "label",
        "labels": {"test": {0: 198, 1: 198}},
        "lm_eval_yaml": None,  # lm-eval has no WinoBias task (tests/tasks_builtin/test_builtin_bias.py)
    },
    "winobias_anti_type2": {
        "rows": {"test": 396},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": "label",
        "labels": {"test": {0: 2, 1: 394}},
        "lm_eval_yaml": None,  # lm-eval has no WinoBias task (tests/tasks_builtin/test_builtin_bias.py)
    },
    "wikitext": {
        "rows": {"test": 62},
        "declared": {"training_split": None, "validation_split": None, "test_split": "test", "fewshot_split": None},
        "eval": "test",
        "label_field": None,
        "labels": {},
        "lm_eval_yaml": "wikitext/wikitext.yaml",
    },
}

# (lm-eval's value, evalkit's value) where evalkit's split use differs from lm-eval's YAML.
SPLIT_DEVIATIONS = {
    # evaluate on the 570-row Dev file (evalkit's reference numbers), not lm-eval's 2,376-row test
    "arc_easy": {"test_split": ("test", None)},
    # no training data available locally
    "boolq": {"training_split": ("train", None)},
    "hellaswag": {"training_split": ("train", None)},
    # only the test split ships (the one lm-eval evaluates)
    "wikitext": {"training_split": ("train", None), "validation_split": ("validation", None)},
}

REQUIRED = ["sst2", "rte", "cb", "boolq", "copa", "arc_easy", "openbookqa", "hellaswag", "agnews", "trec", "emotion", "gsm8k"]
NAMES = sorted(EXPECTED)
# Tasks whose documents are decided among answer choices (not generation, not language modelling).
CHOICE_NAMES = [n for n in NAMES if n not in ("gsm8k", "wikitext")]
# Bias measurements: no right answer (doc_to_target names the stereotyped choice), so no oracle score.
NO_GOLD = {"crows_pairs_english"}
# Tasks whose other metrics are bias scores (0 = no bias), not 1.0 under oracle answers: the oracle checks these.
ORACLE_METRICS = {"bbq": {"acc", "accuracy_amb", "accuracy_disamb"}}

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




@functools.cache
def registry() -> TaskRegistry:
    return TaskRegistry.discover()


@functools.cache
def load_builtin(name: str) -> LoadedTask:
    """The shipped task, resolved by name and loaded by evalkit (reused: a LoadedTask serves many cells)."""
    return load_task(registry().resolve(name))


def task(name: str) -> Any:
    """The lm-eval task object evalkit built for the shipped task `name`."""
    return load_builtin(name).task


def yaml_path(name: str) -> Path:
    return TASKS_DIR / name / f"{name}.yaml"


def gold_index(task: Any, doc: dict) -> int:
    """The gold choice index, resolved the way lm-eval's process_results does (an int index,
    or a target string that must be one of the choices); fails where lm-eval would score -100."""
    choices = task.doc_to_choice(doc)
    target = task.doc_to_target(doc)
    if isinstance(target, str):
        assert choices.count(target) == 1, (target, choices)
        target = choices.index(target)
    assert isinstance(target, int) and 0 <= target < len(choices), (target, choices)
    return target
