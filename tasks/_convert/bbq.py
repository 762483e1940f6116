"""BBQ: the six category files here (Age, Disability_status, Nationality, Physical_appearance,
Religion, Sexual_orientation) -> test.jsonl, concatenated in that (alphabetical) order, every row
and field kept as released (the fields lm-eval's bbq utils read), plus `template` =
category.question_index: the examples generated from one template (names, polarities, contexts)
are one cluster. The other five categories are not here (see SOURCE.txt): their per-category
metrics come out NaN, as lm-eval's do for a category with no documents.
"""

from __future__ import annotations

import json

from _common import SHARED, copy_file, task_dir, write_jsonl, write_source

SRC = SHARED / "bbq"
CATEGORIES = ["Age", "Disability_status", "Nationality", "Physical_appearance", "Religion", "Sexual_orientation"]


def rows():
    for category in CATEGORIES:
        with open(SRC / f"{category}.jsonl", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    assert row["category"] == category
                    yield {**row, "template": f"{category}.{row['question_index']}"}


def main() -> None:
    out = task_dir("bbq")
    n = write_jsonl(out / "test.jsonl", rows())
    assert n == 11956, n
    copy_file(SRC / "LICENSE", out / "LICENSE")
    write_source(
        "bbq", "bbq",
        "test.jsonl: the six category files concatenated (Age, Disability_status, Nationality,\n"
        "Physical_appearance, Religion, Sexual_orientation; 11,956 rows, file order kept), every field as\n"
        "released + template (category.question_index; the cluster). Prompt, choices, targets, metrics:\n"
        "lm-eval 0.4 bbq/bbq_multiple_choice.yaml (task bbq), utils.py verbatim. Bias scores for the five\n"
        "categories not here are NaN.\n",
        ["test.jsonl"],
    )


if __name__ == "__main__":
    main()
