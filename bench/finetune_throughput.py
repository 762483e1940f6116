"""Fine-tuning throughput: evalkit's training loop against the plain reference a user would write
(transformers `Trainer` + peft LoRA), on the same examples, loss, batch size, steps, learning rate,
schedule, LoRA configuration and precision, in one process.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python bench/finetune_throughput.py \
        /work/ek-home/models/gguf-*/ --steps 125 --batch-size 8

The examples are SST-2's training split (or --task) rendered by evalkit exactly as evaluation renders
it, tokenised by evalkit's scoring backend; the loss is the negative log-likelihood of the answer
tokens only (labels -100 on the prompt: `--ft-objective nll`), the mean over the batch's answer
tokens in both. The reference feeds each example as prompt + answer with Trainer's default random
sampler and `DataCollatorForSeq2Seq` padding, and computes the model's own loss (full logits at every
position). Both start from the same LoRA initialisation (evalkit's `trainable_copy`).

Printed per side: training tokens per second (prompt + answer tokens of the examples trained on,
padding not counted), wall time of the training loop, the mean training loss of the last N steps,
and the loss of the trained model on a fixed probe of training examples (the same for both, so the
two final losses compare on identical data); then the ratio evalkit / reference.
Results also go to --out (JSON). Heavy at full size: run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="A Hugging Face checkpoint directory (e.g. EVALKIT_HOME/models/gguf-*/).")
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=None, help="Default: evalkit's LoRA default (3e-3).")
    parser.add_argument("--examples", type=int, default=1000, help="Training examples (a seeded sample).")
    parser.add_argument("--last", type=int, default=10, help="Final loss = mean of the last N steps.")
    parser.add_argument("--probe", type=int, default=128, help="Examples of the fixed probe for the final loss.")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench" / "finetune_throughput.json"))
    args = parser.parse_args()

    loaded, training, encoded, plan, pad_id = prepare(args)
    probe = encoded[:args.probe]
    print(f"{args.task}: {len(encoded)} examples, {args.steps} steps of batch {args.batch_size}, lr {plan.lr:g}, "
          f"LoRA r={plan.lora_r} on {plan.target_modules}, autocast {plan.autocast}, "
          f"torch threads {_threads()}", flush=True)
    reference = run_reference(loaded, encoded, plan, pad_id, args.last, probe)
    evalkit = run_evalkit(loaded, encoded, plan, pad_id, args.last, probe)
    report = {"task": args.task, "examples": len(encoded), "steps": args.steps, "batch_size": args.batch_size,
              "lr": plan.lr, "autocast": plan.autocast, "load_average_at_start": os.getloadavg(),
              "reference": reference, "evalkit": evalkit,
              "speed_up_tokens_per_s": round(evalkit["tokens_per_s"] / reference["tokens_per_s"], 3),
              "speed_up_wall": round(reference["seconds"] / evalkit["seconds"], 3)}
    for name in ("reference", "evalkit"):
        side = report[name]
        print(f"{name:>9}: {side['tokens_per_s']:8.1f} tokens/s  {side['seconds']:7.2f} s  "
              f"{side['tokens']} tokens  loss last {args.last}: {side['final_loss']:.4f}  "
              f"probe loss: {side['probe_loss']:.4f}")
    print(f"evalkit / reference: {report['speed_up_tokens_per_s']}x tokens/s, {report['speed_up_wall']}x wall")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


def prepare(args: argparse.Namespace) -> tuple[Any, Any, list, Any, int]:
    """The model, the rendered training set, its encoding (gold answers only) and the training plan."""
    from evalkit.finetune.examples import build_training_set
    from evalkit.finetune.finetuned import training_plan
    from evalkit.finetune.objectives import PairEncoder
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec
    from evalkit.plan import FineTuneOptions
    from evalkit.scoring import make_backend
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    loaded = load_model(resolve_model_spec(args.checkpoint, device="cpu", dtype="float32"))
    task = load_task(TaskRegistry.discover().resolve(args.task))
    training = build_training_set(task, split=None, num_fewshot=0, max_examples=args.examples, seed=args.seed,
                                  exclude_overlap=True)
    options = replace(FineTuneOptions(), objective="nll", max_steps=args.steps, batch_size=args.batch_size,
                      lr=args.lr)
    plan = training_plan(options, training.output_type, seed=args.seed, device=loaded.device, dtype=loaded.dtype)
    encoder = PairEncoder(make_backend(loaded))
    encoded = [encoder.encode_example(e, gold_only=True) for e in training.examples]
    pad_id = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else encoder.prefix_id
    return loaded, training, encoded, plan, pad_id


def example_tokens(example: Any) -> int:
    """Prompt + answer tokens of an nll example: its input row plus the last answer token."""
    return len(example.rows[0]) + 1


def run_evalkit(loaded: Any, encoded: list, plan: Any, pad_id: int, last: int, probe: list) -> dict[str, Any]:
    from evalkit.finetune.methods import trainable_copy
    from evalkit.finetune.training import batch_order, train

    model = trainable_copy(loaded.model, plan)
    order = batch_order(encoded, plan, plan.total_steps(len(encoded)))
    tokens = sum(example_tokens(encoded[i]) for batch in order for i in batch)
    result = train(model, encoded, plan, pad_id=pad_id, report=lambda *a: None)
    return _side(result.seconds, tokens, result.losses, last, probe_loss(model, probe, pad_id))


class _Timer:
    """A TrainerCallback timing the training loop (on_train_begin to on_train_end)."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        timer = self

        class Callback(TrainerCallback):
            def on_train_begin(self, *a: Any, **k: Any) -> None:
                timer.start = time.perf_counter()

            def on_train_end(self, *a: Any, **k: Any) -> None:
                timer.seconds = time.perf_counter() - timer.start

        self.callback = Callback()
        self.start = 0.0
        self.seconds = 0.0


