"""Number and text formatting shared by every renderer, so all formats show the same figures."""

from __future__ import annotations

import math
from typing import Any

MISSING = "n/a"
NOT_ESTIMABLE = "n/e"  # a statistic that was computed but the data cannot support (zero variance, n < 2)


def is_missing(value: Any) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(value: Any, digits: int = 3) -> str:
    """A metric value with fixed decimals."""
    return MISSING if is_missing(value) else f"{float(value):.{digits}f}"


def fmt_signed(value: Any, digits: int = 3) -> str:
    """A difference with an explicit sign."""
    return MISSING if is_missing(value) else f"{float(value):+.{digits}f}"


def fmt_delta(delta: Any, low: Any, high: Any) -> str:
    """'+0.012 [-0.010, +0.034]', or the bare difference when there is no interval."""
    if is_missing(low) or is_missing(high):
        return fmt_signed(delta)
    return f"{fmt_signed(delta)} [{fmt_signed(low)}, {fmt_signed(high)}]"


def fmt_p(p: Any) -> str:
    """A p-value: three decimals, '<0.001' below that."""
    if is_missing(p):
        return MISSING
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def fmt_estimate(value: Any, low: Any, high: Any, n: Any) -> str:
    """'0.610 ± 0.032 (n=872)': the value with the half-width of its interval and its n."""
    text = fmt_value(value)
    if not (is_missing(low) or is_missing(high)):
        text += f" ± {(float(high) - float(low)) / 2:.3f}"
    if not is_missing(n):
        text += f" (n={int(n)})"
    return text


def fmt_mde(value: Any, tested: bool) -> str:
    """A minimum detectable difference: 'n/e' (not estimable) on a tested row, 'n/a' on an untested one."""
    if is_missing(value):
        return NOT_ESTIMABLE if tested else MISSING
    return fmt_value(value)


def fmt_given(value: Any) -> str:
    """A user-given threshold (--max-drop, --alpha) as given: the shortest text that reads back as the
    same float, so 0.4999999 is never echoed as 0.5 ('g' keeps 6 digits)."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    text = repr(number)
    return text[:-2] if text.endswith(".0") else text


def fmt_count(value: Any) -> str:
    """An integer count."""
    return MISSING if is_missing(value) else str(int(value))


def tail_text(text: Any, limit: int = 240) -> str:
    """The end of a long text (a few-shot prompt's question is at its end), marked with '…'."""
    text = "" if is_missing(text) else str(text)
    return text if len(text) <= limit else "…" + text[-limit:]


def correction_name(method: str) -> str:
    """Display name of a p-value correction."""
    return {"holm": "Holm", "bh": "Benjamini-Hochberg"}.get(method, method)


def printable(text: Any) -> str:
    """`text` with control characters (terminal escapes, newlines, tabs) shown as \\x1b-style escapes:
    stored names and commands come from other people's stores and must not drive the terminal."""
    import unicodedata

    value = "" if text is None else str(text)
    return "".join(c if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") else repr(c)[1:-1] for c in value)


def literal(text: Any) -> Any:
    """A rich Text of printable(text): never read as markup ('[red]x' stays '[red]x')."""
    from rich.text import Text

    return Text(printable(text))
