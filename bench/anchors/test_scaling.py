"""Sampling-free tests of bench/bench_scaling.py: the N-channel world, growth exponents, the fragment.

.venv/bin/pytest -q bench/anchors/test_scaling.py
"""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from bench import bench_scaling as bs


def test_scaling_world_has_n_channels_and_daily_dates():
    w = bs.scaling_world(4, 30, "D")
    assert list(w.graph.spend_nodes) == [f"ch0{i}_spend" for i in range(4)]
    assert len(w.data) == 30 and (pd.Timestamp(w.data["date"].iloc[1]) - pd.Timestamp(w.data["date"].iloc[0])).days == 1
    effects = w.true_effects()
    assert all(effects[c]["roas"] > 0 for c in w.graph.spend_nodes)  # every channel sells something


def _row(method: str, ch: int, per: int, secs: float | None, freq: str = "W") -> dict:
    return {"method": method, "channels": ch, "periods": per, "freq": freq, "seconds": secs, "peak_rss_mb": 100.0 * ch, "load": 2.0}


def test_growth_exponent_is_the_log_log_slope():
    rows = [_row("causal_nutpie", c, 156, 2.0 * c) for c in (3, 10, 30)] + [_row("pmm_nutpie", c, 156, 0.5 * c**2) for c in (3, 10, 30)]
    sl = bs.slopes(rows, "channels")
    assert sl["causal_nutpie"] == pytest.approx(1.0) and sl["pmm_nutpie"] == pytest.approx(2.0)


def test_fragment_has_ratio_and_marks_failed_fits(tmp_path):
    rows = [_row("causal_nutpie", 3, 156, 30.0), _row("pmm_nutpie", 3, 156, 15.0), _row("causal_nutpie", 30, 156, None)]
    rows[-1]["note"] = "timeout after 900 s"
    text = bs.fragment(rows, argparse.Namespace(draws=200, tune=200, chains=2), "python bench/bench_scaling.py")
    assert "| causalmmm (nutpie) / pymc-marketing 1.3 (nutpie) | 3 | 156 weeks | 2 |" in text
    assert "timeout after 900 s" in text and "not run" in text
    fig = bs.plot(rows, tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 0 and len(fig.axes) == 4


def test_parse_config_reads_grid_points_and_rejects_typos():
    from causalmmm.errors import CausalMMMError

    assert bs.parse_config("3x1500D") == (3, 1500, "D") and bs.parse_config("30x156w") == (30, 156, "W")
    with pytest.raises(CausalMMMError, match="3x156W"):
        bs.parse_config("3-156")
