"""Typed records that flow from the runner into the store. Plain data; no torch, no pandas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunInfo:
    """One `evalkit run` invocation: identity and the environment it ran in."""

    run_id: str
    name: str | None
    created_at: str
    command: str
    seed: int
    versions: dict[str, str | None]
    git_commit: str | None
    host: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleRecord:
    """One evaluated document: what was asked, what was expected, what the model said."""

    doc_id: int
    doc_hash: str
    prompt_hash: str
    prompt: str
    target: str
    prediction: str
    scores: dict[str, float]
    outputs: Any = None
    cluster: str | None = None  # the group of related documents it belongs to (a task's metadata.cluster)


@dataclass(frozen=True)
class MetricRecord:
    """An aggregate metric with its uncertainty over n documents."""

    metric: str
    value: float
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    higher_is_better: bool


@dataclass(frozen=True)
class CellRecord:
    """The result of one cell: one model x one task x one setting."""

    cell_id: str
    model: str
    model_spec: dict[str, Any]
    model_fingerprint: str
    task: str
    task_config_hash: str
    task_source: str
    setting: str
    num_fewshot: int
    metrics: list[MetricRecord]
    samples: list[SampleRecord]
    duration_s: float = 0.0
    adapter: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.samples)
