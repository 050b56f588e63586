"""The pymc-marketing benchmark adapter (bench/flat_mmm.py). Skipped unless the bench extra is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from seeds import seeded

pytest.importorskip("pymc_marketing")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.flat_mmm import _synthetic, fit_flat_mmm, lift_rows_from_experiments  # noqa: E402


def _frame() -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=10, freq="W-MON")
    return pd.DataFrame({"date": dates, "tv": np.arange(10, dtype=float) * 10 + 100, "sales": 1000.0})


def test_lift_rows_per_period_original_units():
    df = _frame()
    exps = [
        {
            "name": "a",
            "treatment": "tv",
            "intervention": "off",
            "measured": "sales",
            "start": "2024-01-08",
            "end": "2024-01-22",
            "estimate": -300.0,
            "se": 30.0,
            "unit": "total",
        },
        {
            "name": "b",
            "treatment": "tv",
            "intervention": {"scale": 1.5},
            "measured": "sales",
            "start": "2024-01-01",
            "end": "2024-01-08",
            "estimate": 40.0,
            "se": 4.0,
            "unit": "per_period",
        },
        {
            "name": "clicks",
            "treatment": "tv",
            "intervention": "off",
            "measured": ["tv_clicks"],
            "start": "2024-01-01",
            "end": "2024-01-08",
            "estimate": -5.0,
            "se": 1.0,
            "unit": "per_period",
        },
    ]
    rows, skipped = lift_rows_from_experiments(exps, df)
    assert [s["name"] for s in skipped] == ["clicks"]
    a = rows.set_index("name").loc["a"]
    # window = weeks 1..3: spend 110, 120, 130 -> mean 120; total estimate over 3 periods -> per period
    assert a["x"] == pytest.approx(120.0) and a["delta_x"] == pytest.approx(-120.0)
    assert a["delta_y"] == pytest.approx(-100.0) and a["sigma"] == pytest.approx(10.0)
    b = rows.set_index("name").loc["b"]
    assert b["x"] == pytest.approx(105.0) and b["delta_x"] == pytest.approx(52.5)
    assert b["delta_y"] == pytest.approx(40.0) and b["sigma"] == pytest.approx(4.0)


def test_lift_rows_skip_wrong_sign_and_missing_estimate():
    df = _frame()
    exps = [
        {
            "name": "pos",
            "treatment": "tv",
            "intervention": "off",
            "measured": "sales",
            "start": "2024-01-01",
            "end": "2024-01-08",
            "estimate": 5.0,
            "se": 10.0,
            "unit": "per_period",
        },
        {"name": "raw", "treatment": "tv", "intervention": "off", "measured": "sales", "start": "2024-01-01", "end": "2024-01-08", "unit": "per_period"},
    ]
    rows, skipped = lift_rows_from_experiments(exps, df)
    assert rows.empty and {s["name"] for s in skipped} == {"pos", "raw"}


@pytest.mark.slow
def test_fit_flat_mmm_tiny():
    df, truth, exps = _synthetic(seed=seeded(0), n=60)
    lift, _ = lift_rows_from_experiments(exps, df)
    res = fit_flat_mmm(
        df,
        channels=["tv", "social", "search"],
        controls=["demand"],
        lift_tests=lift,
        draws=40,
        tune=40,
        chains=2,
        seed=seeded(0),
        config_name="lift_calibrated",
    )
    assert res.config == "lift_calibrated" and res.n_lift_rows == 3
    assert set(res.roas_draws) == {"tv", "social", "search"}
    assert all(d.shape == (80,) and np.all(np.isfinite(d)) for d in res.roas_draws.values())
    assert res.fit_seconds > 0 and res.divergences >= 0
