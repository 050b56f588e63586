"""The ground-truth simulator: worlds, do() with the same noise, truths, in-world experiments, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from causalmmm.data import load_data
from causalmmm.errors import CausalMMMError, DataError
from causalmmm.experiments.schema import load_experiments
from causalmmm.graph import load_graph
from causalmmm.simulate import PRESETS, World, simulate_world, write_world

CHANNELS = ("ppc_spend", "social_spend", "brand_spend")


@pytest.fixture(scope="module")
def search() -> World:
    return simulate_world("search", seed=0)


@pytest.fixture(scope="module")
def linear() -> World:
    return simulate_world("linear", seed=0)


@pytest.fixture(scope="module")
def geo() -> World:
    return simulate_world("geo", seed=0)


@pytest.fixture(scope="module")
def daily() -> World:
    return simulate_world("daily", seed=0)


def _coefficients(world: World) -> dict[tuple[str, str], float]:
    return {(t.source, node): t.beta for node, m in world.mechanisms.items() for t in m.terms}


# ------------------------------------------------------------------ presets and API


def test_presets_and_api(search, repo):
    assert {"search", "search_latent", "linear", "geo", "daily"} <= set(PRESETS)
    assert list(search.data.columns) == [
        "date",
        "demand",
        "promo",
        "ppc_spend",
        "social_spend",
        "brand_spend",
        "ppc_clicks",
        "seo_clicks",
        "social_clicks",
        "direct_clicks",
        "sales",
    ]
    assert len(search.data) == 156 and search.graph.outcome == "sales"
    assert search.params["sales"]["intercept"] == search.params()["sales"]["intercept"]  # attribute (and callable, for old code)
    brand_edge = next(t for t in search.params["direct_clicks"]["terms"] if t["source"] == "brand_spend")
    assert brand_edge["adstock"] == "geometric" and brand_edge["l_max"] == 12 and brand_edge["saturation"] == "hill"
    declared = load_graph(repo / "graphs" / "marketing.dot")  # the same nodes, roles, edges and edge transforms
    assert sorted(declared.edge_infos(), key=str) == sorted(search.graph.edge_infos(), key=str)
    assert {n: declared.role(n) for n in declared.nodes} == {n: search.graph.role(n) for n in search.graph.nodes}


def test_unknown_preset_is_a_one_line_error():
    with pytest.raises(DataError, match="unknown preset 'tv'; choose one of: search, search_latent, linear, geo, daily") as exc:
        simulate_world("tv")
    assert isinstance(exc.value, CausalMMMError) and "\n" not in str(exc.value)


def test_search_magnitudes(search):
    eff = search.true_effects()
    for c in CHANNELS:
        assert 0.5 < eff[c]["roas"] < 5.0, (c, eff[c]["roas"])
        assert 0 < eff[c]["mroas"] < eff[c]["roas"]  # diminishing returns
    assert eff["ppc_spend"]["cannibalisation_share"] == pytest.approx(0.35, abs=0.01)
    assert 1_000 < search.data["ppc_spend"].mean() < 100_000  # thousands per week
    # demand drives PPC budgets, but spend keeps independent variation
    r = np.corrcoef(search.data["demand"], search.data["ppc_spend"])[0, 1]
    assert 0.5 < r < 0.99


# ------------------------------------------------------------------ do() and truth


def test_linear_effects_are_sums_of_path_products(linear):
    coef = _coefficients(linear)
    effects = linear.true_effects()
    for c in CHANNELS:
        spend = linear.factual[c].sum()
        total = 0.0
        for p in effects[c]["paths"]:
            product = np.prod([coef[(u, v)] for u, v in zip(p["path"][:-1], p["path"][1:])])
            assert p["contribution"] == pytest.approx(product * spend, rel=1e-9)
            total += product * spend
        assert effects[c]["contribution"] == pytest.approx(total, rel=1e-9)
        assert effects[c]["mroas"] == pytest.approx(effects[c]["roas"], rel=1e-9)  # linear: marginal = average
    assert [p["path"] for p in effects["ppc_spend"]["paths"]] == [["ppc_spend", "ppc_clicks", "sales"], ["ppc_spend", "ppc_clicks", "seo_clicks", "sales"]]
    # the cannibalisation path is negative and equals its product of coefficients
    canni = effects["ppc_spend"]["paths"][1]["contribution"]
    assert canni < 0
    assert effects["ppc_spend"]["cannibalisation_share"] == pytest.approx(-coef[("ppc_clicks", "seo_clicks")], rel=1e-9)


def test_path_specific_do_on_a_window(linear):
    coef = _coefficients(linear)
    start, end = "2023-01-02", "2023-03-27"
    mask = linear.mask(start, end)
    path = ("brand_spend", "direct_clicks", "sales")
    new = linear.do({"brand_spend": ("scale", 1.5)}, start, end, paths=[path])
    delta = (new["sales"] - linear.factual["sales"]).to_numpy()
    expected = coef[path[:2]] * coef[path[1:]] * 0.5 * linear.factual["brand_spend"].to_numpy()
    np.testing.assert_allclose(delta[mask], expected[mask], rtol=1e-9, atol=1e-6)
    # off the path, every edge sees the factual source: seo clicks do not move
    np.testing.assert_array_equal(new["seo_clicks"].to_numpy(), linear.factual["seo_clicks"].to_numpy())


def test_nonlinear_path_effects_add_up_downstream_of_the_first_mediator(search):
    """In `search` everything after ppc_clicks is linear, so PPC's two path effects sum to its total."""
    e = search.true_effects()["ppc_spend"]
    assert sum(p["contribution"] for p in e["paths"]) == pytest.approx(e["contribution"], rel=1e-9)
    assert e["paths"][1]["path"] == ["ppc_spend", "ppc_clicks", "seo_clicks", "sales"] and e["paths"][1]["contribution"] < 0


