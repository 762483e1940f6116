"""Checkpoint series: `-m` values that stand for many checkpoints, expanded into members.

A Trainer output directory (`OUT/checkpoint-N/`), a glob of checkpoint folders, or hub ids
with a revision (`org/name@step1000`) become an ordered list of `SeriesMember`s; anything
else passes through as a plain model. Only JSON and tokenizer files are read here: every
mistake a series can hold is found before any weights are loaded. No torch, no network.
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

from evalkit.errors import ModelError
from evalkit.models.series_checks import check_series, read_json, series_tokenizer

if TYPE_CHECKING:
    from evalkit.plan import Cell

MemberKind = Literal["model", "full", "adapter"]

_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
_HUB_REVISION = re.compile(r"^(?P<hub>[A-Za-z0-9][\w.\-]*/[\w.\-]+)@(?P<revision>[^@\s]+)$")
_TRAILING_NUMBER = re.compile(r"(\d+)$")
_GLOB_CHARS = ("*", "?", "[")
# The largest step a trajectory can hold: TensorBoard's event files (and SQLite) keep it as a signed 64-bit integer.
MAX_STEP = 2**63 - 1
FULL_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


@dataclass(frozen=True)
class SeriesMember:
    """One model to evaluate: a plain `-m` value, or one checkpoint of a series with its place in training."""

    ref: str
    kind: MemberKind = "model"
    series: str | None = None
    step: int | None = None
    revision: str | None = None
    epoch: float | None = None
    tokens_seen: int | None = None
    flos: float | None = None
    base_model: str | None = None
    tokenizer: str | None = None

    @property
    def in_series(self) -> bool:
        """True for a checkpoint of a series, False for a plain model."""
        return self.series is not None

    def trajectory(self) -> dict[str, Any] | None:
        """What a cell stores under details_json["trajectory"]; None for a plain model."""
        if not self.in_series:
            return None
        return {"series": self.series, "step": self.step, "epoch": self.epoch,
                "tokens_seen": self.tokens_seen, "flos": self.flos, "kind": "checkpoint"}


def check_series_cells(cells: Sequence["Cell"]) -> None:
    """A PEFT adapter checkpoint is not fine-tuned again (evalkit trains a fresh adapter on a plain
    model): a fine-tuned cell of an adapter series is refused before anything is loaded; so is a
    member whose step is no training step (checked_step)."""
    for cell in cells:
        member = cell.model.member
        if member is not None and member.step is not None:  # a member built by hand (the Python API)
            checked_step(member.step, f"the step of checkpoint '{member.ref}'")
        if member is not None and member.kind == "adapter" and cell.setting.fine_tuned:
            raise ModelError(f"Setting '{cell.setting.label}' cannot be used with the adapter checkpoint series "
                             f"'{member.series}' ('{member.ref}'): its checkpoints are PEFT adapters, and "
                             "evalkit fine-tunes a fresh adapter on a plain model.",
                             hint="Evaluate the series zero-shot or few-shot, or fine-tune its base model "
                                  f"(-m {member.base_model}) in a separate run.")


@dataclass(frozen=True)
class _Group:
    """Members from one source (a folder of checkpoints or a hub id), before ordering."""

    key: str
    label: str
    root: Path | None
    members: tuple[SeriesMember, ...]


def expand_model_refs(refs: Sequence[str]) -> list[SeriesMember]:
    """Expand `-m` values into models to evaluate, each series checked and ordered by training step."""
    items: list[SeriesMember | _Group] = []
    groups: dict[str, _Group] = {}
    for ref in refs:
        group = _group_for(ref)
        if group is None:
            items.append(SeriesMember(ref=ref))
        elif group.key in groups:
            groups[group.key] = replace(groups[group.key], members=groups[group.key].members + group.members)
        else:
            groups[group.key] = group
            items.append(group)
    labels = _unique_labels(list(groups.values()))
    expanded: list[SeriesMember] = []
    for item in items:
        if isinstance(item, SeriesMember):
            expanded.append(item)
        else:
            expanded.extend(_finish_group(groups[item.key], labels[item.key]))
    return expanded


def _group_for(ref: str) -> _Group | None:
    """The series a `-m` value names, or None when it is a plain model."""
    path = Path(ref).expanduser()
    if path.is_dir():
        checkpoints = [p for p in path.iterdir() if _CHECKPOINT_NAME.match(p.name) and _checkpoint_dir(p)]
        return _folder_group(path, checkpoints) if checkpoints else None
    if path.exists():
        return None
    if any(c in ref for c in _GLOB_CHARS):
        return _glob_group(ref)
    match = _HUB_REVISION.match(ref)
    if match:
        member = SeriesMember(ref=match["hub"], kind="full", revision=match["revision"])
        return _Group(key=f"hub:{match['hub']}", label=match["hub"], root=None, members=(member,))
    return None


def _checkpoint_dir(path: Path) -> bool:
    """Whether a checkpoint-N entry is a folder (a symbolic link to one counts); a link to nothing is an error."""
    if path.is_symlink() and not path.exists():
        raise ModelError(f"Checkpoint '{path}' is a symbolic link to '{os.readlink(path)}', which does not exist.",
                         hint="Point the link at the checkpoint folder, or remove it.")
    return path.is_dir()


def _glob_group(pattern: str) -> _Group:
    """The checkpoint folders a glob matches; matching nothing is an error."""
    matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern)) if Path(p).is_dir())
    if not matches:
        raise ModelError(f"No checkpoint folder matches '{pattern}'.",
                         hint="Check the pattern (for example 'OUT/checkpoint-*', quoted so that the "
                              "shell leaves it to evalkit) and that the training run has saved checkpoints.")
    root = Path(os.path.commonpath([m.resolve() for m in matches]))
    if len(matches) == 1:
        root = matches[0].resolve().parent
    return _folder_group(root, matches)


def _folder_group(root: Path, folders: list[Path]) -> _Group:
    """A group of local checkpoint folders under `root`."""
    root = root.resolve()
    members = tuple(_local_member(folder) for folder in folders)
    return _Group(key=f"dir:{root}", label=root.name or str(root), root=root, members=members)


def _local_member(entry: Path) -> SeriesMember:
    """A checkpoint folder read as a member: its kind, step and training counters. `entry` is the
    folder as listed (it may be a symbolic link): its name, not its target's, says checkpoint-N."""
    folder = entry.resolve()
    kind, base = _checkpoint_kind(folder)
    state = _read_trainer_state(folder)
    step = _step(folder, entry.name, state)
    return SeriesMember(ref=str(folder), kind=kind, step=step, epoch=_number(state, "epoch"),
                        tokens_seen=_tokens_seen(state), flos=_number(state, "total_flos") or None,
                        base_model=base)


