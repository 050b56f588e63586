"""Mechanism forms beyond the additive default: node trend/seasonality, modulated edges, and the
posterior checks that say when a default does not fit (adstock_tail, sign_binding). Sampling-free."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from equation_check import assert_numpy_equals_pytensor

from causalmmm.data import load_data
from causalmmm.errors import GraphError
from causalmmm.graph.causal_graph import DEFAULT_L_MAX, CausalGraph
from causalmmm.graph.io import graph_from_dot, graph_from_yaml, graph_to_dot, graph_to_yaml
from causalmmm.model.build import build_model, edge_names
from causalmmm.model.build import scaled_series as build_series
from causalmmm.model.checks import SIGN_RATIO, adstock_tail_warnings, sign_binding_warnings, tail_share
from causalmmm.model.equations import param_name
from causalmmm.spec import ModelSpec, build_spec, sampled_edge_priors, sampled_node_priors

DOT = """digraph m {
  demand [role=confounder]; event [role=control]; ppc [role=spend]; clicks [role=mediator];
  tv [role=spend]; radio [role=spend];
  sales [role=outcome, trend=piecewise, changepoints=3, seasonality=2, season_period=26, noise=ar1];
  demand -> ppc; demand -> clicks; ppc -> clicks [modulator=demand, l_max=4];
  clicks -> sales; event -> sales; tv -> sales; radio -> sales;
}"""


@pytest.fixture
def graph() -> CausalGraph:
    return graph_from_dot(DOT)


@pytest.fixture
def data(graph):
    rng = np.random.default_rng(0)
    import pandas as pd

    df = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=104, freq="W-MON")})
    df["demand"] = 100 + 10 * rng.standard_normal(104)
    df["event"] = (rng.random(104) < 0.1).astype(float)
    df["ppc"] = rng.gamma(5.0, 100.0, 104)
    df["tv"] = rng.gamma(5.0, 100.0, 104)
    df["radio"] = rng.gamma(5.0, 100.0, 104)
    df["clicks"] = rng.gamma(5.0, 100.0, 104)
    df["sales"] = rng.gamma(5.0, 100.0, 104)
    return load_data(df).validate_against(graph)


def test_new_attributes_round_trip_through_dot_and_yaml(graph):
    assert graph_from_dot(graph_to_dot(graph)) == graph
    assert graph_from_yaml(graph_to_yaml(graph)) == graph
    sales = graph.node("sales")
    assert (sales.trend, sales.changepoints, sales.seasonality, sales.season_period, sales.noise) == ("piecewise", 3, 2, 26.0, "ar1")
    assert graph.edge("ppc", "clicks").modulator == "demand"
    assert graph.declared_node_attrs("clicks") == {}  # undeclared attributes stay undeclared (lossless)


@pytest.mark.parametrize(
    "attr, message",
    [
        ("trend=cubic", "unknown trend 'cubic'; allowed values: none, linear, piecewise"),
        ("seasonality=two", "seasonality must be an integer"),
        ("seasonality=-1", "seasonality must be >= 0"),
        ("season_period=0", "season_period must be a positive number"),
        ("season_period=12", "season_period needs seasonality >= 1"),
        ("changepoints=4", "changepoints needs trend=piecewise"),
        ("noise=ar2", "unknown noise 'ar2'; allowed values: iid, ar1"),
        ("trend=piecewise, changepoints=0", "changepoints must be >= 1"),
    ],
)
def test_bad_node_attribute_values_are_one_line_errors(attr, message):
    with pytest.raises(GraphError) as err:
        graph_from_dot(f"digraph m {{ x [role=spend]; y [role=outcome, {attr}]; x -> y; }}", "g.dot")
    text = str(err.value)
    assert message in text and "\n" not in text and text.startswith("g.dot:1")


def test_modulator_must_be_another_observed_parent():
    with pytest.raises(GraphError, match="modulator 'd' is not another parent of 'y'; add the edge d -> y"):
        graph_from_dot("digraph m { x [role=spend]; d [role=confounder]; y [role=outcome]; x -> y [modulator=d]; }")
    with pytest.raises(GraphError, match="modulator 'd' is latent"):
        graph_from_dot("digraph m { x [role=spend]; d [role=confounder, observed=false]; y [role=outcome]; d -> y; x -> y [modulator=d]; }")
    with pytest.raises(GraphError, match="unknown edge attribute 'modulated'"):
        graph_from_yaml("nodes: {x: {role: spend}, y: {role: outcome}}\nedges: [{from: x, to: y, modulated: x}]")


def test_spec_carries_node_baselines_and_modulator(graph, data):
    spec = build_spec(graph, data)
    sales = spec.node("sales")
    assert (sales.trend, sales.changepoints, sales.seasonality, sales.season_period, sales.noise) == ("piecewise", 3, 2, 26.0, "ar1")
    assert spec.node("clicks").edge("ppc").modulator == "demand"
    event = sales.edge("event")  # a 0/1 event as a control parent: no transform, free sign
    assert (event.adstock, event.saturation, event.sign) == ("none", "none", "free")
    text = spec.to_text()
    assert "hill(adstock_geometric(ppc[t]; L=4))·demand[t]" in text
    assert "Σ_3 changepoint_j·(t - s_j)+" in text and "fourier_2(t; period=26)" in text


def test_default_l_max_is_13_periods():
    g = graph_from_dot("digraph m { x [role=spend]; y [role=outcome]; x -> y; }")
    assert DEFAULT_L_MAX == 13 and g.edge("x", "y").l_max == 13


def test_new_forms_numpy_equals_pytensor(graph, data):
    assert_numpy_equals_pytensor(build_spec(graph, data), data)


def test_modulated_term_is_proportional_to_the_modulator(graph, data):
    """Doubling the modulator doubles the modulated edge's contribution (and nothing else moves)."""
    from causalmmm.model.build import scaled_series, time_features
    from causalmmm.model.equations import edge_term

    spec = build_spec(graph, data)
    e = spec.node("clicks").edge("ppc")
    series = scaled_series(spec, data)
    params = {"beta": np.array([0.7]), "alpha": np.array([0.4]), "k": np.array([1.0]), "s": np.array([1.5])}
    one = edge_term(e, params, series["ppc"][None, :], np, series["demand"][None, :])
    two = edge_term(e, params, series["ppc"][None, :], np, 2 * series["demand"][None, :])
    np.testing.assert_allclose(two, 2 * one)
    assert time_features(spec).changepoint_basis(3).shape == (104, 3)