@pytest.mark.parametrize("preset", ["search", "daily"])
def test_do_factual_value_reproduces_the_data_exactly(preset, search, daily):
    world = {"search": search, "daily": daily}[preset]
    for node in ("demand", "ppc_spend", "brand_spend", "ppc_clicks", "seo_clicks", "sales"):
        again = world.do({node: ("scale", 1.0)})
        np.testing.assert_array_equal(again.to_numpy(), world.factual.to_numpy())
        t = world.n_periods // 2
        d = str(world.dates[t].date())
        again = world.do({node: ("set", float(world.factual[node].iloc[t]))}, d, d)
        np.testing.assert_array_equal(again.to_numpy(), world.factual.to_numpy())
    observed = world.data.drop(columns="date")
    np.testing.assert_array_equal(observed.to_numpy(), world.factual[list(observed.columns)].to_numpy())


@pytest.mark.parametrize("channel", CHANNELS)
def test_no_effect_before_the_window_and_carry_over_after(search, channel):
    start, end = "2023-03-06", "2023-04-24"
    new = search.do({channel: ("set", 1.5 * float(search.factual[channel].mean()))}, start, end)
    before = search.dates < pd.Timestamp(start)
    after = search.dates > pd.Timestamp(end)
    for node in search.factual.columns:
        np.testing.assert_array_equal(new[node].to_numpy()[before], search.factual[node].to_numpy()[before])
    diff_after = np.abs(new["sales"].to_numpy()[after] - search.factual["sales"].to_numpy()[after])
    assert diff_after[0] > 1.0  # adstock carries the change past the window
    assert diff_after[20:].max() < 1e-6  # ... and dies out after l_max (+ the social lag)
    inside = search.mask(start, end)
    assert np.all(new["sales"].to_numpy()[inside] != search.factual["sales"].to_numpy()[inside])


