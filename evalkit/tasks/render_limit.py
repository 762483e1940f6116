"""A time limit on rendering one prompt, so a template that never ends cannot hang evalkit.

A Jinja loop of 10^8 iterations in `doc_to_text` (or a hook that loops forever) would hang
`tasks validate`, `tasks show` and a run's input check. Each render of a task built by
`load_task` runs under a SIGALRM time limit (EVALKIT_RENDER_TIMEOUT seconds, default 5; 0 turns
it off). Signals work only in the main thread: elsewhere, and where another timer is already
pending, rendering runs without a limit.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from evalkit.errors import InputError, TaskError

ENV_VAR = "EVALKIT_RENDER_TIMEOUT"
DEFAULT_SECONDS = 5.0


class RenderTimeout(BaseException):
    """Raised by the alarm inside a render; a BaseException so templates and hooks cannot swallow it."""


class _State(threading.local):
    active: bool = False


_state = _State()


def render_timeout_s() -> float:
    """The configured limit in seconds (0: no limit)."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0 or seconds == float("inf"):
        raise InputError(f"{ENV_VAR}={raw!r} is not a number of seconds.",
                         hint=f"Set {ENV_VAR} to e.g. 5 (seconds), or 0 for no limit.")
    return seconds


def _alarm(signum: int, frame: Any) -> None:
    if _state.active:
        raise RenderTimeout()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise RenderTimeout in the body after `seconds` (main thread only; nested calls share the
    outermost limit)."""
    usable = (seconds > 0 and not _state.active and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    _state.active = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _state.active = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def bounded_render(task_label: str, key: str, doc: Any) -> Iterator[None]:
    """Render under the configured limit. A timeout, or a template or hook failing on the document,
    becomes a TaskError naming the key and the document."""
    seconds = render_timeout_s()
    try:
        with time_limit(seconds):
            yield
    except RenderTimeout as exc:
        raise TaskError(f"{task_label}, key '{key}': rendering the document {describe_doc(doc)} took longer "
                        f"than {seconds:g} s and was stopped.",
                        hint=f"Simplify the template or hook (a loop that never ends?); {ENV_VAR} sets "
                             "the limit in seconds (0: none).") from exc
    except TaskError:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()
        reason = f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__
        raise TaskError(f"{task_label}, key '{key}': rendering the document {describe_doc(doc)} failed: {reason}",
                        hint="Check the template's field names against the data, or the hook.") from exc


def describe_doc(doc: Any, width: int = 100) -> str:
    """A short, one-line description of a document for error messages."""
    text = " ".join(repr(doc).split())
    return text if len(text) <= width else text[: width - 3] + "..."
