"""Graph drawing: formats, no `dot` binary needed, styling, effects overlay, escaping."""

from __future__ import annotations

import os
import shutil
import xml.dom.minidom
from pathlib import Path

import pytest

from causalmmm.errors import GraphError
from causalmmm.graph import CausalGraph
from causalmmm.graph.draw import DRAW_FORMATS, draw_graph, render_svg, to_agraph

MAGIC = {".svg": None, ".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF", ".dot": None}


@pytest.fixture
def no_dot_on_path(tmp_path, monkeypatch):
    """PATH is an empty directory: no Graphviz program can be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert os.environ["PATH"] == str(empty)
    assert shutil.which("dot") is None
    return empty


@pytest.fixture
def latent_graph(example_graph):
    g = example_graph.copy()
    g.add_node("demand", "confounder", observed=False)
    return g


def _edge(A, u, v):
    """The drawn edge u -> v (not an invisible edge that only orders the ranks)."""
    return next(e for e in A.edges() if (e[0], e[1]) == (u, v) and e.attr.get("style") != "invis")


@pytest.mark.parametrize("suffix", sorted(DRAW_FORMATS))
def test_each_format_is_written_without_the_dot_program(example_graph, tmp_path, no_dot_on_path, suffix):
    out = draw_graph(example_graph, tmp_path / "sub" / f"graph{suffix}")
    assert out == tmp_path / "sub" / f"graph{suffix}"
    data = out.read_bytes()
    assert len(data) > 200
    if suffix == ".svg":
        text = data.decode("utf-8")
        assert "<svg" in text[:500]
        xml.dom.minidom.parseString(data)  # well-formed XML
    elif suffix == ".dot":
        text = data.decode("utf-8")
        assert text.lstrip().startswith("digraph") and "ppc_spend" in text
    else:
        assert data.startswith(MAGIC[suffix])
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]  # atomic: no temp left


def test_suffix_is_case_insensitive(example_graph, tmp_path):
    assert draw_graph(example_graph, tmp_path / "g.PNG").read_bytes().startswith(MAGIC[".png"])


def test_render_svg_and_jupyter_repr(example_graph, no_dot_on_path):
    svg = render_svg(example_graph)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert example_graph._repr_svg_().count("<svg") == 1
    for name in example_graph.nodes:
        assert f"<title>{name}</title>" in svg


def test_roles_have_distinct_colour_and_shape(example_graph):
    A = to_agraph(example_graph)
    styles = {}
    for n in example_graph.nodes:
        a = A.get_node(n).attr
        styles[example_graph.role(n)] = (a["shape"], a["fillcolor"], a.get("peripheries") or "1", a["style"])
    assert len({s[1] for s in styles.values()}) == 5  # colours differ
    assert len({(s[0], s[2], "rounded" in s[3]) for s in styles.values()}) == 5  # shapes differ
    assert int(A.node_attr["fontsize"]) >= 14 and int(A.edge_attr["fontsize"]) >= 14
    assert "sans-serif" in A.graph_attr["fontname"]


def test_latent_nodes_are_dashed_and_labelled(latent_graph):
    A = to_agraph(latent_graph)
    demand = A.get_node("demand").attr
    assert "dashed" in demand["style"]
    assert "(latent)" in demand["label"]
    assert "dashed" not in A.get_node("ppc_spend").attr["style"]
    svg = render_svg(latent_graph)
    assert "(latent)" in svg and "stroke-dasharray" in svg


def test_negative_edges_lags_and_carry_over_are_marked(example_graph):
    A = to_agraph(example_graph)
    neg = _edge(A, "ppc_clicks", "seo_clicks").attr
    assert neg["color"] == "#C0392B" and neg["arrowhead"] == "tee" and "\u2212" in neg["label"]
    pos = _edge(A, "ppc_clicks", "sales").attr
    assert pos.get("arrowhead") != "tee" and pos.get("color") != "#C0392B" and not pos.get("label")
    assert "lag 1" in _edge(A, "social_clicks", "direct_clicks").attr["label"]
    # brand's long carry-over (l_max=12 > default 8) is written once, on the spend node
    assert "carry-over 12" in A.get_node("brand_spend").attr["label"]
    assert "carry-over" not in A.get_node("ppc_spend").attr["label"]  # short carry-over: no clutter
    svg = render_svg(example_graph)
    assert "lag 1" in svg
    assert "carry&#45;over 12" in svg  # Graphviz writes "-" as &#45; in SVG text


def test_carry_over_goes_on_the_edge_when_a_channel_has_several(tmp_path):
    g = (
        CausalGraph()
        .add_node("tv", "spend")
        .add_node("a", "mediator")
        .add_node("b", "mediator")
        .add_node("y", "outcome")
        .add_edge("tv", "a", l_max=12)
        .add_edge("tv", "b", adstock="weibull", l_max=10)
        .add_edge("a", "y")
        .add_edge("b", "y")
    )
    A = to_agraph(g)
    assert "carry-over" not in A.get_node("tv").attr["label"]
    assert "carry-over 12" in _edge(A, "tv", "a").attr["label"]
    assert "weibull carry-over 10" in _edge(A, "tv", "b").attr["label"]


def test_legend_is_present(example_graph, latent_graph):
    A = to_agraph(latent_graph)
    legend = A.get_node("__legend__").attr["label"]
    for text in ("confounder", "control", "spend", "mediator", "outcome", "(latent)", "negative effect", "lag 1", "carry-over 12"):
        assert text in legend
    assert "fitted effect" not in legend
    svg = render_svg(example_graph)
    assert "negative effect" in svg and "mediator (ellipse)" in svg


def test_layout_tiers_run_from_confounders_to_outcome(example_graph):
    A = to_agraph(example_graph)
    ranks = [sg for sg in A.subgraphs() if sg.graph_attr.get("rank") == "same" and sg.name.startswith("rank_") and sg.name != "rank_legend"]
    order = [set(sg.nodes()) for sg in sorted(ranks, key=lambda sg: int(sg.name.split("_")[1]))]
    assert order[0] == {"demand", "promo"}
    assert order[1] == {"ppc_spend", "social_spend", "brand_spend"}
    assert order[2] == {"ppc_clicks", "social_clicks"}  # mediators that feed mediators come first
    assert order[3] == {"seo_clicks", "direct_clicks"}
    assert order[-1] == {"sales"}
    A.layout(prog="dot")  # and left to right it is
    x = {n: float(A.get_node(n).attr["pos"].split(",")[0]) for n in example_graph.nodes}
    assert x["demand"] < x["ppc_spend"] < x["ppc_clicks"] < x["seo_clicks"] < x["sales"]


def test_effects_overlay_changes_labels_and_width(example_graph):
    plain = to_agraph(example_graph)
    effects = {("ppc_spend", "ppc_clicks"): 5200.0, ("brand_spend", "seo_clicks"): 520.0, ("ppc_clicks", "seo_clicks"): -1234.5}
    A = to_agraph(example_graph, effects=effects)
    big, small = _edge(A, "ppc_spend", "ppc_clicks").attr, _edge(A, "brand_spend", "seo_clicks").attr
    assert "+5,200" in big["label"] and "+520" in small["label"]
    assert float(big["penwidth"]) > float(small["penwidth"]) > float(A.edge_attr["penwidth"]) * 0.5
    assert _edge(plain, "ppc_spend", "ppc_clicks").attr.get("label") in (None, "")
    neg = _edge(A, "ppc_clicks", "seo_clicks").attr
    assert "\u22121,234" in neg["label"] or "\u22121,235" in neg["label"]
    assert neg["color"] == "#C0392B"
    assert "fitted effect" in A.get_node("__legend__").attr["label"]
    assert "+5,200" in render_svg(example_graph, effects=effects)


def test_effects_on_unknown_edges_are_refused(example_graph):
    with pytest.raises(GraphError, match="ppc_spend -> sales, which is not in the graph") as err:
        to_agraph(example_graph, effects={("ppc_spend", "sales"): 1.0})
    assert "\n" not in str(err.value)
    with pytest.raises(GraphError, match="not finite"):
        to_agraph(example_graph, effects={("ppc_spend", "ppc_clicks"): float("nan")})


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.svg.bak"])
def test_unknown_suffix_is_a_one_line_graph_error(example_graph, tmp_path, name):
    with pytest.raises(GraphError) as err:
        draw_graph(example_graph, tmp_path / name)
    msg = str(err.value)
    assert "\n" not in msg
    assert "cannot draw" in msg and ".svg, .png, .pdf, .dot" in msg
    assert not (tmp_path / name).exists()


def test_html_special_names_are_escaped(tmp_path, no_dot_on_path):
    g = (
        CausalGraph("a&b<c>")
        .add_node("a&b<c>", "spend")
        .add_node('click "x"\\N', "mediator")
        .add_node("<b>bold</b>", "confounder", observed=False)
        .add_node("y", "outcome")
        .add_edge("<b>bold</b>", "a&b<c>")
        .add_edge("a&b<c>", 'click "x"\\N', lag=1)
        .add_edge('click "x"\\N', "y", sign="negative")
    )
    svg = render_svg(g, effects={("a&b<c>", 'click "x"\\N'): 2.5})
    xml.dom.minidom.parseString(svg.encode("utf-8"))
    assert "a&amp;b&lt;c&gt;" in svg and "&lt;b&gt;bold&lt;/b&gt;" in svg
    assert "click &quot;x&quot;\\N<" in svg  # the backslash is kept literally, \N is not expanded
    out = draw_graph(g, tmp_path / "special.png", title="Q&A <draft>")
    assert out.read_bytes().startswith(MAGIC[".png"])
    dot_text = draw_graph(g, tmp_path / "special.dot").read_text()
    import pygraphviz as pgv

    assert set(pgv.AGraph(string=dot_text).nodes()) >= set(g.nodes)  # the styled DOT re-parses


def test_side_by_side_comparison(tmp_path):
    from causalmmm.graph import load_graph
    from causalmmm.graph.draw import draw_side_by_side

    g = load_graph(Path(__file__).resolve().parents[1] / "graphs" / "marketing.dot")
    other = g.copy().remove_edge("ppc_clicks", "seo_clicks")
    out = draw_side_by_side(g, other, tmp_path / "cmp.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(GraphError, match="use .png, .pdf or .svg"):
        draw_side_by_side(g, other, tmp_path / "cmp.gif")
