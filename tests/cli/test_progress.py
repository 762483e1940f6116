"""Run progress: a live rich bar on a terminal, plain periodic lines anywhere else (a CI log)."""

from __future__ import annotations

import io

from rich.console import Console

from evalkit.cli.progress import RichProgress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=100, color_system=None), buffer


def test_plain_lines_when_not_a_terminal() -> None:
    console, buffer = _console(terminal=False)
    clock = FakeClock()
    progress = RichProgress(console, interval_s=10, clock=clock)
    with progress.cell("sst2 · zero-shot") as report:
        for done in range(0, 873, 8):  # 110 reports over 33 s: one line per 10 s, not one per report
            clock.now = 100.0 + done * 33 / 872
            report("loglikelihood", done, 872)
        clock.now = 133.0
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "sst2 · zero-shot · loglikelihood: 0/872 requests (0%), - req/s, 0:00:00 elapsed"
    assert lines[1] == "sst2 · zero-shot · loglikelihood: 272/872 requests (31%), 26.4 req/s, 0:00:10 elapsed"
    assert len(lines) == 5
    assert lines[-1] == "sst2 · zero-shot · loglikelihood: 872/872 requests (100%) in 0:00:33 (finished)"
    assert "…" not in buffer.getvalue() and "\r" not in buffer.getvalue() and "\x1b" not in buffer.getvalue()


def test_plain_final_line_when_the_resume_cache_answered_everything() -> None:
    console, buffer = _console(terminal=False)
    with RichProgress(console, clock=FakeClock()).cell("rte · few-shot:5"):
        pass
    assert buffer.getvalue() == "rte · few-shot:5: done in 0:00:00 (finished)\n"


def test_plain_lines_count_training_steps() -> None:
    console, buffer = _console(terminal=False)
    clock = FakeClock()
    with RichProgress(console, clock=clock).cell("sst2 · fine-tuning") as report:
        clock.now += 4
        report("fine-tuning · loss 0.6931", 8, 40)
    assert buffer.getvalue().splitlines()[0] == (  # the phase once, not "· fine-tuning · fine-tuning ·"
        "sst2 · fine-tuning · loss 0.6931: 8/40 steps (20%), 2.0 steps/s, 0:00:04 elapsed")


def test_a_bar_on_a_terminal() -> None:
    console, buffer = _console(terminal=True)
    with RichProgress(console).cell("sst2 · zero-shot") as report:
        report("loglikelihood", 400, 872)
    text = buffer.getvalue()
    assert "\x1b[" in text  # a live display: cursor movement and redraws
    assert "872/872" in text and "requests (" not in text


def test_a_bar_names_the_training_phase_once() -> None:
    console, buffer = _console(terminal=True)
    with RichProgress(console).cell("tiny · sst2 · fine-tuning") as report:
        report("fine-tuning · loss 0.5000", 4, 10)
    text = buffer.getvalue()
    assert "tiny · sst2 · fine-tuning · loss 0.5000" in text
    assert "fine-tuning fine-tuning" not in text and "fine-tuning · fine-tuning" not in text

