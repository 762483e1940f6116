"""Where evalkit keeps things: its home (model cache, adapters) and the default results store."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

from evalkit.errors import InputError

DEFAULT_STORE = Path("reports") / "evalkit.db"


def evalkit_home() -> Path:
    """EVALKIT_HOME, or ~/.cache/evalkit; created on first use. InputError (exit 2) naming the
    place when it is a file or cannot be created or written."""
    configured = os.environ.get("EVALKIT_HOME")
    home = Path(configured) if configured else Path.home() / ".cache" / "evalkit"
    source = f"EVALKIT_HOME '{home}'" if configured else f"evalkit's home '{home}' (EVALKIT_HOME is not set)"
    hint = "Point EVALKIT_HOME at a directory evalkit may create and write, e.g. export EVALKIT_HOME=~/.cache/evalkit."
    if home.exists() and not home.is_dir():
        raise InputError(f"{source} is not a directory (it is a file).", hint=hint)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{source} cannot be created: {exc.strerror or exc}.", hint=hint) from exc
    if not os.access(home, os.W_OK | os.X_OK):
        raise InputError(f"{source} is not writable.", hint=hint)
    return home


def default_store_path() -> Path:
    """EVALKIT_STORE, or reports/evalkit.db under the working directory."""
    return Path(os.environ.get("EVALKIT_STORE") or DEFAULT_STORE)


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_warned: set[tuple[str, Path]] = set()


def is_disk_full(exc: BaseException) -> bool:
    """An OSError saying the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def caching_off(what: str, path: Path, exc: BaseException) -> None:
    """Warn once per cache that a write under evalkit's home failed for lack of space: the cache is
    an optimisation, so the command goes on without it."""
    if (what, path) in _warned:
        return
    _warned.add((what, path))
    print(f"Warning: cannot write the {what} '{path}' (the disk is full: {exc}); going on without caching "
          "it. Free space under EVALKIT_HOME to cache again.", file=sys.stderr)
