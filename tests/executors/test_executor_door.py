"""The executor options at the door: no Ray installed, Ray options without --executor ray."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.executors.store_rows import GRID


def test_ray_executor_without_ray_says_how_to_install(tiny_model_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, evalkit_cli) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as it does where ray is not installed
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store, "--executor", "ray")
    assert result.exit_code == 2, result.output
    assert "--executor ray needs Ray" in result.stderr and 'pip install "evalkit[ray]"' in result.stderr
    assert "Traceback" not in result.output and not store.exists()  # nothing ran, nothing stored


@pytest.mark.parametrize("option", [["--ray-address", "127.0.0.1:6379"], ["--gpus-per-cell", "1"],
                                    ["--cpus-per-cell", "2"]])
def test_ray_options_need_the_ray_executor(option: list[str], tiny_model_dir: Path, tmp_path: Path,
                                           evalkit_cli) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, *GRID, "--store", store, *option)
    assert result.exit_code == 2 and f"{option[0]} applies to the Ray executor only" in result.stderr
    assert not store.exists()


def test_cells_are_grouped_by_model_base(tiny_model_dir: Path, tmp_path: Path) -> None:
    """One actor per model: an adapter checkpoint joins its base model's group."""
    import dataclasses

    from evalkit.api import build_cells
    from evalkit.engine.executors.ray_executor import model_groups

    cells = build_cells([str(tiny_model_dir)], ["a", "b"], settings=["zero-shot"])
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    with_adapter = [dataclasses.replace(c, model=dataclasses.replace(c.model, adapter=str(adapter))) for c in cells]
    other = [dataclasses.replace(c, model=dataclasses.replace(c.model, location=str(tmp_path))) for c in cells]
    groups = model_groups(cells + other + with_adapter)
    assert [len(g) for g in groups] == [4, 2]
    assert groups[0] == cells + with_adapter


def test_a_dead_ray_address_fails_fast_with_exit_2(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", "sst2", "--limit", "2", "--executor", "ray",
                         "--ray-address", f"127.0.0.1:{port}", "--store", tmp_path / "r.db")
    assert result.exit_code == 2 and f"nothing answers at 127.0.0.1:{port}" in result.output, result.output
    assert time.monotonic() - start < 60  # ray.init retried a dead address for minutes


@pytest.mark.parametrize(("option", "value", "needle"), [("gpus_per_cell", 1.0, "--gpus-per-cell 1: the Ray cluster has 0 GPU"),
                                                        ("cpus_per_cell", 64.0, "--cpus-per-cell 64: the Ray cluster has 2 CPU")])
def test_more_gpus_or_cpus_per_cell_than_the_cluster_has_is_refused_before_submitting(
        ray_cluster: object, option: str, value: float, needle: str) -> None:
    """Issue 24 item 3: --gpus-per-cell 1 on a cluster without GPUs waited forever for a node."""
    from evalkit.errors import InputError
    from evalkit.engine.executors.base import ExecutorOptions
    from evalkit.engine.executors.ray_executor import ray_session

    class Sink:
        def message(self, text: str) -> None:
            return None

    options = ExecutorOptions(kind="ray", **{option: value})
    with pytest.raises(InputError, match=needle):
        with ray_session(options, Sink()):
            pass
    with ray_session(ExecutorOptions(kind="ray"), Sink()):  # what fits still runs
        pass

