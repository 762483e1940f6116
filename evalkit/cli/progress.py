"""Rich progress for runs: one bar per cell with requests done, rate and ETA."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn,
                           Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Requests per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f} req/s" if speed else "      - req/s", style="cyan")


class RichProgress:
    """ProgressSink for the CLI; writes to the CLI's single Console."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def cell(self, label: str) -> Iterator[Callable[[str, int, int], None]]:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20),
                   MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=self.console, transient=False) as progress:
            task_id = progress.add_task(label, total=None)

            def report(kind: str, done: int, total: int) -> None:
                progress.update(task_id, total=total, completed=done, description=f"{label} [dim]{kind}[/]")

            yield report
            total = progress.tasks[0].total or 1  # requests answered from the resume cache report nothing
            progress.update(task_id, total=total, completed=total)

    def message(self, text: str) -> None:
        self.console.print(f"[dim]{text}[/]")
