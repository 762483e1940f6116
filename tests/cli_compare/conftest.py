from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.cli.main import main
from tests.compare.synthetic import standard_store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The four-run store described in tests.compare.synthetic.standard_store."""
    return standard_store(tmp_path / "store.db")


@pytest.fixture
def evalkit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `evalkit ARGS` through main() (which maps errors to exit codes); returns (code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
