from __future__ import annotations

from pathlib import Path

import pytest

from tests.compare.synthetic import standard_store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The four-run store described in tests.compare.synthetic.standard_store."""
    return standard_store(tmp_path / "store.db")
