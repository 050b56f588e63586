"""One way to print numbers: significant digits kept at any data scale.

Spend can be 0.3 (0-1 scaled data) or 3e7; a format like ``{:,.0f}`` prints the
first as "0". Every human-readable number in CLI text, the report and the
narrative goes through :func:`num` (or :func:`signed`, :func:`pct`,
:func:`interval`, :func:`with_hdi`). JSON outputs keep full floats.
"""

from __future__ import annotations

import math
from typing import Mapping

SIG = 3
#: Below this magnitude :func:`num` switches to scientific notation.
SCI_BELOW = 1e-4


def num(x: float | int | None, sig: int = SIG) -> str:
    """``x`` with ``sig`` significant digits, thousands separators for large values.

    Values with at least ``sig`` integer digits are printed whole (never in
    scientific notation); trailing zeros after the decimal point are dropped.

    >>> num(1234567.8), num(0.0003456), num(0.3), num(12.0), num(0)
    ('1,234,568', '0.000346', '0.3', '12', '0')
    >>> num(0.00001234), num(1e-5), num(-2.5e-7), num(99.97), num(None)
    ('1.23e-05', '1e-05', '-2.5e-07', '100', 'n/a')
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
    if abs(x) < SCI_BELOW:
        mantissa, exponent = f"{x:.{sig - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{exponent}"
    decimals = sig - 1 - mag
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def signed(x: float | int | None, sig: int = SIG) -> str:
    """Like :func:`num` with an explicit sign.

    >>> signed(12.34), signed(-0.04), signed(0), signed(0.00002)
    ('+12.3', '-0.04', '0', '+2e-05')
    """
    if x is None:
        return "n/a"
    text = num(x, sig)
    return text if text.startswith("-") or text in ("0", "nan") else f"+{text}"


def pct(share: float | None, sig: int = 2) -> str:
    """A share as a percentage with ``sig`` significant digits.

    >>> pct(0.123), pct(0.0012), pct(1.0), pct(0.41)
    ('12%', '0.12%', '100%', '41%')
    """
    if share is None:
        return "n/a"
    return f"{num(100.0 * float(share), sig)}%"


def signed_pct(share: float | None, sig: int = 2) -> str:
    """A relative change as a signed percentage: ``+4.1%``, ``-0.032%``."""
    if share is None:
        return "n/a"
    return f"{signed(100.0 * float(share), sig)}%"


def interval(low: float, high: float, sig: int = SIG) -> str:
    """``[low, high]`` with :func:`num`.

    >>> interval(0.0123, 0.456)
    '[0.0123, 0.456]'
    """
    return f"[{num(low, sig)}, {num(high, sig)}]"


def with_hdi(s: Mapping[str, float], sig: int = SIG) -> str:
    """``mean [low, high]`` from a Summary dict (``mean``, ``hdi_low``, ``hdi_high``).

    >>> with_hdi({"mean": 2.314, "hdi_low": 1.9, "hdi_high": 2.71})
    '2.31 [1.9, 2.71]'
    """
    return f"{num(s['mean'], sig)} {interval(s['hdi_low'], s['hdi_high'], sig)}"
