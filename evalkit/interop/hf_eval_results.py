"""A stored run as Hugging Face `.eval_results/*.yaml` entries (scores a model repository shows on its
page and contributes to a benchmark dataset's leaderboard).

Format, as Hugging Face documents it at https://huggingface.co/docs/hub/eval-results (a page marked
"work in progress"; the keys below were taken from a copy of that page, not read on the page itself):
a YAML list of entries `{dataset: {id, task_id, revision?}, value, date?, source?: {url?, name}, notes?}`,
`dataset.id` being a hub dataset registered as a benchmark (it has an eval.yaml) and `task_id` one of
the tasks that eval.yaml names. evalkit writes its own task name as task_id: edit it where the
benchmark's eval.yaml names the task otherwise.

One entry per cell that has a hub dataset id: the task YAML's `dataset_path` when it is a hub id
('org/name'), else the documented mapping below for evalkit's built-in tasks (local copies of hub
datasets; each task's SOURCE.txt says where its files came from). The value is the cell's first
(primary) metric; `notes` names the metric and setting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from evalkit.outputs import output_file
from evalkit.store import METRICS
from evalkit.store import read_frame
from evalkit.store import cells_frame, run_row
from evalkit.store import store_files

# Built-in task -> (hub dataset its local files copy, config). Kept here, one home, documented in README.
BUILTIN_HUB_DATASETS: dict[str, tuple[str, str | None]] = {
    "agnews": ("fancyzhx/ag_news", None), "arc_easy": ("allenai/ai2_arc", "ARC-Easy"),
    "boolq": ("google/boolq", None), "cb": ("aps/super_glue", "cb"), "cola": ("nyu-mll/glue", "cola"),
    "copa": ("aps/super_glue", "copa"), "emotion": ("dair-ai/emotion", None), "gsm8k": ("openai/gsm8k", "main"),
    "hellaswag": ("Rowan/hellaswag", None), "mrpc": ("nyu-mll/glue", "mrpc"),
    "openbookqa": ("allenai/openbookqa", "main"), "rte": ("aps/super_glue", "rte"), "sst2": ("nyu-mll/glue", "sst2"),
    "trec": ("CogComp/trec", None), "wikitext": ("Salesforce/wikitext", "wikitext-2-raw-v1"),
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def hub_dataset(task: str, task_source: str | None, config: dict[str, Any] | None) -> str | None:
    """The hub dataset id of a task: its YAML's dataset_path when that is a hub id (and no local
    folder), else the built-in mapping for a built-in task; None when it has none."""
    path = (config or {}).get("dataset_path")
    if isinstance(path, str) and _HUB_ID.match(path) and not Path(path).exists():
        return path
    return BUILTIN_HUB_DATASETS.get(task, (None, None))[0] if task_source == "builtin" else None


def entries(conn: Any, run_id: str, configs: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The `.eval_results` entries of a run and the tasks left out (no hub dataset id). `configs`: the
    current YAML configuration of each task found (name -> config), for dataset_path."""
    run = run_row(conn, run_id).to_dict()
    cells = cells_frame(conn, [run_id])
    metrics = read_frame(conn, f"SELECT {METRICS.select_list} FROM metrics WHERE run_id = ? ORDER BY rowid", (run_id,))
    out, skipped = [], []
    for _, cell in cells.iterrows():
        dataset = hub_dataset(str(cell.task), cell.task_source, configs.get(str(cell.task)))
        own = metrics[metrics.cell_id == cell.cell_id]
        if dataset is None or own.empty:
            skipped.append(str(cell.task))
            continue
        out.append(_entry(run, cell, own.iloc[0], dataset))
    return out, skipped


def _entry(run: dict[str, Any], cell: pd.Series, metric: pd.Series, dataset: str) -> dict[str, Any]:
    return {"dataset": {"id": dataset, "task_id": str(cell.task)}, "value": float(metric.value),
            "date": str(run["created_at"])[:10],
            "source": {"name": f"evalkit run {run.get('name') or run['run_id']} ({cell.model})"},
            "notes": f"{metric.metric}, {cell.setting}, {int(metric.n)} documents, model {cell.model}"}


def write_entries(items: Sequence[dict[str, Any]], directory: Path, *, force: bool,
                  inputs: Sequence[Path] = ()) -> list[Path]:
    """One `<task>.yaml` per task (a list of its entries) in `directory`; the files written."""
    import yaml

    by_task: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_task.setdefault(item["dataset"]["task_id"], []).append(item)
    written = []
    for task, rows in by_task.items():
        path = Path(directory) / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', task)}.yaml"
        with output_file(path, force=force, inputs=inputs) as temporary:
            temporary.write_text(yaml.safe_dump(rows, sort_keys=False, allow_unicode=True), encoding="utf-8")
        written.append(path)
    return written


def export_hf_eval_results(conn: Any, run_id: str, directory: Path, configs: dict[str, dict[str, Any]], *,
                           force: bool = False, inputs: Sequence[Path] = ()) -> tuple[list[Path], list[str]]:
    """Write the run's entries into `directory`; (files written, tasks left out)."""
    items, skipped = entries(conn, run_id, configs)
    return write_entries(items, directory, force=force, inputs=[*map(Path, inputs), *store_files(conn)]), skipped
