"""`evalkit tasks list|show|validate`."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from evalkit.errors import TaskError

include_option = click.option("--include-path", multiple=True, type=click.Path(file_okay=False),
                              help="Extra directory of task YAML files (repeatable).")


@click.group("tasks")
def command() -> None:
    """List, show and validate task definitions."""


@command.command("list")
@include_option
def list_tasks(include_path: tuple[str, ...]) -> None:
    """Every task evalkit can find: name, output type, splits with row counts, where defined."""
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.inspection import list_rows

    registry = TaskRegistry.discover(include_path)
    console = Console()
    table = Table(title="Tasks", expand=False)
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("output type", no_wrap=True)
    table.add_column("splits (rows)", overflow="fold")
    table.add_column("source", no_wrap=True)
    table.add_column("defined in", overflow="fold")
    for row in list_rows(registry):
        table.add_row(row.name, row.output_type, row.splits, row.source, _short(row.path))
    console.print(table)
    for problem in registry.problems:
        console.print(f"[yellow]warning:[/] {problem}")


@command.command("show")
@click.argument("name")
@include_option
@click.option("--examples", type=click.IntRange(0, 20), default=2, show_default=True)
def show_task(name: str, include_path: tuple[str, ...], examples: int) -> None:
    """The task's configuration and its first rendered prompts with their targets."""
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.inspection import rendered_examples

    entry = TaskRegistry.discover(include_path).resolve(name)
    console = Console()
    console.print(f"[bold]{entry.name}[/]  ({entry.source}: {entry.yaml_path})")
    config = {k: str(v) if not isinstance(v, (str, int, float, bool, list, dict, type(None))) else v
              for k, v in entry.config.items()}
    console.print(Syntax(yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=None),
                         "yaml", word_wrap=True))
    loaded, rendered = rendered_examples(entry, examples)
    console.print(f"config hash {loaded.config_hash}; {len(loaded.task.eval_docs)} evaluation documents")
    for i, example in enumerate(rendered):
        console.rule(f"document {i}")
        console.print(example["prompt"], markup=False, highlight=False)
        if example["choices"]:
            console.print(f"[dim]choices:[/] {example['choices']}", highlight=False)
        console.print(f"[dim]target:[/] {example['target']}", highlight=False)


@command.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: tuple[str, ...]) -> None:
    """Load task YAML files (or every YAML in directories) and their data strictly; report every
    problem with file and key. Exit code 2 when any problem is found."""
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.inspection import validate_file

    registry = TaskRegistry.discover()
    files = [f for p in map(Path, paths) for f in (sorted(p.rglob("*.yaml")) if p.is_dir() else [p])]
    console = Console()
    failed = 0
    for path in files:
        report = validate_file(registry, path)
        if report.problems:
            failed += 1
            console.print(f"[red]✗[/] {path}")
            for problem in report.problems:
                console.print(f"    {problem}", markup=False, highlight=False)
        else:
            console.print(f"[green]✓[/] {path}  ({report.name}: {report.documents} evaluation documents)")
    if failed:
        raise TaskError(f"{failed} of {len(files)} task file(s) have problems (listed above).")


def _short(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
