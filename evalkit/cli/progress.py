"""Progress for runs: on a terminal one rich bar per cell (requests done, rate, ETA); anywhere
else (a CI log, a file) plain lines at most every few seconds and a final line per cell, because
a redrawn bar in a log is unreadable (`1744/…   30… 0:01:… 0:00:…`)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn,
                           Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.markup import escape
from rich.text import Text

from evalkit.report.formatting import printable

Report = Callable[[str, int, int], None]
PLAIN_INTERVAL_S = 10.0


class RateColumn(ProgressColumn):
    """Requests per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f} req/s" if speed else "      - req/s", style="cyan")


class RichProgress:
    """ProgressSink for the CLI; writes to the CLI's single Console: a live bar on a terminal,
    plain periodic lines otherwise."""

    def __init__(self, console: Console, *, interval_s: float = PLAIN_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.interval_s = interval_s
        self.clock = clock

    @contextmanager
    def cell(self, label: str) -> Iterator[Report]:
        cell = self._live_cell if self.console.is_terminal else self._plain_cell
        with cell(label) as report:
            yield report

    @contextmanager
    def _live_cell(self, label: str) -> Iterator[Report]:
        spinner = "line" if self.console.options.ascii_only else "dots"  # braille dots need a UTF-8 terminal
        columns = [SpinnerColumn(spinner), TextColumn("{task.description}"), BarColumn(bar_width=20),
                   MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
        label = printable(label)  # a task or model name from a YAML file must not drive the terminal
        with Progress(*columns, console=self.console, transient=False) as progress:
            task_id = progress.add_task(escape(label), total=None)

            def report(kind: str, done: int, total: int) -> None:
                shown = printable(" · ".join(_kind_parts(label, kind)))
                progress.update(task_id, total=total, completed=done,
                                description=f"{escape(label)} · [dim]{escape(shown)}[/]" if shown else escape(label))

            yield report
            total = progress.tasks[0].total or 1  # requests answered from the resume cache report nothing
            progress.update(task_id, total=total, completed=total)

    @contextmanager
    def _plain_cell(self, label: str) -> Iterator[Report]:
        lines = PlainCellLines(label, self.console, interval_s=self.interval_s, clock=self.clock)
        yield lines.report
        lines.finish()

    def message(self, text: str) -> None:
        self.console.print(f"[dim]{text}[/]")


class PlainCellLines:
    """One cell's progress as log lines: the first report, then at most one per interval, then a
    final line (also when nothing was reported: every request came from the resume cache)."""

    def __init__(self, label: str, console: Console, *, interval_s: float, clock: Callable[[], float]) -> None:
        self.label, self.console, self.interval_s, self.clock = label, console, interval_s, clock
        self.started = clock()
        self.last_line: float | None = None
        self.kind, self.done, self.total = "", 0, 0

    def report(self, kind: str, done: int, total: int) -> None:
        self.kind, self.done, self.total = kind, done, total
        now = self.clock()
        if self.last_line is None or now - self.last_line >= self.interval_s:
            self.last_line = now
            self._print(f"{self._counts()}, {self._rate(now)}, {_clock(now - self.started)} elapsed")

    def finish(self) -> None:
        elapsed = self.clock() - self.started
        done = f"{self._counts()} in {_clock(elapsed)}" if self.total else f"done in {_clock(elapsed)}"
        self._print(f"{done} (finished)")

    def _counts(self) -> str:
        percent = f" ({100 * self.done // self.total}%)" if self.total else ""
        return f"{self.done}/{self.total} {self._unit()[0]}{percent}"

    def _rate(self, now: float) -> str:
        elapsed = now - self.started
        rate = f"{self.done / elapsed:.1f}" if elapsed > 0 and self.done else "-"
        return f"{rate} {self._unit()[1]}"

    def _unit(self) -> tuple[str, str]:
        """Scoring reports requests; training (kind 'fine-tuning ...') reports optimiser steps."""
        return ("steps", "steps/s") if self.kind.startswith("fine-tuning") else ("requests", "req/s")

    def _print(self, text: str) -> None:
        where = " · ".join([self.label, *_kind_parts(self.label, self.kind)])
        self.console.print(printable(f"{where}: {text}"), markup=False, highlight=False, soft_wrap=True)


def _kind_parts(label: str, kind: str) -> list[str]:
    """The parts of `kind` ('fine-tuning · loss 0.69') that the label ('sst2 · fine-tuning') does not
    already end with, so a phase named by both is shown once ('sst2 · fine-tuning · loss 0.69')."""
    parts = [p for p in kind.split(" · ") if p]
    if parts and label.split(" · ")[-1] == parts[0]:
        parts = parts[1:]
    return parts


def _clock(seconds: float) -> str:
    """0:00:33, as rich's elapsed column shows it."""
    return str(timedelta(seconds=int(seconds)))