def test_same_seed_same_world_bit_for_bit_and_seeds_differ():
    for preset in ("search", "geo", "daily"):
        a, b = simulate_world(preset, seed=5), simulate_world(preset, seed=5)
        pd.testing.assert_frame_equal(a.data, b.data, check_exact=True)
        assert json.dumps(a.truth(), sort_keys=True) == json.dumps(b.truth(), sort_keys=True)
        assert a.experiments == b.experiments
        for name, frame in a.raw_files.items():
            pd.testing.assert_frame_equal(frame, b.raw_files[name], check_exact=True)
        c = simulate_world(preset, seed=6)
        assert not np.allclose(c.data.drop(columns="date").to_numpy(), a.data.drop(columns="date").to_numpy())


def test_latent_variant(tmp_path):
    w = simulate_world("search_latent", seed=0)
    assert "demand" not in w.data.columns and "demand" in w.factual.columns
    assert not w.graph.is_observed("demand") and w.truth()["latent"] == ["demand"]
    w.write(tmp_path)
    g = load_graph(tmp_path / "graph.dot")
    assert not g.is_observed("demand")
    assert "demand" not in pd.read_csv(tmp_path / "data.csv").columns
    # same world as `search` (same seed), only the declaration differs
    s = simulate_world("search", seed=0)
    np.testing.assert_array_equal(w.factual.to_numpy(), s.factual.to_numpy())


# ------------------------------------------------------------------ geo


def test_geo_world_is_the_sum_of_its_geos(geo):
    panel = geo.geo_panel
    assert len(panel.names) >= 20 and panel.shares.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(panel.national_sum().to_numpy(), geo.factual.to_numpy(), rtol=1e-9, atol=1e-6)
    for g, s in zip(panel.names, panel.shares):  # spend is national spend allocated by share
        np.testing.assert_allclose(panel.worlds[g].factual["ppc_spend"], s * geo.factual["ppc_spend"], rtol=1e-12)


@pytest.mark.parametrize("intervention", ["off", ("scale", 1.3), ("set", 40_000.0)])
def test_geo_scaling_rule(geo, intervention):
    """national do() effect == (effect in the treated geos) / Σ_treated s_g, exactly."""
    panel = geo.geo_panel
    treated = panel.names[2:6]
    start, end = "2023-05-01", "2023-06-19"
    national = geo.estimand("brand_spend", intervention, ["sales"], start, end)
    in_geos = panel.treated_effect({"brand_spend": intervention}, treated, ["sales"], start, end)
    assert national != 0
    assert in_geos / panel.share(treated) == pytest.approx(national, rel=1e-9)


def test_geo_experiments_raw_panel(geo):
    exps = {e["name"]: e for e in geo.experiments}
    for name in ("brand_geo_dark", "brand_geo_live"):
        e, truth = exps[name], geo.experiment_truth[name]
        raw = geo.raw_files[e["data"]]
        assert list(raw.columns) == ["date", "geo", "sales", "brand_spend"] and raw["geo"].nunique() >= 20
        share = sum(e["geo_shares"].values())
        assert share == pytest.approx(truth["treated_share"], rel=1e-6)
        assert truth["scaled_treated_effect"] == pytest.approx(truth["true"], rel=1e-9)
        window = (raw["date"] >= e["start"]) & (raw["date"] <= e["end"])
        mask = geo.mask(e["start"], e["end"])
        treated = raw[window & raw["geo"].isin(e["treated"])].groupby("date")["sales"].sum().to_numpy()
        baseline = sum(geo.geo_panel.worlds[g].factual["sales"].to_numpy()[mask] for g in e["treated"])
        assert (treated - baseline).mean() == pytest.approx(truth["treated_effect"], rel=1e-6, abs=0.01)
        controls = raw[raw["geo"].isin(e["treated"]) == False]  # noqa: E712
        assert controls.groupby("geo")["brand_spend"].sum().gt(0).all()
    assert exps["brand_geo_dark"]["intervention"] == "off" and exps["brand_geo_live"]["intervention"] == {"set": 40_000.0}
    assert geo.experiment_truth["brand_geo_dark"]["true"] < 0 < geo.experiment_truth["brand_geo_live"]["true"]


