"""One real local Ray cluster for the whole test session (each start costs ~5 s), with the fault
injection hook of tests/executors/faults.py in every worker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def faults_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ray-faults")


@pytest.fixture(scope="session")
def ray_cluster(faults_dir: Path) -> Iterator[object]:
    """ray.init(num_cpus=2) once; workers inherit the environment set here."""
    ray = pytest.importorskip("ray")
    from tests.executors.faults import FAULTS_ENV

    saved = {k: os.environ.get(k) for k in ("RAY_memory_monitor_refresh_ms", "PYTHONPATH", FAULTS_ENV)}
    os.environ["RAY_memory_monitor_refresh_ms"] = "0"  # the memory monitor kills workers on a small machine
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), saved["PYTHONPATH"]) if p)
    os.environ[FAULTS_ENV] = str(faults_dir)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"worker_process_setup_hook": "tests.executors.faults.install"})
    try:
        yield ray
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def second_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another tiny random checkpoint (other weights), so a grid has two model groups."""
    from tests.tiny_model import save_tiny_checkpoint

    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model-2"), seed=1)
