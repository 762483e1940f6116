"""--offline guarantees no network access: every connection attempt in the process is recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
NETBLOCK = Path(__file__).resolve().parent / "netblock"


def _evalkit(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    log = tmp_path / "net.log"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update(EVALKIT_TEST_NET_LOG=str(log), PYTHONPATH=os.pathsep.join([str(NETBLOCK), env.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    return proc, log.read_text() if log.exists() else ""


def test_offline_run_makes_no_connection(tiny_model_dir: Path, tmp_path: Path) -> None:
    proc, attempts = _evalkit(["run", "--offline", "-m", str(tiny_model_dir), "-t",
                               str(FIXTURES / "toy_gen" / "toy_gen.yaml"), "--store", str(tmp_path / "r.db")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert attempts == ""


def test_offline_hub_id_fails_cleanly_without_connecting(tmp_path: Path) -> None:
    proc, attempts = _evalkit(["run", "--offline", "-m", "nobody-xyz/no-such-model", "-t",
                               str(FIXTURES / "toy_gen" / "toy_gen.yaml"), "--store", str(tmp_path / "r.db")], tmp_path)
    assert proc.returncode == 2
    assert "Offline mode is on" in proc.stderr
    assert attempts == ""
