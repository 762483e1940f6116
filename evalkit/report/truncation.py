"""A cell's prompts cut to the model's context (details["truncation"], measured by
evalkit.scoring.truncation), as one line of text for the run's warnings and `results show`.
Imports nothing heavy: the light half reads it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DETAILS_KEY = "truncation"
_FIGURES = ("documents", "truncated_documents", "max_length", "max_cut_tokens", "mean_cut_tokens")


def truncation_line(details: Mapping[str, Any]) -> str | None:
    """'37 of 50 documents' prompts truncated to 512 tokens, up to 1,234 tokens cut (mean 801.5)', or
    None when the cell stored no truncation or none of its prompts was cut (the store is read, never trusted)."""
    record = details.get(DETAILS_KEY)
    if not isinstance(record, Mapping):
        return None
    figures = {key: record.get(key) for key in _FIGURES}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in figures.values()):
        return None
    if figures["truncated_documents"] <= 0:
        return None
    return (f"{figures['truncated_documents']:,.0f} of {figures['documents']:,.0f} documents' prompts truncated to "
            f"{figures['max_length']:,.0f} tokens, up to {figures['max_cut_tokens']:,.0f} tokens cut "
            f"(mean {figures['mean_cut_tokens']:,.1f})")
