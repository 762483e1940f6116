"""`evalkit run`: evaluate models x tasks x settings and store the results."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import click
from rich.console import Console

from evalkit.api import DEFAULT_TASKS
from evalkit.cli.executor_options import executor_kwargs, executor_options
from evalkit.cli.finetune_options import finetune_options, finetune_options_from, with_transfer
from evalkit.cli.options import BatchSize, store_option
from evalkit.engine.processes import current_processes
from evalkit.models.spec import DEFAULT_MODEL, DEVICES, DTYPES
from evalkit.plan import ALL_TASKS, SEED_RANGE
from evalkit.scoring.precision import PRECISION_CHOICES, PRECISION_HELP
from evalkit.plan.settings import SETTING_HELP, TASK_DEFAULT
from evalkit.store import store_location


# --apply-chat-template without NAME (click's value for a flag given no value): the tokenizer's own template.
_OWN_TEMPLATE = "\x00own-template"


class TaskLimit(click.ParamType):
    """`N` (every task) or `TASK=N` (one task): a positive number of documents, or a fraction
    0 < x < 1 of each task's documents (lm-eval's rule: ceil(documents * x), counted at the door)."""

    name = "N|X|TASK=N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, int | float]:
        if isinstance(value, tuple):
            return value
        task, _, number = str(value).rpartition("=")
        count = _limit_number(number.strip())
        if count is None:
            self.fail(f"'{value}' is neither a number of documents, a fraction of them, nor TASK=N.", param, ctx)
        if isinstance(count, float) and not 0 < count < 1:
            self.fail(f"'{value}': a fraction of the documents must be between 0 and 1 (exclusive); "
                      "a number of documents is a whole number of at least 1.", param, ctx)
        if isinstance(count, int) and count < 1:
            self.fail(f"'{value}': the number of documents must be at least 1.", param, ctx)
        if "=" in str(value) and not task.strip():
            self.fail(f"'{value}' names no task before '='.", param, ctx)
        return (task.strip() or ALL_TASKS, count)


def _limit_number(text: str) -> int | float | None:
    """A whole number (documents) or a decimal (a fraction of them); None when it is neither."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class GenKwargs(click.ParamType):
    """`k=v,...` (or a JSON object), parsed as lm-eval's --gen_kwargs and checked (evalkit.plan.prompts)."""

    name = "K=V,..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dict[str, Any]:
        from evalkit.errors import InputError
        from evalkit.plan.prompts import checked_gen_kwargs, parse_gen_kwargs

        if isinstance(value, dict):
            return value
        try:
            return dict(checked_gen_kwargs(parse_gen_kwargs(str(value))))
        except InputError as exc:
            self.fail(exc.render(), param, ctx)


def task_limits(limits: tuple[tuple[str, int | float], ...]) -> int | float | dict[str, int | float] | None:
    """The --limit values as the plan takes them: None (every document), one number for every
    task, or a mapping task -> number with ALL_TASKS for the rest."""
    if not limits:
        return None
    found: dict[str, int | float] = {}
    for task, count in limits:
        if task in found and found[task] != count:
            shown = "--limit N" if task == ALL_TASKS else f"--limit {task}=N"
            raise click.UsageError(f"{shown} is given twice with different numbers ({found[task]} and {count}).")
        found[task] = count
    return found[ALL_TASKS] if list(found) == [ALL_TASKS] else found


@click.command("run")
@click.option("--model", "-m", "models", multiple=True, default=[DEFAULT_MODEL], show_default=True,
              help="Alias, hub id, local checkpoint directory or .gguf file; or a checkpoint series: a "
                   "training output directory (OUT with checkpoint-N folders, full or PEFT adapters), a quoted "
                   "glob ('OUT/checkpoint-*'), or org/name@REVISION (repeatable). Repeat for several.")
