"""The calibration contrast over its window plus memory span equals the contrast over every period."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalmmm.api import load_graph_and_data
from causalmmm.model.build import time_features
from causalmmm.model.calibration import contrast, contrast_periods, intervention_of, involved_nodes, memory_span
from causalmmm.model.equations import param_name, params_from_flat
from causalmmm.model.propagate import counterfactual_values
from causalmmm.spec import build_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "causalmmm" / "example"


@dataclass(frozen=True)
class Exp:
    name: str
    treatment: str
    intervention: object
    measured: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    unit: str = "total"
    use: str = "calibrate"
    estimate: float | None = 1.0
    se: float | None = 1.0
    likelihood: str = "normal"
    where: str = "test"
    has_result: bool = True


@pytest.fixture(scope="module")
def world():
    graph, data = load_graph_and_data(EXAMPLE / "graph.dot", EXAMPLE / "data.csv")
    spec = build_spec(graph, data)
    rng = np.random.default_rng(0)
    S, flat = 7, {}
    for n in spec.nodes:  # fixed parameter draws: the identity holds for any values
        flat[param_name(n.name, "intercept")] = rng.normal(0.2, 0.05, S)
        flat[param_name(n.name, "sigma")] = rng.uniform(0.05, 0.1, S)
        for e in n.edges:
            for k in e.param_names:
                shape = (S, e.n_lags) if k == "beta" and e.n_lags > 1 else (S,)
                flat[param_name(n.name, k, e.source)] = rng.uniform(0.3, 0.7, shape)
        if n.trend != "none":
            flat[param_name(n.name, "trend")] = rng.normal(0, 0.1, S)
        if n.seasonality:
            flat[param_name(n.name, "season")] = rng.normal(0, 0.1, (S, 2 * n.seasonality))
    params = {n.name: params_from_flat(n, flat) for n in spec.nodes}
    fact = {k: np.broadcast_to(data.column(k) / spec.scales[k], (S, spec.n_periods)) for k in spec.scales}
    return spec, data, params, fact


def full_contrast(spec, params, fact, e, mask, features):
    """The contrast computed over every period (the definition)."""
    changed = counterfactual_values(spec, params, fact, [intervention_of(e)], mask, features, np, only=involved_nodes(spec, e))
    total = sum(np.sum((changed[m] - fact[m]) * mask, axis=-1) * spec.scales[m] for m in e.measured if m in changed)
    return total / mask.sum() if e.unit == "per_period" else total


CASES = [
    ("brand off mid-data, measured on sales", "brand_spend", "off", ("sales",), "2023-10-16", "2023-11-20", "per_period"),
    ("ppc scaled, measured on clicks", "ppc_spend", {"scale": 1.2}, ("ppc_clicks", "seo_clicks"), "2023-02-27", "2023-04-17", "total"),
    ("social off in the first weeks (span clipped at 0)", "social_spend", "off", ("sales",), "2022-01-10", "2022-02-07", "total"),
    ("brand on (reads the whole series)", "brand_spend", "on", ("sales",), "2023-06-05", "2023-07-03", "total"),
]


@pytest.mark.parametrize("label, treatment, iv, measured, start, end, unit", CASES, ids=[c[0] for c in CASES])
def test_window_contrast_equals_full_contrast(world, label, treatment, iv, measured, start, end, unit):
    spec, data, params, fact = world
    e = Exp(label, treatment, iv, measured, pd.Timestamp(start), pd.Timestamp(end), unit)
    mask = data.window_mask(e.start, e.end)
    features = time_features(spec)
    got = contrast(spec, params, fact, e, mask, features, np)
    want = full_contrast(spec, params, fact, e, mask, features)
    assert np.all(np.abs(want) > 0)  # the case measures something
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * float(np.max(np.abs(want))))


def test_the_slice_is_the_window_plus_the_longest_memory(world):
    spec, data, _params, _fact = world
    e = Exp("brand", "brand_spend", "off", ("sales",), pd.Timestamp("2023-10-16"), pd.Timestamp("2023-11-20"))
    mask = data.window_mask(e.start, e.end)
    idx = np.flatnonzero(mask)
    span = memory_span(spec, involved_nodes(spec, e))
    assert span == 11  # brand_spend -> seo_clicks/direct_clicks: l_max 12, no lag
    assert contrast_periods(spec, e, mask) == slice(idx[0] - 11, idx[-1] + 1)
    on = Exp("brand on", "brand_spend", "on", ("sales",), e.start, e.end)
    assert contrast_periods(spec, on, mask) == slice(0, mask.size)
