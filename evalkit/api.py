"""The Python API: `evalkit.run(...)` evaluates and returns the results as a DataFrame."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evalkit.home import default_store_path
from evalkit.models.spec import DEFAULT_MODEL, resolve_model_spec
from evalkit.plan import Cell, FineTuneOptions, make_plan
from evalkit.settings import Setting, parse_setting

DEFAULT_TASKS = ("sst2", "arc_easy", "copa")


def build_cells(models: Sequence[str] = (DEFAULT_MODEL,), tasks: Sequence[str] = DEFAULT_TASKS, *,
                settings: Sequence[str | Setting] = ("zero-shot",), limit: int | None = None,
                seed: int = 1234, batch_size: int | str = "auto", adapter: str | None = None,
                revision: str | None = None, dtype: str = "auto", device: str = "auto",
                trust_remote_code: bool = False, finetune: FineTuneOptions | None = None,
                request_cache: bool = True) -> list[Cell]:
    """Resolve model specs and settings into the plan's cells (no model is loaded here)."""
    specs = [resolve_model_spec(m, adapter=adapter, revision=revision, dtype=dtype, device=device,
                                trust_remote_code=trust_remote_code) for m in models]
    parsed = [s if isinstance(s, Setting) else parse_setting(s) for s in settings]
    unique = list(dict.fromkeys(parsed))
    return make_plan(specs, list(dict.fromkeys(tasks)), unique, limit=limit, seed=seed,
                     batch_size=batch_size, finetune=finetune, request_cache=request_cache)


def run(models: Sequence[str] | str = (DEFAULT_MODEL,), tasks: Sequence[str] | str = DEFAULT_TASKS, *,
        include_paths: Sequence[str | Path] = (), store: str | Path | None = None,
        name: str | None = None, progress: Any = None, **options: Any) -> Any:
    """Evaluate every model on every task in every setting; store the run; return its tidy
    metrics DataFrame (one row per model x task x setting x metric)."""
    from evalkit.runner import execute
    from evalkit.store.reader import metrics_frame
    from evalkit.store.schema import connect
    from evalkit.tasks.discovery import TaskRegistry

    require_model_extra()
    models = [models] if isinstance(models, str) else list(models)
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    cells = build_cells(models, tasks, **options)
    registry = TaskRegistry.discover(include_paths)
    store_path = Path(store) if store else default_store_path()
    result = execute(cells, registry, store_path, name=name, progress=progress,
                     config={"models": models, "tasks": tasks, **{k: str(v) for k, v in options.items()}})
    conn = connect(store_path, create=False)
    try:
        frame = metrics_frame(conn, [result.run_id])
    finally:
        conn.close()
    frame.attrs["run_id"] = result.run_id
    return frame


def require_model_extra() -> None:
    """`evalkit run` needs torch and transformers; the light core install does not have them."""
    import importlib.util

    from evalkit.errors import InputError

    missing = [name for name in ("torch", "transformers", "peft") if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError(f"Running models needs {', '.join(missing)}, which this installation lacks "
                         "(the light core install only compares, gates and reports).",
                         hint='Install the models extra: pip install "evalkit[models]" (or run `make setup`).')
