"""Spec and PyMC model structure, without sampling."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from equation_check import assert_numpy_equals_pytensor
from pymc_extras.prior import Prior

from causalmmm.errors import SpecError
from causalmmm.model.build import build_model, edge_names
from causalmmm.model.equations import param_name
from causalmmm.model.fit import fit_blocks
from causalmmm.spec import ModelSpec, build_spec


def test_spec_parents_exogenous_and_order(example_graph, random_data):
    spec = build_spec(example_graph, random_data)
    assert spec.outcome == "sales"
    assert set(spec.exogenous) == {"demand", "promo", "social_spend", "brand_spend"}
    assert spec.node("seo_clicks").parents == ("demand", "brand_spend", "ppc_clicks")
    assert set(spec.node("sales").parents) == {"ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks", "promo"}
    order = spec.node_names
    assert order.index("ppc_clicks") < order.index("seo_clicks") < order.index("sales")
    media = spec.node("ppc_clicks").edge("ppc_spend")
    assert (media.adstock, media.saturation, media.l_max, media.sign) == ("geometric", "hill", 4, "positive")
    assert spec.node("seo_clicks").edge("ppc_clicks").sign == "negative"
    assert spec.node("direct_clicks").edge("social_clicks").lag == 1
    assert not any(n.confounded for n in spec.nodes)


def test_latent_parent_gets_flexible_baseline_and_is_flagged(example_graph, random_frame):
    from causalmmm.data import load_data

    g = example_graph.copy().add_node("demand", "confounder", observed=False)
    data = load_data(random_frame.drop(columns=["demand"])).validate_against(g)
    spec = build_spec(g, data, latent="baseline")
    seo = spec.node("seo_clicks")
    assert seo.confounded and seo.latent_parents == ("demand",)
    assert seo.trend == "linear" and seo.seasonality == 2
    assert "ppc_spend" in spec.exogenous  # only a latent parent -> exogenous
    assert not spec.node("sales").confounded
    assert "confounded unless calibrated" in spec.to_text()


def test_auto_latent_is_a_factor_with_three_observed_children_else_baseline(example_graph, random_frame):
    from causalmmm.data import load_data
    from causalmmm.spec import MIN_FACTOR_CHILDREN

    g = example_graph.copy().add_node("demand", "confounder", observed=False)
    data = load_data(random_frame.drop(columns=["demand"])).validate_against(g)
    assert len([c for c in g.children("demand") if g.is_observed(c)]) >= MIN_FACTOR_CHILDREN
    assert build_spec(g, data) == build_spec(g, data, latent="factor") and build_spec(g, data).latents == ("demand",)
    few = g.copy()
    for c in [c for c in few.children("demand")][:-2]:
        few.remove_edge("demand", c)
    spec = build_spec(few, load_data(random_frame.drop(columns=["demand"])).validate_against(few))
    assert spec.latents == () and all(n.trend == "linear" for n in spec.nodes if n.latent_parents)
    with pytest.raises(SpecError, match="unknown latent handling"):
        build_spec(g, data, latent="magic")


def test_spec_serialises_and_prints(example_graph, random_data):
    spec = build_spec(example_graph, random_data, priors={"ppc_spend->ppc_clicks": {"alpha": Prior("Beta", alpha=2, beta=8)}})
    again = ModelSpec.from_dict(spec.to_dict())
    assert again == spec
    assert again.node("ppc_clicks").edge("ppc_spend").priors["alpha"].parameters == {"alpha": 2, "beta": 8}
    text = spec.to_text()
    assert "seo_clicks[t] = intercept" in text and "- beta_ppc_clicks·ppc_clicks[t]" in text
    assert "hill(adstock_geometric(ppc_spend[t]; L=4))" in text


def test_bad_prior_overrides(example_graph, random_data):
    with pytest.raises(SpecError, match="unknown node or edge 'nope'"):
        build_spec(example_graph, random_data, priors={"nope": {}})
    with pytest.raises(SpecError, match="edge ppc_spend->ppc_clicks has no parameter 'theta'"):
        build_spec(example_graph, random_data, priors={"ppc_spend->ppc_clicks": {"theta": Prior("Normal")}})
    with pytest.raises(SpecError, match="unknown likelihood"):
        build_spec(example_graph, random_data, likelihood="poisson")


def test_model_variables_and_sign_constraints(example_graph, random_data):
    spec = build_spec(example_graph, random_data)
    model = build_model(spec, random_data)
    free_rvs = {v.name for v in model.free_RVs}
    by_edge = {n: v for n, (v, _) in edge_names(model, spec).items() if v in free_rvs}
    assert param_name("seo_clicks", "beta", "ppc_clicks") in by_edge
    assert param_name("ppc_clicks", "alpha", "ppc_spend") in by_edge
    assert by_edge[param_name("ppc_clicks", "alpha", "ppc_spend")] == "ppc_clicks|ppc_spend|alpha"  # a media edge alone keeps its scalars
    # sign-constrained magnitudes are positive-support priors; the sign is in the equation
    rv = model[by_edge[param_name("seo_clicks", "beta", "ppc_clicks")]]
    assert rv.owner.op.name == "halfnormal"
    free = model[by_edge[param_name("seo_clicks", "beta", "demand")]]
    assert free.owner.op.name == "normal"
    assert {v.name for v in model.observed_RVs} == {param_name(n, "obs") for n in spec.node_names}
    sub = build_model(spec, random_data, ["seo_clicks"])
    assert {v.name for v in sub.observed_RVs} == {"seo_clicks|obs"}


def test_one_equation_numpy_equals_pytensor(example_graph, random_data):
    """The query engine (numpy, vectorised over draws) and the likelihood mean (pytensor) agree."""
    assert_numpy_equals_pytensor(build_spec(example_graph, random_data), random_data)


def test_fit_blocks_are_components_of_ties(example_graph, random_data):
    spec = build_spec(example_graph, random_data)
    assert fit_blocks(spec) == [(n,) for n in spec.node_names]
    blocks = fit_blocks(spec, ties=[("ppc_clicks", "seo_clicks")])
    assert ("ppc_clicks", "seo_clicks") in blocks and len(blocks) == len(spec.node_names) - 1
    chained = fit_blocks(spec, ties=[("ppc_clicks", "seo_clicks"), ("seo_clicks", "sales"), ("ppc_spend", "not_modelled")])
    assert ("ppc_clicks", "seo_clicks", "sales") in chained
    assert sorted(n for b in chained for n in b) == sorted(spec.node_names)


def test_latent_factor_mode_structure(example_graph, random_frame):
    """latent="factor": one shared AR(1) series for latent demand, its children tied into one block."""
    from causalmmm.data import load_data

    g = example_graph.copy().add_node("demand", "confounder", observed=False)
    data = load_data(random_frame.drop(columns=["demand"])).validate_against(g)
    spec = build_spec(g, data, latent="factor")
    assert spec.latents == ("demand",)
    assert set(spec.latent_children("demand")) == {"ppc_spend", "ppc_clicks", "seo_clicks", "direct_clicks"}
    assert "ppc_spend" not in spec.exogenous  # its only parent is the factor: now modelled
    assert all(spec.node(c).edge("demand").sign == "free" for c in spec.latent_children("demand"))  # aligned after sampling
    assert spec.node("seo_clicks").trend == "none"  # the factor replaces the flexible baseline
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert "shared latent factor" in spec.to_text()
    model = build_model(spec, data)
    z = pm.draw(model["demand|z"], draws=3, random_seed=0)  # prior draws of the factor series: no sampler
    assert z.shape == (3, spec.n_periods)
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-12)  # standardised in every draw
    np.testing.assert_allclose((z**2).mean(axis=1), 1.0, rtol=1e-12)
    blocks = fit_blocks(spec, [spec.latent_children("demand")])
    assert any(set(spec.latent_children("demand")) <= set(b) for b in blocks)
    with pytest.raises(SpecError, match="unknown latent handling"):
        build_spec(g, data, latent="gp")


def test_align_factor_signs_mirrors_chains_consistently(example_graph, random_frame):
    """A chain sampled in the mirror mode (z, loadings) -> (-z, -loadings) is flipped; predictions are unchanged."""
    import arviz as az

    from causalmmm.data import load_data
    from causalmmm.model.fit import align_factor_signs

    g = example_graph.copy().add_node("demand", "confounder", observed=False)
    data = load_data(random_frame.drop(columns=["demand"])).validate_against(g)
    spec = build_spec(g, data, latent="factor")
    children = spec.latent_children("demand")
    rng = np.random.default_rng(0)
    T, D = spec.n_periods, 5
    z = np.sin(np.arange(T) / 8.0)
    flip = np.array([1.0, -1.0, -1.0])[:, None, None]  # chains 1 and 2 in the mirror mode
    post = {"demand|z": flip * (z + 0.01 * rng.normal(size=(3, D, T)))}
    for i, c in enumerate(children):
        post[param_name(c, "beta", "demand")] = flip[:, :, 0] * (0.5 + 0.1 * i + 0.01 * rng.normal(size=(3, D)))
    before = {c: post[param_name(c, "beta", "demand")][:, :, None] * post["demand|z"] for c in children}
    idata = align_factor_signs(az.from_dict(posterior=post), spec)
    p = idata.posterior
    assert float(p["demand|z"].mean(("chain", "draw"))[10]) == pytest.approx(z[10], abs=0.02)
    for c in children:
        loading = p[param_name(c, "beta", "demand")].to_numpy()
        assert (loading > 0).all()
        np.testing.assert_allclose(loading[:, :, None] * p["demand|z"].to_numpy(), before[c])
    # all chains in the mirror mode: oriented so the first child's loading is positive
    mirrored = az.from_dict(posterior={k: -v for k, v in post.items()})
    assert (align_factor_signs(mirrored, spec).posterior[param_name(children[0], "beta", "demand")] > 0).all()


@pytest.mark.parametrize("kind,params", [("geometric", {"alpha": 0.7}), ("delayed", {"alpha": 0.6, "theta": 2.0}), ("weibull", {"shape": 1.5, "scale": 3.0})])
def test_adstock_on_data_in_a_graph_equals_the_numpy_twin(kind: str, params: dict) -> None:
    """The model graph computes adstock of observed series as lag-matrix @ weights; the query engine
    loops over lags in numpy. Both must agree, for scalar and batched parameters."""
    from causalmmm.transforms import adstock

    x = np.random.default_rng(0).gamma(2.0, 1.0, 40)
    want = adstock(x, kind, params, 8, np)
    sym = {k: pt.scalar(k) for k in params}
    got = adstock(pt.as_tensor_variable(x), kind, sym, 8, pt)
    out = pytensor.function(list(sym.values()), got)(*params.values())
    np.testing.assert_allclose(out, want, rtol=1e-10)
    batched = {k: np.array([v, v * 0.9]) for k, v in params.items()}
    vec = {k: pt.vector(k) for k in params}
    out_b = pytensor.function(list(vec.values()), adstock(pt.as_tensor_variable(x), kind, vec, 8, pt))(*batched.values())
    np.testing.assert_allclose(out_b, adstock(np.broadcast_to(x, (2, 40)), kind, batched, 8, np), rtol=1e-10)


def test_seasonality_terms_are_the_shared_time_helper():
    """The model's Fourier terms are transforms.time.fourier (the one definition the graph layer uses too)."""
    from causalmmm.model.equations import TimeFeatures
    from causalmmm.transforms.time import fourier, trend_and_fourier

    f = TimeFeatures.for_periods(9, 4.0).fourier(2)
    assert f.shape == (9, 4)
    np.testing.assert_allclose(f[1], [1.0, 0.0, 0.0, -1.0], atol=1e-12)  # t=1 of a 4-period cycle: sin π/2, cos π/2, sin π, cos π
    np.testing.assert_array_equal(f, fourier(9, 4.0, 2))
    np.testing.assert_array_equal(TimeFeatures.for_periods(9, 4.0).fourier(1, period=3.0), fourier(9, 3.0, 1))
    tf = trend_and_fourier(9, 4.0, 2)
    np.testing.assert_array_equal(tf[:, 0], np.linspace(0.0, 1.0, 9))
    np.testing.assert_array_equal(tf[:, 1:], f)


def test_run_names_the_experiments_it_was_calibrated_by():
    from causalmmm.model.run import Run

    summary = {"experiments": [{"name": "a", "calibrated": True}, {"name": "b", "calibrated": False}, {"name": "c", "calibrated": True}]}
    run = Run(None, None, None, None, [], [], summary)  # type: ignore[arg-type]
    assert run.calibrated_experiments == frozenset({"a", "c"})
    assert Run(None, None, None, None, [], [], {}).calibrated_experiments == frozenset()  # type: ignore[arg-type]
