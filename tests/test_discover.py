"""Discovery with role tiers on simulator worlds (small bootstrap: fast)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from causalmmm.errors import DataError, GraphError
from causalmmm.graph import graph_from_dot
from causalmmm.graph.causal_graph import ROLE_TIER
from causalmmm.graph.discover import DiscoveryResult, block_bootstrap_indices, discover, infer_roles


@pytest.fixture(scope="module")
def world():
    from causalmmm.simulate import simulate_world

    return simulate_world("search", seed=0)


@pytest.fixture(scope="module")
def result(world) -> DiscoveryResult:
    return discover(world.data, world.graph, n_bootstrap=5, seed=0)


def _skeleton_scores(result: DiscoveryResult, truth) -> tuple[float, float]:
    true = {frozenset(e) for e in truth.edges}
    found = {frozenset(e) for e in result.graph.edges} | {frozenset(e) for e in result.undirected}
    tp = len(true & found)
    return tp / len(found), tp / len(true)


@pytest.mark.parametrize("preset,seed", [("search", 0), ("search", 1), ("linear", 0), ("linear", 1)])
def test_recovers_most_of_the_skeleton(preset, seed):
    # measured (bench/bench_discovery.py, exact + detrend, seeds 0-4): search P 0.82 R 0.91; linear P 0.95 R 0.96
    from causalmmm.simulate import simulate_world

    w = simulate_world(preset, seed=seed)
    res = discover(w.data, w.graph, n_bootstrap=0)
    precision, recall = _skeleton_scores(res, w.graph)
    assert precision >= 0.75 and recall >= 0.85, (precision, recall)


def test_without_prior_roles_come_from_names(world):
    res = discover(world.data, None, n_bootstrap=0)
    assert res.roles["ppc_spend"] == "spend" and res.roles["seo_clicks"] == "mediator" and res.roles["sales"] == "outcome"
    assert res.roles["demand"] == "confounder"
    precision, recall = _skeleton_scores(res, world.graph)
    assert precision >= 0.75 and recall >= 0.85


@pytest.mark.parametrize("method", ["exact", "pc", "fci", "ges", "boss"])
def test_never_orients_into_spend_or_against_tiers(world, method):
    res = discover(world.data, world.graph, method=method, n_bootstrap=3)
    for u, v in res.graph.edges:
        assert ROLE_TIER[res.roles[u]] <= ROLE_TIER[res.roles[v]], (u, v)
        if res.roles[v] == "spend":
            assert res.roles[u] not in ("mediator", "outcome")
    for (u, v), s in res.stability.items():
        if res.roles[u] in ("mediator", "outcome") and res.roles[v] == "spend":
            assert s["forward"] == 0.0
        if res.roles[v] in ("mediator", "outcome") and res.roles[u] == "spend":
            assert s["backward"] == 0.0


def test_dot_round_trips_with_comments(world, result):
    text = result.to_dot()
    assert "// stability" in text
    loaded = graph_from_dot(text)
    assert set(loaded.edges) == set(result.graph.edges)
    assert {n: loaded.role(n) for n in loaded.nodes} == result.roles
    # declared attributes of the prior are kept on edges that agree with it
    if ("social_clicks", "direct_clicks") in loaded.edges:
        assert loaded.edge("social_clicks", "direct_clicks").lag == 1


def test_undecided_edges_are_comments_that_load(world, result):
    res = DiscoveryResult(**{**result.__dict__})
    g = res.graph.copy()
    g.remove_edge("ppc_clicks", "seo_clicks") if ("ppc_clicks", "seo_clicks") in g.edges else None
    res.graph, res.undirected = g, [("ppc_clicks", "seo_clicks")]
    text = res.to_dot()
    assert "// UNDECIDED: ppc_clicks -- seo_clicks" in text and "orient it and uncomment" in text
    assert ("ppc_clicks", "seo_clicks") not in graph_from_dot(text).edges


def test_diff_reports_a_removed_edge_as_missing(world, result):
    res = DiscoveryResult(**{**result.__dict__})
    g = res.graph.copy()
    assert ("demand", "seo_clicks") in g.edges
    g.remove_edge("demand", "seo_clicks")
    res.graph = g
    d = res.diff(world.graph)
    missing = {(e["from"], e["to"]) for e in d["missing"]}
    assert ("demand", "seo_clicks") in missing
    assert all(k in d for k in ("missing", "extra", "reversed", "undecided", "agree", "not_compared"))
    # an edge the prior lacks is "extra"
    prior = world.graph.copy().remove_edge("brand_spend", "direct_clicks")
    extra = {(e["from"], e["to"]) for e in result.diff(prior)["extra"]}
    assert ("brand_spend", "direct_clicks") in extra
    assert "MISSING in the data: demand -> seo_clicks" in DiscoveryResult(**{**res.__dict__, "prior": world.graph}).to_text()


def test_stability_progress_and_json(world):
    calls = []
    res = discover(world.data, world.graph, n_bootstrap=4, progress=lambda i, n: calls.append((i, n)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for s in res.stability.values():
        assert 0.0 <= s["present"] <= 1.0
        assert abs(s["forward"] + s["backward"] + s["undecided"] - s["present"]) < 1e-9
    payload = json.loads(json.dumps(res.to_dict()))
    assert {"method", "edges", "undirected", "stability", "diff", "nodes"} <= set(payload)
    assert "stability" in res.to_text()


def test_latent_prior_is_reported(world):
    from causalmmm.simulate import simulate_world

    w = simulate_world("search_latent", seed=0)
    res = discover(w.data, w.graph, n_bootstrap=0)
    assert "demand" not in res.graph.nodes
    assert any("latent" in m for m in res.warnings)
    assert any(e["from"] == "demand" for e in res.diff(w.graph)["not_compared"])


def test_block_bootstrap_keeps_blocks():
    idx = block_bootstrap_indices(100, 8, np.random.default_rng(0))
    assert len(idx) == 100 and idx.max() < 100
    assert np.all(np.diff(idx[:8]) == 1)


def test_infer_roles_heuristic():
    roles = infer_roles(["tv_spend", "web_visits", "revenue", "price"])
    assert roles == {"tv_spend": "spend", "web_visits": "mediator", "revenue": "outcome", "price": "confounder"}
    assert infer_roles(["a_spend", "y"], outcome="y")["y"] == "outcome"
    assert infer_roles(["a_spend", "y", "z"], roles={"z": "control", "y": "outcome"})["z"] == "control"


def _one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_errors_are_one_line(world):
    df = world.data.rename(columns={"sales": "units"})
    with pytest.raises(DataError) as e:
        discover(df, n_bootstrap=0)
    assert "no outcome" in _one_line(e) and "--outcome" in str(e.value)
    with pytest.raises(DataError) as e:
        discover(world.data, n_bootstrap=0, outcome="profit")
    assert "profit" in _one_line(e)
    with pytest.raises(GraphError) as e:
        discover(world.data, world.graph, method="magic", n_bootstrap=0)
    assert "magic" in _one_line(e)
    with pytest.raises(DataError) as e:
        discover(world.data.drop(columns=["seo_clicks"]), world.graph, n_bootstrap=0)
    assert "seo_clicks" in _one_line(e)
    with pytest.raises(DataError) as e:
        discover(world.data.head(12), world.graph, n_bootstrap=0)
    assert "periods" in _one_line(e)
    df2 = world.data.assign(revenue=world.data["sales"] * 2.0)
    with pytest.raises(DataError) as e:
        discover(df2, n_bootstrap=0)
    assert "outcome" in _one_line(e)
    with pytest.raises(DataError) as e:
        discover([[1, 2]], n_bootstrap=0)
    _one_line(e)
