"""The `evalkit` command: wires the command modules together and maps errors to exit codes.

Command modules are imported lazily so `evalkit --help` never imports torch or lm-eval.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from evalkit.errors import EvalkitError

# command name -> "module:attribute"; each attribute is a click.Command or click.Group.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("evalkit.cli.run", "Evaluate models on tasks (zero-shot, few-shot, fine-tuned)."),
    "tasks": ("evalkit.cli.tasks", "List, show and validate task definitions."),
    "results": ("evalkit.cli.results", "List, show and export stored results."),
    "compare": ("evalkit.cli.compare", "Compare runs item by item with paired statistics."),
    "gate": ("evalkit.cli.gate", "Fail (exit 1) when a candidate run regresses against a baseline."),
    "report": ("evalkit.cli.report", "Render runs as markdown, JSON, JUnit XML or HTML."),
}


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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.version_option(package_name="evalkit")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """evalkit: evaluate language models zero-shot, few-shot and fine-tuned, keep every
    result, compare runs with paired statistics and gate CI on regressions."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: user errors print one message and exit with their code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return cli.main(args=argv, standalone_mode=False)
    except EvalkitError as exc:
        if debug:
            traceback.print_exc()
        click.secho(f"Error: {exc.render()}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