def test_search_internal_geo_split_follows_the_rule(search):
    e = next(x for x in search.experiments if x["name"] == "brand_geo_dark")
    raw = search.raw_files[e["data"]]
    assert raw["geo"].nunique() >= 20
    share = sum(e["geo_shares"].values())
    window = (raw["date"] >= e["start"]) & (raw["date"] <= e["end"])
    treated = raw[window & raw["geo"].isin(e["treated"])].groupby("date")["sales"].sum().to_numpy()
    national_do = search.do({"brand_spend": "off"}, e["start"], e["end"])["sales"].to_numpy()[search.mask(e["start"], e["end"])]
    np.testing.assert_allclose(treated / share, national_do, rtol=0.06)  # multiplicative geo noise of a few %


# ------------------------------------------------------------------ switchback and lift tests


def test_weekly_switchback_truth_is_the_weekly_do_estimand(search):
    e = next(x for x in search.experiments if x["name"] == "ppc_switchback")
    assert e["design"] == "switchback" and e["intervention"] == "off" and e["measured"] == ["ppc_clicks", "seo_clicks"]
    assert e["unit"] == "per_period" and e["raw_periods_per_period"] == 7 and e["use"] == "calibrate"
    mask = search.mask(e["start"], e["end"])
    off = search.do({"ppc_spend": ("set", 0.0)}, e["start"], e["end"])
    cols = ["ppc_clicks", "seo_clicks"]
    by_hand = float((off[cols].to_numpy() - search.factual[cols].to_numpy())[mask].sum() / mask.sum())
    truth = search.experiment_truth["ppc_switchback"]
    assert truth["true"] == pytest.approx(by_hand, rel=1e-12)
    raw = search.raw_files[e["data"]]
    assert list(raw.columns) == ["timestamp", "ppc_on", "ppc_clicks", "seo_clicks"]
    assert len(raw) == 7 * mask.sum() and raw["timestamp"].iloc[0] == e["start"]
    # a day is one seventh of its week: factual on on-days, do(ppc off) on off-days (plus 4 % noise)
    week = np.arange(len(raw)) // 7
    steady = np.r_[False, raw["ppc_on"].to_numpy()[1:] == raw["ppc_on"].to_numpy()[:-1]]
    fact_w = search.factual.loc[mask, "ppc_clicks"].to_numpy()[week] / 7
    off_w = off.loc[mask, "ppc_clicks"].to_numpy()[week] / 7
    level = np.where(raw["ppc_on"] == 1, fact_w, off_w)
    np.testing.assert_allclose(raw["ppc_clicks"][steady], level[steady], atol=0.2 * fact_w.max())
    assert truth["raw_estimate"] == pytest.approx(truth["true"], rel=0.15)
    assert truth["true"] < 0


def test_daily_switchback_is_simulated_in_the_daily_world(daily):
    e = next(x for x in daily.experiments if x["name"] == "ppc_switchback")
    assert e["raw_periods_per_period"] == 1 and pd.infer_freq(daily.dates) == "D"
    raw = daily.raw_files[e["data"]]
    mask = daily.mask(e["start"], e["end"])
    off_days = np.zeros(daily.n_periods, dtype=bool)
    off_days[np.flatnonzero(mask)[raw["ppc_on"].to_numpy() == 0]] = True
    realised = daily.do({"ppc_spend": "off"}, mask=off_days)
    np.testing.assert_allclose(raw["ppc_clicks"], realised["ppc_clicks"].to_numpy()[mask], atol=1e-3)
    assert daily.experiment_truth["ppc_switchback"]["true"] == pytest.approx(
        daily.estimand("ppc_spend", "off", ["ppc_clicks", "seo_clicks"], e["start"], e["end"]), rel=1e-12
    )
    assert daily.experiment_truth["ppc_switchback"]["raw_estimate"] == pytest.approx(daily.experiment_truth["ppc_switchback"]["true"], rel=0.25)


