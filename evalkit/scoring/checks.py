"""Requests the model cannot score, reported as the user's problem (task and document named)
instead of as an assertion deep inside a forward pass.

These run in the backend, once the requests exist; the same limits are checked earlier, from
the task definition and the model's config, by evalkit.engine.door where they can be known then.
"""

from __future__ import annotations

from typing import Any

from evalkit.errors import RunFailedError


def where(request: Any) -> str:
    """'task X, document N' for an lm-eval Instance (or what of it is known)."""
    task = getattr(request, "task_name", None)
    doc_id = getattr(request, "doc_id", None)
    parts = [f"task '{task}'" if task else None, f"document {doc_id}" if doc_id is not None else None]
    return ", ".join(p for p in parts if p) or "a request"


def check_token_request(request: Any, continuation: list[int], max_length: int) -> None:
    """A loglikelihood request needs at least one continuation token and at most max_length."""
    if not continuation:
        raise RunFailedError(
            f"Cannot score {where(request)}: its answer {request.args[1]!r} is empty after tokenisation, "
            "so there is nothing to score.",
            hint="Check the task's doc_to_choice / doc_to_target for empty answers.")
    if len(continuation) > max_length:
        raise RunFailedError(
            f"Cannot score {where(request)}: its answer is {len(continuation)} tokens long, more than the "
            f"model's context of {max_length} tokens.",
            hint="Shorten the answers in the task, or use a model with a longer context.")


def check_generation_length(request: Any, max_gen_toks: int, max_length: int, *, encoder_decoder: bool) -> None:
    """A causal model must fit the prompt and max_gen_toks new tokens in its context."""
    if not encoder_decoder and max_gen_toks >= max_length:
        raise RunFailedError(
            f"Cannot generate for {where(request)}: max_gen_toks is {max_gen_toks} but the model's context "
            f"is {max_length} tokens, which leaves no room for the prompt.",
            hint="Lower generation_kwargs.max_gen_toks in the task YAML, or use a model with a longer context.")