def run_reference(loaded: Any, encoded: list, plan: Any, pad_id: int, last: int, probe: list) -> dict[str, Any]:
    """transformers Trainer + peft LoRA with the same examples and hyper-parameters."""
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from evalkit.finetune.methods import trainable_copy

    model = trainable_copy(loaded.model, plan)
    records = [_reference_record(e) for e in encoded]
    tokenizer = loaded.tokenizer
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token_id = pad_id
    counted: list[int] = []
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)

    def collate(features: list[dict[str, Any]]) -> dict[str, Any]:
        counted.append(sum(len(f["input_ids"]) for f in features))
        return collator(features)

    timer = _Timer()
    with tempfile.TemporaryDirectory() as out:
        arguments = TrainingArguments(
            output_dir=out, per_device_train_batch_size=plan.batch_size, max_steps=plan.max_steps,
            learning_rate=plan.lr, lr_scheduler_type=plan.scheduler, warmup_steps=int(plan.warmup_ratio * plan.max_steps),
            weight_decay=plan.weight_decay, max_grad_norm=plan.max_grad_norm, seed=plan.seed,
            bf16=plan.autocast == "bfloat16", use_cpu=str(loaded.device) == "cpu", logging_steps=1, report_to=[],
            save_strategy="no", dataloader_num_workers=0, remove_unused_columns=False, optim="adamw_torch",
            disable_tqdm=True)
        trainer = Trainer(model=model, args=arguments, train_dataset=Dataset.from_list(records),
                          data_collator=collate, callbacks=[timer.callback])
        trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    # the collator also runs for batches the sampler prefetches beyond the last step
    tokens = sum(counted[:plan.max_steps])
    model = trainer.model
    return _side(timer.seconds, tokens, losses, last, probe_loss(model, probe, pad_id))


def _reference_record(example: Any) -> dict[str, list[int]]:
    (row_index, answer), = example.pairs
    full = list(example.rows[row_index]) + [answer[-1]]
    return {"input_ids": full, "attention_mask": [1] * len(full),
            "labels": [-100] * (len(full) - len(answer)) + list(answer)}


def probe_loss(model: Any, probe: Sequence[Any], pad_id: int) -> float:
    """The answer-token NLL of the trained model on the fixed probe (full logits, float32)."""
    import torch

    from evalkit.finetune.objectives import reference_loss

    model.eval()
    with torch.no_grad():
        return float(reference_loss(model, list(probe), "nll"))


def _side(seconds: float, tokens: int, losses: list[float], last: int, probe: float) -> dict[str, Any]:
    tail = losses[-last:]
    return {"seconds": round(seconds, 3), "tokens": tokens, "tokens_per_s": round(tokens / seconds, 1),
            "steps": len(losses), "final_loss": sum(tail) / len(tail), "first_loss": losses[0],
            "probe_loss": probe, "losses": [round(x, 5) for x in losses]}


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
