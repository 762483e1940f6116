"""The Ray executor (driver side): one CellWorker actor per model group (the cells of one model, or
of one base model's adapter checkpoints, so the model loads once per actor), scheduled with the
requested CPUs/GPUs. The driver collects records with a ray.wait loop and yields each as it
arrives; the runner commits it. A worker that dies is restarted and its unfinished cells are
retried (max_restarts / max_task_retries); each cell's result arrives once.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator

from evalkit.errors import EvalkitError, InputError, RunFailedError
from evalkit.engine.executors.base import ExecutorOptions, GridWork
from evalkit.engine.executors.ray_worker import CellWorker, WorkerSetup, forwarded_env
from evalkit.plan import Cell
from evalkit.store import CellRecord

RAY_INSTALL_HINT = 'Install the ray extra: pip install "evalkit[ray]" (or `pip install "ray>=2.50,<3"`).'


def import_ray() -> Any:
    """The ray module, or InputError (exit 2) saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise InputError(f"--executor ray needs Ray, which this installation lacks ({exc}).",
                         hint=RAY_INSTALL_HINT) from exc
    return ray


@contextmanager
def ray_session(options: ExecutorOptions, sink: Any) -> Iterator[Any]:
    """Ray connected: an existing session as it is, else the cluster at --ray-address (or a new
    local one without it), shut down again at the end if this call started it."""
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        _connect(ray, options.ray_address, sink)
    try:
        check_cluster_fits(ray.cluster_resources(), options)
        yield ray
    finally:
        if started:
            ray.shutdown()


def check_cluster_fits(resources: dict[str, float], options: ExecutorOptions) -> None:
    """InputError (exit 2, before anything is submitted) when the cluster has fewer GPUs or CPUs in
    all than one actor asks for: Ray would wait forever for a node that can hold it."""
    for option, name, wanted in (("--gpus-per-cell", "GPU", options.gpus_per_cell),
                                 ("--cpus-per-cell", "CPU", options.cpus_per_cell)):
        have = float(resources.get(name, 0.0))
        if wanted > have:
            raise InputError(f"{option} {wanted:g}: the Ray cluster has {have:g} {name}(s) in all, so no cell's "
                             "actor could ever be placed (Ray would wait for one forever).",
                             hint=f"Lower {option}, or connect to a cluster with {name}s (--ray-address).")


def _connect(ray: Any, address: str | None, sink: Any) -> None:
    sink.message(f"Connecting to the Ray cluster at {address} ..." if address else "Starting a local Ray cluster ...")
    kwargs: dict[str, Any] = {"address": address} if address else {"include_dashboard": False}
    if address:
        _check_reachable(address)
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"Cannot connect to the Ray cluster at '{address}' (--ray-address): {exc}",
                         hint="Start one with `ray start --head` and pass its address (host:6379), "
                              "or leave out --ray-address to start a local cluster.") from exc


REACH_TIMEOUT_S = 5.0


def _check_reachable(address: str) -> None:
    """InputError within REACH_TIMEOUT_S when nothing listens at a host:port address (ray:// included):
    ray.init would retry a dead address for minutes. 'auto', 'local' and other forms go to Ray as they are."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return  # Ray names the malformed address itself
    if not host or port is None:
        return
    try:
        socket.create_connection((host, port), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        raise InputError(f"Cannot connect to the Ray cluster at '{address}' (--ray-address): nothing answers at "
                         f"{host}:{port} ({exc.strerror or exc}).",
                         hint="Start one with `ray start --head` and pass its address (host:6379), "
                              "or leave out --ray-address to start a local cluster.") from exc


def model_groups(cells: list[Cell]) -> list[list[Cell]]:
    """Cells grouped by the model they load (adapter checkpoints by their base), in plan order."""
    from evalkit.models.adapter_switch import base_spec_of

    groups: dict[Any, list[Cell]] = {}
    for cell in cells:
        key = base_spec_of(cell.model) if cell.model.adapter else cell.model
        groups.setdefault(key, []).append(cell)
    return list(groups.values())


def worker_setup(work: GridWork, group: list[Cell]) -> WorkerSetup:
    """What a worker rebuilds: the registry's sources, the group's tasks by the references the cells
    use, and each task trained on by a reference that loads it (a task of the run by its reference)."""
    prepared = work.prepared
    ref_of = {id(task): ref for ref, task in prepared.tasks.items()}
    wanted = {c.setting.trained_on for c in group if c.setting.trained_on}
    source_refs = {name: ref_of.get(id(task)) or str(task.entry.yaml_path or task.name)
                   for name, task in prepared.sources.items() if name in wanted}
    refs = tuple(dict.fromkeys([c.task for c in group] + [r for r in source_refs.values() if r in prepared.tasks]))
    return WorkerSetup(tuple(work.registry.sources), refs, source_refs, forwarded_env())


class RayExecutor:
    """Runs the work's cells on the connected Ray cluster."""

    def __init__(self, ray: Any, options: ExecutorOptions) -> None:
        self.ray = ray
        self.options = options

    def records(self, work: GridWork, sink: Any) -> Iterator[CellRecord]:
        ray = self.ray
        groups = model_groups(work.cells)
        if not groups:
            return
        remote = ray.remote(CellWorker).options(
            num_cpus=self.options.cpus_per_cell, num_gpus=self.options.gpus_per_cell,
            max_restarts=self.options.max_retries, max_task_retries=self.options.max_retries)
        actors = [remote.remote(worker_setup(work, group)) for group in groups]
        pending = {actor.evaluate.remote(cell, work.run_id): cell
                   for actor, group in zip(actors, groups) for cell in group}
        sink.message(f"Running {len(pending)} cells on Ray: {len(groups)} model group(s), one actor each "
                     f"({self.options.cpus_per_cell:g} CPU, {self.options.gpus_per_cell:g} GPU per actor).")
        try:
            yield from self._collect(pending, work, sink)
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)

    def _collect(self, pending: dict[Any, Cell], work: GridWork, sink: Any) -> Iterator[CellRecord]:
        done_count, started = work.reused, time.monotonic()
        while pending:
            ready, _ = self.ray.wait(list(pending), num_returns=1)
            cell = pending.pop(ready[0])
            record, node = self._result(ready[0], cell)
            done_count += 1
            sink.message(f"[{done_count}/{work.total}] {cell.model.label} · {cell.task} · {cell.setting.label}: "
                         f"{record.duration_s:.1f} s on {node} ({time.monotonic() - started:.0f} s elapsed)")
            yield record

    def _result(self, ref: Any, cell: Cell) -> tuple[CellRecord, str]:
        """The cell's (record, node); the cell's own error as evalkit raised it; a worker that died
        more often than retries allow: RunFailedError naming the cell."""
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, (EvalkitError, KeyboardInterrupt)):
                raise cause from None
            raise RunFailedError(f"Cell {cell.model.label} · {cell.task} · {cell.setting.label} failed on a Ray "
                                 f"worker: {_first_line(exc)}",
                                 hint="Run again with --debug for the traceback; finished cells are stored "
                                      "and re-running the same command reuses them.") from exc
        except (exceptions.RayActorError, exceptions.ActorDiedError, exceptions.WorkerCrashedError) as exc:
            raise RunFailedError(f"The Ray worker evaluating {cell.model.label} · {cell.task} · "
                                 f"{cell.setting.label} died {self.options.max_retries + 1} times: "
                                 f"{_first_line(exc)}",
                                 hint="Check the workers' memory (ray logs); finished cells are stored and "
                                      "re-running the same command computes only the rest.") from exc


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
