"""A real installable package contributes tasks through the `evalkit.tasks` entry-point group."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fixtures" / "plugin_pkg"


def test_installed_package_tasks_are_listed_and_resolvable(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(source)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "COLUMNS": "200"}
    listing = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "tasks", "list"], env=env,
                             capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "demo_plugin_task" in listing.stdout
    assert "package:demo" in listing.stdout
    assert "sst2" in listing.stdout  # the built-ins come through the same mechanism
