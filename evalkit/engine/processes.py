"""Several processes inside one cell (data parallel), through accelerate.

`evalkit run --processes N` re-executes its own command line through accelerate's launcher
(torchrun underneath: N local processes, one per GPU on CUDA, gloo on CPU); `accelerate launch -m
evalkit run ...` starts the same processes directly. Every process builds the same plan, tasks and
request lists; the scoring backend's requests are shared out among them (evalkit.scoring.distributed)
and the results all-gathered, so each process holds every result; only the main process (rank 0)
writes the results store. Collectives use a gloo group, which carries Python objects on CPU and CUDA.

A failure on any process ends all of them: torchrun stops the others when one exits, and the
launcher exits with the first failed process's own exit code (2 for bad input, 1 at run time).
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence, TypeVar

from evalkit.errors import InputError

T = TypeVar("T")

# Test hook: "RANK:K" makes process RANK kill itself (SIGKILL, no clean-up) after computing K chunks of
# requests, so tests can check that a killed multi-process run resumes from what each process saved.
CRASH_ENV = "EVALKIT_TEST_CRASH_AFTER_CHUNKS"


@dataclass(frozen=True)
class Processes:
    """This process's place among the processes of one run (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    group: Any = field(default=None, compare=False, repr=False)  # the gloo group for object collectives

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def gather(self, value: T) -> list[T]:
        """Every process's `value`, in rank order, on every process."""
        if not self.distributed:
            return [value]
        import torch.distributed as dist

        found: list[Any] = [None] * self.size
        dist.all_gather_object(found, value, group=self.group)
        return found

    def from_main(self, value: T) -> T:
        """The main process's `value`, on every process."""
        if not self.distributed:
            return value
        import torch.distributed as dist

        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0, group=self.group)
        return box[0]

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier(group=self.group)


def launched_size() -> int:
    """How many processes the launcher started (WORLD_SIZE; 1 when not launched)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


@lru_cache(maxsize=1)
def current_processes() -> Processes:
    """This process's Processes; under a launcher (WORLD_SIZE > 1) the process group is started once,
    by accelerate's PartialState (nccl on CUDA, gloo on CPU), and each process takes its own GPU."""
    if launched_size() == 1:
        return Processes()
    import torch
    import torch.distributed as dist
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    if torch.cuda.is_available():
        torch.cuda.set_device(state.local_process_index)  # "cuda" in this process means its own GPU
    _set_threads()
    group = dist.new_group(backend="gloo") if dist.get_backend() != "gloo" else dist.group.WORLD
    # No SIGTERM handler: torchrun stops the other processes with SIGTERM when one fails, and a process
    # waiting in a collective would only run a Python handler after torchrun's 30 s grace period. A run
    # stopped that way stays 'running' in the store (never 'complete').
    return Processes(rank=state.process_index, size=state.num_processes,
                     local_rank=state.local_process_index, group=group)


