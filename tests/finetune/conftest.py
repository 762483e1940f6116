from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


class RecordingSink:
    """A ProgressSink that remembers what it was told."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.reports: list[tuple[str, str, int, int]] = []

    @contextmanager
    def cell(self, label: str) -> Iterator[Callable[[str, int, int], None]]:
        yield lambda kind, done, total: self.reports.append((label, kind, done, total))

    def message(self, text: str) -> None:
        self.messages.append(text)


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fine-tuning writes TensorBoard logs under ./reports: keep them in the test's directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


def load_fixture_task(name: str) -> Any:
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    return load_task(TaskRegistry.discover().resolve(str(FIXTURES / name / f"{name}.yaml")))


@pytest.fixture
def toy_sentiment() -> Any:
    return load_fixture_task("toy_sentiment")


@pytest.fixture
def toy_gen() -> Any:
    return load_fixture_task("toy_gen")


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The tiny model loaded once per session (tests must not modify it; fine-tuning copies it)."""
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec

    with pytest.MonkeyPatch.context() as patch:  # session fixtures run before the per-test home
        patch.setenv("EVALKIT_HOME", str(tmp_path_factory.mktemp("tiny-home")))
        return load_model(resolve_model_spec(str(tiny_model_dir), device="cpu", dtype="float32"))


def make_cell(model_spec: Any, task: str, *, setting: str = "fine-tuned", limit: int | None = None,
              **options: Any) -> Any:
    from evalkit.plan import Cell, FineTuneOptions
    from evalkit.plan.settings import parse_setting

    return Cell(model_spec, task, parse_setting(setting), limit, 1234, 8, FineTuneOptions(**options))
