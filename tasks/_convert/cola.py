"""CoLA: raw in-domain TSVs (source, label, orig_mark, sentence; no header) -> JSONL.

Output schema: HF ``nyu-mll/glue`` ``cola`` fields {"sentence", "label" (0 unacceptable,
1 acceptable), "idx"} plus the two extra raw columns {"source", "orig_mark"} so nothing is lost.
"""

from __future__ import annotations

from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "cola"


def convert(name: str) -> list[dict]:
    text = (SRC / name).read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    rows = []
    for i, line in enumerate(lines):
        source, label, orig_mark, sentence = line.split("\t")
        assert label in ("0", "1")
        rows.append(
            {"sentence": sentence, "label": int(label), "idx": i, "source": source, "orig_mark": orig_mark}
        )
    return rows


def main() -> None:
    out = task_dir("cola")
    train = convert("in_domain_train.tsv")
    dev = convert("in_domain_dev.tsv")
    assert len(train) == 8551 and Counter(r["label"] for r in train) == {1: 6023, 0: 2528}
    assert len(dev) == 527 and Counter(r["label"] for r in dev) == {1: 365, 0: 162}
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "validation.jsonl", dev)
    write_source(
        "cola",
        "cola",
        """
  Task folder tasks/cola (converted by tasks/_convert/cola.py):
    train.jsonl      <- in_domain_train.tsv: 8,551 rows (= GLUE CoLA train)
    validation.jsonl <- in_domain_dev.tsv: 527 rows (= GLUE CoLA validation)
  Conversion: each 'source<TAB>label<TAB>orig_mark<TAB>sentence' line -> {"sentence", "label"
  (int), "idx" (0-based line number), "source", "orig_mark"}. Text unchanged; order kept.
  Not copied: out_of_domain_dev.tsv (not part of GLUE's CoLA validation).
  Prompt: lm-eval 0.4.13 glue/cola, unchanged (choices no / yes; metric mcc).
""",
        ["train.jsonl", "validation.jsonl"],
    )


if __name__ == "__main__":
    main()
