"""Identification on textbook graphs, checked independently with networkx d-separation."""

from __future__ import annotations

import itertools
import json
import random

import networkx as nx
import pytest
from graph_catalogue import CASES, Case, marketing

from causalmmm.errors import GraphError
from causalmmm.graph import CausalGraph
from causalmmm.graph.identify import (
    ChannelIdentification,
    IdentificationReport,
    NodeMechanism,
    _latent_projection,
    frontdoor_set,
    identify,
    is_identifiable,
    is_valid_adjustment_set,
    mediators_between,
    minimal_adjustment_set,
    node_mechanisms,
)

PAIRS = [(case, t) for case in CASES for t in case.expect]
IDS = [f"{case.name}:{t}" for case, t in PAIRS]


# ---------------------------------------------------- independent oracle
def oracle_valid(graph: CausalGraph, t: str, y: str, z: set[str]) -> bool:
    """Backdoor criterion written out from scratch (not via identify.py)."""
    g = nx.DiGraph(graph.edges)
    g.add_nodes_from(graph.nodes)
    if z & ({t, y} | nx.descendants(g, t)):
        return False
    if any(not graph.is_observed(n) for n in z):
        return False
    bd = g.copy()
    bd.remove_edges_from(list(g.out_edges(t)))
    return nx.is_d_separator(bd, {t}, {y}, z)


def oracle_min_size(graph: CausalGraph, t: str, y: str) -> int | None:
    pool = [n for n in graph.observed_nodes if n not in (t, y)]
    for k in range(len(pool) + 1):
        if any(oracle_valid(graph, t, y, set(c)) for c in itertools.combinations(pool, k)):
            return k
    return None


def test_catalogue_has_at_least_12_graphs():
    assert len(CASES) >= 12
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "treatment"), PAIRS, ids=IDS)
def test_catalogue_expectations(case: Case, treatment: str):
    graph = case.build()
    exp = case.expect[treatment]
    ch = identify(graph, [treatment]).channel(treatment)
    y = graph.outcome
    assert ch.identifiable is exp.identifiable, ch.reason
    assert ch.criterion == exp.criterion
    assert ch.adjustment_set == exp.adjustment_set
    assert tuple(ch.mediators) == exp.mediators
    for n in exp.never:
        assert ch.adjustment_set is None or n not in ch.adjustment_set
    for s in exp.also_valid:
        assert is_valid_adjustment_set(graph, treatment, y, s), s
        assert oracle_valid(graph, treatment, y, set(s)), s
    for s in exp.invalid:
        assert not is_valid_adjustment_set(graph, treatment, y, s), s
        assert not oracle_valid(graph, treatment, y, set(s)), s
    if exp.frontdoor is not None:
        assert ch.frontdoor_set == exp.frontdoor
    for name in exp.latent_named:
        assert name in ch.reason and "latent" in ch.reason
    exps = " | ".join(ch.experiments_that_identify)
    for sub in exp.experiments_include:
        assert sub in exps, exps
    for sub in exp.experiments_exclude:
        assert sub not in exps, exps


@pytest.mark.parametrize(("case", "treatment"), PAIRS, ids=IDS)
def test_sets_valid_and_minimal_by_independent_check(case: Case, treatment: str):
    graph = case.build()
    y = graph.outcome
    ch = identify(graph, [treatment]).channel(treatment)
    best = oracle_min_size(graph, treatment, y)
    if ch.adjustment_set is None:
        assert best is None, "a valid set exists but none was returned"
        return
    z = set(ch.adjustment_set)
    assert oracle_valid(graph, treatment, y, z)
    for n in z:  # minimal: dropping any element breaks validity
        assert not oracle_valid(graph, treatment, y, z - {n})
    assert len(z) == best  # and of minimum size


@pytest.mark.parametrize(("case", "treatment"), PAIRS, ids=IDS)
def test_every_verdict_explains_itself(case: Case, treatment: str):
    graph = case.build()
    ch = identify(graph, [treatment]).channel(treatment)
    assert ch.identifiable is is_identifiable(graph, treatment)
    assert ch.reason
    if ch.identifiable:  # the criterion names the set that identifies it, and the formula is of the do-query
        assert ch.criterion in ("no causal path", "backdoor", "frontdoor", "do-calculus"), ch.criterion
        if ch.criterion == "backdoor":
            assert ch.adjustment_set is not None
        if ch.criterion in ("frontdoor", "do-calculus"):
            assert ch.adjustment_set is None and ch.open_path and ch.open_path in ch.reason
        assert (ch.frontdoor_set is not None) is (ch.criterion == "frontdoor")
        assert ch.formula.startswith(f"P({graph.outcome} | do({treatment}))") or ch.criterion == "do-calculus"
    else:
        assert ch.criterion is None and ch.frontdoor_set is None and ch.adjustment_set is None
        assert ch.latent_confounders and all(not graph.is_observed(n) for n in ch.latent_confounders)
        for n in ch.latent_confounders:
            assert f"{n} is latent" in ch.reason or f"{n} are latent" in ch.reason or n in ch.reason
        assert ch.open_path and ch.open_path in ch.reason
        assert any(f"measured on {graph.outcome}" in e for e in ch.experiments_that_identify)


