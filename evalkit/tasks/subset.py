"""A power-sized CI subset of a task (`evalkit tasks subset`): the documents the gate needs to detect a
given drop (evalkit.stats.sample_size), drawn stratified by cluster (`metadata: {cluster: FIELD}`) and gold
label with a pinned seed, written as a task a user commits: DIR/<task>_ci.yaml (the original config, its
evaluation split replaced by DIR/<task>_ci.jsonl) with `metadata: {evalkit_subset: {...}}` saying how it
was sized."""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.tasks.clusters import cluster_field
from evalkit.tasks.yaml_source import FunctionRef, dump_task_yaml

_MAX_LABELS = 20  # more distinct gold targets than this (free text) are not a stratum each
_EVAL_SPLIT = "test"


@dataclass(frozen=True)
class SubsetDesign:
    """What the subset is sized for (stored under the YAML's metadata.evalkit_subset)."""

    source_task: str
    target_drop: float
    power: float
    alpha: float
    discordance: float
    discordance_from: str  # "RUN against RUN2" or "default"
    n: int
    seed: int
    tolerance: float = 0.0


SUBSET_KEY = "evalkit_subset"  # the key in a task's metadata; a computed cell keeps it as details["subset"]


def subset_design_of(task: Any) -> dict[str, Any] | None:
    """The design a CI-subset task was sized for (its metadata.evalkit_subset), or None."""
    metadata = getattr(getattr(task, "config", None), "metadata", None)
    design = metadata.get(SUBSET_KEY) if isinstance(metadata, dict) else None
    return dict(design) if isinstance(design, dict) else None


def refuse_hooks(config: Any, where: str) -> None:
    """InputError for a task whose config runs Python (`!function`): the copy could not import it."""
    hooks = _hooks(config)
    if hooks:
        raise InputError(f"Task {where} uses Python hooks ({', '.join(hooks)}): a subset task cannot carry them yet.",
                         hint="Subset a task written in YAML and templates only, or copy its hook file beside "
                              "the subset by hand.")


def _hooks(value: Any) -> list[str]:
    if isinstance(value, FunctionRef):
        return [value.qualname]
    if isinstance(value, dict):
        return [h for v in value.values() for h in _hooks(v)]
    if isinstance(value, list):
        return [h for v in value for h in _hooks(v)]
    return []


def strata(docs: Sequence[Any], labels: Sequence[str], cluster: str | None) -> list[tuple[str, str]]:
    """Each document's stratum: (its cluster or '', its gold label or '' when labels are free text)."""
    use_labels = len(set(labels)) <= _MAX_LABELS
    return [(str(doc[cluster]) if cluster else "", label if use_labels else "") for doc, label in zip(docs, labels)]


def stratified_choice(keys: Sequence[tuple[str, str]], n: int, seed: int) -> list[int]:
    """`n` document indices, each stratum's share proportional to its size (largest remainders), drawn
    within strata by a generator seeded with `seed`; returned in the documents' order."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    names = sorted(groups)
    quotas = [n * len(groups[k]) / len(keys) for k in names]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(names)), key=lambda i: (counts[i] - quotas[i], names[i]))
    for i in order[:n - sum(counts)]:
        counts[i] += 1
    chosen = [int(j) for k, c in zip(names, counts) for j in rng.choice(groups[k], size=c, replace=False)]
    return sorted(chosen)


def subset_config(config: dict[str, Any], yaml_path: Path | None, out_dir: Path,
                  design: SubsetDesign) -> dict[str, Any]:
    """The original task config evaluating DIR/<task>_ci.jsonl, with the design in its metadata."""
    out = copy.deepcopy(config)
    out.pop("include", None)
    files = {_EVAL_SPLIT: f"{design.source_task}_ci.jsonl"}
    files.update(_carried_splits(config, yaml_path, out_dir))
    out.update(task=f"{design.source_task}_ci", dataset_path="json", dataset_kwargs={"data_files": files},
               test_split=_EVAL_SPLIT)
    for key in ("dataset_name", "validation_split"):
        out.pop(key, None)
    for key in ("training_split", "fewshot_split"):
        if key in out and out[key] not in files:
            out.pop(key)
    metadata = dict(out.get("metadata") or {})
    metadata[SUBSET_KEY] = {k: v for k, v in asdict(design).items() if k != "discordance_from"}
    out["metadata"] = metadata
    return out


def _carried_splits(config: dict[str, Any], yaml_path: Path | None, out_dir: Path) -> dict[str, str]:
    """Local training / few-shot data files of the original, as paths relative to DIR."""
    files = (config.get("dataset_kwargs") or {}).get("data_files")
    if not isinstance(files, dict) or yaml_path is None:
        return {}
    wanted = {config.get(k) for k in ("training_split", "fewshot_split")} - {None, config.get("test_split"),
                                                                               config.get("validation_split")}
    out = {}
    for split in wanted:
        if isinstance(files.get(split), str):
            source = Path(files[split]) if Path(files[split]).is_absolute() else yaml_path.parent / files[split]
            out[str(split)] = os.path.relpath(source.resolve(), out_dir.resolve())
    return out


def write_subset(out_dir: Path, config: dict[str, Any], docs: Sequence[Any], design: SubsetDesign) -> Path:
    """Write DIR/<task>_ci.jsonl and DIR/<task>_ci.yaml; the YAML's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / f"{design.source_task}_ci.jsonl"
    data.write_text("".join(json.dumps(dict(doc), ensure_ascii=False, default=str) + "\n" for doc in docs),
                    encoding="utf-8")
    header = (f"# A power-sized CI subset of {design.source_task} (evalkit tasks subset): {design.n} documents give "
              f"power {design.power} to detect a drop of {design.target_drop} at alpha {design.alpha} "
              f"(discordance {design.discordance:.4g}, {design.discordance_from}).\n")
    path = out_dir / f"{design.source_task}_ci.yaml"
    path.write_text(header + dump_task_yaml(config), encoding="utf-8")
    return path


def task_cluster(config: dict[str, Any]) -> str | None:
    """The document field the task clusters by (metadata.cluster), or None."""
    return cluster_field(config.get("metadata"))
