"""Refutations: verdict rules on constructed estimates, the machinery with least-squares refits, one seeded Laplace run."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from seeds import seeded

from causalmmm.data import load_data
from causalmmm.errors import QueryError
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.query.do import PosteriorSCM
from causalmmm.spec import build_spec
from causalmmm.validation import refute as rf
from causalmmm.validation.refute import (
    Estimate,
    Refutation,
    RefutationReport,
    common_cause_spec,
    common_cause_verdict,
    merge_draws,
    placebo_series,
    placebo_verdict,
    refute,
    roas_draws,
    subset_verdict,
)

LINEAR = {"adstock": "none", "saturation": "none"}


def est(mean: float, sd: float, lo: float | None = None, hi: float | None = None) -> Estimate:
    return Estimate(mean, sd, mean - 2 * sd if lo is None else lo, mean + 2 * sd if hi is None else hi)


# ---------------------------------------------------------------- verdicts
def test_placebo_verdict():
    real = est(2.0, 0.2)
    assert placebo_verdict(est(0.05, 0.1), real)[0] == "pass"  # 0 inside the HDI
    assert placebo_verdict(est(0.3, 0.1, lo=0.15, hi=0.5), real)[0] == "pass"  # HDI reaches the ±10% band (0.2)
    assert placebo_verdict(est(0.15, 0.01, lo=0.14, hi=0.16), real)[0] == "pass"  # narrow but |mean| < 10% of the real ROAS
    assert placebo_verdict(est(0.6, 0.1, lo=0.4, hi=0.8), real)[0] == "fail"  # confidently away from zero
    assert placebo_verdict(est(-0.6, 0.1, lo=-0.8, hi=-0.4), real)[0] == "fail"
    assert placebo_verdict(Estimate.of(np.array([np.nan])), real)[0] == "fail"
    assert "94% HDI" in placebo_verdict(est(0.0, 1.0), real)[1]


def test_common_cause_verdict():
    ref = est(1.0, 0.2)
    assert common_cause_verdict(est(1.05, 0.2), ref)[0] == "pass"  # shift 0.25 sd
    assert common_cause_verdict(est(0.85, 0.2), ref)[0] == "fail"  # shift 0.75 sd
    assert common_cause_verdict(est(1.2, 0.2), ref)[0] == "fail"


def test_subset_verdict():
    ref = est(1.0, 0.1)
    assert subset_verdict(est(1.3, 0.2), ref)[0] == "pass"  # z = 0.3 / 0.224 = 1.34
    assert subset_verdict(est(1.5, 0.2), ref)[0] == "fail"  # z = 2.24
    assert subset_verdict(est(1.0, 0.0), est(1.0, 0.0))[0] == "pass"


def test_estimate_drops_non_finite_draws():
    e = Estimate.of(np.array([1.0, 2.0, 3.0, np.inf, np.nan]))
    assert e.mean == 2.0 and e.sd == pytest.approx(1.0) and e.finite


def test_report_dict_text_html_and_warnings():
    ok = Refutation("random_common_cause", "x", est(1.0, 0.1), est(1.0, 0.1), "pass", "rule a")
    bad = Refutation("placebo_treatment", "x", est(0.9, 0.1), est(1.0, 0.1), "fail", "rule b", "x permuted")
    rep = RefutationReport([ok, bad])
    d = rep.to_dict()
    assert [r["verdict"] for r in d["refutations"]] == ["pass", "fail"] and d["summary"] == {"n": 2, "n_pass": 1}
    assert set(d["refutations"][1]) >= {"name", "channel", "estimate", "reference", "verdict", "rule"}
    assert set(d["refutations"][1]["estimate"]) >= {"mean", "hdi_low", "hdi_high"}
    (w,) = rep.warnings()
    assert (w.code, w.where, w.severity) == ("refutation_failed", "x", "high") and "placebo" in w.message
    assert "1/2 refutations passed" in rep.to_text() and "<table" in rep._repr_html_()
    assert not rep.passed and RefutationReport([ok]).warnings() == []


# ---------------------------------------------------------------- pieces
def test_placebo_series_keeps_values_and_breaks_timing():
    x = np.arange(40, dtype=float)
    p = placebo_series(x, np.random.default_rng(0), "permute", block=8)
    assert sorted(p) == sorted(x) and not np.array_equal(p, x)
    assert all(np.all(np.diff(p[i : i + 8]) == 1) for i in range(0, 40, 8))  # whole blocks moved: autocorrelation kept inside
    s = placebo_series(x, np.random.default_rng(0), "shift")
    assert s[20] == 0 and sorted(s) == sorted(x)
    with pytest.raises(QueryError):
        placebo_series(x, np.random.default_rng(0), "shuffle")


def test_merge_draws_resamples_reference_and_keeps_refit():
    ref = {"a|beta": np.arange(10.0), "b|beta": np.arange(10.0) * 2}
    out = merge_draws(ref, {"b|beta": np.full(4, 7.0)}, seed=1)
    assert len(out["a|beta"]) == 4 and np.all(out["b|beta"] == 7.0)
    assert set(out["a|beta"]) <= set(range(10))


# ---------------------------------------------------------------- the machinery, with least-squares refits
def toy(b_second_half: float = 2.0, seed: int = 0) -> tuple[CausalGraph, pd.DataFrame]:
    """x (spend) -> m -> y, z (control) -> y; the effect of x on m is 2 per unit (or changes halfway)."""
    rng = np.random.default_rng(seed)
    T = 156
    x = rng.gamma(4.0, 250.0, T)
    z = 50 + 10 * rng.standard_normal(T)
    b = np.where(np.arange(T) < T // 2, 2.0, b_second_half)
    m = 300 + b * x + 150 * rng.standard_normal(T)
    y = 1000 + 1.5 * m + 20 * z + 200 * rng.standard_normal(T)
    frame = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=T, freq="W-MON"), "x": x, "z": z, "m": m, "y": y})
    g = (
        CausalGraph("toy")
        .add_node("x", "spend")
        .add_node("z", "control")
        .add_node("m", "mediator")
        .add_node("y", "outcome")
        .add_edge("x", "m", **LINEAR)
        .add_edge("m", "y")
        .add_edge("z", "y")
    )
    return g.validate(), frame


def ols_draws(spec, data, config=None, experiments=(), n_draws: int = 400) -> dict[str, np.ndarray]:
    """Least-squares stand-in for a fit: draws from N(OLS estimate, OLS covariance) per node (linear edges only)."""
    rng = np.random.default_rng(0)
    out = {}
    for node in spec.nodes:
        X = np.column_stack([np.ones(spec.n_periods)] + [data.column(p) / spec.scales[p] for p in node.parents])
        y = data.column(node.name) / spec.scales[node.name]
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ coef
        s2 = float(resid @ resid) / (len(y) - X.shape[1])
        draws = rng.multivariate_normal(coef, s2 * np.linalg.inv(X.T @ X), n_draws)
        out[f"{node.name}|intercept"], out[f"{node.name}|sigma"] = draws[:, 0], np.full(n_draws, np.sqrt(s2))
        for j, p in enumerate(node.parents):
            out[f"{node.name}|{p}|beta"] = draws[:, j + 1]
    return out


def toy_scm(graph, frame) -> PosteriorSCM:
    data = load_data(frame).validate_against(graph)
    spec = build_spec(graph, data, trend=False, seasonality=0)
    return PosteriorSCM(spec, data, ols_draws(spec, data), ("x",))


def test_refutations_pass_on_a_correct_linear_model(monkeypatch):
    monkeypatch.setattr(rf, "refit_draws", ols_draws)
    graph, frame = toy()
    scm = toy_scm(graph, frame)
    assert float(roas_draws(scm, "x").mean()) == pytest.approx(3.0, rel=0.1)  # 2 clicks per unit x 1.5 sales per click
    rep = refute(scm, graph, seed=0)
    by = {(r.name, r.detail.split(" only")[0]): r for r in rep.refutations}
    assert len(rep.refutations) == 4 and rep.passed, rep.to_text()
    placebo = next(r for r in rep.refutations if r.name == "placebo_treatment")
    assert abs(placebo.estimate.mean) < 0.3 and placebo.reference.mean == pytest.approx(3.0, rel=0.1)
    assert "refit m" in placebo.detail  # only the mechanism with x as a parent was refitted
    rcc = next(r for r in rep.refutations if r.name == "random_common_cause")
    assert abs(rcc.estimate.mean - rcc.reference.mean) < 0.5 * rcc.reference.sd
    assert len(by) == 4 and rep.warnings() == []


def test_data_subset_fails_when_the_effect_changes_over_time(monkeypatch):
    monkeypatch.setattr(rf, "refit_draws", ols_draws)
    graph, frame = toy(b_second_half=4.0)
    rep = refute(toy_scm(graph, frame), graph, tests=("subset",))
    assert [r.verdict for r in rep.refutations] == ["fail", "fail"]  # each half disagrees with the pooled fit
    assert {w.code for w in rep.warnings()} == {"refutation_failed"}


def test_common_cause_spec_adds_a_free_linear_root_to_every_node():
    graph, frame = toy()
    spec = toy_scm(graph, frame).spec
    new = common_cause_spec(spec, "rc", 0.8)
    assert "rc" in new.exogenous and new.scales["rc"] == 0.8
    for n in new.nodes:
        e = n.edge("rc")
        assert (e.adstock, e.saturation, e.sign, e.lag) == ("none", "none", "free", 0)
    assert [len(n.edges) for n in new.nodes] == [len(n.edges) + 1 for n in spec.nodes]


def test_unknown_refutation_is_an_error():
    graph, frame = toy()
    with pytest.raises(QueryError):
        refute(toy_scm(graph, frame), graph, tests=("bootstrap",))


# ---------------------------------------------------------------- one real (Laplace) refit
@pytest.mark.slow
def test_placebo_roas_near_zero_on_linear_preset():
    from causalmmm.model.fit import SamplerConfig
    from causalmmm.simulate import simulate_world

    start = time.perf_counter()
    world = simulate_world("linear", seeded(0))
    data = load_data(world.data).validate_against(world.graph)
    spec = build_spec(world.graph, data)
    cfg = SamplerConfig(fast=True, draws=300, seed=seeded(0))
    scm = PosteriorSCM(spec, data, rf.refit_draws(spec, data, cfg), tuple(world.graph.spend_nodes))
    rep = refute(scm, world.graph, channels=["social_spend"], tests=("placebo",), config=cfg, reference="run", seed=seeded(0))
    (r,) = rep.refutations
    true_roas = world.true_effects()["social_spend"]["roas"]  # 1.04 at seed 0
    assert abs(r.reference.mean - true_roas) < 0.25 * true_roas  # the real channel is found
    assert abs(r.estimate.mean) < 0.5 * true_roas and r.estimate.hdi_low < 0.1 * true_roas  # the placebo is not
    assert r.verdict == "pass" and "non-finite" not in r.detail and "sign freed" in r.detail
    print(f"placebo refutation on linear preset: {time.perf_counter() - start:.1f} s, placebo ROAS {r.estimate.mean:.3f}, real {r.reference.mean:.3f}")
