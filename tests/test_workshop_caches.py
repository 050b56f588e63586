"""The workshop's caches: identification per graph structure, drawings per document, tests per document.

Each cache must hit when nothing it depends on changed and miss (recompute) when something did.
"""

from __future__ import annotations

import pytest

from causalmmm.graph import identify as ident
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.workshop import Workshop, panels


def _graph(demand_observed: bool = True, l_max: int = 4) -> CausalGraph:
    g = CausalGraph("cache")
    g.add_node("demand", "confounder", observed=demand_observed).add_node("tv", "spend").add_node("visits", "mediator").add_node("sales", "outcome")
    g.add_edge("demand", "tv").add_edge("demand", "sales").add_edge("tv", "visits", adstock="geometric", l_max=l_max).add_edge("visits", "sales")
    return g.validate()


def test_an_attribute_edit_reuses_the_structure_and_a_structural_edit_does_not() -> None:
    ident.clear_cache()
    base = ident._structure(_graph())
    assert ident._structure(_graph(l_max=9)) is base  # edge attributes do not enter identification
    assert ident._structure(_graph(demand_observed=False)) is not base
    reordered = CausalGraph("cache")
    for n in ("tv", "demand", "visits", "sales"):
        reordered.add_node(n, {"tv": "spend", "sales": "outcome"}.get(n, "mediator"))
    for u, v in _graph().edges:
        reordered.add_edge(u, v)
    assert ident._structure(reordered) is not base  # declaration order breaks ties: a different structure


def test_a_cached_answer_follows_the_graph_after_it_is_mutated() -> None:
    ident.clear_cache()
    g = _graph()
    assert ident.identify(g).channel("tv").adjustment_set == ("demand",)
    g._g.nodes["demand"]["observed"] = False  # the same object, a different structure
    after = ident.identify(g).channel("tv")
    assert after.criterion == "frontdoor" and after.adjustment_set is None
    ident.clear_cache()
    assert ident.identify(g).channel("tv") == after


def test_the_structure_cache_is_bounded() -> None:
    ident.clear_cache()
    for lag in range(ident._MAX_CACHED_STRUCTURES + 5):
        g = _graph()
        g.add_node(f"extra{lag}", "control")
        ident.identify(g)
    assert len(ident._STRUCTURES) == ident._MAX_CACHED_STRUCTURES


def test_drawings_are_cached_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import causalmmm.graph.draw as draw

    panels.clear_caches()
    calls: list[str] = []
    real = draw.render_svg
    monkeypatch.setattr(draw, "render_svg", lambda graph, **kw: calls.append(graph.name) or real(graph, **kw))
    first = panels.drawing_svg(_graph())
    assert panels.drawing_svg(_graph()) == first and len(calls) == 1
    panels.drawing_svg(_graph(l_max=9))  # an attribute the drawing shows: drawn again
    assert len(calls) == 2


def test_independence_tests_are_rerun_only_for_a_new_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import causalmmm.workshop.server as server

    calls: list[int] = []
    monkeypatch.setattr(server, "independence_panel", lambda graph, data: calls.append(1) or {"available": False, "ok": False, "problem": "x"})
    ws = Workshop(_graph())
    assert ws.tests()["version"] == 0
    ws.tests()
    assert len(calls) == 1
    ws.edit({"op": "set_edge", "source": "tv", "target": "visits", "attrs": {"l_max": 8}})
    assert ws.tests()["version"] == 1 and len(calls) == 2
    ws.undo()  # back to a tested document: no new run, the current version
    assert ws.tests()["version"] == 2 and len(calls) == 2
