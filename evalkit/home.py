"""Where evalkit keeps things: its home (model cache, adapters) and the default results store."""

from __future__ import annotations

import os
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
