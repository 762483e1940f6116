"""Checks at the door: everything a run can know is wrong about its input, found before any
model is loaded or anything is stored, so bad input costs no compute and leaves no trace.

Each task is loaded here once per run (its documents checked once); the cells reuse the
LoadedTask, and set their own few-shot count and seed on it before they use it.
Per model, only the configuration is read (no weights): its kind and its context length.
Per cell: few-shot sources large enough for K, and for fine-tuned cells the training split
(of the task trained on: its own, or TASK of fine-tuned-on:TASK), the method, the objective and the
model's kind. The study settings (--ft-eval-steps, fine-tuned-on:TASK, --transfer) are checked and
expanded here (evalkit.plan.cells.expand_cells), since how many steps a fine-tuning takes and which tasks
have a training split are known only once the tasks are loaded.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Iterator

from evalkit.errors import InputError, ModelError, TaskError
from evalkit.models.spec import ModelSpec
from evalkit.plan import Cell, StudyFacts, document_count, expand_cells, resolve_task_facts
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import LoadedTask

_NO_LENGTH = -1


@dataclass(frozen=True)
class ModelFacts:
    """What the model's configuration says, read without its weights (None: not known yet)."""

    encoder_decoder: bool | None
    max_length: int | None


@dataclass
class PreparedRun:
    """The cells to run (study settings expanded) and the tasks they need, all checked."""

    cells: list[Cell]
    tasks: dict[str, LoadedTask]  # by the reference the cells use (cell.task)
    sources: dict[str, LoadedTask] = field(default_factory=dict)  # tasks trained on, by task name


class _Silent:
    def message(self, text: str) -> None:
        return None


def check_inputs(cells: list[Cell], registry: TaskRegistry) -> dict[str, LoadedTask]:
    """Load every task once and check every cell's inputs; returns the loaded tasks by name."""
    return prepare_run(cells, registry).tasks


def prepare_run(cells: list[Cell], registry: TaskRegistry, sink: Any = None) -> PreparedRun:
    """Everything checked before any model load or store write: evalkit's home, the tasks (each
    loaded once), the training sources of fine-tuned-on settings, --ft-eval-steps and --transfer,
    then every cell of the expanded plan. Task-discovery warnings are shown through `sink`."""
    from evalkit.home import evalkit_home
    from evalkit.quiet import quiet_libraries

    quiet_libraries()
    sink = sink or _Silent()
    evalkit_home()
    check_environment()
    if any(cell.request_cache for cell in cells):
        from evalkit.engine.request_cache import check_request_cache, request_cache_path

        check_request_cache(request_cache_path())
    for warning in registry.warnings:
        sink.message(f"Warning: {warning}")
    tasks = {ref: load_task_entry(registry, ref) for ref in dict.fromkeys(c.task for c in cells)}
    cells = resolve_task_facts(cells, {ref: task_fewshot_default(t) for ref, t in tasks.items()},
                               {ref: len(t.task.eval_docs) for ref, t in tasks.items()})
    for ref, task in tasks.items():
        check_documents_once(task, max((c.limit or 0 for c in cells if c.task == ref), default=0) or None)
    cells = with_chat_templates(cells)
    sources, names = _explicit_sources(cells, tasks, registry)
    matrix_rows = _matrix_sources(cells, tasks, sink)
    sources.update(matrix_rows)
    facts = StudyFacts(names=names, sources=tuple(matrix_rows),
                       total_steps=_checked_eval_steps(cells, tasks, sources))
    expanded = expand_cells(cells, facts)
    models = {spec: model_facts(spec) for spec in dict.fromkeys(c.model for c in expanded)}
    checked: set[tuple[str, str | None, bool]] = set()  # training data checked once per source
    for cell in expanded:
        source = sources[cell.setting.trained_on] if cell.setting.trained_on else tasks[cell.task]
        data = (source.name, cell.finetune.train_split, cell.finetune.exclude_overlap)
        check_cell(cell, tasks[cell.task], models[cell.model], source=source, check_data=data not in checked)
        if cell.setting.fine_tuned:
            checked.add(data)
    return PreparedRun(expanded, tasks, sources)


def _explicit_sources(cells: list[Cell], tasks: dict[str, LoadedTask],
                      registry: TaskRegistry) -> tuple[dict[str, LoadedTask], dict[str, str]]:
    """The tasks named by fine-tuned-on:TASK settings (a task of the run, by its reference or its
    name, or any task the registry knows), loaded (unknown task: exit 2 naming the setting) and
    checked to have a training split; and every task reference's name."""
    from evalkit.finetune.examples import training_split_name

    names = {ref: task.name for ref, task in tasks.items()}
    by_name = {task.name: task for task in tasks.values()}  # a run task may be named by its name or its path
    sources: dict[str, LoadedTask] = {}
    refs = [c.setting.trained_on for c in cells if c.setting.trained_on and not c.setting.is_all_sources]
    for ref in dict.fromkeys(refs):
        options = next(c.finetune for c in cells if c.setting.trained_on == ref)
        with _naming_setting(f"fine-tuned-on:{ref}"):
            loaded = tasks.get(ref) or by_name.get(ref) or load_checked_task(registry, ref, None)
            training_split_name(loaded, options.train_split)
        names[ref] = loaded.name
        sources[loaded.name] = loaded
    return sources, names


