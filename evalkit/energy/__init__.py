"""Energy of a piece of work: measured (NVML on NVIDIA GPUs, RAPL powercap counters) or estimated."""

from evalkit.energy.meter import EnergyMeter, EnergyReading

__all__ = ["EnergyMeter", "EnergyReading"]
