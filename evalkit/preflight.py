"""Checks at the door: everything a run can know is wrong about its input, found before any
model is loaded or anything is stored, so bad input costs no compute and leaves no trace.

Each task is loaded here once per run (its documents checked once); the cells reuse the
LoadedTask, and set their own few-shot count and seed on it before they use it.
Per model, only the configuration is read (no weights): its kind and its context length.
Per cell: few-shot sources large enough for K, and for fine-tuned cells the training split,
the method, the objective and the model's kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from evalkit.errors import ModelError, TaskError
from evalkit.models.spec import ModelSpec
from evalkit.plan import Cell
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import LoadedTask

_NO_LENGTH = -1


@dataclass(frozen=True)
class ModelFacts:
    """What the model's configuration says, read without its weights (None: not known yet)."""

    encoder_decoder: bool | None
    max_length: int | None


def check_inputs(cells: list[Cell], registry: TaskRegistry) -> dict[str, LoadedTask]:
    """Load every task once and check every cell's inputs; returns the loaded tasks by name."""
    from evalkit.quiet import quiet_libraries

    quiet_libraries()
    limit = max((c.limit or 0 for c in cells), default=0) or None
    tasks = {name: load_checked_task(registry, name, limit) for name in dict.fromkeys(c.task for c in cells)}
    models = {spec: model_facts(spec) for spec in dict.fromkeys(c.model for c in cells)}
    for cell in cells:
        check_cell(cell, tasks[cell.task], models[cell.model])
    return tasks


def load_checked_task(registry: TaskRegistry, name: str, limit: int | None) -> LoadedTask:
    from evalkit.evaluation import check_documents
    from evalkit.tasks.loading import check_keys, load_task

    entry = registry.resolve(name)
    if entry.source != "lm_eval":
        check_keys(entry)
    loaded = load_task(entry)
    check_documents(loaded, limit)
    return loaded


def model_facts(spec: ModelSpec) -> ModelFacts:
    """The model's kind and context length from its config (GGUF sources: causal, length unknown)."""
    from evalkit.models.loading import read_config

    config = read_config(spec)
    if config is None:
        return ModelFacts(encoder_decoder=False, max_length=None)
    from lm_eval.models.utils import resolve_max_length

    length = int(resolve_max_length(config, None, default=_NO_LENGTH))
    return ModelFacts(encoder_decoder=bool(getattr(config, "is_encoder_decoder", False)),
                      max_length=None if length == _NO_LENGTH else length)


def check_cell(cell: Cell, task: LoadedTask, model: ModelFacts) -> None:
    from evalkit.evaluation import check_fewshot_source

    check_fewshot_source(task, cell.setting.num_fewshot, cell.setting.label)
    check_generation_room(task, cell, model)
    if cell.setting.fine_tuned:
        check_finetune(cell, task, model)


def check_generation_room(task: LoadedTask, cell: Cell, model: ModelFacts) -> None:
    """A causal model must fit max_gen_toks new tokens (and some prompt) in its context."""
    if task.task.OUTPUT_TYPE != "generate_until" or model.encoder_decoder or model.max_length is None:
        return
    from lm_eval.models.utils import normalize_gen_kwargs

    from evalkit.scoring.backend import DEFAULT_MAX_GEN_TOKS

    kwargs = dict(getattr(task.task.config, "generation_kwargs", None) or {})
    max_gen_toks = int(normalize_gen_kwargs(kwargs, DEFAULT_MAX_GEN_TOKS)["max_gen_toks"])
    if max_gen_toks >= model.max_length:
        raise TaskError(f"Task '{task.name}' ({task.source}) generates up to {max_gen_toks} tokens, but model "
                        f"'{cell.model.label}' has a context of {model.max_length} tokens: no room is left "
                        "for the prompt.",
                        hint="Lower generation_kwargs.max_gen_toks in the task YAML, or use a model with a "
                        "longer context.")


def check_finetune(cell: Cell, task: LoadedTask, model: ModelFacts) -> None:
    """Method, objective, model kind and training data of a fine-tuned cell."""
    from evalkit.finetune.examples import select_training_docs
    from evalkit.finetune.finetuned import check_options

    options = cell.finetune
    check_options(options, task.task.OUTPUT_TYPE)
    if model.encoder_decoder:
        raise ModelError(f"Model '{cell.model.label}' is an encoder-decoder model; evalkit fine-tunes "
                         "decoder-only (causal) language models only.",
                         hint="Evaluate it zero-shot or few-shot, or fine-tune a causal model.")
    select_training_docs(task, split=options.train_split, limit=cell.limit,
                         exclude_overlap=options.exclude_overlap)