def _set_threads() -> None:
    """Threads per process: OMP_NUM_THREADS when set (the launcher sets cores // N), else the cores
    this process may use divided among the local processes, so N processes never oversubscribe."""
    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(max(1, int(os.environ["OMP_NUM_THREADS"])))
        return
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    torch.set_num_threads(max(1, usable_cores() // local))


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ----- the launcher (`evalkit run --processes N`) -------------------------------------------------

def check_process_count(processes: int, *, executor: str) -> None:
    """--processes N: at least 1; not with --executor ray (Ray places whole cells; accelerate splits one
    cell); at most one process per GPU on CUDA, per CPU core otherwise."""
    if processes < 1:
        raise InputError(f"--processes {processes}: the number of processes must be at least 1.",
                         hint="Use --processes 1 (one process, the default) or more.")
    if processes > 1 and executor != "local":
        raise InputError(f"--processes {processes} cannot be combined with --executor {executor}: the Ray executor "
                         "spreads whole cells over a cluster, --processes splits each cell over local processes.",
                         hint="Leave out one of them (for GPUs per Ray actor, see --gpus-per-cell).")
    if processes > 1 and launched_size() > 1:
        raise InputError(f"--processes {processes} was given inside a run already started by a launcher "
                         f"({launched_size()} processes).",
                         hint="Leave out --processes when starting evalkit with `accelerate launch`.")
    if processes > 1:
        devices, kind = local_devices()
        if processes > devices:
            raise InputError(f"--processes {processes} is more than this machine's {devices} {kind}: each process "
                             "loads its own copy of the model and needs one of them, so the extra processes would "
                             "only compete (and may run out of memory).",
                             hint=f"Use --processes {devices} or fewer; for more machines, use `accelerate launch` "
                                  "with its multi-machine options.")


def local_devices() -> tuple[int, str]:
    """(how many processes this machine can give a device each, what they are): CUDA GPUs when torch
    sees any, else CPU cores (the ones this process may run on)."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.device_count() > 0:
            return torch.cuda.device_count(), "CUDA GPU(s)"
    except ImportError:
        pass
    return usable_cores(), "CPU core(s)"


def launch_command_line(argv: Sequence[str], processes: int) -> list[str]:
    """accelerate launch's own arguments for N local processes running `python -m evalkit ARGV`
    (`--multi_gpu` is accelerate's torchrun path; without a GPU its processes use gloo on the CPU)."""
    return ["--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
            "--module", "evalkit", *argv]


def launch(argv: Sequence[str], processes: int) -> int:
    """Run `evalkit ARGV` in N processes through accelerate's launcher; the exit code of the first
    process that failed (0 when all finished)."""
    import torch
    from accelerate.commands.launch import launch_command, launch_command_parser

    if torch.cuda.is_available() and processes > torch.cuda.device_count():
        raise InputError(f"--processes {processes}: this machine has {torch.cuda.device_count()} GPU(s), and "
                         "evalkit runs one process per GPU.",
                         hint=f"Use --processes {torch.cuda.device_count()} or fewer.")
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, usable_cores() // processes)))
    args = launch_command_parser().parse_args(launch_command_line(argv, processes))
    try:
        launch_command(args)
    except Exception as exc:  # torchrun's ChildFailedError: one process failed, the others were stopped
        code = first_failure_code(exc)
        if code is None:
            raise
        return code
    return 0


def first_failure_code(exc: BaseException) -> int | None:
    """The exit code of the process that failed first (128 + signal for one killed by a signal); None
    when `exc` is not torchrun's report of failed processes."""
    get_first = getattr(exc, "get_first_failure", None)
    if get_first is None:
        return None
    _rank, failure = get_first()
    code = int(failure.exitcode)
    return 128 - code if code < 0 else (code or 1)


def without_processes_option(argv: Sequence[str]) -> list[str]:
    """The command line minus `--processes N` / `--processes=N` (what each launched process runs)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--processes":
            skip = True
            continue
        if arg.startswith("--processes="):
            continue
        kept.append(arg)
    return kept


# ----- the crash hook (tests) -----------------------------------------------------------------------

class CrashHook:
    """Counts chunks of computed requests; kills this process after K of them when CRASH_ENV says so."""

    def __init__(self, rank: int, setting: str | None = None,
                 kill: Callable[[], None] | None = None) -> None:
        setting = os.environ.get(CRASH_ENV) if setting is None else setting
        self.after = _crash_after(setting, rank)
        self.done = 0
        self.kill = kill or (lambda: os.kill(os.getpid(), signal.SIGKILL))

    def chunk_done(self) -> None:
        self.done += 1
        if self.after is not None and self.done >= self.after:
            sys.stdout.flush()
            self.kill()


def _crash_after(setting: str | None, rank: int) -> int | None:
    if not setting:
        return None
    where, _, count = setting.partition(":")
    return int(count) if where.strip() == str(rank) and count.strip().isdigit() else None
