"""`evalkit tasks list|show|validate`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.text import Text

from evalkit.errors import TaskError
from evalkit.report.formatting import printable
from evalkit.tasks.yaml_source import dump_task_yaml

if TYPE_CHECKING:
    from evalkit.tasks.discovery import TaskRegistry

include_option = click.option("--include-path", multiple=True, type=click.Path(file_okay=False),
                              help="Extra directory of task YAML files (repeatable).")


@click.group("tasks")
def command() -> None:
    """List, show and validate task definitions."""


@command.command("list")
@include_option
def list_tasks(include_path: tuple[str, ...]) -> None:
    """Every task evalkit can find: name, output type, splits with row counts, where defined."""
    from evalkit.report.rich_fit import BREAK, TERMINAL_HINT, Column, FittedTable
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.inspection import list_rows

    registry = TaskRegistry.discover(include_path)
    console = Console()
    columns = (Column("name", whole=True, style="bold"), Column("output type", whole=True),
               Column("splits (rows)", whole=True), Column("source", whole=True), Column("defined in"))
    rows = tuple(tuple((printable(text).replace("  ", BREAK), "")  # splits may break between splits
                       for text in (row.name, row.output_type, row.splits, row.source, _short(row.path)))
                 for row in list_rows(registry))
    console.print(FittedTable(title="Tasks", columns=columns, rows=rows, optional=((4,), (3,)),
                              hint=TERMINAL_HINT, style={}))
    _print_notes(registry)


@command.command("show")
@click.argument("name")
@include_option
@click.option("--examples", type=click.IntRange(0, 20), default=2, show_default=True)
def show_task(name: str, include_path: tuple[str, ...], examples: int) -> None:
    """The task's configuration and its first rendered prompts with their targets."""
    from evalkit.quiet import quiet_libraries
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.inspection import rendered_examples

    quiet_libraries()
    registry = TaskRegistry.discover(include_path)
    _print_notes(registry, problems=False)
    entry = registry.resolve(name)
    loaded, rendered = rendered_examples(entry, examples)
    console = Console()
    where = entry.yaml_path if entry.yaml_path else "lm-eval's task registry"
    console.print(Text(printable(entry.name), style="bold") + Text(f"  ({printable(entry.source)}: {printable(where)})"))
    console.print(Syntax(dump_task_yaml(_shown_config(loaded)), "yaml", word_wrap=True))
    console.print(f"config hash {loaded.config_hash}; {len(loaded.task.eval_docs)} evaluation documents")
    for i, example in enumerate(rendered):
        console.rule(f"document {i}")
        console.print(example["prompt"], markup=False, highlight=False)
        if example["choices"]:
            console.print(f"[dim]choices:[/] {example['choices']}", highlight=False)
        console.print(f"[dim]target:[/] {example['target']}", highlight=False)


def _shown_config(loaded: Any) -> dict[str, Any]:
    """The YAML as written (includes merged); for lm-eval's registry tasks, lm-eval's own config."""
    if loaded.entry.config or not hasattr(loaded.task.config, "to_dict"):
        return loaded.entry.config
    return {k: v for k, v in loaded.task.config.to_dict().items() if v not in (None, "", [], {})}


@command.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: tuple[str, ...]) -> None:
    """Load task YAML files (or every YAML in directories) and their data strictly; report every
    problem with file and key. Exit code 2 when any problem is found."""
    from evalkit.quiet import quiet_libraries
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.inspection import validate_file

    quiet_libraries()

    registry = TaskRegistry.discover()
    _print_notes(registry, problems=False)
    console = Console()
    failed = total = 0
    for path, root in _files_to_validate(paths):
        if root is not None and not _defines_a_task(path):
            console.print(Text("- ", style="dim") + Text(f"{printable(path)}  (no `task:` key: an include-only "
                                                           "template, skipped)"))
            continue
        total += 1
        report = validate_file(registry, path, root)
        if report.problems:
            failed += 1
            console.print(Text("✗ ", style="red") + Text(printable(path)))
            for problem in report.problems:
                console.print(f"    {problem}", markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(Text("✓ ", style="green") + Text(f"{printable(path)}  ({printable(report.name)}: "
                                                              f"{report.documents} evaluation documents)"))
        for note in report.notes:
            console.print(f"    note: {note}", markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise TaskError(f"{failed} of {total} task file(s) have problems (listed above).")


def _files_to_validate(paths: tuple[str, ...]) -> list[tuple[Path, Path | None]]:
    """(file, root) pairs: a directory given is the root of the files under it; a file given is
    checked against its own directory (or the task source holding it)."""
    from evalkit.tasks.discovery import yaml_files

    found: list[tuple[Path, Path | None]] = []
    skipped: list[str] = []
    for path in map(Path, paths):
        files = [(f, path) for f in yaml_files(path, skipped)] if path.is_dir() else [(path, None)]
        for warning in skipped:
            Console(stderr=True).print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
        skipped.clear()
        if not files:
            raise TaskError(f"No task YAML files (*.yaml, *.yml) under '{path}'.",
                            hint="Give a task .yaml file or a directory that contains some.")
        found += files
    return found


def _defines_a_task(path: Path) -> bool:
    from evalkit.tasks.yaml_source import read_task_yaml

    try:
        config = read_task_yaml(path, root=path.parent)
    except TaskError:
        return True  # let validation report why it cannot be read
    return "task" in config


def _print_notes(registry: TaskRegistry, *, problems: bool = True) -> None:
    """Warnings about task sources (a missing EVALKIT_TASKS_PATH entry) and unreadable task files,
    on stderr so they are seen but do not mix with the listing."""
    console = Console(stderr=True)
    for warning in registry.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    unreadable = registry.problems if problems else []
    if unreadable:
        console.print(f"[yellow]warning:[/] {len(unreadable)} task file(s) could not be read and are not listed:",
                      highlight=False)
        for problem in unreadable:
            console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)


def _short(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


from evalkit.cli.tasks_subset import subset  # noqa: E402  (its own module; `tasks subset`)

command.add_command(subset)
