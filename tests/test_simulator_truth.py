"""The simulator's ground truth: re-simulation under do() with the same noise."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from causalmmm.errors import DataError
from causalmmm.experiments.schema import load_experiments
from causalmmm.simulate import simulate_world, write


@pytest.fixture(scope="module")
def search():
    return simulate_world("search", 0)


def test_same_seed_same_world_bit_for_bit():
    a, b = simulate_world("search", 3), simulate_world("search", 3)
    assert a.data.equals(b.data)
    assert json.dumps(a.truth(), sort_keys=True) == json.dumps(b.truth(), sort_keys=True)
    assert not simulate_world("search", 4).data.equals(a.data)


def test_do_factual_reproduces_data(search):
    for node in ("ppc_spend", "brand_spend", "ppc_clicks", "demand"):
        again = search.do({node: ("scale", 1.0)})
        assert np.array_equal(again.to_numpy(), search.factual.to_numpy())


def test_no_effect_before_window_and_carry_over_after(search):
    start, end = "2023-03-06", "2023-04-24"
    new = search.do({"brand_spend": "off"}, start, end)
    before = search.dates < np.datetime64(start)
    after = search.dates > np.datetime64(end)
    assert np.array_equal(new["sales"].to_numpy()[before], search.factual["sales"].to_numpy()[before])
    diff_after = np.abs(new["sales"].to_numpy()[after] - search.factual["sales"].to_numpy()[after])
    assert diff_after[:3].max() > 0  # 12-week adstock carries past the window


def test_linear_total_effects_are_sums_of_path_products():
    w = simulate_world("linear", 0)
    m = w.mechanisms
    coef = {(t.source, n): t.beta for n, mech in m.items() for t in mech.terms}
    for c, eff in w.true_effects().items():
        spend = w.factual[c].to_numpy().sum()
        total = 0.0
        for p in eff["paths"]:
            prod = np.prod([coef[(u, v)] for u, v in zip(p["path"][:-1], p["path"][1:])])
            assert p["contribution"] == pytest.approx(prod * spend, rel=1e-9)
            total += prod * spend
        assert eff["contribution"] == pytest.approx(total, rel=1e-9)
    assert w.true_effects()["ppc_spend"]["cannibalisation_share"] == pytest.approx(0.35)


def test_latent_variant_hides_demand():
    w = simulate_world("search_latent", 0)
    assert "demand" not in w.data.columns
    assert not w.graph.is_observed("demand")
    assert w.truth()["latent"] == ["demand"]


def test_experiment_truths_match_estimands(search):
    exps = {e["name"]: e for e in search.experiments}
    sb = exps["ppc_switchback"]
    assert search.experiment_truth["ppc_switchback"]["true"] == pytest.approx(
        search.estimand("ppc_spend", "off", ["ppc_clicks", "seo_clicks"], sb["start"], sb["end"]))
    assert sb["raw_periods_per_period"] == 7 and sb["data"] == "ppc_switchback.csv"
    geo = exps["brand_geo_dark"]
    assert len(geo["treated"]) == 3 and set(geo["geo_shares"]) == set(geo["treated"])
    assert exps["ppc_go_dark"]["use"] == "holdout"


def test_geo_panel_obeys_the_scaling_rule(search):
    """Treated geos' effect / their share == the national effect (noise aside, it is exact in expectation)."""
    geo = next(e for e in search.experiments if e["name"] == "brand_geo_dark")
    panel = search.raw_files["brand_geo_dark.csv"]
    assert panel["geo"].nunique() >= 20
    share = sum(geo["geo_shares"].values())
    assert share == pytest.approx(search.experiment_truth["brand_geo_dark"]["treated_share"], rel=1e-5)
    window = (panel["date"] >= geo["start"]) & (panel["date"] <= geo["end"])
    treated_sales = panel[window & panel["geo"].isin(geo["treated"])].groupby("date")["sales"].sum().to_numpy()
    national_do = search.do({"brand_spend": "off"}, geo["start"], geo["end"])["sales"].to_numpy()[search.mask(geo["start"], geo["end"])]
    np.testing.assert_allclose(treated_sales / share, national_do, rtol=0.06)


def test_write_produces_contract_files(search, tmp_path):
    files = write(search, tmp_path)
    assert {"data.csv", "graph.dot", "experiments.yaml", "truth.json", "brand_geo_dark.csv", "ppc_switchback.csv"} <= set(files)
    exps = load_experiments(tmp_path / "experiments.yaml")
    assert [e.name for e in exps] == ["ppc_switchback", "brand_geo_dark", "social_lift", "ppc_go_dark"]
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert set(truth["effects"]) == {"ppc_spend", "social_spend", "brand_spend"}


def test_unknown_preset():
    with pytest.raises(DataError, match="unknown preset 'tv'; choose one of: search"):
        simulate_world("tv")
