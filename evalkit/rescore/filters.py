"""evalkit's one filter of its own, registered in lm-eval's filter registry so a filter_list can name it:
`evalkit_strip_think` removes reasoning blocks (<think>...</think>, and an unclosed <think> to the end)
from each generated text, leaving the answer for the filters after it."""

from __future__ import annotations

import re
from typing import Any

from lm_eval.api.filter import Filter
from lm_eval.api.registry import filter_registry, register_filter

STRIP_THINK = "evalkit_strip_think"
_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)\s*", re.DOTALL)


def strip_think(text: str) -> str:
    return _BLOCK.sub("", text)


class StripThinkFilter(Filter):
    def __init__(self, **kwargs: Any) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> list[list[str]]:
        return [[strip_think(str(r)) for r in rs] for rs in resps]


def register() -> None:
    """Put the filter in lm-eval's registry (once)."""
    if STRIP_THINK not in filter_registry:
        register_filter(STRIP_THINK)(StripThinkFilter)
