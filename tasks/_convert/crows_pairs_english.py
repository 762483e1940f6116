"""CrowS-Pairs (original release): crows_pairs_anonymized.csv -> test.jsonl.

Every CSV row kept, original order, columns as in the CSV (the unnamed index column as
``index``, an int); lm-eval's crows_pairs utils read ``sent_more``, ``sent_less`` and
``bias_type``. The data is CC BY-SA 4.0: its licence note (LICENSE) sits beside it.
"""

from __future__ import annotations

import csv

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "crows_pairs"
TASK = "crows_pairs_english"

LICENSE = """CrowS-Pairs data (test.jsonl in this folder) is licensed under the Creative Commons
Attribution-ShareAlike 4.0 International licence (CC BY-SA 4.0),
https://creativecommons.org/licenses/by-sa/4.0/ .
Attribution: Nangia, Vania, Bhalerao, Bowman 2020, 'CrowS-Pairs: A Challenge Dataset for
Measuring Social Biases in Masked Language Models', EMNLP; GitHub nyu-mll/crows-pairs,
commit 8aaac11, data/crows_pairs_anonymized.csv. Changes: converted from CSV to JSONL (one
row per line, every row and column kept). This file and the data keep CC BY-SA 4.0 whatever
the licence of the code around them.
"""


def rows() -> list[dict]:
    with open(SRC / "crows_pairs_anonymized.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        out = []
        for row in reader:
            row["index"] = int(row.pop(""))
            out.append({"index": row["index"], **{k: v for k, v in row.items() if k != "index"}})
        return out


def main() -> None:
    out = task_dir(TASK)
    n = write_jsonl(out / "test.jsonl", rows())
    assert n == 1508, n
    (out / "LICENSE").write_text(LICENSE, encoding="utf-8")
    write_source(
        TASK, "crows_pairs",
        "test.jsonl = crows_pairs_anonymized.csv as JSONL (1,508 rows, original order; the unnamed\n"
        "index column as `index`). Prompt and metrics: lm-eval 0.4 crows_pairs/crows_pairs_english.yaml\n"
        "(utils.py verbatim). lm-eval's per-bias-type subtasks filter on bias_type.\n"
        "LICENSE: the CC BY-SA 4.0 note for the data.\n",
        ["test.jsonl"],
    )


if __name__ == "__main__":
    main()
