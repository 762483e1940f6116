"""The documents the gate needs to detect a paired drop (evalkit.stats.sample_size), checked against
Connor's closed form and a simulation of the gate's own test (Tango's score test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.stats.margins import binary_margin_test
from evalkit.stats.sample_size import paired_drop_documents, paired_drop_power


def test_connor_closed_form_at_tolerance_zero() -> None:
    # psi = 0.3, D = 0.1: ((1.6449 sqrt(.3) + 0.8416 sqrt(.29)) / .1)^2 = 183.4
    assert paired_drop_documents(0.1, 0.3) == 184
    assert paired_drop_power(184, 0.1, 0.3) == pytest.approx(0.8, abs=0.005)


def test_a_discordance_below_the_drop_is_raised_to_it() -> None:
    assert paired_drop_documents(0.3, 0.0) == paired_drop_documents(0.3, 0.3)


@pytest.mark.parametrize("drop, discordance, tolerance", [(0.05, 0.15, 0.0), (0.08, 0.2, 0.02)])
def test_the_designed_power_is_what_the_gate_test_delivers(drop: float, discordance: float, tolerance: float) -> None:
    n = paired_drop_documents(drop, discordance, tolerance=tolerance)
    rng = np.random.default_rng(0)
    p10, p01 = (discordance + drop) / 2, (discordance - drop) / 2
    counts = rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=2000)
    fails = [binary_margin_test(int(w), int(b), n, tolerance, 0.05, bounds=False).p_fail < 0.05 for w, b, _ in counts]
    assert float(np.mean(fails)) == pytest.approx(0.8, abs=0.04)
    assert not math.isclose(n, paired_drop_documents(drop, discordance, tolerance=tolerance, power=0.9))