def test_lift_tests_are_truth_plus_stated_noise(search):
    exps = {e["name"]: e for e in search.experiments}
    for name, treatment, use in (("social_lift", "social_spend", "calibrate"), ("ppc_go_dark", "ppc_spend", "holdout")):
        e, t = exps[name], search.experiment_truth[name]
        assert e["design"] == "lift" and e["treatment"] == treatment and e["measured"] == "sales" and e["use"] == use
        assert t["true"] == pytest.approx(search.estimand(treatment, "off", ["sales"], e["start"], e["end"]))
        assert abs(e["estimate"] - t["true"]) < 4 * e["se"] and e["se"] > 0


# ------------------------------------------------------------------ files


def test_write_produces_contract_files(tmp_path):
    files = write_world("search", tmp_path, seed=0)
    assert {"data.csv", "graph.dot", "experiments.yaml", "truth.json", "brand_geo_dark.csv", "ppc_switchback.csv"} <= set(files)
    graph = load_graph(tmp_path / "graph.dot")
    data = load_data(tmp_path / "data.csv").validate_against(graph)
    assert data.freq == "W" and data.n_periods == 156
    exps = load_experiments(tmp_path / "experiments.yaml")
    assert [e.name for e in exps] == ["ppc_switchback", "brand_geo_dark", "social_lift", "ppc_go_dark"]
    by = {e.name: e for e in exps}
    assert by["ppc_switchback"].design == "switchback" and by["ppc_switchback"].use == "calibrate"
    assert by["ppc_switchback"].measured == ("ppc_clicks", "seo_clicks") and by["ppc_switchback"].extra["raw_periods_per_period"] == 7
    assert by["brand_geo_dark"].design == "geo_lift" and by["brand_geo_dark"].treated and by["brand_geo_dark"].use == "calibrate"
    assert by["social_lift"].has_result and by["ppc_go_dark"].use == "holdout" and tuple(by["ppc_go_dark"].intervention) == ("set", 0.0)
    for e in exps:
        if e.data:
            assert (tmp_path / e.data).exists()
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert set(truth["effects"]) == set(CHANNELS)
    assert set(truth["experiments"]) == {e.name for e in exps}
    assert all("true" in v for v in truth["experiments"].values())
    assert {"params", "counterfactual", "latent", "seed", "preset"} <= set(truth)
    assert len(truth["counterfactual"]["ppc_spend_off"]) == 156


@pytest.mark.parametrize("preset", ["geo", "daily", "linear"])
def test_every_preset_writes_loadable_files(preset, tmp_path):
    write_world(preset, tmp_path, seed=1)
    graph = load_graph(tmp_path / "graph.dot")
    load_data(tmp_path / "data.csv").validate_against(graph)
    exps = load_experiments(tmp_path / "experiments.yaml")
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert {e.name for e in exps} == set(truth["experiments"])
    if preset == "geo":
        assert len(truth["geo"]["geos"]) >= 20 and "treated" in truth["geo"]["scaling_rule"]


def test_bundled_example_is_reproducible(tmp_path, repo):
    from causalmmm.simulate.make_example import make_example

    make_example(tmp_path / "example", repo_experiments=tmp_path / "experiments")
    bundled = repo / "causalmmm" / "example"
    for name in ("data.csv", "experiments.yaml", "brand_geo_dark.csv", "ppc_switchback.csv", "graph.dot"):
        assert (tmp_path / "example" / name).read_bytes() == (bundled / name).read_bytes(), name
        if name not in ("data.csv", "graph.dot"):
            assert (repo / "experiments" / name).read_bytes() == (bundled / name).read_bytes(), name
    assert sum(p.stat().st_size for p in bundled.iterdir()) < 1_000_000
    spec = yaml.safe_load((bundled / "experiments.yaml").read_text())
    assert all(not str(e.get("data", "")).startswith("/") for e in spec["experiments"])