def test_mbias_never_conditions_on_the_collider():
    """pymc-marketing's union-of-path-nodes returns {c}; that opens t <- u1 -> c <- u2 -> y."""
    for case in CASES:
        if case.name.startswith("m_bias"):
            g = case.build()
            assert minimal_adjustment_set(g, "t") == []
            assert not is_valid_adjustment_set(g, "t", "y", ["c"])


def test_marketing_latent_demand_reason_and_switchback():
    g = marketing(False)()
    ch = identify(g).channel("ppc_spend")
    assert not ch.identifiable
    assert "demand is latent" in ch.reason
    assert ch.open_path.startswith("ppc_spend <- demand -> ")
    assert ch.open_path.endswith("-> sales")
    assert any(e.startswith("a randomised test on ppc_spend measured on ppc_clicks+seo_clicks, given that") for e in ch.experiments_that_identify)


def test_marketing_observed_every_channel_identifiable_with_small_sets():
    rep = identify(marketing(True)())
    assert [c.treatment for c in rep.channels] == ["ppc_spend", "social_spend", "brand_spend"]
    for c in rep.channels:
        assert c.identifiable and c.criterion == "backdoor"
        assert len(c.adjustment_set) <= 1


def test_frontdoor_conditions():
    fd = next(c for c in CASES if c.name == "front_door").build()
    assert minimal_adjustment_set(fd, "t") is None
    assert frontdoor_set(fd, "t") == ["m"]
    assert "sum_m P(m | t)" in identify(fd).channel("t").formula
    broken = next(c for c in CASES if c.name == "front_door_broken").build()
    assert frontdoor_set(broken, "t") is None


def test_mediators_between():
    g = marketing(True)()
    assert mediators_between(g, "ppc_spend") == ["ppc_clicks", "seo_clicks"]
    assert mediators_between(g, "brand_spend", "sales") == ["seo_clicks", "direct_clicks"]
    assert mediators_between(g, "demand") == ["ppc_spend", "ppc_clicks", "seo_clicks", "direct_clicks"]


def test_any_observed_node_can_be_a_treatment():
    g = marketing(True)()
    ch = identify(g, ["ppc_clicks"]).channel("ppc_clicks")
    assert ch.identifiable and ch.adjustment_set == ("demand",)
    assert ch.mediators == ("seo_clicks",)


def test_node_mechanisms_latent_demand():
    mechs = {m.node: m for m in node_mechanisms(marketing(False)())}
    assert "demand" not in mechs and "promo" not in mechs  # latent / root
    assert mechs["ppc_clicks"].parents == ("ppc_spend",)
    assert mechs["ppc_clicks"].confounded and mechs["ppc_clicks"].confounders == ("demand",)
    assert mechs["ppc_clicks"].status == "confounded unless calibrated"
    assert mechs["seo_clicks"].confounded
    assert not mechs["sales"].confounded and mechs["sales"].status == "identified"
    assert mechs["direct_clicks"].latent_parents == ("demand",) and not mechs["direct_clicks"].confounded
    observed = {m.node: m for m in node_mechanisms(marketing(True)())}
    assert not any(m.confounded for m in observed.values())
    assert observed["seo_clicks"].parents == ("demand", "brand_spend", "ppc_clicks")


def test_node_mechanisms_mediator_outcome_confounding():
    g = next(c for c in CASES if c.name == "mediator_outcome_confounding").build()
    mechs = {m.node: m for m in node_mechanisms(g)}
    assert mechs["y"].confounded and mechs["y"].confounders == ("u",)
    assert mechs["y"].open_path == "m <- u -> y"
    assert not mechs["m"].confounded


def test_unknown_treatment_is_a_one_line_graph_error():
    g = marketing(True)()
    with pytest.raises(GraphError) as err:
        identify(g, ["tv_spend"])
    assert "unknown treatment 'tv_spend'" in str(err.value)
    assert "\n" not in str(err.value)
    lat = marketing(False)()
    with pytest.raises(GraphError, match="latent"):
        identify(lat, ["demand"])
    with pytest.raises(GraphError, match="is the outcome"):
        identify(g, ["sales"])


