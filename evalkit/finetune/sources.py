"""Training sources, found at the door without a model: whether a task has a training split to
fine-tune on, and how many optimiser steps fine-tuning on it takes with the run's options."""

from __future__ import annotations

from evalkit.finetune.examples import TRAINABLE_OUTPUT_TYPES, select_training_docs
from evalkit.finetune.training import total_steps
from evalkit.plan import FineTuneOptions
from evalkit.tasks.loading import LoadedTask


def has_training_split(loaded: LoadedTask, override: str | None) -> bool:
    """True when the task declares (or --train-split names) a split its data holds, and its output
    type is one evalkit fine-tunes on: what makes it a row of the transfer matrix."""
    task = loaded.task
    if task.OUTPUT_TYPE not in TRAINABLE_OUTPUT_TYPES:
        return False
    name = override or task.config.training_split
    if not name:
        return False
    dataset = getattr(task, "dataset", None)
    return dataset is None or name in dataset.keys()


def training_examples(loaded: LoadedTask, options: FineTuneOptions) -> int:
    """How many examples fine-tuning on the task uses (overlap guard and --ft-max-examples applied);
    raises TaskError for everything wrong with its training data (evalkit.finetune.examples)."""
    docs = select_training_docs(loaded, split=options.train_split, exclude_overlap=options.exclude_overlap)
    kept = len(docs.keep)
    return kept if options.max_examples is None else min(options.max_examples, kept)


def fine_tuning_steps(n_examples: int, options: FineTuneOptions) -> int:
    """The optimiser steps of one fine-tuning run on `n_examples` (TrainingPlan.total_steps' rule)."""
    return total_steps(n_examples, epochs=options.epochs, max_steps=options.max_steps,
                       batch_size=options.batch_size)
