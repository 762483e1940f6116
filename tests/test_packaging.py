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


DISTRIBUTION = "evalkit-harness"  # PyPI's `evalkit` is an unrelated package


def test_the_distribution_has_its_own_name_and_install_lines_use_it() -> None:
    import re

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION and project["scripts"]["evalkit"].startswith("evalkit.")
    texts = {p: p.read_text(encoding="utf-8") for p in (ROOT / "README.md", ROOT / "examples/github/evalkit-gate.yml",
                                                         ROOT / ".github/actions/evalkit-gate/action.yml")}
    for path, text in texts.items():
        wrong = re.findall(r'(?:pip install [^\n]*|e\.g\. )"evalkit(?:\[[\w,]+\])?(?: @ [^"]*)?"', text)
        assert not wrong, f"{path.name} installs PyPI's unrelated `evalkit`: {wrong}"
    assert all(DISTRIBUTION in text for text in texts.values())


def test_the_version_provenance_records_is_the_distribution_version() -> None:
    from importlib.metadata import PackageNotFoundError, version

    from evalkit.provenance import evalkit_version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert evalkit_version() == project["version"]
    try:
        installed = version(DISTRIBUTION)
    except PackageNotFoundError:  # a checkout installed before the rename: its metadata says `evalkit`
        return
    assert installed == evalkit_version()
