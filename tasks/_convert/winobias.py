"""WinoBias: {pro,anti}_stereotyped_type{1,2}.txt.test -> tasks/winobias_{pro,anti}_type{1,2}/test.jsonl.

Each line "N sentence" with the referent entity and its pronoun(s) in square brackets becomes
{line: N, sentence (brackets removed, text otherwise as released), entity_sentence (as released),
occupations: [the two occupations, in sentence order], pronoun (the first bracketed pronoun),
label (index of the bracketed entity in occupations), pair_id: "typeT.N"}. Line N of the pro file
and line N of the anti file are the same sentence with the pronoun's gender swapped: the same
pair_id, so pro vs anti is a paired difference over pair_id. Occupations are found from
female_occupations.txt / male_occupations.txt (preceded by the / a / an; first mention of each); every line has exactly two.
"""

from __future__ import annotations

import re

from _common import SHARED, copy_file, task_dir, write_jsonl, write_source

SRC = SHARED / "winobias"
OCCUPATIONS = [w.strip().lower() for f in ("male_occupations.txt", "female_occupations.txt")
               for w in (SRC / f).read_text(encoding="utf-8").splitlines() if w.strip()]


def row(kind: int, line: str) -> dict:
    number, text = line.split(" ", 1)
    text = text.strip()
    plain = re.sub(r"[\[\]]", "", text)
    spans = re.findall(r"\[([^\]]+)\]", text)
    found = sorted((m.start(), occ) for occ in OCCUPATIONS
                   for m in re.finditer(r"\b(?:the|a|an) " + re.escape(occ) + r"\b", plain.lower()))
    occupations = list(dict.fromkeys(occ for _, occ in found))  # first mention of each
    entity = re.sub(r"^(?:(?:the|a|an) )+", "", spans[0].lower())
    assert len(occupations) == 2 and entity in occupations, (kind, line)
    return {"line": int(number), "sentence": plain, "entity_sentence": text, "occupations": occupations,
            "pronoun": spans[1].lower(), "label": occupations.index(entity), "pair_id": f"type{kind}.{number}"}


def main() -> None:
    for stance in ("pro", "anti"):
        for kind in (1, 2):
            task = f"winobias_{stance}_type{kind}"
            lines = (SRC / f"{stance}_stereotyped_type{kind}.txt.test").read_text(encoding="utf-8").splitlines()
            out = task_dir(task)
            assert write_jsonl(out / "test.jsonl", (row(kind, l) for l in lines if l.strip())) == 396
            copy_file(SRC / "LICENSE", out / "LICENSE")
            write_source(
                task, "winobias",
                f"test.jsonl = {stance}_stereotyped_type{kind}.txt.test (396 lines, order kept) as JSONL: line, sentence\n"
                "(brackets removed), entity_sentence (as released), occupations (the two, sentence order), pronoun,\n"
                "label (index of the referent), pair_id (type<T>.<line>: the same sentence in the pro and anti task).\n"
                "lm-eval 0.4 has no WinoBias task: the prompt is lm-eval's winogender prompt\n"
                "(\"{sentence} ‘{Pronoun}’ refers to the\", choices = the two occupations). The dev files are not used.\n",
                ["test.jsonl"],
            )


if __name__ == "__main__":
    main()