def test_dry_run_prints_exactly_the_priors_the_model_samples(graph, data):
    """Every printed prior is a free variable of the built model with the same log-density."""
    spec = build_spec(graph, data)
    model = build_model(spec, data)
    printed = {}
    for n in spec.nodes:
        printed.update({param_name(n.name, k): p for k, p in sampled_node_priors(n).items()})
        for e in n.edges:
            printed.update({param_name(n.name, k, e.source): p for k, p in sampled_edge_priors(e).items()})
    free = {v.name for v in model.free_RVs}
    by_edge = {n: vi for n, vi in edge_names(model, spec).items() if vi[0] in free}
    assert set(printed) == set(by_edge)
    vectors = {name.split("|")[1] for name, (_, i) in by_edge.items() if i is not None and name.startswith("sales|")}
    assert vectors == {"tv", "radio"}  # tv and radio share their transforms: one group, sampled as vectors
    assert all(i is None for name, (_, i) in by_edge.items() if not name.startswith("sales|"))  # ppc alone: scalars
    text = spec.to_text()
    assert "level~Normal(mu=1, sigma=1)" in text  # the data-dependent level prior is shown as resolved
    for name, prior in printed.items():
        vname, i = by_edge[name]
        rv = model[vname]
        value = np.full(rv.type.shape, 0.37) if rv.type.shape else np.array(0.37)
        got = pm.logp(rv, value).eval()
        got = got if i is None else got[i]
        shape = rv.type.shape if i is None else ()
        ref = getattr(pm, prior.distribution).dist(**prior.parameters, shape=shape or ())
        want = pm.logp(ref, value if i is None else value[i]).eval()
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)  # vector and scalar logp round differently


