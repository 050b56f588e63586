"""Testing a graph's implied independences against simulated data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from causalmmm.errors import DataError, GraphError
from causalmmm.graph.independence import benjamini_hochberg, check_implied_independences, effective_sample_size, holm, implied_independences


@pytest.fixture(scope="module")
def search():
    from causalmmm.simulate import simulate_world

    return simulate_world("search", seed=0)


@pytest.mark.parametrize("preset,seed", [("search", 0), ("search", 1), ("linear", 0), ("search_latent", 0)])
def test_true_graph_passes(preset, seed):
    from causalmmm.simulate import simulate_world

    w = simulate_world(preset, seed=seed)
    report = check_implied_independences(w.graph, w.data)
    assert report.passed, report.to_text()
    assert len(report.tested) >= 15


@pytest.mark.parametrize("edge", [("demand", "seo_clicks"), ("ppc_clicks", "seo_clicks"), ("brand_spend", "direct_clicks")])
def test_detects_a_removed_edge(search, edge):
    wrong = search.graph.copy().remove_edge(*edge)
    report = check_implied_independences(wrong, search.data)
    assert not report.passed
    # the violated implication involves the child of the removed edge (the edge itself, or a path through it)
    assert any(edge[1] in (i.x, i.y) for i in report.failures)
    text = report.to_text()
    assert "should be independent given" in text and "the data says they are not" in text and "is an edge missing" in text


def test_detects_removed_edge_in_linear_world():
    from causalmmm.simulate import simulate_world

    w = simulate_world("linear", seed=0)
    assert not check_implied_independences(w.graph.copy().remove_edge("ppc_clicks", "seo_clicks"), w.data).passed


def test_implications_use_observed_separators():
    from causalmmm.simulate import simulate_world

    w = simulate_world("search_latent", seed=0)
    imps, untestable = implied_independences(w.graph)
    for i in imps:
        assert "demand" not in i.given
    # demand is latent: ppc_spend and seo_clicks share it, nothing observed separates them
    assert ("ppc_spend", "seo_clicks") in untestable or ("seo_clicks", "ppc_spend") in untestable


def test_report_dict_and_dataset_input(search):
    from causalmmm.data import load_data

    data = load_data(search.data)
    report = check_implied_independences(search.graph, data, method="linear", correction="bh")
    d = json.loads(json.dumps(report.to_dict()))
    assert {"passed", "alpha", "method", "correction", "implications", "n_failures", "untestable"} <= set(d)
    assert d["correction"] == "bh"
    one = d["implications"][0]
    assert {"x", "y", "given", "p_value", "p_adjusted", "verdict"} <= set(one)
    assert report.to_text().startswith(("PASSED", "FAILED"))


def test_max_conditioning_skips(search):
    report = check_implied_independences(search.graph, search.data, max_conditioning=1)
    skipped = [i for i in report.implications if i.verdict == "skipped"]
    assert skipped and all(len(i.given) > 1 for i in skipped)


def test_kci_runs_on_a_small_graph(search):
    from causalmmm.graph import CausalGraph

    g = (
        CausalGraph("tiny")
        .add_node("demand", "confounder")
        .add_node("social_spend", "spend")
        .add_node("social_clicks", "mediator")
        .add_node("sales", "outcome")
        .add_edge("social_spend", "social_clicks")
        .add_edge("social_clicks", "sales")
        .add_edge("demand", "sales")
    )
    report = check_implied_independences(g, search.data[["date", "demand", "social_spend", "social_clicks", "sales"]], method="kci")
    assert report.tested and all(0.0 <= i.p_value <= 1.0 for i in report.tested)


def test_corrections_and_neff():
    p = [0.01, 0.04, 0.03, 0.5]
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert benjamini_hochberg(p) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    rng = np.random.default_rng(0)
    white = rng.normal(size=(2, 300))
    assert effective_sample_size(*white) > 200
    walk = np.cumsum(rng.normal(size=(2, 300)), axis=1)
    assert effective_sample_size(*walk) < 100


def test_errors_are_one_line(search):
    with pytest.raises(DataError) as e:
        check_implied_independences(search.graph, search.data.drop(columns=["seo_clicks"]))
    assert "seo_clicks" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(GraphError) as e:
        check_implied_independences(search.graph, search.data, method="magic")
    assert "magic" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(GraphError) as e:
        check_implied_independences(search.graph, search.data, alpha=2.0)
    assert "\n" not in str(e.value)
    with pytest.raises(GraphError):
        check_implied_independences("graph.dot", search.data)


def test_spend_features_are_geometric_adstock_and_edge_filled_lags():
    """A conditioning spend node enters as itself, a normalised geometric carry-over at each basis rate
    (written out here as a convolution) and those columns lagged (first value repeated)."""
    from causalmmm.graph import CausalGraph
    from causalmmm.graph.independence import ADSTOCK_BASIS, _node_features

    g = (
        CausalGraph("f")
        .add_node("tv", "spend")
        .add_node("visits", "mediator")
        .add_node("sales", "outcome")
        .add_edge("tv", "visits", adstock="geometric", saturation="none", l_max=5, lag=2)
        .add_edge("visits", "sales")
    )
    x = np.random.default_rng(3).gamma(2.0, 1.0, 30)
    cols = _node_features(g, "tv", x)

    def carry(a: float) -> np.ndarray:
        w = a ** np.arange(5)
        return np.convolve(x, w / w.sum())[:30]

    def lagged(v: np.ndarray) -> np.ndarray:
        return np.concatenate([[v[0], v[0]], v[:-2]])

    want = [x, lagged(x)] + [carry(a) for a in ADSTOCK_BASIS] + [lagged(carry(a)) for a in ADSTOCK_BASIS]
    assert len(cols) == len(want) == 8
    for got, ref in zip(cols, want):
        np.testing.assert_allclose(got, ref, rtol=1e-12)
