"""How many documents a 0/1 metric needs for the gate to detect a drop: the one-sided paired test of
evalkit.stats.margins (Tango's score test; McNemar's at tolerance 0) in its normal approximation.

Each document's drop X is 1 (right in the baseline, wrong in the candidate), -1 (the reverse) or 0, so
with p10 = P(X = 1), p01 = P(X = -1), the drop is D = p10 - p01, the discordance psi = p10 + p01 and
Var(X) = psi - D^2. The gate fails a row when Z = (sum X - n t) / sqrt(n (psi - t^2)) > z_{1-alpha}
(t the tolerance: the null's variance at drop t). Under a true drop D the sum has mean n D and variance
n (psi - D^2), so

    power(n) = Phi((sqrt(n) (D - t) - z_{1-alpha} sqrt(psi - t^2)) / sqrt(psi - D^2))
    n        = ((z_{1-alpha} sqrt(psi - t^2) + z_power sqrt(psi - D^2)) / (D - t))^2

(Connor 1987 at t = 0). A drop D needs at least D of the documents to be discordant, so psi below D is
raised to D (the fewest flips that make the drop).
"""

from __future__ import annotations

import math

from scipy import stats as _st

__all__ = ["DEFAULT_DISCORDANCE", "paired_drop_documents", "paired_drop_power"]

DEFAULT_DISCORDANCE = 0.2  # the share of documents two runs of one model family score differently, when not measured


def _checked(drop: float, discordance: float, tolerance: float, alpha: float) -> float:
    """The discordance to use (at least the drop); ValueError for values outside their ranges."""
    if not 0.0 < drop < 1.0:
        raise ValueError(f"the drop must lie strictly between 0 and 1; got {drop!r}")
    if not 0.0 <= tolerance < drop:
        raise ValueError(f"the tolerance must be >= 0 and below the drop {drop!r}; got {tolerance!r}")
    if not 0.0 <= discordance <= 1.0:
        raise ValueError(f"the discordance is a fraction of documents in [0, 1]; got {discordance!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")
    return max(discordance, drop)


def paired_drop_documents(drop: float, discordance: float, *, alpha: float = 0.05, power: float = 0.8,
                          tolerance: float = 0.0) -> int:
    """The documents that give `power` to detect a true drop `drop` (module docstring)."""
    psi = _checked(drop, discordance, tolerance, alpha)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must lie strictly between 0 and 1; got {power!r}")
    z_alpha, z_power = float(_st.norm.ppf(1.0 - alpha)), float(_st.norm.ppf(power))
    root = z_alpha * math.sqrt(psi - tolerance ** 2) + z_power * math.sqrt(max(0.0, psi - drop ** 2))
    return max(1, math.ceil((root / (drop - tolerance)) ** 2))


def paired_drop_power(n: int, drop: float, discordance: float, *, alpha: float = 0.05,
                      tolerance: float = 0.0) -> float:
    """The chance that n documents detect a true drop `drop` (module docstring)."""
    psi = _checked(drop, discordance, tolerance, alpha)
    spread = math.sqrt(max(0.0, psi - drop ** 2))
    shift = math.sqrt(n) * (drop - tolerance) - float(_st.norm.ppf(1.0 - alpha)) * math.sqrt(psi - tolerance ** 2)
    if spread == 0.0:
        return 1.0 if shift > 0 else 0.0
    return float(_st.norm.cdf(shift / spread))
