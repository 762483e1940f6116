"""The plan: models x tasks x settings, as self-contained, serialisable cells."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from evalkit.models.spec import ModelSpec
from evalkit.settings import Setting


@dataclass(frozen=True)
class FineTuneOptions:
    """Hyper-parameters of the fine-tuned setting (used only by fine-tuned cells)."""

    method: str = "lora"
    objective: str = "auto"
    epochs: float = 1.0
    max_steps: int | None = None
    lr: float | None = None  # None: 3e-3 for LoRA, 2e-5 for full fine-tuning (evalkit.finetune)
    batch_size: int = 8
    lora_r: int = 8
    max_examples: int | None = 1000
    train_split: str | None = None
    retrain: bool = False
    exclude_overlap: bool = True


@dataclass(frozen=True)
class Cell:
    """One unit of work: evaluate one model on one task in one setting."""

    model: ModelSpec
    task: str
    setting: Setting
    limit: int | None
    seed: int
    batch_size: int | str
    finetune: FineTuneOptions = field(default_factory=FineTuneOptions)
    request_cache: bool = True

    @property
    def cell_id(self) -> str:
        payload = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["setting"] = self.setting.label
        return data


def make_plan(models: list[ModelSpec], tasks: list[str], settings: list[Setting], *,
              limit: int | None, seed: int, batch_size: int | str,
              finetune: FineTuneOptions | None = None, request_cache: bool = True) -> list[Cell]:
    """The grid in a stable order: model-major (a model is loaded once), then task, then setting."""
    options = finetune or FineTuneOptions()
    return [Cell(model, task, setting, limit, seed, batch_size, options, request_cache)
            for model in models for task in tasks for setting in settings]
