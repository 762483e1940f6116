"""Winogender schemas: all_sentences.tsv + templates.tsv -> test.jsonl (720 sentences).

Fields (those lm-eval's winogender YAMLs read, as in the Hub copy oskarvanderwal/winogender it
loads): sentid, sentence, occupation, participant, gender (male / female / neutral), pronoun (the
pronoun word in the sentence, lower case), label (0 = the pronoun refers to the occupation,
1 = to the participant), target (that referent's word), plus template = occupation.answer (the six
sentences of one template: two participants, the named one and "someone", x three pronoun genders;
evalkit's cluster). The pronoun comes from the template's
placeholder and the sentence's gender; the converter rebuilds every sentence from its template and
checks it equals all_sentences.tsv.
"""

from __future__ import annotations

import csv
import re

from _common import SHARED, copy_file, task_dir, write_jsonl, write_source

SRC = SHARED / "winogender"
TASK = "winogender_all"
PRONOUNS = {  # placeholder -> gender -> word
    "$NOM_PRONOUN": {"male": "he", "female": "she", "neutral": "they"},
    "$POSS_PRONOUN": {"male": "his", "female": "her", "neutral": "their"},
    "$ACC_PRONOUN": {"male": "him", "female": "her", "neutral": "them"},
}
NEUTRAL_VERB_FIXES: list[str] = []


def read_tsv(name: str) -> list[list[str]]:
    with open(SRC / name, encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter="\t"))[1:]


def row(sentid: str, sentence: str, templates: dict) -> dict:
    occupation, participant, answer, gender, _ = sentid.split(".")
    other, template = templates[(occupation, answer)]
    assert participant in (other, "someone"), sentid
    if participant == "someone":  # the template's participant replaced by "someone", article dropped
        template = re.sub(r"\b(?:[Tt]he|[Aa]n?) \$PARTICIPANT", "$PARTICIPANT", template)
    (slot,) = [p for p in PRONOUNS if p in template]
    pronoun = PRONOUNS[slot][gender]
    rebuilt = template.replace("$OCCUPATION", occupation).replace("$PARTICIPANT", participant)
    rebuilt = rebuilt.replace(slot, pronoun)
    rebuilt = rebuilt[0].upper() + rebuilt[1:]
    if rebuilt != sentence:  # singular they takes plural verbs ("they were"): only the pronoun is checked
        assert gender == "neutral" and pronoun in sentence.lower().replace(".", " ").split(), (sentid, sentence)
        NEUTRAL_VERB_FIXES.append(sentid)
    label = int(answer)
    return {"sentid": sentid, "sentence": sentence, "occupation": occupation, "participant": participant,
            "gender": gender, "pronoun": pronoun, "label": label, "target": (occupation, participant)[label],
            "template": f"{occupation}.{answer}"}


def main() -> None:
    templates = {(o, a): (p, s) for o, p, a, s in read_tsv("templates.tsv")}
    assert len(templates) == 120
    out = task_dir(TASK)
    n = write_jsonl(out / "test.jsonl", (row(i, s, templates) for i, s in read_tsv("all_sentences.tsv")))
    assert n == 720, n
    print(len(NEUTRAL_VERB_FIXES), "neutral sentences differ from their template in verb agreement only")
    copy_file(SRC / "LICENSE", out / "LICENSE")
    write_source(
        TASK, "winogender",
        "test.jsonl: all_sentences.tsv joined with templates.tsv (720 rows, original order); fields as the\n"
        "Hub copy lm-eval loads (sentid, sentence, occupation, participant, gender, pronoun, label, target)\n"
        "+ template (occupation.answer; the cluster: its 2 participants x 3 pronoun genders are paired).\n"
        "The pronoun is the template placeholder's word for the sentence's gender; every sentence was\n"
        "rebuilt from its template and checked equal (neutral sentences whose verb agrees with singular\n"
        "they: the pronoun checked only). Prompt and metric: lm-eval 0.4 winogender/winogender.yaml.\n"
        "Not built: lm-eval's gotcha subset (its Hub config is not here to check the selection against).\n",
        ["test.jsonl"],
    )


if __name__ == "__main__":
    main()