# ------------------------------------------------------------------ posterior checks


def _draws(spec, rng, **over):
    """Fixed posterior draws: clean values for every parameter, with overrides by flat name."""
    out = {}
    for n in spec.nodes:
        for e in n.edges:
            for k in e.param_names + (("beta_ref",) if e.saturation != "none" else ()):
                out[param_name(n.name, k, e.source)] = rng.normal(3.0, 0.3, 400) if k.startswith("beta") else rng.uniform(0.2, 0.3, 400)
    out.update(over)
    return out


def test_adstock_tail_fires_on_long_carry_over_and_stays_quiet_otherwise(graph, data):
    spec = build_spec(graph, data)
    rng = np.random.default_rng(0)
    assert adstock_tail_warnings(spec, _draws(spec, rng)) == []  # alpha ~0.25 over 4 lags: nothing cut off
    long = _draws(spec, rng, **{param_name("clicks", "alpha", "ppc"): rng.uniform(0.78, 0.82, 400)})
    (w,) = adstock_tail_warnings(spec, long)
    assert w.code == "adstock_tail" and w.where == "ppc -> clicks"
    assert "l_max=4 cuts off" in w.message and "set l_max=" in w.fix
    suggested = int(w.fix.split("l_max=")[1].split()[0])
    assert 12 <= suggested <= 16  # 0.8**L <= 0.05  =>  L >= 13.4
    assert tail_share("geometric", {"alpha": np.array([0.8])}, 4, horizon=400)[0] == pytest.approx(0.8**4, rel=1e-6)


def test_sign_binding_fires_when_the_posterior_piles_up_at_zero(graph, data):
    spec = build_spec(graph, data)
    rng = np.random.default_rng(1)
    assert sign_binding_warnings(spec, _draws(spec, rng)) == []
    from scipy.stats import halfnorm

    piled = 0.05 * halfnorm.ppf((np.arange(400) + 0.5) / 400)  # a half-normal pile-up at zero (its quantiles): mean/sd 1.32
    assert np.mean(piled) / np.std(piled) < SIGN_RATIO
    (w,) = sign_binding_warnings(spec, _draws(spec, rng, **{param_name("clicks", "beta_ref", "ppc"): piled}))
    assert w.code == "sign_binding" and w.where == "ppc -> clicks" and w.severity == "high"
    assert "sign=free" in w.fix and "positive" in w.message


def test_nonfinite_draws_are_a_warning(graph, data):
    from causalmmm.model.checks import nonfinite_warnings

    spec = build_spec(graph, data)
    rng = np.random.default_rng(2)
    clean = _draws(spec, rng)
    assert nonfinite_warnings(spec, clean) == []
    bad = dict(clean, **{param_name("sales", "sigma"): np.array([0.1, np.inf, 0.2])})
    (w,) = nonfinite_warnings(spec, bad)
    assert w.code == "nonfinite_draws" and w.where == "sales" and "without --fast" in w.fix


def test_one_intervention_type_for_queries_experiments_and_the_simulator():
    from causalmmm.errors import ExperimentError, QueryError
    from causalmmm.experiments.schema import experiments_from_yaml
    from causalmmm.fitted import interventions_from_dict
    from causalmmm.intervention import Intervention
    from causalmmm.query.do import parse_do
    from causalmmm.simulate.world import normalise_intervention

    q = parse_do("brand_spend*=1.2")
    d = interventions_from_dict({"brand_spend": {"scale": 1.2}, "ppc_spend": 0})
    s = normalise_intervention(("scale", 1.2), "brand_spend")
    yml = (
        "experiments:\n  - {name: e, design: lift, treatment: brand_spend, intervention: {scale: 1.2}, measured: sales,\n"
        "     start: 2022-01-03, end: 2022-02-28, estimate: 1.0, se: 0.5}\n"
    )
    (e,) = experiments_from_yaml(yml)
    assert q == d[0] == s == e.intervention == Intervention("brand_spend", "scale", 1.2)
    assert d[1] == Intervention.off("ppc_spend") and d[1].to_spec() == "off" and q.to_text() == "brand_spend*=1.2"
    (live,) = experiments_from_yaml(yml.replace("{scale: 1.2}", "on"))  # a go-live: YAML's boolean read as written
    assert live.intervention.kind == "on"
    with pytest.raises(ExperimentError, match="unknown intervention 'yes'"):
        experiments_from_yaml(yml.replace("{scale: 1.2}", "yes"))
    with pytest.raises(QueryError, match=r"do\['x'\]: intervention '\{scale: -1\}': a scale must be >= 0"):
        interventions_from_dict({"x": {"scale": -1}})


