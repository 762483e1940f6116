"""The composite action, the example workflow and README's workflow are valid against GitHub's schemas
(as check-jsonschema vendors them: checked offline)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / ".github" / "actions" / "evalkit-gate" / "action.yml"
EXAMPLE = ROOT / "examples" / "github" / "evalkit-gate.yml"


def _check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema's verdict on `path` against its vendored GitHub schema `schema`."""
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)


def readme_workflow() -> str:
    """The YAML block of README's "A complete GitHub Actions workflow" section."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### A complete GitHub Actions workflow", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README's workflow section has no yaml block"
    return match.group(1)


def test_the_action_is_valid() -> None:
    result = _check("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_action_fails_the_check(tmp_path: Path) -> None:
    text = ACTION.read_text(encoding="utf-8")
    assert "  using: composite\n" in text
    broken = tmp_path / "action.yml"
    broken.write_text(text.replace("  using: composite\n", "  using: compostie\n"), encoding="utf-8")
    result = _check("vendor.github-actions", broken)
    assert result.returncode == 1 and "Schema validation errors" in result.stdout


def test_the_example_workflow_is_valid() -> None:
    result = _check("vendor.github-workflows", EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("mutation", [("runs-on: ubuntu-latest\n", ""), ("jobs:\n", "job:\n")])
def test_a_broken_workflow_fails_the_check(tmp_path: Path, mutation: tuple[str, str]) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert mutation[0] in text
    broken = tmp_path / "workflow.yml"
    broken.write_text(text.replace(mutation[0], mutation[1], 1), encoding="utf-8")
    assert _check("vendor.github-workflows", broken).returncode == 1


def test_readmes_workflow_is_valid(tmp_path: Path) -> None:
    snippet = tmp_path / "evaluate.yml"
    snippet.write_text(readme_workflow(), encoding="utf-8")
    result = _check("vendor.github-workflows", snippet)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readmes_workflow_is_the_example_file() -> None:
    assert readme_workflow() == EXAMPLE.read_text(encoding="utf-8")


def test_readmes_workflow_uses_the_action() -> None:
    assert "uses: YOUR-ORG/evalkit/.github/actions/evalkit-gate@" in readme_workflow()
