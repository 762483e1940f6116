from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama checkpoint directory (shared by the whole session; do not modify)."""
    from tests.tiny_model import save_tiny_checkpoint

    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point EVALKIT_HOME and the default store at a per-test directory."""
    home = tmp_path / "evalkit-home"
    monkeypatch.setenv("EVALKIT_HOME", str(home))
    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path / "evalkit.db"))
    return home


@pytest.fixture(scope="session")
def real_model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared EVALKIT_HOME for slow tests so the GGUF is converted once per session."""
    return Path(os.environ.get("EVALKIT_TEST_HOME") or tmp_path_factory.mktemp("real-home"))
