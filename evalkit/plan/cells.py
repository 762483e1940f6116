"""The plan: models x tasks x settings, as self-contained, serialisable cells.

make_plan builds the grid as asked; expand_cells (called at the door, once the tasks are loaded)
turns the study settings into the cells that are run: 'fine-tuned-on:*' into one
'fine-tuned-on:TASK' per task with a training split, and, with --ft-eval-steps N, a fine-tuned
cell into one cell per kept step ('fine-tuned@step:N', ...) followed by the final 'fine-tuned'.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from evalkit.errors import InputError, did_you_mean
from evalkit.models.spec import ModelSpec, distinct_labels
from evalkit.plan.prompts import PromptOptions
from evalkit.plan.settings import Setting

# numpy's (and so lm-eval's) seeds are unsigned 32-bit integers.
SEED_RANGE = (0, 2**32 - 1)
FINETUNE_METHODS = ("lora", "full")
FINETUNE_OBJECTIVES = ("auto", "nll", "choice-ce")


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
    eval_steps: int | None = None  # --ft-eval-steps: keep and evaluate the adapter every N steps
    # --ft-grad-accum: each batch in this many micro-batches per process (the same optimiser step, less
    # memory; not part of the adapter cache key)
    grad_accum: int = 1

    def __post_init__(self) -> None:
        _check_choice("method", "--ft-method", self.method, FINETUNE_METHODS)
        _check_choice("objective", "--ft-objective", self.objective, FINETUNE_OBJECTIVES)
        _check_positive("epochs", "--ft-epochs", self.epochs)
        if self.lr is not None:
            _check_positive("lr", "--ft-lr", self.lr)
        for name, flag in (("max_steps", "--ft-max-steps"), ("batch_size", "--ft-batch-size"),
                           ("lora_r", "--ft-lora-r"), ("max_examples", "--ft-max-examples"),
                           ("eval_steps", "--ft-eval-steps"), ("grad_accum", "--ft-grad-accum")):
            value = getattr(self, name)
            if value is not None:
                _check_count(name, flag, value)
        if self.grad_accum > self.batch_size:
            raise InputError(f"--ft-grad-accum {self.grad_accum} exceeds --ft-batch-size {self.batch_size}: each "
                             "micro-batch needs at least one example.",
                             hint=f"Use --ft-grad-accum {self.batch_size} or less.")


def _check_choice(name: str, flag: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"Invalid fine-tuning {name} {value!r} ({flag}).", hint=f"Use one of: {', '.join(choices)}.")


def _check_positive(name: str, flag: str, value: Any) -> None:
    """A positive, finite number (NaN and infinity are refused: they train nothing sensible)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"Invalid fine-tuning {name} {value!r} ({flag}): it must be a positive finite number.",
                         hint=f"For example {flag} {'1' if name == 'epochs' else '1e-4'}.")


def _check_count(name: str, flag: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"Invalid fine-tuning {name} {value!r} ({flag}): it must be a whole number of at least 1.")


def check_seed(seed: Any) -> int:
    """The run's seed as numpy accepts it (an integer in 0..2**32-1)."""
    low, high = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, int) or not low <= seed <= high:
        raise InputError(f"Invalid --seed {seed!r}: it must be a whole number from {low} to {high}.")
    return seed


@dataclass(frozen=True)
class Cell:
    """One unit of work: evaluate one model on one task in one setting."""

    model: ModelSpec
    task: str
    setting: Setting
    limit: int | float | None  # a fraction only until the door (resolve_task_facts) makes it a count
    seed: int
    batch_size: int | str
    finetune: FineTuneOptions = field(default_factory=FineTuneOptions)
    request_cache: bool = True
    prompt: PromptOptions = field(default_factory=PromptOptions)
    precision: str = "exact"  # evalkit.scoring.precision: "exact" or "fast-exact"

    @property
    def fewshot_seed(self) -> int:
        """The seed lm-eval's few-shot sampler gets: --fewshot-seed, else --seed."""
        return self.prompt.seed(self.seed)

    @property
    def cell_id(self) -> str:
        payload = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["model"] = self.model.to_dict()
        data["setting"] = self.setting.label
        if data.get("precision") == "exact":
            del data["precision"]  # an exact cell's identity is what it was before --precision existed
        if data["finetune"].get("grad_accum") == 1:
            del data["finetune"]["grad_accum"]  # likewise before --ft-grad-accum (it changes no result)
        return data


