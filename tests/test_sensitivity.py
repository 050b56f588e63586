"""Robustness values to hidden confounding, checked against OLS t-statistics (no sampling)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from causalmmm.data import load_data
from causalmmm.errors import QueryError
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.query.do import PosteriorSCM
from causalmmm.query.sensitivity import WEAK_RV, channel_sensitivity, coefficient_draws, n_terms, robustness_value, sensitivity, sensitivity_warnings
from causalmmm.spec import build_spec

T = 156
LINEAR = {"adstock": "none", "saturation": "none"}


def rv_closed_form(t: float, dof: float, q: float) -> float:
    """Cinelli & Hazlett (2020): RV_q = (sqrt(f_q^4 + 4 f_q^2) - f_q^2) / 2, f_q = q |t| / sqrt(dof)."""
    fq = q * abs(t) / math.sqrt(dof)
    return 0.5 * (math.sqrt(fq**4 + 4 * fq**2) - fq**2)


def world(b_m1: float = 1.0, b_m2: float = 0.3, seed: int = 0) -> tuple[CausalGraph, pd.DataFrame]:
    """x (spend) -> m1, x -> m2 (mediators), z (control) -> m1; m1, m2 -> y. Linear, Gaussian noise."""
    rng = np.random.default_rng(seed)
    x = rng.gamma(4.0, 250.0, T)
    z = 50 + 10 * rng.standard_normal(T)
    m1 = 100 + b_m1 * x + 3.0 * z + 300 * rng.standard_normal(T)
    m2 = 200 + b_m2 * x + 300 * rng.standard_normal(T)
    y = 500 + 2.0 * m1 + 1.0 * m2 + 200 * rng.standard_normal(T)
    frame = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=T, freq="W-MON"), "x": x, "z": z, "m1": m1, "m2": m2, "y": y})
    g = (
        CausalGraph("t")
        .add_node("x", "spend")
        .add_node("z", "control")
        .add_node("m1", "mediator")
        .add_node("m2", "mediator")
        .add_node("y", "outcome")
        .add_edge("x", "m1", **LINEAR)
        .add_edge("x", "m2", **LINEAR)
        .add_edge("z", "m1")
        .add_edge("m1", "y")
        .add_edge("m2", "y")
    )
    return g.validate(), frame


def ols_scm(g: CausalGraph, frame: pd.DataFrame, n_draws: int = 400) -> tuple[PosteriorSCM, dict]:
    """A PosteriorSCM whose draws have exactly the OLS estimate as mean and the OLS covariance (scaled units)."""
    data = load_data(frame).validate_against(g)
    spec = build_spec(g, data, trend=False, seasonality=0)
    rng = np.random.default_rng(1)
    draws, fits = {}, {}
    for node in spec.nodes:
        X = sm.add_constant(np.column_stack([data.column(p) / spec.scales[p] for p in node.parents]))
        res = sm.OLS(data.column(node.name) / spec.scales[node.name], X).fit()
        fits[node.name] = res
        z = rng.standard_normal((n_draws, X.shape[1]))
        z -= z.mean(axis=0)
        z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)  # exactly mean 0, covariance I (ddof=1)
        beta = res.params + z @ np.linalg.cholesky(res.cov_params()).T
        draws[f"{node.name}|intercept"] = beta[:, 0]
        draws[f"{node.name}|sigma"] = np.full(n_draws, math.sqrt(res.scale))
        for j, p in enumerate(node.parents):
            draws[f"{node.name}|{p}|beta"] = beta[:, j + 1]
    return PosteriorSCM(spec, data, draws, ("x",)), fits


def test_robustness_value_matches_published_example():
    # sensemakr/tipr documentation: r_value(estimate 0.5, se 0.1, df 102) = 0.387467
    assert robustness_value(5.0, 102) == pytest.approx(0.387467, abs=1e-6)
    assert robustness_value(5.0, 102, q=0.5) == pytest.approx(rv_closed_form(5.0, 102, 0.5), rel=1e-12)
    assert robustness_value(0.0, 100) == 0.0 and robustness_value(math.inf, 100) == 1.0


def test_rv_equals_closed_form_from_ols_t_statistics():
    g, frame = world()
    scm, fits = ols_scm(g, frame)
    out = channel_sensitivity(scm, "x")
    by_edge = {lk["edge"]: lk for lk in out["links"]}
    for node in ("m1", "m2"):
        res = fits[node]
        t_ols, dof = float(res.tvalues[1]), int(res.df_resid)  # x is the first regressor of m1 and m2
        lk = by_edge[f"x -> {node}"]
        assert lk["dof"] == dof == T - n_terms(scm.spec.node(node))
        assert lk["t"] == pytest.approx(t_ols, rel=1e-9)
        assert lk["robustness_value"]["break_even"] == pytest.approx(rv_closed_form(t_ols, dof, 1.0), rel=1e-9)
        assert lk["robustness_value"]["halve"] == pytest.approx(rv_closed_form(t_ols, dof, 0.5), rel=1e-9)
        assert lk["partial_r2"] == pytest.approx(t_ols**2 / (t_ols**2 + dof), rel=1e-9)
    # x -> m2 is the weaker first stage (0.3 vs 1.0 per unit spend, same noise): it is the weakest link
    assert out["weakest_link"] == "x -> m2"
    assert out["robustness_value"] == by_edge["x -> m2"]["robustness_value"]
    assert out["robustness_value"]["halve"] < out["robustness_value"]["break_even"]
    assert "x -> m2" in out["interpretation"] and "%" in out["interpretation"]
    assert set(sensitivity(scm)) == {"x"}


def test_stronger_effect_is_more_robust():
    weak = channel_sensitivity(ols_scm(*world(b_m1=1.0, b_m2=0.2))[0], "x")
    strong = channel_sensitivity(ols_scm(*world(b_m1=1.0, b_m2=0.6))[0], "x")
    assert weak["weakest_link"] == strong["weakest_link"] == "x -> m2"
    assert strong["robustness_value"]["break_even"] > weak["robustness_value"]["break_even"]
    assert strong["robustness_value"]["halve"] > weak["robustness_value"]["halve"]


def test_saturating_edge_uses_beta_ref():
    node = SimpleNamespace(name="m")
    edge = SimpleNamespace(source="x", saturation="hill")
    scm = SimpleNamespace(draws={"m|x|beta": np.array([5.0, 9.0]), "m|x|beta_ref": np.array([1.0, 2.0])})
    b, which = coefficient_draws(scm, node, edge)  # type: ignore[arg-type]
    assert which == "beta_ref" and list(b) == [1.0, 2.0]
    b, which = coefficient_draws(SimpleNamespace(draws={"m|x|beta": np.array([5.0, 9.0])}), node, edge)  # type: ignore[arg-type]
    assert which == "beta" and list(b) == [5.0, 9.0]


def test_channel_without_first_stage_is_an_error():
    scm, _ = ols_scm(*world())
    with pytest.raises(QueryError):
        channel_sensitivity(scm, "y")


def _result(t: float, dof: int = 150) -> dict:
    return {
        "x": {
            "robustness_value": {"break_even": robustness_value(t, dof), "halve": robustness_value(t, dof, 0.5)},
            "weakest_link": "x -> m",
            "t": t,
            "dof": dof,
        }
    }


def test_weak_to_confounding_fires_below_threshold():
    assert robustness_value(0.4, 150) < WEAK_RV
    (w,) = sensitivity_warnings(_result(0.4))
    assert (w.code, w.where, w.severity) == ("weak_to_confounding", "x -> m", "medium")


def test_weak_to_confounding_quiet_for_a_robust_effect():
    assert robustness_value(6.0, 150) > WEAK_RV
    assert sensitivity_warnings(_result(6.0)) == []
    scm, _ = ols_scm(*world(b_m2=1.0))
    assert sensitivity_warnings(sensitivity(scm)) == []
