"""`evalkit results import` of Every Eval Ever 0.3.0 files (what `results export --format eee` writes, or
any EEE aggregate file with its instance-level file): one complete run per aggregate file.

Cells are the aggregate's evaluation results grouped by evaluation_name and setting; every result needs
its instance records (per-document scores), joined on evaluation_result_id, since compare and gate
pair documents. Everything is read and checked before the store is opened.
"""

from __future__ import annotations

import hashlib
import json
import platform
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from evalkit.errors import InputError
from evalkit.store import CellRecord, MetricRecord, RunInfo, SampleRecord

SOURCE = "eee import"
VERSIONS = ("0.3.0",)


def eee_files(paths: Sequence[Path]) -> list[Path]:
    """The EEE aggregate files among `paths` (a file, or a folder searched recursively); [] when none
    of them is one, so the caller goes on with lm-eval's formats."""
    candidates = [p for path in map(Path, paths)
                  for p in (sorted(path.rglob("*.json")) if path.is_dir() else [path]) if p.suffix == ".json"]
    return [p for p in candidates if _is_eee(p)]


def _is_eee(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "evaluation_results" in data and "schema_version" in data


def import_eee(paths: Sequence[Path], store: Any, *, name: str | None = None) -> list[tuple[RunInfo, list[CellRecord]]]:
    """Read and check every aggregate file, then store one complete run per file in one transaction."""
    from evalkit.store import check_run_name
    from evalkit.store import open_for_writing
    from evalkit.store import write_complete_runs

    runs = [build_run(path, name=name) for path in eee_files(paths)]
    conn = open_for_writing(store)
    try:
        check_run_name(conn, name)
        write_complete_runs(conn, runs)
    finally:
        conn.close()
    return runs


def build_run(path: Path, *, name: str | None = None) -> tuple[RunInfo, list[CellRecord]]:
    """The RunInfo and CellRecords of one aggregate file and its samples file (nothing is written)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema_version") not in VERSIONS:
        raise InputError(f"'{path}' is Every Eval Ever schema {data.get('schema_version')!r}; evalkit reads "
                         f"{', '.join(VERSIONS)}.", hint="Convert it with every-eval-ever's own tools first.")
    samples = _instances(path, data)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in data["evaluation_results"]:
        groups.setdefault((str(result["evaluation_name"]), _setting(result)), []).append(result)
    cells = [_cell(data, task, setting, results, samples, path) for (task, setting), results in groups.items()]
    now = datetime.now(timezone.utc)
    library = data.get("eval_library", {})
    info = RunInfo(run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
                   created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv), seed=0,
                   versions={"evalkit": None, f"{library.get('name', 'source')}": library.get("version")},
                   git_commit=None, host=platform.node(),
                   config={"source": SOURCE, "files": [str(path)], "evaluation_id": data.get("evaluation_id"),
                           "content_sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return info, cells


def _instances(path: Path, data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The instance records per evaluation_result_id, from the samples file the aggregate names (found
    beside it, or at its data/... path under the folder that holds data/)."""
    detail = data.get("detailed_evaluation_results") or {}
    relative = str(detail.get("file_path") or "")
    found = [c for c in (path.with_name(Path(relative).name), *(p / relative for p in path.parents)) if c.is_file()]
    if not relative or not found:
        raise InputError(f"'{path}' has no instance-level file{f' ({relative})' if relative else ''}: compare "
                         "and gate need every document's score.",
                         hint="Keep the <uuid>_samples.jsonl file beside its aggregate file.")
    text = found[0].read_bytes()
    if detail.get("checksum") and hashlib.sha256(text).hexdigest() != detail["checksum"]:
        raise InputError(f"'{found[0]}' does not match the sha256 checksum its aggregate file '{path}' records.",
                         hint="Use the samples file exported with that aggregate file.")
    out: dict[str, list[dict[str, Any]]] = {}
    for line in text.decode("utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out.setdefault(str(record["evaluation_result_id"]), []).append(record)
    return out


def _setting(result: dict[str, Any]) -> str:
    details = (result.get("generation_config") or {}).get("additional_details") or {}
    return str(details.get("setting") or "zero-shot")


def _cell(data: dict[str, Any], task: str, setting: str, results: list[dict[str, Any]],
          instances: dict[str, list[dict[str, Any]]], path: Path) -> CellRecord:
    model = data["model_info"]
    details = model.get("additional_details") or {}
    docs: dict[str, dict[str, Any]] = {}
    for result in results:
        rows = instances.get(str(result["evaluation_result_id"]), [])
        if not rows:
            raise InputError(f"'{path}': result '{result['evaluation_result_id']}' has no instance records.",
                             hint="Import EEE files that carry per-document scores.")
        metric = str(result["metric_config"].get("metric_id") or result["metric_config"].get("metric_name"))
        for row in rows:
            docs.setdefault(str(row["sample_id"]), {"row": row, "scores": {}})["scores"][metric] = \
                float(row["evaluation"]["score"])
    source = results[0].get("source_data", {}).get("additional_details") or {}
    return CellRecord(
        cell_id=secrets.token_hex(6), model=str(model.get("name") or model["id"]),
        model_spec={"name": str(model.get("name") or model["id"]), "kind": details.get("kind", "eee"),
                    "location": details.get("location", model["id"])},
        model_fingerprint=str(details.get("fingerprint") or model["id"]), task=task,
        task_config_hash=str(source.get("task_config_hash") or ""), task_source=str(source.get("task_source") or SOURCE),
        setting=setting, num_fewshot=int(((results[0].get("generation_config") or {}).get("additional_details") or {})
                                         .get("num_fewshot") or 0),
        metrics=[_metric(r) for r in results], samples=[_sample(k, v) for k, v in docs.items()],
        adapter=details.get("adapter"))


def _metric(result: dict[str, Any]) -> MetricRecord:
    config, score = result["metric_config"], result["score_details"]
    uncertainty = score.get("uncertainty") or {}
    interval = uncertainty.get("confidence_interval") or {}
    return MetricRecord(str(config.get("metric_id") or config.get("metric_name")), float(score["score"]),
                        (uncertainty.get("standard_error") or {}).get("value"), interval.get("lower"),
                        interval.get("upper"), int(uncertainty.get("num_samples") or 0),
                        not bool(config.get("lower_is_better")))


def _sample(sample_id: str, doc: dict[str, Any]) -> SampleRecord:
    row = doc["row"]
    reference = (row.get("input") or {}).get("reference") or [""]
    raw = (row.get("output") or {}).get("raw") or [""]
    number = int(sample_id) if sample_id.isdigit() else int(hashlib.sha256(sample_id.encode()).hexdigest()[:12], 16)
    return SampleRecord(number,
                        str(row.get("sample_hash") or sample_id), str((row.get("metadata") or {}).get("prompt_hash", "")),
                        str((row.get("input") or {}).get("raw", "")), str(reference[0]), str(raw[0]), doc["scores"])