def _matrix_sources(cells: list[Cell], tasks: dict[str, LoadedTask], sink: Any) -> dict[str, LoadedTask]:
    """For fine-tuned-on:* (--transfer): the run's tasks with a training split (the matrix's rows);
    the others are evaluated only (columns), which the run output says; none at all: exit 2."""
    wanted = [c for c in cells if c.setting.is_all_sources]
    if not wanted:
        return {}
    from evalkit.finetune.sources import has_training_split

    override = wanted[0].finetune.train_split
    rows = {t.name: t for t in tasks.values() if has_training_split(t, override)}
    columns = [t.name for t in tasks.values() if t.name not in rows]
    if not rows:
        raise InputError(f"--transfer needs a task with a training split to fine-tune on; none of the run's "
                         f"tasks has one ({', '.join(columns)}).",
                         hint="Add a task that declares training_split (e.g. -t sst2), or pass --train-split.")
    if columns:
        one = len(columns) == 1
        sink.message(f"Transfer matrix: {', '.join(columns)} {'has' if one else 'have'} no training split, so "
                     + ("it is evaluated only (a column of the matrix, not a row)." if one else
                        "they are evaluated only (columns of the matrix, not rows)."))
    return rows


def _checked_eval_steps(cells: list[Cell], tasks: dict[str, LoadedTask],
                        sources: dict[str, LoadedTask]) -> dict[str, int]:
    """--ft-eval-steps N: a fine-tuned setting to apply it to (`fine-tuned`, or the diagonal of a
    transfer matrix), and N no more than the optimiser steps of each fine-tuning it splits;
    returns those step counts by task name."""
    from evalkit.finetune.sources import fine_tuning_steps, training_examples

    every = next((c.finetune.eval_steps for c in cells if c.finetune.eval_steps), None)
    if every is None:
        return {}
    trained: dict[str, tuple[LoadedTask, Cell]] = {}
    for cell in cells:
        if cell.setting.trains_on_own_task:
            trained.setdefault(tasks[cell.task].name, (tasks[cell.task], cell))
        elif cell.setting.fine_tuned:  # fine-tuned-on:A (or *): its diagonal, where A is a task of the run
            run_names = {t.name for t in tasks.values()}
            for name, source in sources.items():
                if name in run_names and (cell.setting.is_all_sources or cell.setting.trained_on in (name, None)
                                          or tasks.get(str(cell.setting.trained_on)) is source):
                    trained.setdefault(name, (source, cell))
    if not trained:
        raise InputError(f"--ft-eval-steps {every} evaluates fine-tuning at intermediate steps, but the run "
                         "fine-tunes no task it also evaluates.",
                         hint="Add --setting fine-tuned or --transfer (or leave out --ft-eval-steps).")
    totals: dict[str, int] = {}
    for name, (task, cell) in trained.items():
        with _naming_setting(cell.setting.label):
            total = fine_tuning_steps(training_examples(task, cell.finetune), cell.finetune)
        if every > total:
            raise InputError(f"--ft-eval-steps {every} is more than the {total} optimiser steps of fine-tuning on "
                             f"task '{name}'.", hint=f"Use --ft-eval-steps {total} or less, or train longer "
                             "(--ft-epochs, --ft-max-steps, --ft-max-examples).")
        totals[name] = total
    return totals


@contextmanager
def _naming_setting(setting: str) -> Iterator[None]:
    """A task error met while checking a setting's training source names the setting too."""
    try:
        yield
    except TaskError as exc:
        raise type(exc)(f"--setting {setting}: {exc.message}", hint=exc.hint) from exc


def check_environment() -> None:
    """The EVALKIT_* switches the scoring backend reads, checked before any model load (a bad value
    is exit 2 at the door, not after the model was loaded): the prefix cache switch and fast-exact's
    safety factor and calibration size."""
    from evalkit.scoring.calibration import calibration_size, safety_factor
    from evalkit.scoring.prefix_cache import prefix_cache_enabled

    prefix_cache_enabled()
    safety_factor()
    calibration_size()


def load_checked_task(registry: TaskRegistry, name: str, limit: int | float | None) -> LoadedTask:
    """The task loaded and its documents (the first `limit`, a count or a fraction) checked."""
    loaded = load_task_entry(registry, name)
    check_documents_once(loaded, document_count(limit, len(loaded.task.eval_docs)))
    return loaded