def _checkpoint_kind(folder: Path) -> tuple[MemberKind, str | None]:
    """'full' or 'adapter' (with its base model), checking that the folder holds weights."""
    if (folder / "adapter_config.json").is_file():
        if not any((folder / name).is_file() for name in ADAPTER_WEIGHTS):
            raise ModelError(f"Checkpoint folder '{folder}' has adapter_config.json but no adapter weights "
                             f"({' or '.join(ADAPTER_WEIGHTS)}).",
                             hint="The checkpoint was not saved completely; delete it or leave it out of the series.")
        config = read_json(folder / "adapter_config.json")
        return "adapter", str(config.get("base_model_name_or_path") or "") or None
    if (folder / "config.json").is_file():
        if not _has_full_weights(folder):
            raise ModelError(f"Checkpoint folder '{folder}' has no weights (no {', '.join(FULL_WEIGHTS[:2])} "
                             "or sharded index).",
                             hint="The checkpoint was not saved completely; delete it or leave it out of the series.")
        return "full", None
    raise ModelError(f"Folder '{folder}' is not a checkpoint: it has neither config.json nor adapter_config.json.",
                     hint="A series holds folders written by Trainer or save_pretrained(); "
                          "narrow the glob or remove the folder.")


def _has_full_weights(folder: Path) -> bool:
    """Whether a full checkpoint folder holds weight files (single or sharded)."""
    if any((folder / name).is_file() for name in FULL_WEIGHTS):
        return True
    return any(p.suffix in {".safetensors", ".bin"} for p in folder.iterdir() if p.name.startswith("model"))



