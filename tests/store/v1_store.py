"""A schema-version-1 store built the way evalkit 0.1's store wrote one: its DDL (v1_schema.sql), its
positional INSERTs, and config values turned into reprs by `str(v)` and `json.dumps(default=str)`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from evalkit.plan import FineTuneOptions

V1_SCHEMA = Path(__file__).with_name("v1_schema.sql")
V1_RUNS = [("20250101-000000-aaaaaa", "complete"), ("20250102-000000-bbbbbb", "failed")]
APPLICATION_ID = 0x45564B54
V1_OPTIONS: dict[str, Any] = {"settings": ["zero-shot", "fine-tuned"], "limit": None, "seed": 1234,
                              "batch_size": "auto", "dtype": "float32",
                              "finetune": FineTuneOptions(method="lora", epochs=2.0, lr=0.003),
                              "include": Path("/data/tasks"), "scale": -0.5}


def v1_config_text(models: list[str], tasks: list[str]) -> str:
    """config_json exactly as v1's api.run + writer produced it."""
    config = {"models": models, "tasks": tasks, **{k: str(v) for k, v in V1_OPTIONS.items()}}
    return json.dumps(config, ensure_ascii=False, default=str, allow_nan=True)


def _v1_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, allow_nan=True)


def write_v1_store(path: Path) -> Path:
    """Two runs (one complete, one failed) with a cell, two metrics and four samples each; one
    sample's score is NaN (v1 wrote the token NaN)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(V1_SCHEMA.read_text())
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", ("1",))
    for k, (run_id, status) in enumerate(V1_RUNS):
        conn.execute("INSERT INTO runs (run_id, name, created_at, status, evalkit_version, lm_eval_version,"
                     " transformers_version, torch_version, git_commit, host, command, seed, config_json)"
                     " VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (run_id, f"v1-{k}", f"2025-01-0{k + 1}T00:00:00+00:00", "0.1.0", "0.4.13", "4.50.0",
                      "2.6.0", "abc123", "host", "evalkit run -t sst2", 1234,
                      v1_config_text(["smollm2-135m"], ["sst2"])))
        conn.execute("INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (run_id, "c0", "smollm2-135m", _v1_json({"name": "smollm2-135m", "kind": "alias"}), "fp",
                      None, "sst2", "hash", "builtin", "zero-shot", 0, 4, 1.5, _v1_json({"limit": None})))
        conn.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(run_id, "c0", "smollm2-135m", "sst2", "zero-shot", "acc", 0.5, 0.25, 0.01, 0.99, 4, 1),
                          (run_id, "c0", "smollm2-135m", "sst2", "zero-shot", "ppl", float("inf"), None, None,
                           None, 4, 0)])
        scores = [1.0, 0.0, float("nan"), 1.0]
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(run_id, "c0", i, hashlib.sha256(b"%d" % i).hexdigest()[:16], f"p{i}", f"prompt {i}",
                           "yes", "no", _v1_json({"acc": s}), _v1_json([[-0.5, True]])) for i, s in enumerate(scores)])
        conn.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                     (status, "2025-01-05T00:00:00+00:00", run_id))
    conn.close()
    return path