def load_task_entry(registry: TaskRegistry, name: str) -> LoadedTask:
    """The task found by the registry, its keys checked and loaded (documents not yet checked)."""
    from evalkit.tasks.loading import check_keys, load_task

    entry = registry.resolve(name)
    if entry.source != "lm_eval":
        check_keys(entry)
    return load_task(entry)


def check_documents_once(loaded: LoadedTask, limit: int | None) -> None:
    from evalkit.engine.evaluation import check_documents

    check_documents(loaded, limit)


def task_fewshot_default(loaded: LoadedTask) -> int:
    """The task's own few-shot count as `lm_eval` uses it: its YAML's num_fewshot, else zero."""
    value = loaded.task.get_config("num_fewshot")
    return int(value) if value is not None else 0


def with_chat_templates(cells: list[Cell]) -> list[Cell]:
    """Cells applying a chat template get its hash (lm-eval's chat_template_sha), read from each
    model's tokenizer (no weights): no template, or an unknown NAME, is exit 2 here."""
    from dataclasses import replace

    from evalkit.scoring.chat import check_chat_template, with_template_sha

    tokenizers: dict[ModelSpec, Any] = {}
    rendered: set[tuple[ModelSpec, Any]] = set()  # each template rendered once per model and options
    resolved = []
    for cell in cells:
        if cell.prompt.chat_template:
            if cell.model not in tokenizers:
                tokenizers[cell.model] = read_tokenizer(cell.model)
            cell = replace(cell, prompt=with_template_sha(cell.prompt, tokenizers[cell.model], model=cell.model.label))
            if (cell.model, cell.prompt) not in rendered:
                check_chat_template(tokenizers[cell.model], cell.prompt, model=cell.model.label)
                rendered.add((cell.model, cell.prompt))
        resolved.append(cell)
    return resolved


def read_tokenizer(spec: ModelSpec) -> Any:
    """The model's tokenizer as evalkit.models.loading reads it (a GGUF model is converted, and
    cached, first: loading it for the run then finds the conversion done)."""
    from evalkit.models.loading import load_tokenizer, checkpoint_location

    return load_tokenizer(spec, spec.tokenizer or checkpoint_location(spec))


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


def check_cell(cell: Cell, task: LoadedTask, model: ModelFacts, *, source: LoadedTask | None = None,
               check_data: bool = True) -> None:
    """One cell's inputs; `source` is the task its adapter trains on (default: its own task), whose
    training data is checked unless `check_data` is False (already checked for an earlier cell)."""
    from evalkit.engine.evaluation import check_fewshot_source

    check_fewshot_source(task, cell.setting.num_fewshot, cell.setting.label)
    check_generation_room(task, cell, model)
    if cell.setting.fine_tuned:
        trained = source or task
        with _naming_setting(cell.setting.label) if trained is not task else nullcontext():
            check_finetune(cell, trained, model, check_data=check_data)


def check_generation_room(task: LoadedTask, cell: Cell, model: ModelFacts) -> None:
    """A causal model must fit max_gen_toks new tokens (and some prompt) in its context."""
    if task.task.OUTPUT_TYPE != "generate_until" or model.encoder_decoder or model.max_length is None:
        return
    from lm_eval.models.utils import normalize_gen_kwargs

    from evalkit.scoring.backend import DEFAULT_MAX_GEN_TOKS

    kwargs = {**(getattr(task.task.config, "generation_kwargs", None) or {}), **cell.prompt.generation_kwargs}
    max_gen_toks = int(normalize_gen_kwargs(kwargs, DEFAULT_MAX_GEN_TOKS)["max_gen_toks"])
    if max_gen_toks >= model.max_length:
        raise TaskError(f"Task '{task.name}' ({task.source}) generates up to {max_gen_toks} tokens, but model "
                        f"'{cell.model.label}' has a context of {model.max_length} tokens: no room is left "
                        "for the prompt.",
                        hint="Lower max_gen_toks (--gen-kwargs max_gen_toks=N, or generation_kwargs in the "
                        "task YAML), or use a model with a longer context.")


def check_finetune(cell: Cell, task: LoadedTask, model: ModelFacts, *, check_data: bool = True) -> None:
    """Method, objective, model kind and training data of a fine-tuned cell."""
    from evalkit.finetune.examples import select_training_docs
    from evalkit.finetune.finetuned import check_options

    options = cell.finetune
    check_options(options, task.task.OUTPUT_TYPE)
    if model.encoder_decoder:
        raise ModelError(f"Model '{cell.model.label}' is an encoder-decoder model; evalkit fine-tunes "
                         "decoder-only (causal) language models only.",
                         hint="Evaluate it zero-shot or few-shot, or fine-tune a causal model.")
    if check_data:
        select_training_docs(task, split=options.train_split, exclude_overlap=options.exclude_overlap)