def test_parameter_names_are_data():
    from causalmmm.model.equations import ParamName, experiment_implied, experiment_term

    for name in ("sales|sigma", "sales|ppc_clicks|beta", experiment_term("lift"), experiment_implied("lift")):
        assert str(ParamName.parse(name)) == name
    assert ParamName.parse("sales|ppc_clicks|beta") == ParamName("sales", "beta", "ppc_clicks")
    assert ParamName.parse(experiment_implied("lift")).experiment == "lift" == ParamName.parse(experiment_term("lift")).experiment
    assert ParamName.parse("sales|sigma").experiment is None


def test_residual_autocorrelation_warns_on_a_missing_slow_component(graph, data):
    """Fixed draws: sales carries a strong AR(1) component the equation lacks -> warned; white noise -> quiet."""
    from causalmmm.fitted import misfit_warnings
    from causalmmm.query.do import PosteriorSCM

    spec = build_spec(graph, data)
    rng = np.random.default_rng(3)
    draws = {}
    for n in spec.nodes:
        draws[param_name(n.name, "intercept")] = np.full(50, 1.0)
        draws[param_name(n.name, "sigma")] = np.full(50, 0.2)
        for e in n.edges:
            for k in e.param_names:
                draws[param_name(n.name, k, e.source)] = np.full(50, 0.0 if k == "beta" else 0.5)
        if n.trend != "none":
            draws[param_name(n.name, "trend")] = np.zeros(50)
        if n.trend == "piecewise":
            draws[param_name(n.name, "changepoint")] = np.zeros((50, n.changepoints))
        if n.seasonality:
            draws[param_name(n.name, "season")] = np.zeros((50, 2 * n.seasonality))
    frame = data.frame.reset_index()
    white = frame.copy()
    for n in ("clicks", "sales"):
        white[n] = 100.0 * (1 + 0.2 * rng.standard_normal(len(frame)))
    slow = white.copy()
    ar = np.zeros(len(frame))
    for t in range(1, len(frame)):
        ar[t] = 0.9 * ar[t - 1] + rng.normal(0, 0.1)
    slow["sales"] = 100.0 * (1 + ar)
    quiet = misfit_warnings(PosteriorSCM(spec, load_data(white).validate_against(graph), draws))
    loud = misfit_warnings(PosteriorSCM(spec, load_data(slow).validate_against(graph), draws, ("ppc",)))
    assert quiet == []
    assert [w.where for w in loud] == ["sales"] and loud[0].code == "residual_autocorrelation"
    assert loud[0].severity == "medium" and "effects of ppc" in loud[0].message  # ppc's effect runs through sales
    budget = white.copy()
    budget["ppc"] = 500.0 * (1 + ar)  # a slow budget cycle the demand -> ppc equation lacks
    (own,) = misfit_warnings(PosteriorSCM(spec, load_data(budget).validate_against(graph), draws, ("ppc",)))
    assert (own.where, own.severity) == ("ppc", "low") and "channel effects are unaffected" in own.message


