"""A template or hook that never ends is stopped and named instead of hanging validate/show."""

from __future__ import annotations

import threading
import time

import pytest

from evalkit.errors import InputError, TaskError
from evalkit.tasks.discovery import TaskRegistry
from evalkit.tasks.loading import load_task
from evalkit.tasks.render_limit import RenderTimeout, render_timeout_s, time_limit
from tests.tasks.conftest import WriteTask

ENDLESS_TEMPLATE = 'doc_to_text: "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{text}}"\n'


@pytest.fixture(autouse=True)
def short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_RENDER_TIMEOUT", "0.5")


@pytest.mark.parametrize("command", ["validate", "show"])
def test_an_endless_template_is_stopped_and_named(evalkit_cli, write_task: WriteTask, command: str) -> None:
    path = write_task(extra=ENDLESS_TEMPLATE)
    start = time.monotonic()
    result = evalkit_cli("tasks", command, path)
    assert time.monotonic() - start < 30
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "key 'doc_to_text'" in output and "took longer than 0.5 s" in output
    assert "'text': 'good'" in output  # the document is named
    assert "Traceback" not in output


def test_an_endless_hook_is_stopped_when_rendering(write_task: WriteTask) -> None:
    path = write_task(extra="doc_to_choice: !function utils.choices\n")
    (path.parent / "utils.py").write_text("def choices(doc):\n    while True:\n        pass\n")
    with pytest.raises(TaskError, match=r"key 'doc_to_choice'.*took longer than 0\.5 s"):
        load_task(TaskRegistry([]).resolve(str(path)))


def test_the_limit_applies_in_the_main_thread_only() -> None:
    with pytest.raises(RenderTimeout):
        with time_limit(0.05):
            time.sleep(0.5)
    outcome: list[str] = []

    def elsewhere() -> None:
        with time_limit(0.01):
            time.sleep(0.05)
        outcome.append("finished without a limit")

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert outcome == ["finished without a limit"]


def test_nested_limits_share_the_outer_one_and_restore_the_timer() -> None:
    import signal

    with time_limit(2):
        with time_limit(0.01):
            time.sleep(0.05)  # the inner limit does not replace the running outer one
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


@pytest.mark.parametrize(("value", "expected"), [("", 5.0), ("0", 0.0), ("2.5", 2.5)])
def test_the_limit_is_configurable(monkeypatch: pytest.MonkeyPatch, value: str, expected: float) -> None:
    monkeypatch.setenv("EVALKIT_RENDER_TIMEOUT", value)
    assert render_timeout_s() == expected


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_bad_limit_is_an_input_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("EVALKIT_RENDER_TIMEOUT", value)
    with pytest.raises(InputError, match="EVALKIT_RENDER_TIMEOUT"):
        render_timeout_s()
