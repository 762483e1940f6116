"""`evalkit results import`: lm-eval's own output into the store, one complete run per results file.

Every file is read and checked (evalkit.interop.lm_eval_files) and every record built before the
store is opened, so a bad file leaves the store byte for byte as it was. The runs are then written
through the store's own writer in one transaction, each marked complete: an import is stored whole or
not at all. An output is imported once: its files' content hash (config `content_sha256`) finds a
run that already holds it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from evalkit.errors import InputError
from evalkit.interop.lm_eval_files import LmEvalOutput, LmEvalTaskOutput, find_results_files, read_output
from evalkit.interop.lm_eval_records import metric_records, sample_records
from evalkit.provenance import evalkit_version
from evalkit.plan.settings import Setting
from evalkit.store import CellRecord, RunInfo

SOURCE = "lm-eval import"
# Keys lm-eval adds to a task's recorded metadata from --model_args and its loader: not the task's identity.
_RUN_METADATA = ("config_source", "pretrained")


@dataclass(frozen=True)
class ImportedRun:
    """One results file ready to store: the run and its cells."""

    info: RunInfo
    cells: list[CellRecord]
    source: Path
    notes: list[str]


def import_paths(paths: Sequence[Path], store: Any, *, name: str | None = None) -> list[ImportedRun]:
    """Read, check and convert everything, then write every run in one transaction; returns what was
    stored. An output already in the store (the same files, by content) is refused, naming its run."""
    from evalkit.store import check_run_name
    from evalkit.store import open_for_writing
    from evalkit.store import write_complete_runs

    runs = [build_run(read_output(path), name=name) for path in find_results_files(paths)]
    _refuse_repeats(runs)
    conn = open_for_writing(store)
    try:
        check_run_name(conn, name)
        for run in runs:
            _refuse_stored(conn, run)
        write_complete_runs(conn, [(run.info, run.cells) for run in runs])
    finally:
        conn.close()
    return runs


def content_hash(output: LmEvalOutput) -> str:
    """sha256 over the results file and its samples files, as bytes: what identifies an import."""
    digest = hashlib.sha256()
    for path in [output.path, *(t.samples_path for t in output.tasks)]:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _refuse_repeats(runs: list[ImportedRun]) -> None:
    """Two copies of one output in one import (two folders holding the same files)."""
    first: dict[str, Path] = {}
    for run in runs:
        digest = run.info.config["content_sha256"]
        if digest in first:
            raise InputError(f"'{run.source}' holds the same lm-eval output as '{first[digest]}' (identical files); "
                             "nothing was imported.", hint="Import each lm-eval output once.")
        first[digest] = run.source


def _refuse_stored(conn: Any, run: ImportedRun) -> None:
    """InputError naming the complete run that already holds this output."""
    digest = run.info.config["content_sha256"]
    rows = conn.execute("SELECT run_id, name, config_json FROM runs WHERE status = 'complete' AND config_json LIKE ?",
                        (f"%{digest}%",)).fetchall()
    for run_id, run_name, config in rows:
        if json.loads(config or "{}").get("content_sha256") == digest:
            named = f" ('{run_name}')" if run_name else ""
            raise InputError(f"'{run.source}' was already imported as run {run_id}{named}: the same files, byte "
                             "for byte; nothing was imported.",
                             hint=f"An lm-eval output is imported once (--name does not make it another one): use "
                                  f"that run, e.g. `evalkit results show {run_id}`.")


def build_run(output: LmEvalOutput, *, name: str | None = None) -> ImportedRun:
    """The RunInfo and CellRecords of one results file (nothing is written)."""
    data, notes = output.data, []
    cells = []
    for task in output.tasks:
        config_hash, task_source, note = task_identity(task)
        notes += [note] if note else []
        cells.append(_cell(output, task, config_hash, task_source))
    files = [str(output.path)] + [str(t.samples_path) for t in output.tasks]
    config = {"source": SOURCE, "files": files, "content_sha256": content_hash(output),
              "lm_eval_version": output.lm_eval_version,
              "lm_eval_git_hash": _plain(data.get("git_hash")),
              "lm_eval_upper_git_hash": _plain(data.get("upper_git_hash")),
              "evaluated_at": _iso(data.get("date")), "lm_eval_config": _plain(data.get("config")),
              "chat_template_sha": _plain(data.get("chat_template_sha")),
              "system_instruction_sha": _plain(data.get("system_instruction_sha")),
              "fewshot_as_multiturn": _plain(data.get("fewshot_as_multiturn"))}
    now = datetime.now(timezone.utc)
    info = RunInfo(run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
                   created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv),
                   seed=_int(data["config"].get("random_seed")), versions=_versions(data),
                   git_commit=_str(data.get("git_hash")), host=platform.node(), config=config)
    return ImportedRun(info, cells, output.path, notes)


def _cell(output: LmEvalOutput, task: LmEvalTaskOutput, config_hash: str, task_source: str) -> CellRecord:
    run_config = output.data["config"]
    samples = sample_records(task)
    spec = model_spec(output.data)
    details = {"source": SOURCE, "results_file": str(output.path), "samples_file": str(task.samples_path),
               "limit": _plain(run_config.get("limit")), "batch_size": str(run_config.get("batch_size")),
               "dtype": _str(run_config.get("model_dtype")), "device": _str(run_config.get("device")),
               "task_version": _plain((output.data.get("versions") or {}).get(task.name))}
    cell_id = hashlib.sha256(f"{output.path}|{task.name}".encode()).hexdigest()[:12]
    return CellRecord(cell_id=cell_id, model=str(spec["name"]), model_spec=spec,
                      model_fingerprint=model_fingerprint(output.data), task=task.name,
                      task_config_hash=config_hash, task_source=task_source,
                      setting=Setting(num_fewshot=task.num_fewshot).label, num_fewshot=task.num_fewshot,
                      metrics=metric_records(task, samples), samples=samples,
                      duration_s=_float(output.data.get("total_evaluation_time_seconds")), details=details)


def model_spec(data: dict[str, Any]) -> dict[str, Any]:
    """The model as lm-eval named it: a local path gets its folder name (as `evalkit run -m DIR`)."""
    config = data["config"]
    args = config.get("model_args")
    location = _str(data.get("model_name")) or (_str(args.get("pretrained")) if isinstance(args, dict) else None)
    location = location or str(config.get("model", "unknown"))
    local = location.startswith((".", "/", "~")) or bool(re.match(r"^[A-Za-z]:[\\/]", location))
    return {"name": Path(location).name if local else location, "kind": "lm-eval", "location": location,
            "lm_eval_model": _str(config.get("model")), "model_args": _plain(args)}


def model_fingerprint(data: dict[str, Any]) -> str:
    """A hash of what lm-eval recorded about the model (hub sha, revision, arguments, dtype)."""
    config = data["config"]
    keys = ("model", "model_args", "model_sha", "model_revision", "model_dtype", "model_num_parameters")
    recorded = {k: config.get(k) for k in keys} | {"model_name_sha": data.get("model_name_sha")}
    return "lm-eval:" + hashlib.sha256(json.dumps(recorded, sort_keys=True, default=str).encode()).hexdigest()[:16]


def task_identity(task: LmEvalTaskOutput) -> tuple[str, str, str | None]:
    """(task config hash, task source, note). When lm-eval recorded the task's YAML file
    (metadata.config_source) and that file still defines what lm-eval ran, the hash is evalkit's own
    for that YAML, so the import is comparable with `evalkit run -t YAML`; otherwise a hash of the
    recorded config, with a note saying why."""
    recorded = recorded_config_hash(task.config)
    source = (task.config.get("metadata") or {}).get("config_source")
    if not source:
        return recorded, "lm-eval", None
    path = Path(str(source))
    reason = _yaml_disagreement(task, path)
    if reason is None:
        from evalkit.tasks.discovery import TaskRegistry
        from evalkit.tasks.loading import task_config_hash

        return task_config_hash(TaskRegistry([]).resolve_file(path)), str(path), None
    return recorded, str(path), (f"{task.name}: identified by lm-eval's recorded config, not by {path} ({reason}); "
                                 "comparing it with an evalkit run needs --allow-incomparable.")


def recorded_config_hash(config: dict[str, Any]) -> str:
    canonical = dict(config)
    canonical["metadata"] = {k: v for k, v in (config.get("metadata") or {}).items() if k not in _RUN_METADATA}
    return "lm-eval:" + hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _yaml_disagreement(task: LmEvalTaskOutput, path: Path) -> str | None:
    """Why the YAML file no longer describes the recorded task, or None when every key it sets
    (hooks and metadata aside) has the recorded value."""
    from evalkit.errors import TaskError
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.yaml_source import FunctionRef

    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return "the file is not there"
    try:
        entry = TaskRegistry([]).resolve_file(path)
    except TaskError as exc:
        return f"it cannot be read: {exc.message}"
    for key, value in entry.config.items():
        if key in ("metadata", "include") or _has_function(value, FunctionRef):
            continue
        if _normal(value) != _normal(task.config.get(key)):
            return f"key '{key}' differs from what lm-eval recorded"
    return None


def _has_function(value: Any, kind: type) -> bool:
    if isinstance(value, kind):
        return True
    if isinstance(value, dict):
        return any(_has_function(v, kind) for v in value.values())
    if isinstance(value, list):
        return any(_has_function(v, kind) for v in value)
    return False


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _versions(data: dict[str, Any]) -> dict[str, str | None]:
    env = str(data.get("pretty_env_info") or "")
    torch = re.search(r"\btorch==(\S+)", env)
    return {"evalkit": evalkit_version(), "lm_eval": _str(data.get("lm_eval_version")),
            "transformers": _str(data.get("transformers_version")), "torch": torch.group(1) if torch else None}


def _plain(value: Any) -> Any:
    """Strict-JSON form of a recorded value (lm-eval's file is JSON already; NaN becomes null)."""
    from evalkit.store import finite

    return finite(json.loads(json.dumps(value, default=str)))


def _iso(timestamp: Any) -> str | None:
    try:
        return datetime.fromtimestamp(float(timestamp), timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any) -> int:
    """A recorded integer (a seed), 0 when it is none or beyond the store's 64-bit INTEGER."""
    whole = isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63
    return value if whole else 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
