"""How a prompt is rendered beyond the task's YAML, with lm-eval's meaning for each option:
the tokenizer's chat template (`--apply-chat-template [NAME]`), a system instruction, few-shot
examples as a multi-turn conversation, generation arguments (`--gen-kwargs`) and the few-shot seed.

`PromptOptions` is part of a cell's identity (evalkit.plan.cells.Cell); `identity()` is what is stored in
a cell's details (details["prompt"]) and what the comparability check compares. Rendering itself is
lm-eval's (`fewshot_context`, `build_all_requests`); evalkit supplies only the chat template
callable, rendered exactly as lm-eval's HFLM renders it. Light: lm-eval and transformers are
imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from evalkit.errors import InputError, did_you_mean

# The generation arguments evalkit's backend understands (lm-eval's names; see evalkit.scoring.generation).
GEN_KWARGS_HELP = "until, max_gen_toks, do_sample, temperature, top_p, top_k"
_GEN_KEYS = ("until", "max_gen_toks", "do_sample", "temperature", "top_p", "top_k")
FEWSHOT_FROM_TASK = "task default"
FEWSHOT_FROM_SETTING = "setting"

ChatRenderer = Callable[..., str]


@dataclass(frozen=True)
class PromptOptions:
    """lm-eval's prompt options for one cell. `chat_template`: False (none), True (the tokenizer's
    template) or a template NAME; `chat_template_sha` is filled in at the door, when the tokenizer is
    read (evalkit.engine.door); `gen_kwargs` are sorted (key, value) pairs (lists kept as tuples, so a
    cell stays hashable); `fewshot_seed` None means the run's --seed."""

    chat_template: bool | str = False
    chat_template_sha: str | None = None
    system_instruction: str | None = None
    fewshot_as_multiturn: bool = False
    gen_kwargs: tuple[tuple[str, Any], ...] = ()
    fewshot_seed: int | None = None

    def __post_init__(self) -> None:
        if self.fewshot_as_multiturn and not self.chat_template:
            raise InputError("--fewshot-as-multiturn needs a chat template: the few-shot examples become "
                             "user/assistant turns of a conversation (lm-eval requires --apply_chat_template too).",
                             hint="Add --apply-chat-template, or leave out --fewshot-as-multiturn.")
        if isinstance(self.chat_template, str) and not self.chat_template.strip():
            raise InputError("--apply-chat-template was given an empty template name.",
                             hint="Give a template name of the tokenizer, or no value for its default template.")

    @property
    def template_name(self) -> str | None:
        """The named template of the tokenizer (--apply-chat-template NAME), None for its default one."""
        return self.chat_template if isinstance(self.chat_template, str) else None

    @property
    def generation_kwargs(self) -> dict[str, Any]:
        """--gen-kwargs as lm-eval takes them (lists, not tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.gen_kwargs}

    def seed(self, run_seed: int) -> int:
        return run_seed if self.fewshot_seed is None else self.fewshot_seed

    def identity(self, run_seed: int, *, generates: bool = True) -> dict[str, Any]:
        """What is stored beside the cell and compared between runs (lm-eval's field names).
        Generation arguments count only for a generation task (`generates`), as in lm-eval."""
        return {"apply_chat_template": self.chat_template, "chat_template_sha": self.chat_template_sha,
                "system_instruction": self.system_instruction,
                "system_instruction_sha": text_sha(self.system_instruction),
                "fewshot_as_multiturn": self.fewshot_as_multiturn,
                "gen_kwargs": self.generation_kwargs if generates else {}, "fewshot_seed": self.seed(run_seed)}


def make_prompt_options(*, apply_chat_template: bool | str = False, system_instruction: str | None = None,
                        fewshot_as_multiturn: bool | None = None,
                        gen_kwargs: str | Mapping[str, Any] | None = None,
                        fewshot_seed: int | None = None) -> PromptOptions:
    """The options as given on the command line or to evalkit.run. As lm-eval's CLI does, few-shot
    examples become multi-turn by default when a chat template is applied (False turns that off)."""
    multiturn = bool(apply_chat_template) if fewshot_as_multiturn is None else bool(fewshot_as_multiturn)
    parsed = parse_gen_kwargs(gen_kwargs) if isinstance(gen_kwargs, str) else dict(gen_kwargs or {})
    if fewshot_seed is not None:
        _check_seed(fewshot_seed)
    if system_instruction is not None and not isinstance(system_instruction, str):
        raise InputError(f"Invalid --system-instruction {system_instruction!r}: it must be text.")
    return PromptOptions(chat_template=apply_chat_template, system_instruction=system_instruction,
                         fewshot_as_multiturn=multiturn, gen_kwargs=checked_gen_kwargs(parsed),
                         fewshot_seed=fewshot_seed)


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**32 - 1:
        raise InputError(f"Invalid --fewshot-seed {seed!r}: it must be a whole number from 0 to {2**32 - 1}.")


def parse_gen_kwargs(text: str) -> dict[str, Any]:
    """`k=v,k2=v2` (or a JSON object) parsed as lm-eval's own command line parses --gen_kwargs:
    commas inside brackets and quotes do not split, values are read as Python literals
    (`until=["\\n\\n","Question:"]`)."""
    from lm_eval._cli.utils import key_val_to_dict, try_parse_json

    try:
        parsed = try_parse_json(text.strip())
        return dict(parsed) if isinstance(parsed, dict) else key_val_to_dict(text.strip())
    except ValueError as exc:
        raise InputError(f"Invalid --gen-kwargs '{text}': {exc}.",
                         hint=f"Write key=value pairs separated by commas, keys among: {GEN_KWARGS_HELP}.") from exc


def checked_gen_kwargs(kwargs: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Generation arguments with the types lm-eval and the backend need; InputError naming the key."""
    out: list[tuple[str, Any]] = []
    for key, value in sorted(kwargs.items()):
        if key not in _GEN_KEYS:
            raise InputError(f"Invalid --gen-kwargs: unknown generation argument '{key}'."
                             + did_you_mean(key, list(_GEN_KEYS)), hint=f"Use one of: {GEN_KWARGS_HELP}.")
        out.append((key, _checked_value(key, value)))
    return tuple(out)


def _checked_value(key: str, value: Any) -> Any:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key == "until":
        stops = [value] if isinstance(value, str) else value
        if isinstance(stops, (list, tuple)) and stops and all(isinstance(s, str) and s for s in stops):
            return tuple(stops)
        problem = "a stop string or a list of non-empty stop strings"
    elif key == "do_sample":
        if isinstance(value, bool):
            return value
        problem = "true or false"
    elif key in ("max_gen_toks", "top_k"):
        if number and value == int(value) and value >= 1:
            return int(value)
        problem = "a whole number of at least 1"
    else:  # temperature, top_p
        if number and math.isfinite(value) and value >= 0 and (key != "top_p" or value <= 1):
            return float(value)
        problem = "a number from 0 to 1" if key == "top_p" else "a non-negative number"
    raise InputError(f"Invalid --gen-kwargs {key}={value!r}: {key} must be {problem}.",
                     hint='For example --gen-kwargs max_gen_toks=64,temperature=0,until=["\\n\\n"].')


def text_sha(text: str | None) -> str | None:
    """lm-eval's hash of a chat template or system instruction (utils.hash_string: sha256 hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None


def prompt_summary(identity: Mapping[str, Any] | None) -> str:
    """One line for `results show`: what a stored cell's prompt options were."""
    identity = identity or {}
    parts = []
    template = identity.get("apply_chat_template")
    if template:
        name = f" '{template}'" if isinstance(template, str) else ""
        parts.append(f"chat template{name} sha {str(identity.get('chat_template_sha'))[:12]}")
    else:
        parts.append("no chat template")
    if identity.get("system_instruction"):
        parts.append(f"system instruction {identity['system_instruction']!r}")
    if identity.get("fewshot_as_multiturn"):
        parts.append("few-shot as multi-turn")
    if identity.get("gen_kwargs"):
        parts.append("gen-kwargs " + ",".join(f"{k}={v!r}" for k, v in identity["gen_kwargs"].items()))
    if identity.get("fewshot_seed") is not None:
        parts.append(f"few-shot seed {identity['fewshot_seed']}")
    return " · ".join(parts)
