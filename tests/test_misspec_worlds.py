"""The misspecification suite (causalmmm.simulate.misspec): every family builds, is deterministic,
has finite non-trivial truth and calibrating lift tests, and shows the fact that makes it a family."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from causalmmm.data import load_data
from causalmmm.experiments.schema import load_experiments
from causalmmm.graph import load_graph
from causalmmm.simulate import PRESETS, simulate_world, write_world
from causalmmm.simulate.misspec import EVENT_EFFECT, FAMILIES, WEIBULL, scaled01_base
from causalmmm.transforms.adstock import adstock_weights

FAMILY_NAMES = sorted(FAMILIES)


@pytest.fixture(scope="module")
def worlds():
    return {f: simulate_world(f, 0) for f in FAMILY_NAMES}


def test_there_are_eight_registered_families():
    assert len(FAMILY_NAMES) >= 8
    assert set(FAMILY_NAMES) <= set(PRESETS)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_family_builds_with_finite_nontrivial_truth(family, worlds):
    world = worlds[family]
    assert world.undeclared == [], f"graph API rejected {world.undeclared}"
    truth = world.true_effects()
    assert set(truth) == set(world.graph.spend_nodes) == {"ppc_spend", "social_spend", "brand_spend"}
    sales_per_spend = world.factual["sales"].mean() / np.mean([world.factual[c].mean() for c in truth])
    for channel, t in truth.items():
        assert math.isfinite(t["roas"]) and math.isfinite(t["mroas"]), channel
        assert t["roas"] > 0.05 * sales_per_spend, (channel, t["roas"])  # not ~0 in any unit
    assert world.data.drop(columns="date").notna().all().all()
    assert world.misspec["family"] == family and world.misspec["differs"]


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_family_is_deterministic_for_a_seed(family, worlds):
    again = simulate_world(family, 0)
    assert again.data.equals(worlds[family].data)
    assert again.experiments == worlds[family].experiments
    assert not simulate_world(family, 1).data.equals(worlds[family].data)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_every_channel_has_a_calibrating_lift_on_sales_while_it_is_on(family, worlds):
    world = worlds[family]
    by_treatment = {e["treatment"]: e for e in world.experiments}
    assert set(by_treatment) == set(world.graph.spend_nodes)
    for channel, e in by_treatment.items():
        assert e["design"] == "lift" and e["measured"] == "sales" and e["use"] == "calibrate"
        assert (world.factual[channel].to_numpy()[world.mask(e["start"], e["end"])] > 0).all(), channel
        true = world.experiment_truth[e["name"]]["true"]
        assert true < 0 and abs(e["se"] / true) == pytest.approx(0.12, rel=1e-3)  # go dark lowers sales; rel. se 12 %


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_written_files_load_with_the_declared_graph(family, tmp_path):
    write_world(family, tmp_path, seed=2)
    world = simulate_world(family, 2)
    graph = load_graph(tmp_path / "graph.dot")
    load_data(tmp_path / "data.csv").validate_against(graph)
    assert {e.name for e in load_experiments(tmp_path / "experiments.yaml")} == {e["name"] for e in world.experiments}
    for u, v in world.graph.edges:
        assert graph.declared_edge_attrs(u, v) == world.graph.declared_edge_attrs(u, v), (u, v)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["misspec"]["family"] == family


# ------------------------------------------------------------------ family facts


def test_multiplicative_ppc_effect_on_clicks_grows_with_demand(worlds):
    world = worlds["misspec_multiplicative"]
    assert world.graph.edge("ppc_spend", "ppc_clicks").modulator == "demand"
    on = world.do({"ppc_spend": ("set", 30_000.0)})["ppc_clicks"].to_numpy()
    off = world.do({"ppc_spend": "off"})["ppc_clicks"].to_numpy()
    effect, demand = (on - off)[4:], world.factual["demand"].to_numpy()[4:]  # after the adstock warm-up
    per_demand = effect / demand
    assert per_demand.std() / per_demand.mean() < 1e-9  # exactly proportional to demand
    high, low = demand >= np.quantile(demand, 0.9), demand <= np.quantile(demand, 0.1)
    assert effect[high].mean() > 1.4 * effect[low].mean()


def test_long_carryover_has_real_weight_beyond_twelve_weeks(worlds):
    world = worlds["misspec_long_carryover"]
    term = next(t for t in world.mechanisms["direct_clicks"].terms if t.source == "brand_spend")
    w = adstock_weights("geometric", term.adstock_params, term.l_max, np)
    assert 0.75 <= term.adstock_params["alpha"] <= 0.85 and term.l_max == 20
    assert w[8:].sum() > 0.1 and w[12:].sum() > 0.03
    assert world.graph.edge("brand_spend", "direct_clicks").l_max == 16 == world.graph.edge("brand_spend", "seo_clicks").l_max
    e = next(e for e in world.experiments if e["treatment"] == "brand_spend")
    end = int(np.flatnonzero(world.mask(e["start"], e["end"]))[-1])
    delta = world.do({"brand_spend": "off"}, e["start"], e["end"])["direct_clicks"].to_numpy() - world.factual["direct_clicks"].to_numpy()
    assert abs(delta[end + 12]) > 0.02 * abs(delta[end])  # carry-out still visible 12 weeks after the window


def test_negative_edge_true_effect_is_negative(worlds):
    world = worlds["misspec_negative_edge"]
    assert world.graph.edge("ppc_spend", "seo_clicks").sign == "negative"
    assert ("ppc_clicks", "seo_clicks") not in world.graph.edges
    ppc = world.true_effects()["ppc_spend"]
    path = next(p for p in ppc["paths"] if p["path"] == ["ppc_spend", "seo_clicks", "sales"])
    assert path["contribution"] < 0 and ppc["mediator_changes"]["seo_clicks"] < 0
    assert ppc["roas"] > 0 and ppc["contribution"] > -path["contribution"]


def test_iid_linear_has_no_time_structure_and_path_product_truth(worlds):
    world = worlds["misspec_iid_linear"]

    def lag1(x):
        return float(np.corrcoef(x[1:], x[:-1])[0, 1])

    for series in [world.exogenous[k] for k in world.exogenous] + [world.noise["sales"], world.factual["sales"].to_numpy()]:
        assert abs(lag1(series)) < 0.3
    assert all(not t.is_media and t.lag == 0 for m in world.mechanisms.values() for t in m.terms)
    truth = world.true_effects()
    for t in truth.values():
        assert t["mroas"] == pytest.approx(t["roas"], rel=1e-9)  # linear: marginal = average
    beta = {(t.source, n): t.beta for n, m in world.mechanisms.items() for t in m.terms}
    to_sales = {m: beta[(m, "sales")] for m in ("ppc_clicks", "seo_clicks", "social_clicks", "direct_clicks")}
    ppc_clicks_value = to_sales["ppc_clicks"] + beta[("ppc_clicks", "seo_clicks")] * to_sales["seo_clicks"]
    for channel in truth:
        expected = sum(beta.get((channel, m), 0.0) * (ppc_clicks_value if m == "ppc_clicks" else to_sales[m]) for m in to_sales)
        assert truth[channel]["roas"] == pytest.approx(expected, rel=1e-9)
    assert beta[("ppc_clicks", "seo_clicks")] == pytest.approx(-0.3)


def test_weibull_carry_over_peaks_weeks_after_the_spend(worlds):
    world = worlds["misspec_weibull"]
    assert int(np.argmax(adstock_weights("weibull", WEIBULL, 13, np))) >= 2
    assert world.graph.edge("brand_spend", "direct_clicks").adstock == "weibull"
    brand = world.exogenous["brand_spend"]
    week = int(np.flatnonzero(brand > 0)[10])
    pulse = np.zeros(world.n_periods, dtype=bool)
    pulse[week] = True
    delta = world.factual["direct_clicks"].to_numpy() - world.do({"brand_spend": "off"}, mask=pulse)["direct_clicks"].to_numpy()
    assert int(np.argmax(delta[week : week + 13])) >= 2


def test_seasonal_sales_have_trend_seasonality_and_events(worlds):
    world = worlds["misspec_seasonal"]
    node = world.graph.node("sales")
    assert node.trend == "linear" and node.seasonality == 2 and world.graph.role("event") == "control"
    event = world.data["event"].to_numpy()
    assert set(np.unique(event)) == {0.0, 1.0} and event.sum() >= 3 * 3
    delta = world.factual["sales"].to_numpy() - world.do({"event": "off"})["sales"].to_numpy()
    assert delta.sum() == pytest.approx(EVENT_EFFECT * event.sum(), rel=1e-9)
    base = world.mechanisms["sales"].baseline(world.n_periods)
    two_years = base[104:] - base[:-104]  # the seasonal part nearly repeats; the trend adds 104 weeks of slope
    assert two_years.mean() > 5_000 and np.ptp(base[:52]) > 20_000


def test_scaled01_columns_in_unit_interval_and_truth_rescales_exactly(worlds):
    world = worlds["misspec_scaled01"]
    cols = world.data.drop(columns="date")
    assert (cols.min() >= 0).all() and (cols.max() <= 1 + 1e-12).all()
    assert np.allclose(cols.max(), 1.0)
    base = scaled01_base(0)
    scales = world.misspec["scales"]
    np.testing.assert_allclose(world.factual["sales"], base.factual["sales"] / scales["sales"], rtol=1e-12)
    t_base, t_scaled = base.true_effects(), world.true_effects()
    for c in t_base:
        assert t_scaled[c]["roas"] == pytest.approx(t_base[c]["roas"] * scales[c] / scales["sales"], rel=1e-9)
    for e_base, e in zip(base.experiments, world.experiments):
        assert e["estimate"] == pytest.approx(e_base["estimate"] / scales["sales"], rel=1e-6)
        assert world.experiment_truth[e["name"]]["true"] == pytest.approx(base.experiment_truth[e["name"]]["true"] / scales["sales"], rel=1e-9)


def test_flighted_channels_have_bursts_and_dark_periods(worlds):
    world = worlds["misspec_flighted"]
    for channel in world.graph.spend_nodes:
        on = world.factual[channel].to_numpy() > 0
        dark_starts = np.flatnonzero(np.diff(on.astype(int)) == -1)
        assert len(dark_starts) >= 3, channel
        assert 0.3 <= on.mean() <= 0.85, channel
    ppc, demand = world.factual["ppc_spend"].to_numpy(), world.factual["demand"].to_numpy()
    live = ppc > 0
    assert np.corrcoef(ppc[live], demand[live])[0, 1] > 0.5  # budgets follow demand while on