def test_confounded_mechanism_warns_unless_an_experiment_calibrates_it():
    import pandas as pd

    from causalmmm.experiments.schema import experiments_from_yaml
    from causalmmm.model.checks import confounding_warnings

    g = graph_from_dot("digraph m { z [role=confounder, observed=false]; x [role=spend]; y [role=outcome]; z -> x; z -> y; x -> y; }")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=60, freq="W-MON"), "x": rng.gamma(5, 10, 60), "y": rng.gamma(5, 10, 60)})
    spec = build_spec(g, load_data(df).validate_against(g))
    (w,) = confounding_warnings(spec)
    assert w.code == "confounded_mechanism" and w.where == "y" and w.severity == "high" and "not identified" in w.message
    lift = experiments_from_yaml(
        "experiments:\n  - {name: x_dark, design: lift, treatment: x, measured: y, start: 2022-02-07, end: 2022-03-28, estimate: -5.0, se: 1.0}\n"
    )
    (w,) = confounding_warnings(spec, lift)
    assert w.severity == "medium" and "x_dark" in w.message
    clean = graph_from_dot("digraph m { z [role=confounder]; x [role=spend]; y [role=outcome]; z -> x; z -> y; x -> y; }")
    df["z"] = rng.normal(size=60)
    assert confounding_warnings(build_spec(clean, load_data(df).validate_against(clean))) == []


def test_ar1_noise_is_the_default_only_where_a_latent_parent_persists(graph, data):
    spec = build_spec(graph, data)
    assert spec.node("sales").noise == "ar1"  # declared
    assert spec.node("clicks").noise == "iid"  # no latent parent, nothing declared
    dot = DOT.replace("demand [role=confounder]", "demand [role=confounder, observed=false]").replace("demand -> ppc; ", "")
    g = graph_from_dot(dot.replace("modulator=demand, ", ""))
    latent = build_spec(g, load_data(data.frame.drop(columns=["demand"])).validate_against(g), latent="baseline")
    assert latent.node("clicks").noise == "ar1" and "rho" in sampled_node_priors(latent.node("clicks"))
    assert "e[t] = rho·e[t-1] + u[t]" in latent.to_text()
    assert ModelSpec.from_dict(latent.to_dict()) == latent


def test_ar1_likelihood_is_the_exact_gaussian_ar1_density(graph, data):
    """The model's log density of an AR(1) node equals the stationary AR(1) Gaussian density of its residuals."""
    from scipy import stats

    from causalmmm.model.build import time_features
    from causalmmm.model.equations import node_mean, params_from_flat

    spec = build_spec(graph, data)
    node = spec.node("sales")
    model = build_model(spec, data, ["sales"])
    point = model.initial_point()
    point["sales|rho_interval__"] = np.array(1.2)  # some rho well inside (-0.95, 0.95)
    outs = model.unobserved_value_vars
    values = dict(zip([v.name for v in outs], model.compile_fn(outs, inputs=model.value_vars, point_fn=False)(*[point[v.name] for v in model.value_vars])))
    series = build_series(spec, data)
    mu = np.asarray(node_mean(node, params_from_flat(node, values), {p: series[p] for p in node.parents}, time_features(spec), np))
    rho, sigma, e = float(values["sales|rho"]), float(values["sales|sigma"]), series["sales"] - mu
    expected = stats.norm.logpdf(e[0], 0, sigma / np.sqrt(1 - rho**2)) + stats.norm.logpdf(e[1:], rho * e[:-1], sigma).sum()
    logp = model.compile_logp(vars=[model["sales|obs"]])(point)
    assert 0.5 < abs(rho) < 0.95
    np.testing.assert_allclose(logp, expected, rtol=1e-9)


def test_ar1_noise_draws_have_the_declared_autocorrelation():
    from causalmmm.model.noise import innovations, noise_draws

    e = noise_draws("normal", {"sigma": np.full(400, 0.5), "rho": np.full(400, 0.7)}, (400, 300), np.random.default_rng(0))
    ac1 = np.mean([np.corrcoef(r[:-1], r[1:])[0, 1] for r in e])
    assert abs(ac1 - 0.7) < 0.03
    assert abs(np.std(e) - 0.5 / np.sqrt(1 - 0.49)) < 0.02  # stationary from the first period
    u = innovations(e[0], 0.7)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.15
