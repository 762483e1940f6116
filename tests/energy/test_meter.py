"""The energy meter: RAPL counters from a fake powercap tree (wrap-around, unreadable zones,
subzones not added), and the CPU-time x TDP estimate with its method named."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.energy import EnergyMeter, rapl
from evalkit.energy import estimate, meter
from evalkit.errors import InputError


def zone(root: Path, name: str, energy: int, span: int = 1_000_000_000) -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "energy_uj").write_text(f"{energy}\n")
    (d / "max_energy_range_uj").write_text(f"{span}\n")
    return d


@pytest.fixture
def powercap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "powercap"
    root.mkdir()
    monkeypatch.setattr(rapl, "POWERCAP_ROOT", root)
    monkeypatch.setattr(meter, "_nvml_millijoules", lambda: None)
    return root


def test_package_zones_are_summed_across_a_wrap_and_subzones_are_not_added(powercap: Path) -> None:
    zone(powercap, "intel-rapl:0", 999_000_000)  # 1,000 J before its wrap at 1e9 uJ
    zone(powercap, "intel-rapl:1", 5_000_000)
    zone(powercap, "intel-rapl:0:0", 0)  # core subzone: part of package 0
    m = EnergyMeter().start()
    zone(powercap, "intel-rapl:0", 2_000_000)  # wrapped: 1 J + 2 J
    zone(powercap, "intel-rapl:1", 9_000_000)  # 4 J
    zone(powercap, "intel-rapl:0:0", 500_000_000)
    reading = m.stop()
    assert reading.method == "rapl" and reading.device == "cpu-package"
    assert reading.joules == pytest.approx(7.0) and reading.seconds >= 0


def deny(monkeypatch: pytest.MonkeyPatch, zone_name: str) -> None:
    """Reading zone_name's energy_uj raises PermissionError, as for a non-root user on recent kernels."""
    real = Path.read_text

    def read_text(self: Path, *a, **k) -> str:
        if self.parent.name == zone_name and self.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", read_text)


def test_unreadable_zones_are_skipped_and_without_any_the_estimate_is_named(powercap: Path, monkeypatch) -> None:
    monkeypatch.setenv(estimate.TDP_ENV, "100")
    zone(powercap, "intel-rapl:0", 1_000)
    zone(powercap, "intel-rapl:1", 2_000)
    (powercap / "intel-rapl:1" / "energy_uj").write_text("not a number\n")
    deny(monkeypatch, "intel-rapl:0")
    assert rapl.read_counters() == {}
    reading = EnergyMeter().start().stop()
    assert reading.method.startswith("estimate: cpu-time share x TDP 100 W") and reading.device == "cpu"
    assert reading.joules >= 0


def test_a_zone_readable_at_one_end_only_is_not_counted(powercap: Path, monkeypatch) -> None:
    zone(powercap, "intel-rapl:0", 1_000_000)
    zone(powercap, "intel-rapl:1", 1_000_000)
    m = EnergyMeter().start()
    zone(powercap, "intel-rapl:0", 3_000_000)
    deny(monkeypatch, "intel-rapl:1")
    assert m.stop().joules == pytest.approx(2.0)


def test_the_estimate_is_the_cpu_time_share_of_the_tdp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(estimate.TDP_ENV, "120")
    # 4 CPU-seconds over 10 wall seconds on 8 cores: share 0.05 x 120 W x 10 s = 60 J
    joules, method = estimate.estimated_joules(4.0, 10.0, cores=8)
    assert joules == pytest.approx(60.0) and "TDP 120 W" in method and estimate.TDP_ENV in method


def test_the_tdp_comes_from_the_table_or_a_named_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(estimate.TDP_ENV, raising=False)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\n")
    assert estimate.processor_name(cpuinfo) == "AMD EPYC 7763 64-Core Processor"
    monkeypatch.setattr(estimate, "processor_name", lambda: "AMD EPYC 7763 64-Core Processor")
    assert estimate.cpu_tdp() == (280.0, "table: AMD EPYC 7763 64-Core Processor")
    monkeypatch.setattr(estimate, "processor_name", lambda: "Some CPU")
    assert estimate.cpu_tdp() == (estimate.DEFAULT_TDP_WATTS, "default for Some CPU")


@pytest.mark.parametrize("bad", ["0", "-5", "lots"])
def test_a_bad_tdp_setting_is_an_input_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(estimate.TDP_ENV, bad)
    with pytest.raises(InputError, match=estimate.TDP_ENV):
        estimate.cpu_tdp()
