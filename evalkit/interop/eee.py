"""A stored run in the Every Eval Ever schema (evaleval/every_eval_ever, version 0.3.0; copies of
its JSON schemas, with source and licence, are in evalkit/interop/schemas/).

Per model of the run, in the 0.3.0 datastore layout data/<benchmark>/<developer>/<model>/: an aggregate
file `<uuid4>.json` (source metadata, eval library, model info, one evaluation result per cell x metric
with its metric config and uncertainty) and the instance-level file `<uuid4>_samples.jsonl` beside it,
one record per document x per-document metric (the schema asks for one instance record per aggregate
result), joined on evaluation_result_id.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import uuid
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from evalkit.outputs import output_file
from evalkit.store import METRICS
from evalkit.store import read_frame
from evalkit.store import cells_frame, run_row, samples_frame
from evalkit.store import store_files

SCHEMA_VERSION = "0.3.0"
SCHEMA_DIR = Path(__file__).with_name("schemas")
AGGREGATE_SCHEMA = SCHEMA_DIR / "eval.schema.json"
INSTANCE_SCHEMA = SCHEMA_DIR / "instance_level_eval.schema.json"


def export_eee(conn: Any, run_id: str, directory: Path, *, force: bool = False,
               inputs: Sequence[Path] = ()) -> list[Path]:
    """Write run `run_id` into `directory` (created if needed); return the files written. Each file
    goes through `output_file` (an existing one only with `force`, never over an input)."""
    directory = Path(directory)
    run = run_row(conn, run_id).to_dict()
    cells = cells_frame(conn, [run_id])
    metrics = read_frame(conn, f"SELECT {METRICS.select_list} FROM metrics WHERE run_id = ? ORDER BY rowid", (run_id,))
    samples = samples_frame(conn, run_id)
    sources = [*map(Path, inputs), *store_files(conn)]
    retrieved = str(int(time.time()))
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for model, model_cells in models(cells):
        relative = datastore_dir(run, model_cells, model) + "/" + file_uuid(run_id, model_cells)
        aggregate_path, samples_path = directory / f"{relative}.json", directory / f"{relative}_samples.jsonl"
        evaluation_id = f"{run.get('name') or run_id}/{model}/{retrieved}"
        lines = [json.dumps(r, ensure_ascii=False, allow_nan=False)
                 for r in instance_records(evaluation_id, model, model_cells, metrics, samples)]
        text = "".join(line + "\n" for line in lines)
        document = aggregate_document(run, model_cells, metrics, samples, evaluation_id=evaluation_id,
                                      retrieved=retrieved)
        document["detailed_evaluation_results"] = {
            "format": "jsonl", "file_path": f"{relative}_samples.jsonl", "hash_algorithm": "sha256",
            "checksum": hashlib.sha256(text.encode("utf-8")).hexdigest(), "total_rows": len(lines)}
        with output_file(aggregate_path, force=force, inputs=sources) as first, \
                output_file(samples_path, force=force, inputs=sources, option="-o (its samples file)") as second:
            first.write_text(json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n",
                             encoding="utf-8")
            second.write_text(text, encoding="utf-8")
        written += [aggregate_path, samples_path]
    return written


def datastore_dir(run: dict[str, Any], cells: pd.DataFrame, model: str) -> str:
    """data/<benchmark>/<developer>/<model> (0.3.0): the benchmark is the cells' task when they share one,
    else the run's name; developer and model come from a hub id 'org/name', else 'local' and the label."""
    tasks = sorted(set(map(str, cells.task)))
    benchmark = tasks[0] if len(tasks) == 1 else str(run.get("name") or run["run_id"])
    model_id = _model_id(json.loads(cells.iloc[0].model_spec_json or "{}"), model)
    developer, _, name = model_id.partition("/") if "/" in model_id else ("local", "", model_id)
    return "/".join(["data", *(_component(part) for part in (benchmark, developer, name))])


def file_uuid(run_id: str, cells: pd.DataFrame) -> str:
    """The UUIDv4-shaped file name 0.3.0 asks for, derived from the run and the model's identity, so that
    exporting the same run again names the same files (and needs --force) instead of adding copies."""
    key = f"{run_id}|{cells.iloc[0].model_fingerprint}|{cells.iloc[0].adapter}"
    return str(uuid.UUID(bytes=hashlib.sha256(key.encode("utf-8")).digest()[:16], version=4))


def _component(text: str) -> str:
    """One safe datastore path component (EEE refuses '/', 'data', 'unknown' and empty names)."""
    safe = _safe(text.replace("/", "_"))
    return f"{safe}_" if safe.lower() in ("data", "unknown") else safe


