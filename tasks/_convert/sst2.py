"""SST-2 (GLUE): train_full.tsv / dev.tsv -> tasks/sst2/{train,validation}.jsonl.

Schema of HF ``nyu-mll/glue`` ``sst2`` (what lm-eval's glue/sst2 prompt expects):
    {"sentence": str, "label": int (0 negative, 1 positive), "idx": int}
Sentences are kept byte for byte (including the trailing space GLUE has before the tab).
"""

from __future__ import annotations

from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "sst2"


def read_tsv(name: str) -> list[dict]:
    text = (SRC / name).read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == "sentence\tlabel", lines[0]
    assert lines[-1] == ""
    rows = []
    for i, line in enumerate(lines[1:-1]):
        sentence, label = line.split("\t")  # exactly two fields, no quoting in GLUE SST-2
        assert label in ("0", "1")
        rows.append({"sentence": sentence, "label": int(label), "idx": i})
    return rows


def main() -> None:
    out = task_dir("sst2")
    train = read_tsv("train_full.tsv")
    dev = read_tsv("dev.tsv")
    assert len(train) == 67349 and Counter(r["label"] for r in train) == {1: 37569, 0: 29780}
    assert len(dev) == 872 and Counter(r["label"] for r in dev) == {1: 444, 0: 428}
    assert dev[0]["sentence"] == "it 's a charming and often affecting journey . "
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "validation.jsonl", dev)
    write_source(
        "sst2",
        "sst2",
        """
  Task folder tasks/sst2 (converted by tasks/_convert/sst2.py):
    train.jsonl      <- train_full.tsv (GLUE train, phrase level): 67,349 rows
    validation.jsonl <- dev.tsv (GLUE dev = HF glue/sst2 validation): 872 rows
  Conversion: header line dropped; each 'sentence<TAB>label' line -> {"sentence", "label"
  (int 0 = negative, 1 = positive), "idx" (0-based line number within the file, as in HF
  glue)}. Sentence text kept byte for byte, including GLUE's trailing space. Row order kept.
  Not copied: test-labeled.tsv (SST test labels, not GLUE's hidden test; lm-eval's sst2 has no
  test split) and sentence_level_alt/ (not the GLUE data).
  Prompt: lm-eval 0.4.13 glue/sst2, unchanged; evaluation split = validation (872).
""",
        ["train.jsonl", "validation.jsonl"],
    )


if __name__ == "__main__":
    main()
