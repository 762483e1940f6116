"""The Python API: `evalkit.run(...)` evaluates and returns the results as a DataFrame."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, Mapping, Sequence

from evalkit.bias.suites import expand_suites
from evalkit.models.series import check_series_cells, expand_model_refs
from evalkit.models.spec import DEFAULT_MODEL, member_spec
from evalkit.plan import Cell, FineTuneOptions, make_plan
from evalkit.plan.prompts import make_prompt_options
from evalkit.plan.settings import TASK_DEFAULT, Setting, parse_setting

DEFAULT_TASKS = ("sst2", "arc_easy", "copa")


def build_cells(models: Sequence[str] = (DEFAULT_MODEL,), tasks: Sequence[str] = DEFAULT_TASKS, *,
                settings: Sequence[str | Setting] = (TASK_DEFAULT,),
                limit: int | float | Mapping[str, int | float | None] | None = None,
                seed: int = 1234, batch_size: int | str = "auto", adapter: str | None = None,
                revision: str | None = None, dtype: str = "auto", device: str = "auto",
                trust_remote_code: bool = False, finetune: FineTuneOptions | None = None,
                request_cache: bool = True, precision: str = "auto",
                apply_chat_template: bool | str = False, system_instruction: str | None = None,
                fewshot_as_multiturn: bool | None = None, gen_kwargs: str | Mapping[str, Any] | None = None,
                fewshot_seed: int | None = None) -> list[Cell]:
    """Resolve model specs and settings into the plan's cells (no model is loaded here). A model may
    be a checkpoint series (a Trainer output directory, a quoted glob, org/name@REVISION): each
    checkpoint becomes a model, in training-step order, checked before anything is loaded.
    precision: auto, exact or fast-exact (evalkit.scoring.precision; fast-exact loads float32).
    The default setting, 'task-default', is each task's own num_fewshot (as `lm_eval` runs it); the
    prompt options (chat template ... fewshot_seed) have lm-eval's meaning (evalkit.plan.prompts)."""
    prompt = make_prompt_options(apply_chat_template=apply_chat_template, system_instruction=system_instruction,
                                 fewshot_as_multiturn=fewshot_as_multiturn, gen_kwargs=gen_kwargs,
                                 fewshot_seed=fewshot_seed)
    from evalkit.scoring.precision import resolve_precision

    chosen = resolve_precision(precision, dtype, device)
    dtype = chosen.dtype
    specs = [member_spec(m, adapter=adapter, revision=revision, dtype=dtype, device=device,
                         trust_remote_code=trust_remote_code) for m in expand_model_refs(models)]
    parsed = [s if isinstance(s, Setting) else parse_setting(s) for s in settings]
    unique = list(dict.fromkeys(parsed))
    cells = make_plan(specs, expand_suites(tasks), unique, limit=limit, seed=seed,
                      batch_size=batch_size, finetune=finetune, request_cache=request_cache, prompt=prompt)
    check_series_cells(cells)
    return [dataclasses.replace(cell, precision=chosen.precision) for cell in cells]


def run(models: Sequence[str] | str = (DEFAULT_MODEL,), tasks: Sequence[str] | str = DEFAULT_TASKS, *,
        include_paths: Sequence[str | Path] = (), store: str | Path | None = None,
        executor: Any = None, rerun: bool = False,
        name: str | None = None, progress: Any = None, linked: Mapping[str, Any] | None = None,
        **options: Any) -> Any:
    """Evaluate every model on every task in every setting; store the run; return its tidy
    metrics DataFrame (one row per model x task x setting x metric). `linked`: extra keys of the run's
    stored config (a calibration re-run's `calibration_of` and `nuisance`, evalkit.calibrate)."""
    from evalkit.engine.runner import execute
    from evalkit.store import metrics_frame
    from evalkit.store import store_location
    from evalkit.store import open_for_reading
    from evalkit.tasks.discovery import TaskRegistry

    require_model_extra()
    models = [models] if isinstance(models, str) else list(models)
    tasks = expand_suites([tasks] if isinstance(tasks, str) else list(tasks))  # `bias` -> its tasks
    config = {**run_config(models, tasks, include_paths, options), **(linked or {})}
    registry = TaskRegistry.discover(include_paths)
    if isinstance(options.get("limit"), Mapping):
        options = {**options, "limit": limits_by_reference(options["limit"], tasks, registry)}
    cells = build_cells(models, tasks, **options)
    store_path = store_location(store)  # a path or a postgresql:// URL
    result = execute(cells, registry, store_path, name=name, progress=progress, config=config,
                     executor=executor, rerun=rerun)  # evalkit.engine.executors.ExecutorOptions; rerun: no cell reuse
    conn = open_for_reading(store_path)
    try:
        frame = metrics_frame(conn, [result.run_id])
    finally:
        conn.close()
    frame.attrs["run_id"] = result.run_id
    return frame


def limits_by_reference(limits: Mapping[str, Any], tasks: list[str], registry: Any) -> dict[str, Any]:
    """`--limit NAME=N` for a task given by path (`-t my/task.yaml`, named `my_task` in its YAML)
    becomes `--limit my/task.yaml=N`: a task is known by its name in every table, so its name works too."""
    from evalkit.errors import EvalkitError

    names: dict[str, str] = {}
    for ref in tasks:
        try:
            names.setdefault(registry.resolve(ref).name, ref)
        except EvalkitError:
            continue  # reported when the task is loaded
    return {(names[key] if key not in tasks and key in names else key): value for key, value in limits.items()}


def run_config(models: list[str], tasks: list[str], include_paths: Sequence[str | Path],
               options: dict[str, Any]) -> dict[str, Any]:
    """The run's effective options (defaults filled in) as typed JSON values, for the run record:
    settings as their labels, fine-tuning options as a mapping, no limit as null."""
    from evalkit.errors import InputError

    try:
        bound = inspect.signature(build_cells).bind(models, tasks, **options)
    except TypeError as exc:
        raise InputError(f"evalkit.run: {exc}.", hint="See help(evalkit.build_cells) for the options.") from exc
    bound.apply_defaults()
    values = dict(bound.arguments)
    values["settings"] = [_setting_label(s) for s in values["settings"]]
    values["finetune"] = dataclasses.asdict(values["finetune"] or FineTuneOptions())
    values["include_paths"] = [str(p) for p in include_paths]
    return {key: _json_value(key, value) for key, value in values.items()}


def _setting_label(setting: str | Setting) -> str:
    return setting.label if isinstance(setting, Setting) else parse_setting(setting).label


def _json_value(key: str, value: Any) -> Any:
    """Plain JSON types (containers become lists / dicts, paths strings); anything else is refused."""
    from evalkit.errors import InputError

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_value(key, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(key, v) for v in value]
    raise InputError(f"evalkit.run: option '{key}' has a value of type {type(value).__name__} ({value!r}), "
                     "which a run record cannot store.", hint="Pass plain numbers, strings, lists or None.")


def require_model_extra() -> None:
    """`evalkit run` needs torch and transformers; the light core install does not have them."""
    import importlib.util

    from evalkit.errors import InputError

    missing = [name for name in ("torch", "transformers", "peft") if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError(f"Running models needs {', '.join(missing)}, which this installation lacks "
                         "(the light core install only compares, gates and reports).",
                         hint='Install the models extra: pip install "evalkit[models]" (or run `make setup`).')
