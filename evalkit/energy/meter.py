"""EnergyMeter: start() ... stop() -> EnergyReading. Measured where the machine allows (NVML total
energy on NVIDIA GPUs via pynvml, RAPL package counters), else estimated from CPU time x TDP; the
reading names its method, so a measured and an estimated number are never confused."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from evalkit.energy import rapl
from evalkit.energy.estimate import estimated_joules


@dataclass(frozen=True)
class EnergyReading:
    joules: float
    method: str  # "nvml", "rapl", "nvml+rapl" or "estimate: ..."
    device: str
    seconds: float

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def _nvml_millijoules() -> dict[int, int] | None:
    """Total energy (mJ) per NVIDIA GPU since driver load, or None without pynvml / a GPU."""
    try:
        import pynvml

        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
        return {i: pynvml.nvmlDeviceGetTotalEnergyConsumption(pynvml.nvmlDeviceGetHandleByIndex(i))
                for i in range(count)} or None
    except Exception:  # not installed, no driver, or a GPU without the counter (pre-Volta)
        return None


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class EnergyMeter:
    def start(self) -> "EnergyMeter":
        self._t0, self._cpu0 = time.monotonic(), _cpu_seconds()
        self._nvml0, self._rapl0 = _nvml_millijoules(), rapl.read_counters()
        return self

    def stop(self) -> EnergyReading:
        seconds = time.monotonic() - self._t0
        parts: dict[str, float] = {}
        nvml1 = _nvml_millijoules()
        if self._nvml0 and nvml1 and set(self._nvml0) == set(nvml1):
            parts["nvml"] = sum(nvml1[i] - self._nvml0[i] for i in nvml1) / 1000.0
        rapl_joules = rapl.joules_between(self._rapl0, rapl.read_counters())
        if rapl_joules is not None:
            parts["rapl"] = rapl_joules
        if parts:
            device = "+".join({"nvml": "gpu", "rapl": "cpu-package"}[k] for k in parts)
            return EnergyReading(sum(parts.values()), "+".join(parts), device, seconds)
        joules, method = estimated_joules(_cpu_seconds() - self._cpu0, seconds)
        return EnergyReading(joules, method, "cpu", seconds)