@click.option("--task", "-t", "tasks", multiple=True,
              help=f"Task name, task YAML path, or lm_eval:NAME. Repeat for several. "
                   f"Default suite: {', '.join(DEFAULT_TASKS)}. `-t bias`: the bias tasks "
                   "(bbq, crows_pairs_english, winogender_all, winobias_{pro,anti}_type{1,2}).")
@click.option("--include-path", multiple=True, type=click.Path(file_okay=False),
              help="Extra directory of task YAML files (repeatable; also $EVALKIT_TASKS_PATH).")
@click.option("--setting", "settings", multiple=True, help=f"Repeatable: {SETTING_HELP}.")
@click.option("--num-fewshot", "-k", type=click.IntRange(0, 256), default=None,
              help="Few-shot examples (shorthand for --setting few-shot:K).")
@click.option("--limit", "limits", type=TaskLimit(), multiple=True,
              help="Evaluate only the first N documents of each task, or a fraction X (0 < X < 1) of them; "
                   "TASK=N for one task (repeatable: --limit 200 --limit wikitext=5, --limit 0.1).")
@click.option("--apply-chat-template", "apply_chat_template", is_flag=False, flag_value=_OWN_TEMPLATE, default=None,
              metavar="[NAME]", help="Render prompts with the tokenizer's chat template (NAME: one of its named "
                                     "templates), as lm_eval --apply_chat_template; few-shot examples then become "
                                     "multi-turn unless --no-fewshot-as-multiturn.")
@click.option("--system-instruction", default=None, metavar="TEXT", help="A system instruction before the prompt.")
@click.option("--fewshot-as-multiturn/--no-fewshot-as-multiturn", default=None,
              help="Few-shot examples as user/assistant turns (needs --apply-chat-template; its default).")
@click.option("--gen-kwargs", type=GenKwargs(), default=None,
              help='Generation arguments over the task\'s own, as lm_eval --gen_kwargs: e.g. '
                   'max_gen_toks=64,temperature=0,until=["\\n\\n"] (until, max_gen_toks, do_sample, temperature, '
                   'top_p, top_k).')
@click.option("--fewshot-seed", type=click.IntRange(*SEED_RANGE), default=None,
              help="Seed of the few-shot sampler (default: --seed).")
@click.option("--batch-size", type=BatchSize(), default="auto", show_default=True)
@click.option("--seed", type=click.IntRange(*SEED_RANGE), default=1234, show_default=True, help="Seed for few-shot sampling and training.")
@click.option("--name", default=None, help="A name for this run (usable as a run reference).")
@store_option
@click.option("--adapter", type=click.Path(exists=True, file_okay=False), default=None, help="PEFT adapter directory.")
@click.option("--revision", default=None, help="Hub revision (branch, tag or commit).")
@click.option("--dtype", type=click.Choice(DTYPES), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(PRECISION_CHOICES), default="auto", show_default=True,
              help=PRECISION_HELP + " auto: exact (fast-exact is not yet the measured default).")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--trust-remote-code", is_flag=True, help="Allow model repositories to run their own code.")
@click.option("--offline", is_flag=True, help="Never touch the network (sets HF_HUB_OFFLINE=1).")
@click.option("--no-cache", is_flag=True,
              help="Recompute every request (by default results saved by an earlier, interrupted run are reused).")
@click.option("--processes", type=int, default=1, show_default=True, metavar="N",
              help="Split each cell's requests over N processes (accelerate launch: one per GPU on CUDA, CPU "
                   "processes with gloo otherwise); scores are those of one process.")
