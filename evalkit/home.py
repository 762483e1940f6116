"""Where evalkit keeps things: its home (model cache, adapters) and the default results store."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STORE = Path("reports") / "evalkit.db"


def evalkit_home() -> Path:
    """EVALKIT_HOME, or ~/.cache/evalkit; created on first use."""
    home = Path(os.environ.get("EVALKIT_HOME") or Path.home() / ".cache" / "evalkit")
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_store_path() -> Path:
    """EVALKIT_STORE, or reports/evalkit.db under the working directory."""
    return Path(os.environ.get("EVALKIT_STORE") or DEFAULT_STORE)