ALL_TASKS = "*"  # the key of a limits mapping that applies to every task without its own


Limit = int | float | None  # documents; a fraction 0 < x < 1 of the task's documents until the door


def make_plan(models: list[ModelSpec], tasks: list[str], settings: list[Setting], *,
              limit: Limit | Mapping[str, Limit] = None, seed: int, batch_size: int | str,
              finetune: FineTuneOptions | None = None, request_cache: bool = True,
              prompt: PromptOptions | None = None) -> list[Cell]:
    """The grid in a stable order: model-major (a model is loaded once), then task, then setting."""
    check_seed(seed)
    limits = resolve_limits(limit, tasks)
    options = finetune or FineTuneOptions()
    return [Cell(model, task, setting, limits[task], seed, batch_size, options, request_cache,
                 prompt or PromptOptions())
            for model in distinct_labels(models) for task in tasks for setting in settings]


def check_limit(value: Any, where: str = "") -> None:
    """A document limit: a whole number of at least 1, or a fraction 0 < x < 1 of the task's documents
    (lm-eval's rule), or None for all."""
    if value is None:
        return
    whole = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    fraction = isinstance(value, float) and 0 < value < 1
    if not (whole or fraction):
        raise InputError(f"Invalid --limit {value!r}{where}: it must be a whole number of documents of at least 1, "
                         "or a fraction between 0 and 1 (exclusive) of each task's documents.",
                         hint="For example --limit 200, --limit 0.1 or --limit wikitext=0.5.")
    if whole and value > sys.maxsize:
        raise InputError(f"Invalid --limit {value}{where}: it is larger than any data set can be "
                         f"(at most {sys.maxsize}).", hint="Leave --limit out to evaluate every document.")


def document_count(limit: Limit, n_docs: int) -> int | None:
    """The number of documents a limit means for a task of `n_docs` documents: a fraction is
    ceil(n_docs * x), as lm-eval's get_sample_size computes it."""
    if isinstance(limit, float):
        return int(math.ceil(n_docs * limit))
    return limit


def resolve_limits(limit: Limit | Mapping[str, Limit], tasks: list[str]) -> dict[str, Limit]:
    """Each task's document limit: one number for every task, or a mapping task -> number with
    ALL_TASKS ("*") for the rest (`--limit 200 --limit wikitext=5`, `--limit 0.1`)."""
    given = dict(limit) if isinstance(limit, Mapping) else {ALL_TASKS: limit}
    for key, value in given.items():
        check_limit(value, "" if key == ALL_TASKS else f" for task '{key}'")
    unknown = [key for key in given if key != ALL_TASKS and key not in tasks]
    if unknown:
        raise InputError(f"--limit {unknown[0]}=N names a task that is not in this run."
                         + did_you_mean(unknown[0], list(tasks)),
                         hint=f"Use one of the run's tasks: {', '.join(tasks)}.")
    return {task: given.get(task, given.get(ALL_TASKS)) for task in tasks}


def resolve_task_facts(cells: list[Cell], fewshot_defaults: Mapping[str, int],
                       sizes: Mapping[str, int]) -> list[Cell]:
    """What only the loaded tasks tell (by task reference): a 'task-default' setting becomes the task's
    own few-shot count, and a fractional limit a number of documents. A task-default cell that is the
    same as an explicitly asked one (e.g. zero-shot with --transfer) is dropped."""
    resolved = []
    for cell in cells:
        setting = cell.setting
        if setting.is_unresolved_task_default:
            setting = setting.with_task_default(fewshot_defaults[cell.task])
        resolved.append(replace(cell, setting=setting, limit=document_count(cell.limit, sizes[cell.task])))
    asked = {(c.model, c.task, c.setting.label) for c in resolved if not c.setting.task_default}
    kept = [c for c in resolved if not (c.setting.task_default and (c.model, c.task, c.setting.label) in asked)]
    return list(dict.fromkeys(kept))


