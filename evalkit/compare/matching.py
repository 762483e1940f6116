"""Which cells of two runs are compared, and which of their documents line up.

Cells are matched on (task, setting). When both runs hold more than one model the model must
match too; when one side holds a single model, it is compared with each model of the other.
Documents are matched by `doc_hash` (inner join); a hash that occurs k times in both cells is
paired occurrence by occurrence, in doc_id order.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.compare.sources import RunSide
from evalkit.errors import InputError
from evalkit.plan.settings import reference_label


@dataclass
class CellPair:
    """Two cells compared item by item: A (reference) and B, with their aligned documents."""

    a: RunSide
    b: RunSide
    cell_a: pd.Series
    cell_b: pd.Series
    label_a: str
    label_b: str
    model: str
    task: str
    setting: str | None
    aligned: pd.DataFrame
    unmatched_a: int
    unmatched_b: int


def model_label(model_a: str, model_b: str) -> str:
    """One model name, or 'a → b' when the two sides evaluated different models."""
    return model_a if model_a == model_b else f"{model_a} → {model_b}"


def align_samples(samples_a: pd.DataFrame, samples_b: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Inner join of two cells' documents on doc_hash; also the unmatched counts of each side."""
    keys = ["doc_hash", "_occurrence"]
    left = samples_a.sort_values("doc_id").assign(_occurrence=lambda f: f.groupby("doc_hash").cumcount())
    right = samples_b.sort_values("doc_id").assign(_occurrence=lambda f: f.groupby("doc_hash").cumcount())
    merged = left.merge(right, on=keys, how="inner", suffixes=("_a", "_b")).drop(columns="_occurrence")
    merged = merged.sort_values("doc_id_a").reset_index(drop=True)
    return merged, len(left) - len(merged), len(right) - len(merged)


def pair_run_cells(a: RunSide, b: RunSide) -> tuple[list[CellPair], list[str], list[str]]:
    """Cell pairs of two runs (rule in the module docstring), and the cells only in A and only in B."""
    for side in (a, b):
        check_distinct_labels(side)
    by_model = len(a.models) > 1 and len(b.models) > 1
    pairs: list[CellPair] = []
    used_b: set[str] = set()
    only_a: list[str] = []
    for _, cell_a in a.cells.iterrows():
        partners = b.cells[(b.cells.task == cell_a.task) & (b.cells.setting == cell_a.setting)]
        if by_model:
            partners = partners[partners.model == cell_a.model]
        if partners.empty:
            only_a.append(cell_name(cell_a))
        for _, cell_b in partners.iterrows():
            used_b.add(cell_b.cell_id)
            pairs.append(_pair(a, b, cell_a, cell_b, a.label, b.label, cell_a.setting))
    only_b = [cell_name(cell) for _, cell in b.cells[~b.cells.cell_id.isin(used_b)].iterrows()]
    return pairs, only_a, only_b


def check_distinct_labels(side: RunSide) -> None:
    """Cells are matched by their labels: a run holding two cells of one (model, task, setting) label
    (two models of one folder name, stored before labels were made unique per run) cannot be paired
    without guessing which is which, so it is refused rather than cross-paired."""
    keys = side.cells[["model", "task", "setting"]]
    repeated = side.cells[keys.duplicated(keep=False)]
    if repeated.empty:
        return
    first = repeated.iloc[0]
    ids = ", ".join(repeated[(repeated.model == first.model) & (repeated.task == first.task)
                             & (repeated.setting == first.setting)].cell_id)
    raise InputError(f"{side.where} holds several cells labelled '{cell_name(first)}' (cells {ids}): "
                     "two of its models share the label, so its cells cannot be matched to another run's.",
                     hint="Re-run those models with this evalkit version (it labels them by their distinct parent "
                          "folders, e.g. a/final and b/final), or compare runs that hold one of them each.")


def cell_name(cell: pd.Series) -> str:
    """'model / task / setting'."""
    return f"{cell.model} / {cell.task} / {cell.setting}"


def pair_settings(side: RunSide) -> list[CellPair]:
    """Within one run: for each (model, task), each setting against its reference setting.

    A fine-tuned setting's reference is the same prompt without fine-tuning ('fine-tuned+few-shot:5'
    against 'few-shot:5', 'fine-tuned' against 'zero-shot') when the run has it; every other
    setting's reference is 'zero-shot' when present, otherwise the setting of the first cell.
    """
    check_distinct_labels(side)
    pairs: list[CellPair] = []
    for (_, _), group in side.cells.groupby(["model", "task"], sort=False):
        if group.setting.nunique() < 2:
            continue
        settings = list(dict.fromkeys(group.setting))
        default = "zero-shot" if "zero-shot" in settings else settings[0]
        for _, other in group.iterrows():
            reference = _reference_setting(other.setting, settings, default)
            if reference == other.setting:
                continue
            ref_cell = group[group.setting == reference].iloc[0]
            pairs.append(_pair(side, side, ref_cell, other, reference, other.setting, None))
    return pairs


def _reference_setting(setting: str, available: list[str], default: str) -> str:
    """A fine-tuned setting's own prompt without fine-tuning (`fine-tuned+few-shot:5@step:10` ->
    `few-shot:5`), when the run has it; else the run's default reference."""
    if setting.startswith("fine-tuned"):
        base = reference_label(setting)
        if base in available:
            return base
    return default


def _pair(a: RunSide, b: RunSide, cell_a: pd.Series, cell_b: pd.Series, label_a: str, label_b: str,
          setting: str | None) -> CellPair:
    aligned, unmatched_a, unmatched_b = align_samples(a.samples(cell_a.cell_id), b.samples(cell_b.cell_id))
    return CellPair(a=a, b=b, cell_a=cell_a, cell_b=cell_b, label_a=label_a, label_b=label_b,
                    model=model_label(cell_a.model, cell_b.model), task=cell_a.task, setting=setting,
                    aligned=aligned, unmatched_a=unmatched_a, unmatched_b=unmatched_b)
