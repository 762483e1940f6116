"""Were two matched cells prompted alike? The lm-eval prompt options a cell stores
(details["prompt"], evalkit.plan.prompts.PromptOptions.identity): chat template (by lm-eval's
chat_template_sha), system instruction (by its hash), few-shot as multi-turn, generation arguments,
and, when both cells are few-shot, the few-shot seed. Each difference names the option that differs.

A cell stored before these options existed (details without "prompt") was prompted plainly; a run
imported from lm-eval (evalkit results import) has them in its run config. A cell whose details
are not there at all (a tidy export) is not checked.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from evalkit.compare.matching import CellPair
from evalkit.compare.sources import RunSide

PLAIN: dict[str, Any] = {"chat_template_sha": None, "system_instruction_sha": None,
                         "fewshot_as_multiturn": False, "gen_kwargs": {}, "fewshot_seed": None}

# (field, what it is, the evalkit run option that sets it)
_CHECKED = (("chat_template_sha", "chat template", "--apply-chat-template"),
            ("system_instruction_sha", "system instruction", "--system-instruction"),
            ("fewshot_as_multiturn", "few-shot as multi-turn", "--fewshot-as-multiturn"),
            ("gen_kwargs", "generation arguments", "--gen-kwargs"),
            ("fewshot_seed", "few-shot seed", "--fewshot-seed / --seed"))


def prompt_mismatches(pair: CellPair) -> list[str]:
    """One line per prompt option that differs between the pair's cells (empty: prompted alike)."""
    ia, ib = prompt_identity(pair.a, pair.cell_a), prompt_identity(pair.b, pair.cell_b)
    if ia is None or ib is None:
        return []
    where = f"{pair.model} / {pair.task} / {pair.setting}"
    few_shot = _k(pair.cell_a) > 0 and _k(pair.cell_b) > 0
    out = []
    for key, what, option in _CHECKED:
        if key == "fewshot_seed" and not few_shot:
            continue  # no few-shot examples are drawn: the seed changes nothing
        if _normal(ia.get(key)) != _normal(ib.get(key)):
            out.append(f"{where}: {what} differs ({pair.label_a}: {describe(key, ia)}; "
                       f"{pair.label_b}: {describe(key, ib)}) — option {option}")
    return out


def prompt_identity(side: RunSide, cell: pd.Series) -> dict[str, Any] | None:
    """The cell's stored prompt options; None when its details are not available."""
    details = _json(cell.get("details_json")) if "details_json" in cell.index else None
    if not isinstance(details, dict):
        return None
    if isinstance(details.get("prompt"), dict):
        return {**PLAIN, **details["prompt"]}
    config = _json(side.run.get("config_json"))
    if isinstance(config, dict) and "chat_template_sha" in config:  # imported from lm-eval's results file
        lm_eval = config.get("lm_eval_config") or {}
        return {**PLAIN, "chat_template_sha": config.get("chat_template_sha"),
                "system_instruction_sha": config.get("system_instruction_sha"),
                "fewshot_as_multiturn": bool(config.get("fewshot_as_multiturn")),
                "gen_kwargs": lm_eval.get("gen_kwargs") or {}, "fewshot_seed": lm_eval.get("fewshot_seed")}
    return {**PLAIN, "fewshot_seed": side.run.get("seed")}  # before these options: --seed drew the examples


def prompt_lines(side: RunSide) -> list[str]:
    """For `results show`: each cell's setting (with '(task default)' when its few-shot count came from
    the task) and its prompt options, one line per cell."""
    from evalkit.plan.prompts import prompt_summary

    lines = []
    for _, cell in side.cells.iterrows():
        details = _json(cell.get("details_json")) if "details_json" in cell.index else None
        details = details if isinstance(details, dict) else {}
        source = details.get("fewshot_source")
        shown = f"{cell.setting} (task default)" if source == "task default" else str(cell.setting)
        identity = details.get("prompt") if isinstance(details.get("prompt"), dict) else None
        lines.append(f"{cell.model} · {cell.task} · {shown} · {prompt_summary(identity)}")
    return lines


def describe(key: str, identity: dict[str, Any]) -> str:
    """A value as a user reads it in the message."""
    value = identity.get(key)
    if key == "chat_template_sha":
        return f"applied, sha {str(value)[:12]}" if value else "not applied"
    if key == "system_instruction_sha":
        text = identity.get("system_instruction")
        return "none" if not value else (repr(text) if text else f"sha {str(value)[:12]}")
    if key == "gen_kwargs":
        return ",".join(f"{k}={v!r}" for k, v in sorted((value or {}).items())) or "the task's own"
    return str(value)


def _normal(value: Any) -> Any:
    """JSON-comparable: tuples as lists, empty mappings and None alike for generation arguments."""
    return json.loads(json.dumps(value, sort_keys=True, default=str)) if value not in (None, {}) else None


def _k(cell: pd.Series) -> int:
    try:
        return int(cell.num_fewshot)
    except (TypeError, ValueError):
        return 0


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
