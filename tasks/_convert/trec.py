"""TREC question classification: Latin-1 'COARSE:fine question' lines -> UTF-8 JSONL.

Output schema: {"text": str, "label": int, "coarse": str, "fine": str}
  label  = index of the coarse class in COARSE (ABBR, DESC, ENTY, HUM, LOC, NUM)
  coarse = e.g. 'NUM'; fine = the full original label token, e.g. 'NUM:dist'
The original line is exactly f"{fine} {text}" (decoded from Latin-1), so the conversion is
lossless.
"""

from __future__ import annotations

import re
from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "trec"
COARSE = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
LINE = re.compile(r"^(([A-Z]+):\S+) (.*)$")


def convert(name: str) -> list[dict]:
    raw = (SRC / name).read_bytes().decode("latin-1")
    lines = raw.split("\n")
    assert lines[-1] == ""
    rows = []
    for line in lines[:-1]:
        m = LINE.match(line)
        assert m, line
        fine, coarse, text = m.groups()
        assert f"{fine} {text}" == line
        rows.append({"text": text, "label": COARSE.index(coarse), "coarse": coarse, "fine": fine})
    return rows


def main() -> None:
    out = task_dir("trec")
    train = convert("TREC.train")
    test = convert("TREC.test")
    assert len(train) == 5452 and Counter(r["coarse"] for r in train) == {
        "ENTY": 1250, "HUM": 1223, "DESC": 1162, "NUM": 896, "LOC": 835, "ABBR": 86}
    assert len(test) == 500 and Counter(r["coarse"] for r in test) == {
        "DESC": 138, "NUM": 113, "ENTY": 94, "LOC": 81, "HUM": 65, "ABBR": 9}
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    write_source(
        "trec",
        "trec",
        """
  Task folder tasks/trec (converted by tasks/_convert/trec.py):
    train.jsonl <- TREC.train: 5,452 rows
    test.jsonl  <- TREC.test: 500 rows
  Conversion: decoded as Latin-1 (the only non-ASCII byte, 0xF0 in train line 66 'sister?city',
  becomes U+00F0 'ð'), written as UTF-8 JSONL. Each 'COARSE:fine text' line ->
  {"text", "label" (index into ABBR, DESC, ENTY, HUM, LOC, NUM), "coarse" ('NUM'),
  "fine" ('NUM:dist')}; original line == fine + ' ' + text, so nothing is lost. Question text
  kept as tokenised in the original ('... Aspen ?'); row order kept.
  Prompt: written for evalkit (lm-eval has no TREC task): coarse 6-way classification,
  description "Classify the questions based on whether their answer type is an abbreviation, a
  description, an entity, a human, a location, or a number.", then
  "Question: {{text}}\\nAnswer type:" with choices abbreviation / description / entity /
  human / location / number (label order above). Splits: training_split train (also few-shot),
  test_split test. ABBR is tiny (86 train / 9 test).
""",
        ["train.jsonl", "test.jsonl"],
    )


if __name__ == "__main__":
    main()
