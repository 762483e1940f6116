"""The estimate when nothing is measured: processor TDP x the process's share of the machine's CPU
time, i.e. (user + sys CPU seconds) / (wall seconds x logical cores) x TDP x wall seconds. TDP from
EVALKIT_CPU_TDP_WATTS, else a small table by processor name, else a stated default."""

from __future__ import annotations

import os
from pathlib import Path

from evalkit.errors import InputError

TDP_ENV = "EVALKIT_CPU_TDP_WATTS"
DEFAULT_TDP_WATTS = 65.0  # a typical desktop part; named in the method when used
# substring of the processor name (lower case) -> TDP in watts (vendor data sheets)
TDP_TABLE: dict[str, float] = {
    "epyc 9654": 360.0, "epyc 7763": 280.0, "epyc 7742": 225.0, "xeon platinum 8480": 350.0,
    "xeon platinum 8380": 270.0, "xeon gold 6338": 205.0, "apple m1": 20.0, "apple m2": 22.0,
}


def processor_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown processor"


def cpu_tdp() -> tuple[float, str]:
    """(watts, where the number comes from)."""
    given = os.environ.get(TDP_ENV)
    if given is not None:
        try:
            watts = float(given)
        except ValueError:
            watts = -1.0
        if not watts > 0:
            raise InputError(f"{TDP_ENV}={given!r} is not a positive number of watts.",
                             hint=f"Set it to the processor's TDP, e.g. {TDP_ENV}=125, or unset it.")
        return watts, TDP_ENV
    name = processor_name()
    for key, watts in TDP_TABLE.items():
        if key in name.lower():
            return watts, f"table: {name}"
    return DEFAULT_TDP_WATTS, f"default for {name}"


def estimated_joules(cpu_seconds: float, wall_seconds: float, cores: int | None = None) -> tuple[float, str]:
    """(joules, method) for a process that used `cpu_seconds` of CPU over `wall_seconds`."""
    cores = cores or os.cpu_count() or 1
    watts, source = cpu_tdp()
    share = cpu_seconds / (wall_seconds * cores) if wall_seconds > 0 else 0.0
    return share * watts * wall_seconds, f"estimate: cpu-time share x TDP {watts:g} W ({source})"
