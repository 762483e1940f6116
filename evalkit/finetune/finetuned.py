"""The fine-tuned setting for one cell: training examples, the cache look-up, training when
needed, and the model the scoring backend evaluates.

Steps: render the training set (with the overlap guard), resolve the hyper-parameters, look
up the cache key, then either rebuild the cached model or train a copy of the base model
(TensorBoard curves under reports/tensorboard/) and cache what was learned.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.engine.processes import current_processes
from evalkit.finetune import cache
from evalkit.finetune.examples import PromptRendering, TrainingSet, build_training_set
from evalkit.finetune.methods import for_evaluation, load_trained, save_trained, trainable_copy
from evalkit.finetune.objectives import PairEncoder, resolve_objective
from evalkit.finetune.training import Snapshot, TrainingPlan, TrainingResult, autocast_dtype, epoch_at, train
from evalkit.plan import Cell, FineTuneOptions, snapshot_steps
from evalkit.provenance import evalkit_version
from evalkit.engine.tensorboard import fine_tuning_series, run_folder

# Chosen on SmolLM2-135M / SST-2 on 2 CPU cores (see bench/finetune_headline.py): LoRA on every
# linear layer of the blocks with lr 3e-3 learns several times faster per example than q/v at 1e-3.
DEFAULT_LR = {"lora": 3e-3, "full": 2e-5}
# "all-linear" is peft's architecture-independent name for every linear layer but the output head.
LORA_TARGETS = ("all-linear",)


def finetuned_model(loaded: Any, source: Any, cell: Cell, sink: Any, run_id: str | None = None,
                    trajectory: bool = False) -> tuple[Any, str, dict[str, Any]]:
    """(the fine-tuned model as a LoadedModel, its cache directory, details for the store).

    `source` is the LoadedTask trained on: the cell's own task, or TASK of 'fine-tuned-on:TASK'.
    The cache key depends only on the training (source, data, hyper-parameters), so every cell
    that needs the same adapter (the fine-tuned cell, its @step:N cells, fine-tuned-on cells of
    other tasks) finds the one training. A cell with a step gets the adapter saved at that step."""
    options = cell.finetune
    training = build_training_set(source, split=options.train_split, num_fewshot=cell.setting.num_fewshot,
                                  max_examples=options.max_examples, seed=cell.seed,
                                  exclude_overlap=options.exclude_overlap,
                                  rendering=PromptRendering.for_prompt(cell.prompt, loaded.tokenizer))
    sink.message(_overlap_message(training))
    plan = training_plan(options, training.output_type, seed=cell.seed, device=loaded.device, dtype=loaded.dtype)
    key = cache.cache_key(_key_parts(loaded, source, training, plan))
    wanted = cache.snapshot_key(key, cell.setting.step)
    # Under several processes the main process's look-up decides for all: they train together or not at all.
    entry = current_processes().from_main(None if options.retrain else cache.read_entry(wanted))
    if entry is None:
        model, record = _train_and_cache(loaded, training, plan, key, cell, sink, run_id)
        if cell.setting.step is not None:
            model = None  # the final model is cached; this cell evaluates an intermediate adapter
            model, record = _load_cached(loaded, wanted, plan)
    else:
        sink.message(f"Using the cached fine-tuned adapter {cache.entry_dir(wanted)}")
        model, record = _load_cached(loaded, wanted, plan)
    directory = cache.entry_dir(wanted)
    from evalkit.models.fingerprint import combine, directory_fingerprint

    tuned = dataclasses.replace(loaded, model=model,
                                fingerprint=combine(loaded.fingerprint, directory_fingerprint(directory)))
    details = {**record, "cache_hit": entry is not None, "adapter_key": wanted, "adapter_dir": str(directory),
               "trained_on": training.task}
    if options.eval_steps and trajectory:
        details["trajectory"] = fine_tuning_trajectory(cell.model.label, training.task, record)
    return tuned, str(directory), details


def fine_tuning_trajectory(model_label: str, task: str, record: dict[str, Any]) -> dict[str, Any]:
    """The trajectory point of a fine-tuned cell evaluated under --ft-eval-steps (evalkit.studies)."""
    return {"series": fine_tuning_series(model_label, task), "step": int(record["train_steps"]),
            "epoch": record.get("epoch"), "tokens_seen": record.get("tokens_seen"), "flos": None,
            "kind": "fine-tuning"}


def _load_cached(loaded: Any, key: str, plan: TrainingPlan) -> tuple[Any, dict[str, Any]]:
    entry = cache.read_entry(key)
    if entry is None:
        raise RuntimeError(f"the fine-tuning cache has no entry {cache.entry_dir(key)} after training")
    return load_trained(loaded.model, cache.entry_dir(key), plan), entry["training"]


def check_options(options: FineTuneOptions, output_type: str) -> None:
    """What the options alone can be wrong about for a task of this output type (method,
    objective): checked by evalkit.engine.door before anything is loaded, and again here."""
    resolve_method(options.method)
    resolve_objective(options.objective, output_type)


def resolve_method(method: str) -> str:
    from evalkit.errors import InputError

    if method not in DEFAULT_LR:
        raise InputError(f"Unknown fine-tuning method '{method}' (--ft-method).", hint="Use lora or full.")
    return method


def training_plan(options: FineTuneOptions, output_type: str, *, seed: int, device: str, dtype: str) -> TrainingPlan:
    """FineTuneOptions resolved into every hyper-parameter the training run uses."""
    return TrainingPlan(
        method=resolve_method(options.method), objective=resolve_objective(options.objective, output_type),
        lr=options.lr or DEFAULT_LR[options.method], epochs=options.epochs, max_steps=options.max_steps,
        batch_size=options.batch_size, seed=seed, lora_r=options.lora_r, lora_alpha=2 * options.lora_r,
        target_modules=LORA_TARGETS, autocast=autocast_dtype(device, dtype))


def _key_parts(loaded: Any, task: Any, training: TrainingSet, plan: TrainingPlan) -> dict[str, Any]:
    return {"model": loaded.fingerprint, "dtype": loaded.dtype, "task": task.name,
            "task_config": task.config_hash, "data": training.data_hash, "plan": plan.as_dict(),
            "evalkit": evalkit_version()}


def _train_and_cache(loaded: Any, training: TrainingSet, plan: TrainingPlan, key: str, cell: Cell,
                     sink: Any, run_id: str | None) -> tuple[Any, dict[str, Any]]:
    encoder = PairEncoder(_scoring_backend(loaded))
    gold_only = plan.objective == "nll"
    encoded = [encoder.encode_example(e, gold_only=gold_only) for e in training.examples]
    pad_id = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else encoder.prefix_id
    # Beside the run's evaluation scalars of this fine-tuning (evalkit.engine.tensorboard), so they line up.
    log_dir = run_folder(run_id or f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{cell.cell_id}",
                         fine_tuning_series(cell.model.label, training.task))
    total = plan.total_steps(len(encoded))
    steps = snapshot_steps(cell.finetune.eval_steps, total)
    kept = f", keeping the adapter at steps {', '.join(map(str, steps))}" if steps else ""
    sink.message(f"Fine-tuning {cell.model.label} on {training.task} ({_describe(plan)}, "
                 f"{len(encoded)} examples, {total} steps{kept})")
    model = trainable_copy(loaded.model, plan)
    writer = _writer(log_dir)
    tensorboard = log_dir if writer is not None else None
    try:
        with sink.cell(f"{cell.model.label} · {training.task} · fine-tuning") as report:
            result = train(model, encoded, plan, pad_id=pad_id, report=report, writer=writer, snapshot_at=steps,
                           snapshot=_snapshot_saver(key, training, plan, tensorboard),
                           grad_accum=cell.finetune.grad_accum)
    finally:
        if writer is not None:
            writer.close()
    record = _training_record(training, plan, result, tensorboard)
    processes = current_processes()
    if processes.is_main:  # one writer (atomic, as always); the other processes load what it wrote
        cache.write_entry(key, lambda directory: save_trained(model, directory),
                          {"key": key, "created_at": time.time(), "training": record})
    processes.barrier()
    if not processes.is_main:
        return _load_cached(loaded, key, plan)
    return for_evaluation(model, plan), record


def _snapshot_saver(key: str, training: TrainingSet, plan: TrainingPlan, log_dir: Path | None) -> Snapshot:
    """Saves the adapter after a step as its own cache entry (writing files only: no random
    numbers drawn, the optimiser untouched, so the training goes on exactly as without it)."""
    def save(model: Any, step: int, result: TrainingResult) -> None:
        if not current_processes().is_main:
            return  # the main process writes; the others wait for it after training
        record = {**_training_record(training, plan, result, log_dir), "final_key": key}
        entry = cache.snapshot_key(key, step)
        cache.write_entry(entry, lambda directory: save_trained(model, directory),
                          {"key": entry, "final_key": key, "step": step, "created_at": time.time(),
                           "training": record})
    return save


def _training_record(training: TrainingSet, plan: TrainingPlan, result: TrainingResult,
                     log_dir: Path | None) -> dict[str, Any]:
    """What a cell stores about the training behind its adapter (after `result.steps` steps)."""
    return {"training_examples": len(training.examples), "train_split": training.split,
            "train_split_size": training.split_size, "train_data_hash": training.data_hash,
            "objective": plan.objective, "method": plan.method, "hyperparameters": plan.as_dict(),
            "train_steps": result.steps, "train_seconds": result.seconds,
            "epoch": epoch_at(result.steps, len(training.examples), plan.batch_size),
            "tokens_seen": result.tokens_seen,
            "train_loss_first": result.losses[0] if result.losses else None,
            "train_loss_last": result.losses[-1] if result.losses else None,
            "train_loss_last10": sum(result.losses[-10:]) / max(1, len(result.losses[-10:])),
            "tensorboard_dir": str(log_dir) if log_dir else None, **training.overlap.as_details()}


def _overlap_message(training: TrainingSet) -> str:
    o = training.overlap
    action = f"excluded {o.excluded} training documents" if o.excluded else "nothing excluded"
    if o.training_matches and not o.excluded:
        action = f"kept {o.training_matches} matching training documents (--keep-overlap)"
    return (f"Overlap guard ({training.task}): {o.normalised} of the {o.eval_docs} evaluation documents also occur "
            f"in training split '{training.split}' ({o.exact} exactly); {action}.")


def _describe(plan: TrainingPlan) -> str:
    method = f"LoRA r={plan.lora_r}" if plan.method == "lora" else "full fine-tuning"
    return f"{method}, {plan.objective}, lr {plan.lr:g}, batch {plan.batch_size}"


def _scoring_backend(loaded: Any) -> Any:
    """The scoring backend over the base model: its encoder and context length are the ones
    evaluation uses, so training and evaluation tokenise alike."""
    from evalkit.scoring import make_backend

    return make_backend(loaded)


def _writer(log_dir: Path) -> Any | None:
    """A TensorBoard SummaryWriter, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    log_dir.mkdir(parents=True, exist_ok=True)
    return SummaryWriter(log_dir=str(log_dir))
