"""Training examples: the task's training split rendered exactly as evaluation renders it.

Each example is the list of (context, continuation) pairs lm-eval would score for that
document (one pair per answer choice for multiple-choice tasks, the gold answer alone for
generation tasks) plus the index of the gold pair. Contexts come from lm-eval's own
`fewshot_context` and pairs from its `construct_requests`, so prompts, target delimiters and
few-shot formatting are identical to evaluation's, and zero-shot vs fine-tuned compares like
with like.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from evalkit.errors import TaskError
from evalkit.finetune.overlap import OverlapReport, find_overlap, prompt_renderer
from evalkit.plan.prompts import ChatRenderer, PromptOptions
from evalkit.scoring.chat import chat_renderer
from evalkit.tasks.loading import LoadedTask


@dataclass(frozen=True)
class PromptRendering:
    """What evaluation passes to lm-eval's fewshot_context beyond the YAML (chat template, system
    instruction, multi-turn few-shot), so training renders its contexts the same way."""

    system_instruction: str | None = None
    fewshot_as_multiturn: bool = False
    chat_template: ChatRenderer | None = None  # lm-eval's callable (messages -> text); None: plain text

    @classmethod
    def for_prompt(cls, options: PromptOptions, tokenizer: Any) -> "PromptRendering":
        """The rendering of a cell's prompt options with the model's tokenizer."""
        return cls(options.system_instruction, options.fewshot_as_multiturn, chat_renderer(tokenizer, options))

    def context_kwargs(self) -> dict[str, Any]:
        return {"system_instruction": self.system_instruction, "apply_chat_template": self.chat_template is not None,
                "fewshot_as_multiturn": self.fewshot_as_multiturn, "chat_template": self.chat_template}


@dataclass(frozen=True)
class TrainingExample:
    """(context, continuation) per candidate answer, and which one is gold."""

    pairs: tuple[tuple[str, str], ...]
    gold: int


@dataclass(frozen=True)
class TrainingSet:
    """The examples one fine-tuning run uses, with where they came from."""

    task: str
    split: str
    output_type: str
    split_size: int
    examples: tuple[TrainingExample, ...]
    overlap: OverlapReport

    @property
    def data_hash(self) -> str:
        """Hash of the rendered examples: changes when the data, prompt, sample or guard change."""
        payload = json.dumps([[list(map(list, e.pairs)), e.gold] for e in self.examples], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# The output types render_example knows how to turn into training examples.
TRAINABLE_OUTPUT_TYPES = ("multiple_choice", "generate_until", "loglikelihood", "loglikelihood_rolling")


@dataclass(frozen=True)
class TrainingDocs:
    """The training split's documents and which of them survive the overlap guard."""

    split: str
    docs: list[dict[str, Any]]
    overlap: OverlapReport
    keep: list[int]


def select_training_docs(loaded: LoadedTask, *, split: str | None, exclude_overlap: bool) -> TrainingDocs:
    """The training split (named, present, not empty, not all overlap): everything about the
    training data that can be wrong, found without a model (evalkit.engine.door calls this).

    The overlap guard compares with the whole evaluation split, not only the documents a --limit
    evaluates: the training set (and so the cached adapter) is then the same for every --limit,
    and a fine-tuned-on:TASK cell of another task finds TASK's own adapter."""
    task = loaded.task
    if task.OUTPUT_TYPE not in TRAINABLE_OUTPUT_TYPES:
        raise TaskError(f"Task '{loaded.name}' has output type '{task.OUTPUT_TYPE}', which evalkit cannot "
                        "fine-tune on.", hint="Evaluate it zero-shot or few-shot instead.")
    split_name = training_split_name(loaded, split)
    docs = _split_docs(loaded, split_name)
    if not docs:
        raise TaskError(f"Task '{loaded.name}': training split '{split_name}' has no documents.",
                        hint="Check its data file, or pass another --train-split.")
    render = prompt_renderer(task)
    eval_docs = list(task.eval_docs)
    report, keep = find_overlap([render(d) for d in docs], [render(d) for d in eval_docs],
                                exclude=exclude_overlap)
    if not keep:
        raise TaskError(f"Task '{loaded.name}': every document of split '{split_name}' also occurs in the "
                        "evaluation documents, so nothing is left to fine-tune on.",
                        hint="Use a different --train-split, or --keep-overlap to train on them anyway.")
    return TrainingDocs(split_name, docs, report, keep)