def models(cells: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The run's cells per model, a model being its identity (fingerprint and adapter), not its label:
    two models that share a label get one file each, the label made unique with a short hash."""
    keys = ["model", "model_fingerprint", "adapter"]
    groups = list(cells.groupby(keys, sort=False, dropna=False))
    labels = [str(key[0]) for key, _ in groups]
    out = []
    for (label, fingerprint, adapter), group in groups:
        if labels.count(str(label)) > 1:
            label = f"{label}-{hashlib.sha256(f'{fingerprint}|{adapter}'.encode()).hexdigest()[:8]}"
        out.append((str(label), group))
    return out


def aggregate_document(run: dict[str, Any], cells: pd.DataFrame, metrics: pd.DataFrame, samples: pd.DataFrame,
                       *, evaluation_id: str, retrieved: str) -> dict[str, Any]:
    """The aggregate record of one model's cells (eval.schema.json)."""
    spec = json.loads(cells.iloc[0].model_spec_json or "{}")
    results = [result for _, cell in cells.iterrows()
               for result in _cell_results(run, cell, metrics[metrics.cell_id == cell.cell_id],
                                           samples[samples.cell_id == cell.cell_id])]
    return {"schema_version": SCHEMA_VERSION, "evaluation_id": evaluation_id,
            "evaluation_timestamp": str(run["created_at"]), "retrieved_timestamp": retrieved,
            "source_metadata": {"source_name": "evalkit", "source_type": "evaluation_run",
                                "source_organization_name": "unknown", "evaluator_relationship": "other",
                                "additional_details": _strings({"run_id": run["run_id"], "run_name": run.get("name"),
                                                                "host": run.get("host"),
                                                                "git_commit": run.get("git_commit")})},
            "eval_library": _library(run),
            "model_info": _model_info(spec, cells.iloc[0]),
            "evaluation_results": results}


def _model_info(spec: dict[str, Any], cell: pd.Series) -> dict[str, Any]:
    """0.3.0's model_info: evalkit runs the weights itself (self_deployed); they are open when the model is
    a hub id, else not known from here."""
    model_id = _model_id(spec, str(cell.model))
    hub = "/" in model_id
    details = _strings({"deployment_type": "self_deployed", "model_availability": "open_weights" if hub else "unknown",
                        "fingerprint": cell.model_fingerprint, "kind": spec.get("kind"),
                        "location": spec.get("location"), "adapter": cell.adapter})
    return {"name": str(cell.model), "id": model_id, "developer": model_id.split("/")[0] if hub else "local",
            "inference_platform": "local", "additional_details": details}


def instance_records(evaluation_id: str, model: str, cells: pd.DataFrame, metrics: pd.DataFrame,
                     samples: pd.DataFrame) -> list[dict[str, Any]]:
    """One instance record per document and per metric it has a number for (instance_level_eval.schema.json)."""
    records: list[dict[str, Any]] = []
    for _, cell in cells.iterrows():
        names = list(metrics[metrics.cell_id == cell.cell_id].metric)
        for _, doc in samples[samples.cell_id == cell.cell_id].iterrows():
            for metric in names:
                score = doc.scores.get(metric)
                if isinstance(score, (int, float)) and math.isfinite(score):
                    records.append(_instance(evaluation_id, model, cell, doc, metric, float(score)))
    return records


def _instance(evaluation_id: str, model: str, cell: pd.Series, doc: pd.Series, metric: str,
              score: float) -> dict[str, Any]:
    prediction = str(doc.prediction or "")
    return {"schema_version": SCHEMA_VERSION, "evaluation_id": evaluation_id, "model_id": model,
            "evaluation_name": str(cell.task), "evaluation_result_id": _result_id(cell, metric),
            "sample_id": str(doc.doc_id), "sample_hash": str(doc.doc_hash), "interaction_type": "single_turn",
            "input": {"raw": str(doc.prompt or ""), "formatted": str(doc.prompt or ""),
                      "reference": [str(doc.target or "")]},
            "output": {"raw": [prediction]},
            "answer_attribution": [{"turn_idx": 0, "source": "output.raw", "extracted_value": prediction,
                                    "extraction_method": "evalkit", "is_terminal": True}],
            "evaluation": {"score": score, "is_correct": score == 1.0},
            "metadata": _strings({"metric": metric, "setting": cell.setting, "prompt_hash": doc.prompt_hash})}


def _cell_results(run: dict[str, Any], cell: pd.Series, metrics: pd.DataFrame,
                  samples: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for _, m in metrics.iterrows():
        if m.value is None or not math.isfinite(float(m.value)):
            continue  # the schema's score is a number: a metric without a value is left out
        per_doc = [s.get(m.metric) for s in samples.scores]
        out.append({"evaluation_result_id": _result_id(cell, m.metric), "evaluation_name": str(cell.task),
                    "source_data": {"dataset_name": str(cell.task), "source_type": "other",
                                    "additional_details": _strings({"task_source": cell.task_source,
                                                                    "task_config_hash": cell.task_config_hash})},
                    "evaluation_timestamp": str(run["created_at"]),
                    "metric_config": _metric_config(m, per_doc),
                    "score_details": {"score": float(m.value), "uncertainty": _uncertainty(m)},
                    "generation_config": {"generation_args": {"execution_command": str(run.get("command") or "")},
                                          "additional_details": _strings({"setting": cell.setting,
                                                                          "num_fewshot": cell.num_fewshot})}})
    return out


# The range a metric's value can take (lm-eval's definitions); None: no bound on that side, written as
# the string "Infinity" / "-Infinity" that schema 0.3.0 allows there.
_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    **{m: (0.0, 1.0) for m in ("acc", "acc_norm", "acc_mutual_info", "acc_bytes", "acc_all", "exact_match",
                               "likelihood", "f1")},
    "mcc": (-1.0, 1.0), "brier_score": (0.0, 2.0), "bleu": (0.0, 100.0), "chrf": (0.0, 100.0),
    "chrf++": (0.0, 100.0), "ter": (0.0, None), "perplexity": (1.0, None), "word_perplexity": (1.0, None),
    "byte_perplexity": (1.0, None), "bits_per_byte": (0.0, None), "loglikelihood": (None, 0.0),
}


def _metric_config(metric: pd.Series, per_doc: list[Any]) -> dict[str, Any]:
    """The schema's metric_config: 'binary' when every document scored 0 or 1, else 'continuous' with the
    metric's bounds (a config without score_type would be read as 'levels', which needs level names)."""
    config: dict[str, Any] = {"evaluation_description": f"{metric.metric} ({metric.setting})",
                              "metric_id": str(metric.metric), "metric_name": str(metric.metric),
                              "lower_is_better": not bool(metric.higher_is_better)}
    if per_doc and all(isinstance(v, (int, float)) and v in (0, 1) for v in per_doc):
        return {**config, "score_type": "binary"}
    low, high = _BOUNDS.get(str(metric.metric).split(",")[0], (None, None))
    return {**config, "score_type": "continuous", "min_score": "-Infinity" if low is None else low,
            "max_score": "Infinity" if high is None else high}


def _uncertainty(metric: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {"num_samples": int(metric.n)}
    if _finite(metric.stderr):
        out["standard_error"] = {"value": float(metric.stderr), "method": "analytic"}
    if _finite(metric.ci_low) and _finite(metric.ci_high):
        out["confidence_interval"] = {"lower": float(metric.ci_low), "upper": float(metric.ci_high),
                                      "confidence_level": 0.95}
    return out


def _library(run: dict[str, Any]) -> dict[str, Any]:
    config = json.loads(run.get("config_json") or "{}")
    versions = {"lm_eval_version": run.get("lm_eval_version"), "transformers_version": run.get("transformers_version"),
                "torch_version": run.get("torch_version")}
    if config.get("source") == "lm-eval import":  # the numbers were computed by lm-eval itself
        return {"name": "lm_eval", "version": str(run.get("lm_eval_version") or "unknown"),
                "additional_details": _strings({**versions, "imported_by": f"evalkit {run.get('evalkit_version')}"})}
    return {"name": "evalkit", "version": str(run.get("evalkit_version") or "unknown"),
            "additional_details": _strings(versions)}


def _model_id(spec: dict[str, Any], label: str) -> str:
    """HF format where the model is a hub id; otherwise the model's label."""
    if spec.get("kind") in ("hub", "lm-eval") and re.match(r"^[\w.-]+/[\w.-]+$", str(spec.get("location", ""))):
        return str(spec["location"])
    return label


def _result_id(cell: pd.Series, metric: str) -> str:
    return f"{cell.task}/{cell.setting}/{metric}"


def _strings(values: dict[str, Any]) -> dict[str, str]:
    """additional_details: the schema allows string values only; absent values are left out."""
    return {k: str(v) for k, v in values.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "run"
