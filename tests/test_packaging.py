"""The wheel's package list is explicit (to ship tasks/ as evalkit.builtin_tasks): keep it complete."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "evalkit").rglob("__init__.py")}
    found |= {".".join(("evalkit", *d.relative_to(ROOT / "evalkit").parts)) for d in (ROOT / "evalkit").rglob("*")
              if d.is_dir() and d.name != "__pycache__" and "__pycache__" not in d.parts}
    found |= {".".join(("evalkit.builtin_tasks", *d.relative_to(ROOT / "tasks").parts)) for d in (ROOT / "tasks").rglob("*")
              if d.is_dir() and "__pycache__" not in d.parts}  # a data folder too: setuptools warns it would be dropped
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert "evalkit.builtin_tasks" in listed
