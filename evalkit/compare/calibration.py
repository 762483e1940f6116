"""Noise calibration: how much a run's scores move when only a nuisance changes (batch size, dtype,
processes, sampling seed), measured from a source run and its re-run (`evalkit calibrate`).

Per cell and metric: the flip rate (0/1 metrics: the fraction of documents whose score changed), the
per-document drift (mean and sd of re-run minus source) and the aggregate's change. A gate policy's
`calibration:` names such a re-run (or the JSON table `evalkit calibrate --json` wrote) and a rule's
`noise_multiple: K` widens the row's tolerance to K x |aggregate drift| (evalkit.compare.policy)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from evalkit.compare.matching import CellPair, pair_run_cells
from evalkit.compare.scores import item_scores
from evalkit.compare.sources import RunSide
from evalkit.errors import InputError
from evalkit.stats import is_binary

NOISE_COLUMNS = ("model", "task", "setting", "metric", "n", "flip_rate", "drift_mean", "drift_sd",
                 "aggregate_drift")
_MAX_NOISE_FILE_BYTES = 1 << 22


def noise_frame(source: RunSide, rerun: RunSide) -> pd.DataFrame:
    """One row per matched cell and metric of the two runs (columns NOISE_COLUMNS)."""
    pairs, _, _ = pair_run_cells(source, rerun)
    rows = [row for pair in pairs for row in _pair_noise(pair)]
    return pd.DataFrame(rows, columns=list(NOISE_COLUMNS))


def _pair_noise(pair: CellPair) -> list[dict[str, Any]]:
    metrics_a = pair.a.metrics[pair.a.metrics.cell_id == pair.cell_a.cell_id]
    metrics_b = pair.b.metrics[pair.b.metrics.cell_id == pair.cell_b.cell_id].set_index("metric")
    out = []
    for metric_row in metrics_a.itertuples(index=False):
        metric = str(metric_row.metric)
        if metric not in metrics_b.index:
            continue
        row = {"model": pair.model, "task": pair.task, "setting": pair.setting, "metric": metric,
               "aggregate_drift": _difference(metric_row.value, metrics_b.loc[metric, "value"])}
        row.update(_document_noise(pair, metric))
        out.append(row)
    return out


def _document_noise(pair: CellPair, metric: str) -> dict[str, Any]:
    """Flip rate and per-document drift of one metric; NaN for a corpus-level metric."""
    values = item_scores(pair, metric)
    if values is None or values[0].size == 0:
        return {"n": 0, "flip_rate": math.nan, "drift_mean": math.nan, "drift_sd": math.nan}
    a, b = values
    diff = b - a
    flips = float(np.mean(a != b)) if is_binary(a) and is_binary(b) else math.nan
    sd = float(np.std(diff, ddof=1)) if diff.size > 1 else math.nan
    return {"n": int(diff.size), "flip_rate": flips, "drift_mean": float(diff.mean()), "drift_sd": sd}


def _difference(a: Any, b: Any) -> float:
    try:
        return float(b) - float(a)
    except (TypeError, ValueError):
        return math.nan


def drift_by_row(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    """|aggregate drift| per (task, metric), the largest over models and settings (what a tolerance must beat)."""
    out: dict[tuple[str, str], float] = {}
    for row in frame.itertuples(index=False):
        value = abs(float(row.aggregate_drift))
        if math.isfinite(value):
            key = (str(row.task), str(row.metric).split(",")[0])
            out[key] = max(out.get(key, 0.0), value)
    return out


def noise_records(frame: pd.DataFrame) -> str:
    """The noise table as JSON (what `evalkit calibrate --json FILE` writes and a policy's `calibration:` reads)."""
    records = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
               for row in frame.to_dict(orient="records")]
    return json.dumps({"evalkit_noise": records}, indent=1, default=str)


def read_noise_file(path: Path) -> dict[tuple[str, str], float]:
    """The (task, metric) -> |aggregate drift| of a noise table file; InputError naming it when unreadable."""
    from evalkit.regular_files import read_regular_bytes

    hint = "Write it with `evalkit calibrate RUN --nuisance KEY=VALUE --json FILE`, or name the calibration run."
    try:
        data = json.loads(read_regular_bytes(path, _MAX_NOISE_FILE_BYTES).decode("utf-8"))
        frame = pd.DataFrame(data["evalkit_noise"], columns=list(NOISE_COLUMNS))
        frame["aggregate_drift"] = pd.to_numeric(frame["aggregate_drift"], errors="raise").astype(float)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"Cannot read the noise calibration file {path}: {exc}.", hint=hint) from exc
    return drift_by_row(frame)


def read_calibration_run(store: Any, ref: str) -> dict[tuple[str, str], float]:
    """The (task, metric) -> |aggregate drift| of a calibration run in the store (its config names its source)."""
    from evalkit.compare.sources import RunOpener

    with RunOpener(store) as opener:
        rerun = opener.open(ref)
        source_id = calibration_source(rerun.run.get("config_json") or rerun.run.get("config"))
        if source_id is None:
            raise InputError(f"{rerun.where} is not a calibration run (its config has no 'calibration_of').",
                             hint="Name a run `evalkit calibrate` stored, or its --json noise table.")
        return drift_by_row(noise_frame(opener.open(source_id), rerun))


def calibration_source(config: Any) -> str | None:
    """The source run id a calibration re-run's config names (None for any other run)."""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return None
    if not isinstance(config, Mapping):
        return None
    source = config.get("calibration_of")
    return str(source) if source else None


def noise_column(rule: Any) -> dict[str, float]:
    """The gate row's `noise` column: the calibrated |aggregate drift| of its task / metric (NaN without one)."""
    noise = getattr(rule, "noise", None)
    return {"noise": math.nan if noise is None else float(noise)}


def observed_discordance(baseline: RunSide, against: RunSide, task: str, metric: str) -> tuple[float, int]:
    """The share of documents of `task` whose 0/1 `metric` differs between the two runs, and their count."""
    pairs = [p for p in pair_run_cells(baseline, against)[0] if p.task == task]
    if not pairs:
        raise InputError(f"{baseline.where} and {against.where} have no cell of the task '{task}' in common.",
                         hint="Name two runs that evaluated the task, or leave out --baseline / --against.")
    changed = total = 0
    for pair in pairs:
        values = item_scores(pair, metric)
        if values is None or not (is_binary(values[0]) and is_binary(values[1])):
            raise InputError(f"Metric '{metric}' of {pair.task} / {pair.setting} is not a per-document 0/1 score, "
                             "so its discordance is not defined.", hint="Pick a 0/1 metric with --metric (e.g. acc).")
        changed += int(np.sum(values[0] != values[1]))
        total += int(values[0].size)
    if total == 0:
        raise InputError(f"The task '{task}' has no document both runs scored.", hint="Name two runs of the task.")
    return changed / total, total
