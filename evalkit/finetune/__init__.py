"""evalkit.finetune: fine-tune on a task's training split (LoRA or full), cache the result,
and compare fine-tuned with zero-shot / few-shot settings.

Importing this package is light; torch, transformers and peft load inside the functions.
"""

from __future__ import annotations

from typing import Any


def finetuned_model(loaded: Any, source: Any, cell: Any, sink: Any, run_id: str | None = None,
                    trajectory: bool = False) -> tuple[Any, str, dict[str, Any]]:
    """The cell's fine-tuned model (trained on `source`'s training split, or taken from the adapter
    cache), its adapter directory, and the details to store with the cell."""
    from evalkit.finetune.finetuned import finetuned_model as _finetuned_model

    return _finetuned_model(loaded, source, cell, sink, run_id=run_id, trajectory=trajectory)


__all__ = ["finetuned_model"]