def test_to_dict_pins_contract_keys():
    rep = identify(marketing(False)())
    assert isinstance(rep, IdentificationReport)
    assert all(isinstance(c, ChannelIdentification) for c in rep.channels)
    assert all(isinstance(m, NodeMechanism) for m in rep.nodes)
    d = json.loads(json.dumps(rep.to_dict()))
    assert set(d) >= {"outcome", "channels"}
    assert d["outcome"] == "sales"
    contract = {"treatment", "identifiable", "adjustment_set", "mediators", "reason", "experiments_that_identify"}
    for c in d["channels"]:
        assert contract <= set(c)
        assert isinstance(c["treatment"], str) and isinstance(c["identifiable"], bool)
        assert c["adjustment_set"] is None or all(isinstance(n, str) for n in c["adjustment_set"])
        assert isinstance(c["mediators"], list) and isinstance(c["reason"], str)
        assert isinstance(c["experiments_that_identify"], list) and c["experiments_that_identify"]
    ppc = d["channels"][0]
    assert ppc["treatment"] == "ppc_spend" and ppc["identifiable"] is False and ppc["adjustment_set"] is None
    assert d["channels"][1]["adjustment_set"] == []
    assert {"node", "parents", "confounded", "status"} <= set(d["nodes"][0])


def test_to_text_is_plain_words():
    text = identify(marketing(False)()).to_text()
    assert "ppc_spend: NOT identifiable" in text
    assert "social_spend: identifiable (backdoor)" in text
    assert "confounded unless calibrated" in text
    assert "measured on ppc_clicks+seo_clicks" in text


# ------------------------------------------------ random-graph consistency
def _random_graph(rng: random.Random, n: int) -> CausalGraph:
    g = CausalGraph("rand")
    names = [f"v{i}" for i in range(n)]
    for i, name in enumerate(names[:-1]):
        role = "spend" if i == n - 3 else "confounder"
        g.add_node(name, role, observed=(role == "spend" or rng.random() > 0.4))
    g.add_node(names[-1], "outcome")
    for i in range(n):
        for j in range(i + 1, n - 0):
            if rng.random() < 0.35:
                g.add_edge(names[i], names[j])
    if names[-1] not in g.descendants(names[-3]):
        g.add_edge(names[-3], names[-1])
    return g


def _tian_pearl(g: CausalGraph, t: str, y: str) -> bool:
    """Tian & Pearl (2002): P(y | do(t)) is identifiable if no bidirected path joins t
    to one of its children in the latent projection restricted to An(y)."""
    proj = _latent_projection(g)
    an = proj.ancestors({y})
    if t not in an:
        return True
    sub = proj.sub(an)
    comp = next(c for c in sub.c_components() if t in c)
    return not ({b for a, b in sub.directed if a == t} & comp)


def test_random_graphs_agree_with_brute_force_and_id():
    rng = random.Random(7)
    seen = set()
    for _ in range(80):
        g = _random_graph(rng, rng.randint(4, 7))
        t, y = g.spend_nodes[0], g.outcome
        z = minimal_adjustment_set(g, t, y)
        best = oracle_min_size(g, t, y)
        assert (z is None) == (best is None)
        if z is not None:
            assert oracle_valid(g, t, y, set(z)) and len(z) == best
            assert is_identifiable(g, t, y)  # ID is complete: it must agree
        if frontdoor_set(g, t, y) is not None:
            assert is_identifiable(g, t, y)
        assert is_identifiable(g, t, y) == _tian_pearl(g, t, y)
        ch = identify(g, [t]).channel(t)
        assert ch.identifiable == is_identifiable(g, t, y)
        seen.add(ch.criterion)
    assert {"backdoor", None} <= seen  # the sample exercises both outcomes


# ------------------------------------------------------ dowhy cross-check
DOWHY_CASES = ["simple_confounding", "m_bias_latent_u", "butterfly_observed_u", "confounder_parent_of_mediator", "front_door", "marketing_demand_observed"]


@pytest.mark.parametrize("name", DOWHY_CASES)
def test_agrees_with_dowhy_minimal_backdoor(name: str):
    auto = pytest.importorskip("dowhy.causal_identifier")
    case = next(c for c in CASES if c.name == name)
    g = case.build()
    nxg = nx.DiGraph(g.edges)
    for t in case.expect:
        est = auto.identify_effect_auto(
            nxg,
            [t],
            [g.outcome],
            g.observed_nodes,
            auto.EstimandType.NONPARAMETRIC_ATE,
            backdoor_adjustment=auto.BackdoorAdjustment.BACKDOOR_MIN,
        )
        ours = identify(g, [t]).channel(t)
        theirs = est.backdoor_variables.get("backdoor") if est.backdoor_variables else None
        if theirs is None:
            assert ours.adjustment_set is None
            if est.frontdoor_variables:
                assert ours.criterion == "frontdoor" and set(ours.frontdoor_set) == set(est.frontdoor_variables)
        else:
            assert ours.adjustment_set is not None
            assert oracle_valid(g, t, g.outcome, set(theirs))
            assert len(ours.adjustment_set) <= len(theirs)