def build_training_set(loaded: LoadedTask, *, split: str | None, num_fewshot: int, max_examples: int | None,
                       seed: int, exclude_overlap: bool, rendering: PromptRendering | None = None) -> TrainingSet:
    """Render a seeded sample of at most `max_examples` training documents, after the overlap guard,
    with the evaluation's prompt rendering (chat template, system instruction, multi-turn)."""
    task = loaded.task
    selected = select_training_docs(loaded, split=split, exclude_overlap=exclude_overlap)
    split_name, docs, report, keep = selected.split, selected.docs, selected.overlap, selected.keep
    chosen = keep if max_examples is None or max_examples >= len(keep) else \
        random.Random(seed).sample(keep, max_examples)
    task.set_fewshot_seed(seed=seed)
    examples = tuple(render_example(loaded, docs[i], i, num_fewshot, rendering) for i in chosen)
    return TrainingSet(loaded.name, split_name, task.OUTPUT_TYPE, len(docs), examples, report)


def training_split_name(loaded: LoadedTask, override: str | None) -> str:
    """--train-split, else the task's training_split; a clear error when there is neither."""
    task = loaded.task
    available = list(task.dataset.keys()) if getattr(task, "dataset", None) is not None else []
    name = override or task.config.training_split
    where = f" ({loaded.entry.yaml_path})" if loaded.entry.yaml_path else ""
    if not name:
        raise TaskError(f"Task '{loaded.name}'{where} declares no training split to fine-tune on.",
                        hint="Add `training_split: SPLIT` to its YAML, or pass --train-split SPLIT"
                        + (f" (available splits: {', '.join(available)})." if available else "."))
    if available and name not in available:
        raise TaskError(f"Task '{loaded.name}'{where}: training split '{name}' is not in its data "
                        f"(available: {', '.join(available)}).", hint="Pass --train-split with one of those.")
    return name


def _split_docs(loaded: LoadedTask, split: str) -> list[dict[str, Any]]:
    task = loaded.task
    data = task.dataset[split]
    if task.config.process_docs is not None:
        data = task.config.process_docs(data)
    return data.to_list() if hasattr(data, "to_list") else list(data)


def render_example(loaded: LoadedTask, doc: dict[str, Any], doc_id: int, num_fewshot: int,
                   rendering: PromptRendering | None = None) -> TrainingExample:
    """One document as lm-eval would request it (as its build_all_requests renders a document, with the
    same chat template options), with the gold answer marked."""
    task = loaded.task
    options = (rendering or PromptRendering()).context_kwargs()
    context = task.fewshot_context(doc, num_fewshot=num_fewshot, gen_prefix=task.doc_to_prefix(doc), **options)
    output_type = task.OUTPUT_TYPE
    if output_type == "multiple_choice":
        instances = task.construct_requests(doc=doc, ctx=context, metadata=(loaded.name, doc_id, 1),
                                            apply_chat_template=options["apply_chat_template"],
                                            chat_template=options["chat_template"])
        choices = task.doc_to_choice(doc)
        pairs = tuple(tuple(inst.arguments) for inst in instances[:len(choices)])
        return TrainingExample(pairs, _gold_index(task, doc, choices))
    if output_type == "generate_until":
        # The answer is followed by the few-shot delimiter, as in few-shot prompts, so the model
        # also learns where to stop (generation ends at the task's `until` strings).
        # With a chat template the answer is the assistant's turn, which the context already opened
        # (lm-eval's target delimiter rule for chat prompts), and the turn's end is the template's.
        answer = _target_text(task, doc)
        continuation = (answer if options["apply_chat_template"] else
                        task.config.target_delimiter + answer + task.config.fewshot_delimiter)
        return TrainingExample(((str(context), continuation),), 0)
    if output_type == "loglikelihood":
        return TrainingExample(((str(context), _target_text(task, doc)),), 0)
    if output_type == "loglikelihood_rolling":
        return TrainingExample((("", _target_text(task, doc)),), 0)
    raise TaskError(f"Task '{loaded.name}' has output type '{output_type}', which evalkit cannot fine-tune on.")


def _gold_index(task: Any, doc: dict[str, Any], choices: list[str]) -> int:
    if getattr(task, "multiple_input", 0):
        return int(task.doc_to_text(doc))  # the gold context's index for multiple-input tasks
    target = task.doc_to_target(doc)
    if isinstance(target, list):
        target = target[0]
    if isinstance(target, str):
        target = choices.index(target) if target in choices else int(target)
    return int(target)


def _target_text(task: Any, doc: dict[str, Any]) -> str:
    target = task.doc_to_target(doc)
    if isinstance(target, list):
        target = target[0]
    if isinstance(target, int) and task.config.doc_to_choice is not None:
        return str(task.doc_to_choice(doc)[target])
    return str(target)
