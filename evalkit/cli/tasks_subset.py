"""`evalkit tasks subset TASK --target-drop D -o DIR`: a power-sized CI subset of a task (evalkit.tasks.subset)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from evalkit.cli.options import FiniteFloatRange, RunRef, store_option
from evalkit.errors import InputError

_OPEN_UNIT = dict(min=0.0, max=1.0, min_open=True, max_open=True)


@click.command("subset")
@click.argument("task")
@click.option("--target-drop", required=True, type=FiniteFloatRange(**_OPEN_UNIT),
              help="The drop of the 0/1 metric (a fraction, 0 < D < 1) the subset must detect.")
@click.option("--power", type=FiniteFloatRange(**_OPEN_UNIT), default=0.8, show_default=True,
              help="Chance of detecting the drop.")
@click.option("--alpha", type=FiniteFloatRange(**_OPEN_UNIT), default=0.05, show_default=True,
              help="Level of the gate's one-sided test.")
@click.option("--tolerance", type=FiniteFloatRange(min=0.0, max=1.0, max_open=True), default=0.0, show_default=True,
              help="The gate's tolerance for the row (the drop must exceed it).")
@click.option("--baseline", type=RunRef(), default=None, help="Measure the discordance: this run ...")
@click.option("--against", type=RunRef(), default=None, help="... against this one (both runs of TASK).")
@click.option("--metric", default="acc", show_default=True, help="The 0/1 metric whose discordance is measured.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the stratified draw.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for <task>_ci.yaml and <task>_ci.jsonl.")
@click.option("--force", is_flag=True, help="Replace an existing subset in the folder.")
@click.option("--include-path", multiple=True, type=click.Path(file_okay=False),
              help="Extra directory of task YAML files (repeatable).")
@store_option
def subset(task: str, target_drop: float, power: float, alpha: float, tolerance: float, baseline: str | None,
           against: str | None, metric: str, seed: int, out_dir: Path, force: bool, include_path: tuple[str, ...],
           store: Any) -> None:
    """Write the documents of TASK the gate needs to detect a drop of --target-drop with --power, drawn
    stratified by cluster and gold label (seeded), as a task to commit: DIR/<task>_ci.yaml.

    The discordance (share of documents two runs score differently) is measured from --baseline RUN
    --against RUN2, else 0.2 is assumed. Exit 2: a drop outside (0, 1), a subset larger than the task.
    """
    from evalkit.quiet import quiet_libraries
    from evalkit.stats.sample_size import paired_drop_documents
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.subset import refuse_hooks

    quiet_libraries()
    if (baseline is None) != (against is None):
        raise InputError("--baseline and --against measure the discordance together: give both or neither.",
                         hint="For example --baseline last-release --against nightly (two runs of the task).")
    if not tolerance < target_drop:
        raise InputError(f"--tolerance {tolerance} is not below --target-drop {target_drop}: the gate could never "
                         "fail a drop that small.", hint="Choose a tolerance below the target drop.")
    entry = TaskRegistry.discover(include_path).resolve(task)
    _check_outputs(out_dir, entry.name, force)
    refuse_hooks(entry.config, f"'{entry.name}' ({entry.yaml_path})")
    discordance, source = _discordance(store, baseline, against, entry.name, metric)
    n = paired_drop_documents(target_drop, discordance, alpha=alpha, power=power, tolerance=tolerance)
    design = dict(source_task=entry.name, target_drop=target_drop, power=power, alpha=alpha, discordance=discordance,
                  discordance_from=source, n=n, seed=seed, tolerance=tolerance)
    path = _write(entry, design, out_dir)
    Console().print(f"{path}: {n} documents of {entry.name} give power {power} to detect a drop of {target_drop} "
                    f"(one-sided alpha {alpha}, tolerance {tolerance}) at discordance {discordance:.4g} ({source}).",
                    highlight=False, soft_wrap=True)


def _check_outputs(out_dir: Path, name: str, force: bool) -> None:
    for path in (out_dir / f"{name}_ci.yaml", out_dir / f"{name}_ci.jsonl"):
        if path.exists() and not force:
            raise InputError(f"'{path}' exists.",
                             hint="Pass --force to replace the subset, or choose another -o folder.")


def _discordance(store: Any, baseline: str | None, against: str | None, task: str, metric: str) -> tuple[float, str]:
    from evalkit.compare.calibration import observed_discordance
    from evalkit.compare.sources import RunOpener
    from evalkit.stats.sample_size import DEFAULT_DISCORDANCE

    if baseline is None or against is None:
        return DEFAULT_DISCORDANCE, "assumed default: pass --baseline RUN --against RUN2 to measure it"
    with RunOpener(store) as opener:
        a, b = opener.open(baseline), opener.open(against)
        value, n = observed_discordance(a, b, task, metric)
    return value, f"measured: {metric} of {a.label} against {b.label} on {n} documents"


def _write(entry: Any, design: dict[str, Any], out_dir: Path) -> Path:
    """Load the task's documents, draw the subset, write it; InputError when the task is too small."""
    from evalkit.stats.sample_size import paired_drop_power
    from evalkit.tasks.loading import load_task
    from evalkit.tasks.subset import SubsetDesign, stratified_choice, strata, subset_config, task_cluster, write_subset

    task = load_task(entry).task
    docs = list(task.eval_docs)
    if design["n"] > len(docs):
        whole = paired_drop_power(len(docs), design["target_drop"], design["discordance"], alpha=design["alpha"],
                                  tolerance=design["tolerance"])
        raise InputError(f"Task '{entry.name}' has {len(docs)} evaluation documents, but {design['n']} are needed for "
                         f"power {design['power']} to detect a drop of {design['target_drop']}: the whole task gives "
                         f"only {whole:.2f} power.", hint="Gate on the whole task, or target a larger drop.")
    labels = [str(task.doc_to_target(doc)) for doc in docs]
    chosen = stratified_choice(strata(docs, labels, task_cluster(entry.config)), design["n"], design["seed"])
    subset = SubsetDesign(**design)
    return write_subset(out_dir, subset_config(entry.config, entry.yaml_path, out_dir, subset),
                        [docs[i] for i in chosen], subset)
