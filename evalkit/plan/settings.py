"""Evaluation settings: zero-shot, few-shot:K, fine-tuned, fine-tuned with few-shot prompts, and
fine-tuned on another task's training split (the transfer matrix).

Labels are the settings' one spelling everywhere (store, views, comparisons):
- 'fine-tuned@step:N' (or 'fine-tuned+few-shot:K@step:N'): the fine-tuned setting's adapter after N
  optimiser steps (--ft-eval-steps); the final adapter's cell keeps the plain label. Made by the
  plan, never typed by a user.
- 'fine-tuned-on:TASK': the current task evaluated with the adapter fine-tuned on TASK.
- 'fine-tuned-on:*': every task of the run that has a training split (what --transfer asks for);
  the plan replaces it with one 'fine-tuned-on:TASK' per such task.
- 'task-default': each task's own few-shot count (its YAML's num_fewshot, else zero), as `lm_eval`
  runs a task; what a run without --setting uses. At the door (evalkit.engine.door) it becomes
  'zero-shot' or 'few-shot:K' with `task_default` set, so the label stays one spelling and the
  fact that K came from the task is kept beside it (shown as 'few-shot:5 (task default)').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalkit.errors import InputError

_FEW_SHOT = re.compile(r"^few-shot:(\d+)$")
_STEP_SUFFIX = re.compile(r"@step:\d+$")
TRANSFER_PREFIX = "fine-tuned-on:"
ALL_SOURCES = "*"
TASK_DEFAULT = "task-default"
_UNRESOLVED = -1  # num_fewshot of a 'task-default' setting before the task is loaded
SETTING_HELP = ("zero-shot | few-shot:K | fine-tuned | fine-tuned+few-shot:K | fine-tuned-on:TASK | "
                "task-default (the default: each task's own num_fewshot)")


@dataclass(frozen=True)
class Setting:
    """How a model meets a task: with k in-context examples, with or without fine-tuning (on the
    task itself, or on `trained_on`), and for an intermediate fine-tuning adapter its `step`."""

    fine_tuned: bool = False
    num_fewshot: int = 0
    trained_on: str | None = None
    step: int | None = None
    task_default: bool = False  # K is (or, unresolved, will be) the task's own num_fewshot

    @property
    def label(self) -> str:
        if self.is_unresolved_task_default:
            return TASK_DEFAULT
        family = self.family
        return family if self.step is None else f"{family}@step:{self.step}"

    @property
    def family(self) -> str:
        """The label without the step: the setting a fine-tuning trajectory belongs to."""
        if self.trained_on is not None:
            return f"{TRANSFER_PREFIX}{self.trained_on}"
        prompt = "zero-shot" if self.num_fewshot == 0 else f"few-shot:{self.num_fewshot}"
        if not self.fine_tuned:
            return prompt
        return "fine-tuned" if self.num_fewshot == 0 else f"fine-tuned+{prompt}"

    @property
    def trains_on_own_task(self) -> bool:
        """True for 'fine-tuned' and 'fine-tuned+few-shot:K' (with or without a step)."""
        return self.fine_tuned and self.trained_on is None

    @property
    def shown_label(self) -> str:
        """The label as shown to a user: 'few-shot:5 (task default)' when K came from the task."""
        return f"{self.label} (task default)" if self.task_default and not self.is_unresolved_task_default \
            else self.label

    @property
    def is_unresolved_task_default(self) -> bool:
        return self.task_default and self.num_fewshot == _UNRESOLVED

    def with_task_default(self, num_fewshot: int) -> "Setting":
        """A 'task-default' setting resolved to the task's own few-shot count."""
        return Setting(num_fewshot=num_fewshot, task_default=True)

    @property
    def is_all_sources(self) -> bool:
        return self.trained_on == ALL_SOURCES

    def __str__(self) -> str:
        return self.label


def parse_setting(text: str) -> Setting:
    """Parse a --setting value; errors say which value and what is accepted."""
    stripped = text.strip()
    if stripped.lower() == TASK_DEFAULT:
        return Setting(num_fewshot=_UNRESOLVED, task_default=True)
    if stripped.lower().startswith(TRANSFER_PREFIX):
        return _parse_transfer(text, stripped[len(TRANSFER_PREFIX):].strip())
    value = stripped.lower()
    fine_tuned = value.startswith("fine-tuned")
    rest = value[len("fine-tuned"):].lstrip("+") if fine_tuned else value
    if rest in ("", "zero-shot"):
        if not fine_tuned and rest == "":
            raise InputError(f"Invalid --setting '{text}'.", hint=f"Use one of: {SETTING_HELP}.")
        return Setting(fine_tuned=fine_tuned, num_fewshot=0)
    match = _FEW_SHOT.match(rest)
    if not match:
        hint = ("Intermediate fine-tuning steps are made by --ft-eval-steps N." if "@step:" in rest
                else f"Use one of: {SETTING_HELP}.")
        raise InputError(f"Invalid --setting '{text}'.", hint=hint)
    k = int(match.group(1))
    if k > 256:
        raise InputError(f"Invalid --setting '{text}': {k} few-shot examples is more than 256.",
                         hint="Use a smaller K, e.g. few-shot:5.")
    return Setting(fine_tuned=fine_tuned, num_fewshot=k)


def _parse_transfer(text: str, task: str) -> Setting:
    if not task:
        raise InputError(f"Invalid --setting '{text}': it names no task to fine-tune on.",
                         hint="Write fine-tuned-on:TASK, e.g. fine-tuned-on:sst2 (or use --transfer).")
    return Setting(fine_tuned=True, trained_on=task)


def setting_family(label: str) -> str:
    """'fine-tuned@step:50' -> 'fine-tuned'; other labels unchanged."""
    return _STEP_SUFFIX.sub("", str(label))


def reference_label(label: str) -> str:
    """The setting a fine-tuned setting is measured against: the same prompt without fine-tuning
    ('fine-tuned@step:50' and 'fine-tuned-on:A' -> 'zero-shot', 'fine-tuned+few-shot:5' -> 'few-shot:5');
    any other label is returned unchanged."""
    family = setting_family(label)
    if family.startswith(TRANSFER_PREFIX):
        return "zero-shot"
    if family.startswith("fine-tuned"):
        return family.removeprefix("fine-tuned").lstrip("+") or "zero-shot"
    return family
