"""The `evalkit` command: wires the command modules together and maps errors to exit codes.

Command modules are imported lazily so `evalkit --help` never imports torch or lm-eval.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from evalkit._version import __version__

from evalkit.errors import EvalkitError

# command name -> "module:attribute"; each attribute is a click.Command or click.Group.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("evalkit.cli.run", "Evaluate models on tasks (zero-shot, few-shot, fine-tuned)."),
    "tasks": ("evalkit.cli.tasks", "List, show and validate task definitions."),
    "results": ("evalkit.cli.results", "List, show and export stored results."),
    "compare": ("evalkit.cli.compare", "Compare runs item by item with paired statistics."),
    "gate": ("evalkit.cli.gate", "Fail (exit 1) when a candidate run regresses against a baseline."),
    "rescore": ("evalkit.cli.rescore", "Score a run's stored outputs again (changed filters / metrics), no model."),
    "calibrate": ("evalkit.cli.calibrate", "Re-run a run with one nuisance changed: flip rate and drift per metric."),
    "report": ("evalkit.cli.report", "Render runs as markdown, JSON, JUnit XML or HTML."),
    "trajectory": ("evalkit.cli.trajectory", "Metric vs checkpoint / fine-tuning step: paired tests, the step to ship."),
    "forecast": ("evalkit.cli.forecast", "Where a checkpoint series is heading: forecasts with intervals, back-tests."),
    "transfer": ("evalkit.cli.transfer", "Fine-tuned-on x evaluated matrix: transfer and forgetting vs zero-shot."),
    "lm-eval": ("evalkit.cli.lm_eval_command", "Run lm-eval's own command line with evalkit's backend (--model evalkit)."),
}


# What the `models` extra installs (pyproject.toml); the light commands never import these.
MODELS_EXTRA = frozenset({"torch", "transformers", "peft", "accelerate", "gguf"})


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[cmd_name]
        module = importlib.import_module(module_name)
        return getattr(module, "command")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _remember_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """Keep --debug in ctx.obj as soon as it is parsed, so main() sees it even when resolving or
    importing the subcommand fails."""
    ctx.ensure_object(dict)["debug"] = bool(value)
    return bool(value)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="EVALKIT_DEBUG", is_eager=True, expose_value=False,
              callback=_remember_debug, help="Show full tracebacks for errors (also $EVALKIT_DEBUG=1).")
@click.version_option(version=__version__, prog_name="evalkit")
def cli() -> None:
    """evalkit: evaluate language models zero-shot, few-shot and fine-tuned, keep every
    result, compare runs with paired statistics and gate CI on regressions."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every failure prints one message and exits with its code
    (DESIGN.md, exit codes); a traceback only with --debug."""
    from evalkit.ascii_fallback import encoding_safe

    for stream in (sys.stdout, sys.stderr):  # an ASCII terminal or log shows "->" for "→" rather than crashing
        encoding_safe(stream)
    state: dict[str, Any] = {}
    try:
        code = cli.main(args=argv, prog_name="evalkit", standalone_mode=False, obj=state)
    except BaseException as exc:  # noqa: BLE001 - this is the one place that maps every exit
        sys.exit(_exit_code(exc, debug=bool(state.get("debug"))))
    if isinstance(code, int) and code:  # ctx.exit(N) inside a command
        sys.exit(code)


def console_main() -> None:
    """The `evalkit` console script and `python -m evalkit`: main(), then exit even when code evalkit
    ran (a task hook) left a non-daemon thread running, which would keep the process alive forever
    after the run was stored. Such threads get STRAY_THREAD_GRACE_S to end; then exit handlers run,
    output is flushed and the process ends with main's exit code, naming the threads."""
    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    stray = _stray_threads()
    if not stray:
        sys.exit(code)
    names = ", ".join(sorted(t.name for t in stray))
    click.echo(f"Warning: evalkit is done, but code it ran left thread(s) running ({names}); exiting "
               "without waiting for them.", err=True)
    import atexit
    import os

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_process_status(code))


def _process_status(code: Any) -> int:
    """What sys.exit(code) would end the process with: None is 0 (success), an int itself, anything
    else is printed and means failure (1)."""
    if code is None or isinstance(code, int):
        return code or 0
    click.echo(str(code), err=True)
    return 1


STRAY_THREAD_GRACE_S = 2.0


def _stray_threads() -> list[Any]:
    """Non-daemon threads still alive after STRAY_THREAD_GRACE_S (the main thread aside)."""
    import threading
    import time

    deadline = time.monotonic() + STRAY_THREAD_GRACE_S
    alive = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            alive.append(thread)
    return alive


def _exit_code(exc: BaseException, *, debug: bool) -> int:
    """Report `exc` on stderr and return the process exit code it maps to."""
    if isinstance(exc, EvalkitError):
        _error(exc.render(), debug=debug)
        return exc.exit_code
    if isinstance(exc, (click.exceptions.Abort, KeyboardInterrupt)):
        click.echo("Interrupted.", err=True)
        return 130
    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    if isinstance(exc, SystemExit):
        return _foreign_exit(exc, debug=debug)
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in MODELS_EXTRA:
        _error(f"This command runs models and needs '{exc.name}', which is not installed.",
               hint="Install the models extra: pip install 'evalkit[models]' (see README, Install).", debug=debug)
        return 2
    if isinstance(exc, Exception):
        _error(f"Unexpected {type(exc).__name__}: {exc}",
               hint="This is a bug in evalkit or an input it does not yet check; re-run with --debug "
                    "for the traceback, and report it.", debug=debug)
        return 1
    raise exc  # GeneratorExit and the like are not ours to map


def _foreign_exit(exc: SystemExit, *, debug: bool) -> int:
    """evalkit itself never calls sys.exit below main(): a SystemExit here came from code it ran
    (a task hook, a plugin). A nonzero int code (click's own broken-pipe exit) is kept; anything
    else must not look like success."""
    if isinstance(exc.code, int) and exc.code:
        return exc.code
    _error(f"The command was stopped by sys.exit({exc.code!r}) from code evalkit ran (a task hook or plugin?) "
           "before it finished; treat what it did as incomplete.",
           hint="Find the sys.exit() call (re-run with --debug for the traceback).", debug=debug)
    return 1


def _error(message: str, *, debug: bool, hint: str | None = None) -> None:
    if debug:
        traceback.print_exc()
    click.secho(f"Error: {message}" + (f"\n{hint}" if hint and not debug else ""), fg="red", err=True)


if __name__ == "__main__":
    main()
