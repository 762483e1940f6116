"""The fine-tuned setting's headline benchmark: SmolLM2-135M on SST-2, zero-shot vs fine-tuned,
then one multiple-choice task fine-tuned with each objective.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/finetune_headline.py

Part 1 is one `evalkit.run` of sst2 (all 872 dev sentences) in the zero-shot and fine-tuned
settings with the default FineTuneOptions (and --retrain, so training is timed, not taken from
the cache); its wall time is the whole zero-shot + fine-tune + evaluate run (model already
converted). Part 2 runs arc_easy (570 dev questions) zero-shot and fine-tuned with
--ft-objective nll, then fine-tuned with choice-ce, and compares each with zero-shot on the
same documents. Results go to reports/bench/finetune.{md,json} and a results store
reports/bench/finetune.db. Heavy: run it alone on the machine (2 cores were the target).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evalkit.plan import FineTuneOptions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--limit", type=int, default=None, help="Evaluate only the first N dev documents.")
    parser.add_argument("--mc-task", default="arc_easy", help="The multiple-choice task of part 2 ('' skips it).")
    parser.add_argument("--mc-examples", type=int, default=1000, help="Training examples for part 2.")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "finetune.db"
    report: dict[str, Any] = {"machine": _machine(), "defaults": asdict(FineTuneOptions())}
    report["sst2"] = _headline(args.model, store, args.limit)
    if args.mc_task:
        report[args.mc_task] = _objectives(args.model, args.mc_task, store, args.limit, args.mc_examples)
    (out / "finetune.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "finetune.md").write_text(_markdown(report, args.mc_task))
    print(_markdown(report, args.mc_task))


def _headline(model: str, store: Path, limit: int | None) -> dict[str, Any]:
    options = replace(FineTuneOptions(), retrain=True)
    start = time.perf_counter()
    frame = _run(model, "sst2", ["zero-shot", "fine-tuned"], store, limit, options)
    wall = time.perf_counter() - start
    result = _summary(store, frame.attrs["run_id"], "sst2", "acc")
    result["wall_seconds"] = round(wall, 1)
    return result


def _objectives(model: str, task: str, store: Path, limit: int | None, examples: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for objective in ("nll", "choice-ce"):
        options = replace(FineTuneOptions(), objective=objective, max_examples=examples, retrain=True)
        start = time.perf_counter()
        frame = _run(model, task, ["zero-shot", "fine-tuned"], store, limit, options)
        found[objective] = {**_summary(store, frame.attrs["run_id"], task, "acc"),
                            "acc_norm": _summary(store, frame.attrs["run_id"], task, "acc_norm"),
                            "wall_seconds": round(time.perf_counter() - start, 1)}
    return found


def _run(model: str, task: str, settings: list[str], store: Path, limit: int | None, options: FineTuneOptions) -> Any:
    import evalkit
    from evalkit.cli.progress import RichProgress
    from rich.console import Console

    # request_cache=False: every cell is computed, so the wall time is that of a first run.
    return evalkit.run([model], [task], settings=settings, store=store, limit=limit, finetune=options,
                       progress=RichProgress(Console(stderr=True)), name=f"finetune-bench-{task}",
                       request_cache=False)


def _summary(store: Path, run_id: str, task: str, metric: str) -> dict[str, Any]:
    """Each setting's metric with its interval, the paired difference, and the training details."""
    from evalkit.compare import CompareOptions, RunOpener, compare_settings, open_runs
    from evalkit.store.reader import cells_frame, metrics_frame
    from evalkit.store.schema import open_for_reading

    with RunOpener(store) as opener:
        comparison = compare_settings(open_runs(opener, [run_id])[0], CompareOptions())
    conn = open_for_reading(store)
    try:
        metrics = metrics_frame(conn, [run_id])
        cells = cells_frame(conn, [run_id])
    finally:
        conn.close()
    rows = metrics[metrics.metric == metric]
    diff = comparison.rows[comparison.rows.metric == metric].iloc[0]
    tuned = cells[cells.setting == "fine-tuned"].iloc[0]
    details = json.loads(tuned.details_json)
    return {
        "run_id": run_id, "metric": metric,
        "settings": {r.setting: {"value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": int(r.n)}
                     for r in rows.itertuples()},
        "delta": {k: _plain(diff[k]) for k in ("delta", "ci_low", "ci_high", "p_value", "n", "method",
                                               "improved", "worsened")},
        "cell_seconds": {r.setting: r.duration_s for r in cells.itertuples()},
        "training": {k: details.get(k) for k in ("training_examples", "train_steps", "train_seconds",
                                                 "train_loss_first", "train_loss_last10", "objective",
                                                 "hyperparameters", "overlap_normalised", "overlap_excluded",
                                                 "adapter_dir", "tensorboard_dir")},
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _machine() -> dict[str, Any]:
    import torch

    return {"host": platform.node(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_average_at_start": os.getloadavg(), "torch": torch.__version__}


def _markdown(report: dict[str, Any], mc_task: str) -> str:
    sst2 = report["sst2"]
    lines = ["# Fine-tuned setting: headline benchmark", "",
             f"Machine: {report['machine']['cpus']} CPUs, torch threads {report['machine']['torch_threads']}, "
             f"load average at start {tuple(round(x, 2) for x in report['machine']['load_average_at_start'])}.",
             "", "## SST-2 dev, SmolLM2-135M, default FineTuneOptions", "",
             _table([("zero-shot", sst2["settings"]["zero-shot"], None),
                     ("fine-tuned", sst2["settings"]["fine-tuned"], sst2["delta"])]), "",
             _training_line(sst2["training"]),
             f"Whole run (zero-shot + fine-tune + evaluate): {sst2['wall_seconds']} s "
             f"(cells: {sst2['cell_seconds']}).", ""]
    if mc_task and mc_task in report:
        lines += [f"## {mc_task}: the two objectives", ""]
        for objective, result in report[mc_task].items():
            for metric_result in (result, result["acc_norm"]):
                metric = metric_result["metric"]
                lines += [f"### objective {objective}, {metric}", "",
                          _table([("zero-shot", metric_result["settings"]["zero-shot"], None),
                                  (f"fine-tuned ({objective})", metric_result["settings"]["fine-tuned"],
                                   metric_result["delta"])]), ""]
            lines += [_training_line(result["training"]), f"Run wall time: {result['wall_seconds']} s.", ""]
    return "\n".join(lines)


def _table(rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> str:
    out = ["| setting | value [95% CI] | n | Δ vs zero-shot [95% CI] | p |", "|---|---|---|---|---|"]
    for name, s, d in rows:
        delta = "" if d is None else f"{d['delta']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
        p = "" if d is None else f"{d['p_value']:.2g}"
        out.append(f"| {name} | {s['value']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}] | {s['n']} | {delta} | {p} |")
    return "\n".join(out)


def _training_line(training: dict[str, Any]) -> str:
    hp = training["hyperparameters"] or {}
    return (f"Training: {training['training_examples']} examples, {training['train_steps']} steps in "
            f"{training['train_seconds']} s; objective {training['objective']}; loss {training['train_loss_first']:.3f}"
            f" -> {training['train_loss_last10']:.3f} (mean of last 10 steps); method {hp.get('method')}, "
            f"lr {hp.get('lr')}, batch {hp.get('batch_size')}, r {hp.get('lora_r')}, targets "
            f"{hp.get('target_modules')}, autocast {hp.get('autocast')}. Overlap: "
            f"{training['overlap_normalised']} evaluated documents also in training, "
            f"{training['overlap_excluded']} training documents excluded.")


if __name__ == "__main__":
    main()