@dataclass(frozen=True)
class StudyFacts:
    """What expanding the plan needs from the loaded tasks (evalkit.engine.door finds it)."""

    names: Mapping[str, str]  # task reference (as given) -> task name
    sources: tuple[str, ...] = ()  # names of the run's tasks with a training split, in run order
    total_steps: Mapping[str, int] = field(default_factory=dict)  # source task name -> optimiser steps


def snapshot_steps(every: int | None, total: int) -> tuple[int, ...]:
    """The intermediate steps --ft-eval-steps keeps: every `every` steps, before the final step."""
    if not every:
        return ()
    return tuple(range(every, total, every))


def source_name(cell: Cell, facts: StudyFacts) -> str | None:
    """The name of the task whose training split the cell's adapter is trained on (None: not fine-tuned)."""
    if not cell.setting.fine_tuned:
        return None
    return cell.setting.trained_on or facts.names.get(cell.task, cell.task)


def expand_cells(cells: list[Cell], facts: StudyFacts) -> list[Cell]:
    """The cells to run: study settings expanded, per model the transfer cells grouped by the task
    trained on (after the other cells), and --retrain kept for only the first cell of each training."""
    expanded = list(dict.fromkeys(c for cell in cells for c in _expand(cell, facts)))
    return _one_training_each(_grouped_by_source(expanded), facts)


def _expand(cell: Cell, facts: StudyFacts) -> list[Cell]:
    setting = cell.setting
    if setting.is_all_sources:
        resolved = [replace(cell, setting=replace(setting, trained_on=name)) for name in facts.sources]
    elif setting.trained_on is not None:
        name = facts.names.get(setting.trained_on, setting.trained_on)
        resolved = [replace(cell, setting=replace(setting, trained_on=name))]
    else:
        resolved = [cell]
    return [step_cell for one in resolved for step_cell in _with_steps(one, facts)]


def _with_steps(cell: Cell, facts: StudyFacts) -> list[Cell]:
    """With --ft-eval-steps, a cell fine-tuned on its own task (`fine-tuned`, or the transfer
    matrix's diagonal `fine-tuned-on:A` on A) preceded by one cell per kept step."""
    name = facts.names.get(cell.task, cell.task)
    if not (cell.finetune.eval_steps and cell.setting.step is None and trains_on_itself(cell.setting, name)):
        return [cell]
    steps = snapshot_steps(cell.finetune.eval_steps, facts.total_steps[name])
    return [replace(cell, setting=replace(cell.setting, step=s)) for s in steps] + [cell]


def trains_on_itself(setting: Setting, task_name: str) -> bool:
    """True when the cell's adapter is trained on the task it evaluates: a fine-tuning trajectory."""
    return setting.trains_on_own_task or (setting.trained_on == task_name)


def _grouped_by_source(cells: list[Cell]) -> list[Cell]:
    """Within each model's block: the other cells in plan order, then the transfer cells grouped by
    the task trained on (so the evaluations with one adapter follow each other)."""
    blocks: dict[Any, list[Cell]] = {}
    for cell in cells:
        blocks.setdefault(cell.model, []).append(cell)
    ordered: list[Cell] = []
    for block in blocks.values():
        transfer = [c for c in block if c.setting.trained_on is not None]  # steps of the diagonal included
        sources = list(dict.fromkeys(c.setting.trained_on for c in transfer))
        ordered += [c for c in block if c.setting.trained_on is None]
        ordered += sorted(transfer, key=lambda c: sources.index(c.setting.trained_on))
    return ordered


def _one_training_each(cells: list[Cell], facts: StudyFacts) -> list[Cell]:
    """--retrain retrains an adapter once per run: later cells using the same training read its cache."""
    seen: set[tuple[Any, str | None, int]] = set()
    result = []
    for cell in cells:
        training = (cell.model, source_name(cell, facts), cell.setting.num_fewshot)
        if cell.setting.fine_tuned and cell.finetune.retrain:
            if training in seen:
                cell = replace(cell, finetune=replace(cell.finetune, retrain=False))
            seen.add(training)
        result.append(cell)
    return result
