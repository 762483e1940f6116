"""`evalkit lm-eval ARGS...`: lm-eval's own command line, with evalkit's backend registered.

lm-eval 0.4.x has no plugin entry point for models, so `lm_eval --model evalkit` cannot find the
backend from the shell. This command runs lm-eval's CLI (lm_eval.__main__.cli_evaluate) in this
process after `import evalkit` has registered the model "evalkit"; every argument goes to lm-eval
unchanged (`evalkit lm-eval --model evalkit --model_args pretrained=smollm2-135m --tasks sst2 ...`).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator

import click

from evalkit.errors import EvalkitError, InputError, RunFailedError


@click.command("lm-eval", context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                            "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def command(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Run lm-eval's command line with evalkit's backend (--model evalkit); ARGS go to lm-eval as
    they are (`evalkit lm-eval --help` shows lm-eval's own help)."""
    code = run_lm_eval(list(args))
    if code:
        ctx.exit(code)


def run_lm_eval(args: list[str]) -> int:
    """lm-eval's CLI on `args`; its exit status (argparse usage errors: 2). lm-eval's own failures
    become RunFailedError naming them; evalkit's errors (a bad model spec) pass through."""
    import evalkit  # noqa: F401 - registers the "evalkit" model with lm-eval

    from lm_eval.__main__ import cli_evaluate

    from evalkit.tasks.hooks import lm_eval_hooks_confined
    from evalkit.tasks.templates import sandbox_lm_eval_templates

    sandbox_lm_eval_templates()  # templates cannot reach Python's builtins here either
    with _argv(["lm-eval", *args]), lm_eval_hooks_confined(), _config_errors_are_bad_input():
        try:
            cli_evaluate()
        except SystemExit as exc:
            return _exit_status(exc.code)
        except EvalkitError:
            raise
        except Exception as exc:
            raise RunFailedError(f"lm-eval stopped with {type(exc).__name__}: {_first_line(exc)}",
                                 hint="Check the lm-eval arguments (evalkit lm-eval --help); re-run with "
                                      "evalkit --debug lm-eval ... for the traceback.") from exc
    return 0


@contextmanager
def _config_errors_are_bad_input() -> Iterator[None]:
    """lm-eval checks its arguments and matches --tasks (EvaluatorConfig.from_cli, process_tasks)
    before any model loads; a ValueError there ("Tasks not found: x") is bad input (exit 2), not a
    failed run."""
    from lm_eval.config.evaluate_config import EvaluatorConfig

    saved_from_cli, saved_process = EvaluatorConfig.__dict__["from_cli"], EvaluatorConfig.process_tasks

    def from_cli(cls: type, namespace: Any) -> Any:
        with _bad_input():
            return saved_from_cli.__func__(cls, namespace)

    def process_tasks(self: Any, metadata: dict | None = None) -> Any:
        with _bad_input():
            return saved_process(self, metadata)

    EvaluatorConfig.from_cli, EvaluatorConfig.process_tasks = classmethod(from_cli), process_tasks  # type: ignore[method-assign]
    try:
        yield
    finally:
        EvaluatorConfig.from_cli, EvaluatorConfig.process_tasks = saved_from_cli, saved_process  # type: ignore[method-assign]


@contextmanager
def _bad_input() -> Iterator[None]:
    try:
        yield
    except ValueError as exc:
        raise InputError(f"lm-eval refused its arguments: {_first_line(exc)}",
                         hint="Check --tasks (`evalkit lm-eval ls tasks`) and the other lm-eval arguments "
                              "(evalkit lm-eval --help).") from exc


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    click.echo(str(code), err=True)  # sys.exit("message") prints the message and means failure
    return 1


@contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    """lm-eval's parser reads sys.argv (and inserts 'run' into it): give it its own list."""
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else "(no message)"
