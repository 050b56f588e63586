"""One way to print numbers: significant digits kept at any data scale.

Spend can be 0.3 (0-1 scaled data) or 3e7; a format like ``{:,.0f}`` prints the
first as "0". Every human-readable number in CLI text, the report and the
narrative goes through :func:`num` (or :func:`signed`, :func:`pct`).
"""

from __future__ import annotations

import math

SIG = 3


def num(x: float | int | None, sig: int = SIG) -> str:
    """``x`` with ``sig`` significant digits, thousands separators for large values.

    >>> num(1234567.8), num(0.0003456), num(0.3), num(12.0), num(0)
    ('1,234,568', '0.000346', '0.3', '12', '0')
    """
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= sig - 1:  # an integer part with at least `sig` digits: no decimals
        return f"{x:,.0f}"
    if abs(x) < 1e-4:
        return f"{x:.{sig - 1}e}"
    decimals = sig - 1 - mag
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def signed(x: float | int | None, sig: int = SIG) -> str:
    """Like :func:`num` with an explicit sign (``+12.3``, ``-0.04``, ``0``)."""
    if x is None:
        return "n/a"
    text = num(x, sig)
    return text if text.startswith("-") or text in ("0", "nan") else f"+{text}"


def pct(share: float | None, sig: int = 2) -> str:
    """A share (0.123 → ``12%``) keeping ``sig`` significant digits for small shares (0.0012 → ``0.12%``)."""
    if share is None:
        return "n/a"
    return f"{num(100.0 * float(share), sig)}%"


def interval(low: float, high: float, sig: int = SIG) -> str:
    """``[low, high]`` with :func:`num`."""
    return f"[{num(low, sig)}, {num(high, sig)}]"
