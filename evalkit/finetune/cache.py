"""The adapter cache: <evalkit home>/adapters/<key>/, one directory per fine-tuning run.

The key hashes everything the trained weights depend on (base model fingerprint, task config
hash, training data hash, every hyper-parameter, objective, seed, evalkit's version), so a
re-run finds its adapter and does not retrain. With --ft-eval-steps, the adapter after step N of
that same training is its own entry, <key>-step<N>/ (snapshot_key), beside the final one. Entries are written to a temporary directory
and renamed into place, so a crash never leaves a half-written entry that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable

from evalkit.home import evalkit_home

METADATA = "evalkit-finetune.json"
FORMAT_VERSION = 1


def cache_key(parts: dict[str, Any]) -> str:
    payload = json.dumps({"format": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def snapshot_key(key: str, step: int | None) -> str:
    """The entry of the adapter after `step` optimiser steps of the training `key` names (None: final)."""
    return key if step is None else f"{key}-step{step}"


def adapters_root() -> Path:
    root = evalkit_home() / "adapters"
    root.mkdir(parents=True, exist_ok=True)
    return root


def entry_dir(key: str) -> Path:
    return adapters_root() / key


def read_entry(key: str) -> dict[str, Any] | None:
    """The metadata of a complete cache entry, or None."""
    try:
        return json.loads((entry_dir(key) / METADATA).read_text())
    except (OSError, ValueError):
        return None


def write_entry(key: str, save: Callable[[Path], None], metadata: dict[str, Any]) -> Path:
    """Save into a temporary directory, add the metadata, then rename it to the entry's place
    (replacing an older entry under the same key, as --retrain does)."""
    root = adapters_root()
    tmp = root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        save(tmp)
        (tmp / METADATA).write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))
        final = root / key
        if final.exists():
            old = root / f".old-{key}-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, final)
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