def _read_trainer_state(folder: Path) -> dict[str, Any]:
    """trainer_state.json of a checkpoint, or {} when it has none."""
    path = folder / "trainer_state.json"
    return read_json(path) if path.is_file() else {}


def _step(folder: Path, name: str, state: dict[str, Any]) -> int:
    """Training step: trainer_state's global_step, else the N of a checkpoint-N folder name; both
    given, they must agree (a copied or renamed folder would otherwise move in the trajectory)."""
    match = _CHECKPOINT_NAME.match(name)
    named = checked_step(int(match.group(1)), f"the step in folder name '{name}'") if match else None
    if "global_step" not in state:
        if named is None:
            raise ModelError(f"Cannot tell the training step of checkpoint '{folder}': it has no trainer_state.json "
                             "with global_step and its name is not checkpoint-N.",
                             hint="Name checkpoint folders checkpoint-<step> as Trainer does, or keep "
                                  "trainer_state.json.")
        return named
    where = f"'global_step' in '{folder / 'trainer_state.json'}'"
    step = checked_step(state["global_step"], where)
    if named is not None and step != named:
        raise ModelError(f"Checkpoint '{folder}' is named '{name}' but {where} says step {step}, not {named}.",
                         hint="The folder was copied or renamed from another checkpoint: give it the name of its "
                              "step (checkpoint-<global_step>), or leave it out of the series.")
    return step


def checked_step(value: Any, where: str) -> int:
    """A training step: an integer from 0 to MAX_STEP (a bool, a string or 12.7 is not one)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_STEP:
        return value
    raise ModelError(f"{where[0].upper()}{where[1:]} is {json.dumps(value)}, not a training step (a whole number "
                     f"from 0 to {MAX_STEP}).",
                     hint="A step counts optimiser steps (Trainer writes global_step as an integer); "
                          "correct the value or leave the checkpoint out of the series.")


def _number(state: dict[str, Any], key: str) -> float | None:
    """A numeric field of trainer_state, or None."""
    value = state.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tokens_seen(state: dict[str, Any]) -> int | None:
    """Input tokens seen: the state's counter (0 means not tracked), else the last log entry's."""
    counted = state.get("num_input_tokens_seen")
    if isinstance(counted, int) and counted > 0:
        return counted
    for entry in reversed(state.get("log_history") or []):
        if isinstance(entry, dict) and isinstance(entry.get("num_input_tokens_seen"), int):
            return entry["num_input_tokens_seen"]
    return None


def _unique_labels(groups: list[_Group]) -> dict[str, str]:
    """Series labels: the folder name, or the full path where two folders share a name."""
    names = [g.label for g in groups]
    return {g.key: (str(g.root) if g.root is not None and names.count(g.label) > 1 else g.label) for g in groups}


def _finish_group(group: _Group, label: str) -> list[SeriesMember]:
    """Order, label and check one series; give each member the tokenizer it will use."""
    if group.root is None:
        members = _hub_steps(group.members)
    else:
        members = sorted(group.members, key=lambda m: m.step if m.step is not None else -1)
    members = [replace(m, series=label) for m in members]
    check_series(label, members)
    tokenizer = series_tokenizer(label, group.root, members)
    return [replace(m, tokenizer=tokenizer(m)) for m in members]


def _hub_steps(members: Sequence[SeriesMember]) -> list[SeriesMember]:
    """Hub revisions: step = trailing number of every revision if all have one, else order of appearance."""
    numbers = [_TRAILING_NUMBER.search(m.revision or "") for m in members]
    if all(numbers):
        stepped = [replace(m, step=checked_step(int(n.group(1)), f"the step in revision '{m.ref}@{m.revision}'"))
                   for m, n in zip(members, numbers) if n]
        return sorted(stepped, key=lambda m: m.step or 0)
    return [replace(m, step=i) for i, m in enumerate(members)]