@finetune_options
@executor_options
@click.pass_context
def command(ctx: click.Context, models: tuple[str, ...], tasks: tuple[str, ...], include_path: tuple[str, ...],
            settings: tuple[str, ...], num_fewshot: int | None, limits: tuple[tuple[str, int], ...], batch_size: int | str,
            seed: int, name: str | None, store: str | None, adapter: str | None, revision: str | None,
            dtype: str, device: str, trust_remote_code: bool, offline: bool, no_cache: bool, **ft: object) -> None:
    """Evaluate models on tasks, store every result, and print a summary table.

    \b
    Examples:
      evalkit run                                  # embedded SmolLM2-135M on the default suite
      evalkit run -t sst2 -t arc_easy --limit 100
      evalkit run -t sst2 --setting zero-shot --setting few-shot:5
      evalkit run -m HuggingFaceTB/SmolLM2-360M -t ./my_task.yaml
      evalkit run -m out/ -t sst2                  # every checkpoint-N of a training run, by step
      evalkit run -m 'out/checkpoint-*' -t sst2 && evalkit trajectory latest
    """
    from evalkit.api import run
    from evalkit.cli.progress import RichProgress
    from evalkit.cli.report import print_run_report

    precision = str(ft.pop("precision"))  # --precision (kept out of the fine-tuning options)
    processes = int(ft.pop("processes"))  # --processes (kept out of the fine-tuning options)
    if relaunched(ctx, processes, executor=str(ft["executor"])):
        return
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
    if num_fewshot is not None and settings:
        raise click.UsageError("Give either --num-fewshot or --setting, not both.")
    prompt = prompt_options_from(ft)  # --apply-chat-template ... --fewshot-seed (kept out of the fine-tuning options)
    chosen = list(settings) or ([f"few-shot:{num_fewshot}"] if num_fewshot is not None else [TASK_DEFAULT])
    chosen = with_transfer(chosen, bool(ft.get("transfer")))
    console = Console()
    main_process = current_processes().is_main  # under accelerate only the main process shows progress
    frame = run(list(models), list(tasks) or list(DEFAULT_TASKS), include_paths=include_path,
                store=store, name=name, progress=RichProgress(console) if main_process else None,
                settings=chosen, limit=task_limits(limits),
                **executor_kwargs(ft),  # --executor, --ray-address, --cpus/--gpus-per-cell, --rerun
                seed=seed, batch_size=batch_size, adapter=adapter, revision=revision, dtype=dtype,
                device=device, trust_remote_code=trust_remote_code, finetune=finetune_options_from(ft),
                request_cache=not no_cache, precision=precision, **prompt)
    if not main_process:
        return
    print_run_report(console, frame.attrs["run_id"], store)
    console.print(f"Run [bold]{frame.attrs['run_id']}[/] stored in {store_location(store)}")


def relaunched(ctx: click.Context, processes: int, *, executor: str) -> bool:
    """--processes N > 1: run this same command line (minus --processes) in N processes through
    accelerate's launcher and exit with its code; False when this process should run the cells itself."""
    from evalkit.engine.processes import check_process_count, launch, without_processes_option

    check_process_count(processes, executor=executor)
    if processes == 1:
        return False
    argv = sys.argv[1:]
    if "run" not in argv or not any(a == "--processes" or a.startswith("--processes=") for a in argv):
        from evalkit.errors import RunFailedError

        raise RunFailedError("--processes re-runs the command line in several processes, but this process's "
                             f"command line ({' '.join(argv) or 'empty'}) is not the `evalkit run` that asked for it.",
                             hint="Start it as `evalkit run ... --processes N`, "
                                  "or use `accelerate launch --multi_gpu -m evalkit run ...`.")
    ctx.exit(launch(without_processes_option(argv), processes))
    return True


def prompt_options_from(options: dict[str, object]) -> dict[str, Any]:
    """Pop the prompt options from the command's keyword arguments, as evalkit.run takes them
    (--apply-chat-template without NAME: the tokenizer's default template)."""
    template = options.pop("apply_chat_template")
    return {"apply_chat_template": False if template is None else (True if template == _OWN_TEMPLATE else template),
            "system_instruction": options.pop("system_instruction"),
            "fewshot_as_multiturn": options.pop("fewshot_as_multiturn"),
            "gen_kwargs": options.pop("gen_kwargs"), "fewshot_seed": options.pop("fewshot_seed")}
