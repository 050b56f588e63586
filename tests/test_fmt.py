"""causalmmm.fmt: significant digits at any scale (the doctests, plus properties over many magnitudes)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from causalmmm import fmt
from causalmmm.fmt import interval, num, pct, signed, signed_pct, with_hdi


def parse(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def test_doctests_pass():
    result = doctest.testmod(fmt)
    assert result.attempted >= 6 and result.failed == 0


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.3, "0.3"),
        (1234567.8, "1,234,568"),
        (3e7, "30,000,000"),
        (0.0003456, "0.000346"),
        (12.0, "12"),
        (0, "0"),
        (-1234.5, "-1,234"),
        (999.7, "1,000"),
        (0.09996, "0.1"),
        (1.5e-6, "1.5e-06"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_num_examples(x, text):
    assert num(x) == text


def test_num_keeps_significant_digits_at_every_scale():
    rng = np.random.default_rng(0)
    for x in rng.uniform(1, 10, 200) * 10.0 ** rng.integers(-9, 12, 200) * rng.choice([-1, 1], 200):
        text = num(x)
        assert text not in ("0", "-0")
        assert abs(parse(text) - x) <= 0.005 * abs(x) + 1e-300, (x, text)  # 3 significant digits: half a unit in the 3rd digit


def test_the_same_mantissa_prints_the_same_digits_at_any_scale():
    digits = lambda t: t.replace(",", "").replace(".", "").replace("-", "").split("e")[0].strip("0")  # noqa: E731
    for scale in (1e-7, 1e-3, 1.0, 100.0):
        assert digits(num(2.3456 * scale)) == "235"
    assert num(2.3456e6) == "2,345,600"  # large values print whole: never fewer digits, never 2.35e+06


def test_signed_pct_and_interval():
    assert signed(0.0004) == "+0.0004" and signed(-3e7) == "-30,000,000" and signed(None) == "n/a"
    assert pct(0.00012) == "0.012%" and pct(None) == "n/a"
    assert signed_pct(0.0012) == "+0.12%" and signed_pct(-0.5) == "-50%"
    assert interval(0.001, 0.002) == "[0.001, 0.002]"
    assert with_hdi({"mean": 0.3, "hdi_low": 0.25, "hdi_high": 0.35}) == "0.3 [0.25, 0.35]"


def test_sig_argument():
    assert num(3.14159, sig=2) == "3.1" and num(3.14159, sig=5) == "3.1416" and num(123456, sig=2) == "123,456"
