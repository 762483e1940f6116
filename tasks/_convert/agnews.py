"""AG News: ALPS TSVs (description text, label name) -> tasks/agnews/{train,test}.jsonl.

Output schema: {"text": str, "label": int} with the HF ``ag_news`` label order
0 World, 1 Sports, 2 Business, 3 Sci/Tech (= official Class Index - 1).
The ALPS files use CSV-style quoting inside a TSV, so they are read with
csv.reader(delimiter='\\t') and default quoting (see SOURCE.txt).
"""

from __future__ import annotations

import csv
from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "agnews"
LABELS = {"World": 0, "Sports": 1, "Business": 2, "Sci/Tech": 3}


def read_alps(name: str) -> list[dict]:
    with open(SRC / name, encoding="utf-8", newline="") as f:
        rows = []
        for rec in csv.reader(f, delimiter="\t"):
            assert len(rec) == 2, rec
            text, label = rec
            rows.append({"text": text, "label": LABELS[label]})
    return rows


def main() -> None:
    out = task_dir("agnews")
    train = read_alps("alps_dev_subset_of_train.tsv")
    test = read_alps("alps_test.tsv")
    assert len(train) == 10001
    assert Counter(r["label"] for r in train) == {3: 2538, 0: 2509, 2: 2496, 1: 2458}
    assert len(test) == 7600 and Counter(r["label"] for r in test) == {0: 1900, 1: 1900, 2: 1900, 3: 1900}
    # The ALPS test file is the official test.csv minus its Title column: check row for row.
    with open(SRC / "test.csv", encoding="utf-8", newline="") as f:
        official = list(csv.DictReader(f))
    assert len(official) == 7600
    for r, o in zip(test, official):
        assert r["text"] == o["Description"] and r["label"] == int(o["Class Index"]) - 1
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    write_source(
        "agnews",
        "agnews",
        """
  Task folder tasks/agnews (converted by tasks/_convert/agnews.py):
    train.jsonl <- alps_dev_subset_of_train.tsv: 10,001 rows (ALPS's subset of the official
                   120k train split; the full train split is not available here)
    test.jsonl  <- alps_test.tsv: 7,600 rows (official test split)
  Conversion: csv.reader(delimiter='\\t', default quoting) -> {"text", "label"} with the HF
  ag_news label order 0 World, 1 Sports, 2 Business, 3 Sci/Tech. Text unchanged (including the
  ' #39;'-style escapes and backslashes of the original release); row order kept.
  The converter asserts that test.jsonl equals the official test.csv row for row (text ==
  Description, label == Class Index - 1). test.csv's Title column is not used: the train subset
  has no titles, so the prompt uses the description only for both splits (test.csv not copied).
  Prompt: written for evalkit (lm-eval has no AG News task): description "Classify the news
  articles into the categories of World, Sports, Business, and Technology.", then
  "Article: {{text}}\\nAnswer:" with choices World / Sports / Business / Technology (the
  prompt and label words of Zhao et al. 2021, 'Calibrate Before Use'). Splits: training_split
  train (also the few-shot split), test_split test; no validation split.
""",
        ["train.jsonl", "test.jsonl"],
    )


if __name__ == "__main__":
    main()
