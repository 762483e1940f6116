"""A task name with terminal escapes or bidi overrides (from someone else's YAML) is listed escaped,
the way stored run names are (evalkit.report.formatting.printable), never written raw to the terminal."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from evalkit.ascii_fallback import ENCODE_ERRORS
from evalkit.cli.progress import RichProgress
from tests.tasks.conftest import BASE_YAML, WriteTask

EVIL = "evil\x1b[31mred\u202eexe"


def test_tasks_list_shows_escapes_and_bidi_overrides_escaped(evalkit_cli, write_task: WriteTask,
                                                             tmp_path: Path) -> None:
    write_task(body=BASE_YAML.format(name='"evil\\e[31mred\\u202eexe"'))
    listing = evalkit_cli("tasks", "list", "--include-path", tmp_path / "tasks")
    assert listing.exit_code == 0, listing.output
    assert "\x1b" not in listing.stdout and "\u202e" not in listing.stdout
    assert "evil\\x1b[31mred\\u202eexe" in listing.stdout


def test_progress_labels_show_escapes_escaped() -> None:
    for terminal in (True, False):  # the live bar and the plain log lines
        console = Console(file=io.StringIO(), width=200, color_system=None, force_terminal=terminal)
        with RichProgress(console).cell(f"tiny · {EVIL} · zero-shot") as report:
            report("scoring", 1, 2)
        text = console.file.getvalue()  # type: ignore[attr-defined]
        assert "\u202e" not in text and "\x1b[31mred" not in text
        assert "evil\\x1b[31mred\\u202eexe" in text


def test_live_progress_on_an_ascii_terminal_writes_ascii() -> None:
    handle = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors=ENCODE_ERRORS)  # as the CLI's stdout
    console = Console(file=handle, width=120, color_system=None, force_terminal=True)
    with RichProgress(console).cell("tiny · sst2 · zero-shot") as report:
        report("scoring", 1, 2)
    handle.flush()
    text = handle.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert "tiny - sst2 - zero-shot" in text and "\\u28" not in text  # an ASCII spinner, not escaped braille
