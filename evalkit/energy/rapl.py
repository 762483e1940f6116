"""RAPL energy counters under /sys/class/powercap: one top-level zone per CPU package
(intel-rapl:N; its subzones intel-rapl:N:M are parts of it, not added). A counter wraps at
max_energy_range_uj; a zone whose files cannot be read (root-only on recent kernels) is skipped."""

from __future__ import annotations

import re
from pathlib import Path

POWERCAP_ROOT = Path("/sys/class/powercap")
_PACKAGE = re.compile(r"intel-rapl:\d+")


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def read_counters(root: Path | None = None) -> dict[str, tuple[int, int]]:
    """zone -> (energy_uj, max_energy_range_uj) for every readable package zone."""
    root = POWERCAP_ROOT if root is None else root
    counters: dict[str, tuple[int, int]] = {}
    try:
        zones = sorted(p for p in root.iterdir() if _PACKAGE.fullmatch(p.name))
    except OSError:
        return counters
    for zone in zones:
        energy, span = _read_int(zone / "energy_uj"), _read_int(zone / "max_energy_range_uj")
        if energy is not None and span is not None and span > 0:
            counters[zone.name] = (energy, span)
    return counters


def joules_between(start: dict[str, tuple[int, int]], stop: dict[str, tuple[int, int]]) -> float | None:
    """Energy over the zones readable at both ends (one wrap at most per zone), or None without any."""
    zones = sorted(set(start) & set(stop))
    if not zones:
        return None
    total_uj = 0
    for zone in zones:
        (before, span), (after, _) = start[zone], stop[zone]
        total_uj += after - before if after >= before else after + span - before
    return total_uj / 1e6
