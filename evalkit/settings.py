"""Evaluation settings: zero-shot, few-shot:K, fine-tuned, and fine-tuned with few-shot prompts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalkit.errors import InputError

_FEW_SHOT = re.compile(r"^few-shot:(\d+)$")
SETTING_HELP = "zero-shot | few-shot:K | fine-tuned | fine-tuned+few-shot:K"


@dataclass(frozen=True, order=True)
class Setting:
    """How a model meets a task: with k in-context examples, and with or without fine-tuning."""

    fine_tuned: bool = False
    num_fewshot: int = 0

    @property
    def label(self) -> str:
        prompt = "zero-shot" if self.num_fewshot == 0 else f"few-shot:{self.num_fewshot}"
        if not self.fine_tuned:
            return prompt
        return "fine-tuned" if self.num_fewshot == 0 else f"fine-tuned+{prompt}"

    def __str__(self) -> str:
        return self.label


def parse_setting(text: str) -> Setting:
    """Parse a --setting value; errors say which value and what is accepted."""
    value = text.strip().lower()
    fine_tuned = value.startswith("fine-tuned")
    rest = value[len("fine-tuned"):].lstrip("+") if fine_tuned else value
    if rest in ("", "zero-shot"):
        if not fine_tuned and rest == "":
            raise InputError(f"Invalid --setting '{text}'.", hint=f"Use one of: {SETTING_HELP}.")
        return Setting(fine_tuned=fine_tuned, num_fewshot=0)
    match = _FEW_SHOT.match(rest)
    if not match:
        raise InputError(f"Invalid --setting '{text}'.", hint=f"Use one of: {SETTING_HELP}.")
    k = int(match.group(1))
    if k > 256:
        raise InputError(f"Invalid --setting '{text}': {k} few-shot examples is more than 256.",
                         hint="Use a smaller K, e.g. few-shot:5.")
    return Setting(fine_tuned=fine_tuned, num_fewshot=k)
