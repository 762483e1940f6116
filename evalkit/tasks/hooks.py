"""Importing `!function` hooks: only from Python files inside the task's root, and contained.

lm-eval would import `!function /abs/path/mod.fn`, `!function ../../x.fn` or any module on
sys.path; evalkit accepts only a dotted name (`utils.process_docs`, `pkg.mod.fn`) that names a
`.py` file next to the YAML, inside the directory the task was found under (symlinks followed).
A hook that raises SystemExit (e.g. calls `sys.exit()`) or calls `os._exit()` on import or when
called becomes a TaskError naming it, instead of ending evalkit with exit 0 having done nothing
(`os._exit` is replaced while hook code runs: it would end the process with no message).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from evalkit.errors import TaskError
from evalkit.tasks.confinement import require_inside
from evalkit.tasks.yaml_source import FunctionRef


def import_hook(ref: FunctionRef, root: Path, key: str) -> Callable[..., Any]:
    """The function `ref` names, imported from inside `root` and wrapped so it cannot exit evalkit."""
    where = ref.yaml_path or ref.base_dir
    module_file, function_name = _module_file(ref, key)
    resolved = require_inside(module_file, root, yaml_path=where, key=key, reference=str(ref))
    if not resolved.is_file():
        raise TaskError(f"Task file '{where}', key '{key}': cannot import `{ref}`: the file '{module_file}' "
                        "does not exist.",
                        hint=f"Hooks are Python files next to the YAML (looked in {ref.base_dir}).")
    module = _load_module(resolved, ref, where, key)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise TaskError(f"Task file '{where}', key '{key}': cannot import `{ref}`: '{resolved.name}' has no "
                        f"function '{function_name}'.", hint="Check the function name after the last dot.")
    return contained(function, f"`{ref}` (task file '{where}', key '{key}')")


def lm_eval_hook(qual: str, base_dir: Path) -> Callable[..., Any]:
    """lm-eval's `!function` importer under evalkit's rule: a dotted name for a `.py` file inside the
    YAML's own folder (symlinks followed), or a function of lm-eval's own package (`lm_eval.x.fn`,
    as some of lm-eval's built-in tasks use); never a path, never any other module on sys.path."""
    ref = FunctionRef(qual, base_dir)
    module_file, function_name = _module_file(ref, "!function")
    if qual.startswith("lm_eval.") and not module_file.exists():
        import importlib

        return getattr(importlib.import_module(qual.rpartition(".")[0]), function_name)
    return import_hook(ref, base_dir, "!function")


@contextlib.contextmanager
def lm_eval_hooks_confined() -> Iterator[None]:
    """While lm-eval loads task YAML (`evalkit lm-eval`), its `!function` tags go through lm_eval_hook."""
    from lm_eval.tasks import _yaml_loader

    saved = _yaml_loader._import_func_in_yml
    _yaml_loader._import_func_in_yml = lm_eval_hook
    try:
        yield
    finally:
        _yaml_loader._import_func_in_yml = saved


def _module_file(ref: FunctionRef, key: str) -> tuple[Path, str]:
    module, _, function_name = ref.qualname.strip().rpartition(".")
    parts = module.split(".") if module else []
    if not parts or not function_name.isidentifier() or not all(p.isidentifier() for p in parts):
        raise TaskError(f"Task file '{ref.yaml_path or ref.base_dir}', key '{key}': cannot import `{ref}`: "
                        "it is not a `module.function` name.",
                        hint="Write `!function utils.my_function` for a function in utils.py next to the "
                             "YAML; paths (/, ..) are not accepted.")
    return ref.base_dir.joinpath(*parts[:-1], f"{parts[-1]}.py"), function_name


def _load_module(path: Path, ref: FunctionRef, where: Path, key: str) -> Any:
    from lm_eval.tasks._yaml_loader import _load_module_with_cache

    try:
        with no_hard_exit():
            return _load_module_with_cache(path)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit on import included: a hook must not end evalkit
        raise TaskError(f"Task file '{where}', key '{key}': cannot import `{ref}` from '{path}': "
                        f"{_describe(exc)}", hint="Fix the hook module (it is imported when the task is loaded).") from exc


def contained(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    """`function`, with its failures (SystemExit included) turned into a TaskError naming `label`.
    KeyboardInterrupt and evalkit's own render time limit pass through."""
    from evalkit.tasks.render_limit import RenderTimeout

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            with no_hard_exit():
                return function(*args, **kwargs)
        except (TaskError, KeyboardInterrupt, RenderTimeout):
            raise
        except BaseException as exc:
            hint = ("A hook must return a value or raise an exception, not exit." if not isinstance(exc, Exception)
                    else "Fix the hook, or the data it reads.")
            what = _describe(exc) if isinstance(exc, (SystemExit, HardExit)) else f"failed: {_describe(exc)}"
            raise TaskError(f"Hook {label} {what}", hint=hint) from exc

    return guarded


class HardExit(BaseException):
    """Raised in place of `os._exit(code)` called by hook code."""

    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code


@contextlib.contextmanager
def no_hard_exit() -> Iterator[None]:
    """While hook code runs, `os._exit(code)` raises HardExit instead of ending the process."""
    real = os._exit

    def refused(code: Any = 0) -> None:
        raise HardExit(code)

    os._exit = refused  # type: ignore[assignment]
    try:
        yield
    finally:
        os._exit = real


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HardExit):
        return f"called os._exit({exc.code!r})."
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})."
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__
