"""CausalGraph: builder, DOT/YAML round trips, validation messages."""

from __future__ import annotations

import pytest

from causalmmm.errors import GraphError, GraphSyntaxError
from causalmmm.graph import CausalGraph, graph_from_dot, graph_from_yaml, graph_to_dot, graph_to_yaml, load_graph, save_graph


def test_example_dot_and_yaml_load_to_the_same_graph(repo):
    dot = load_graph(repo / "graphs" / "marketing.dot")
    yml = load_graph(repo / "graphs" / "marketing.yaml")
    assert dot == yml
    assert dot.outcome == "sales"
    assert dot.spend_nodes == ["ppc_spend", "social_spend", "brand_spend"]


def test_round_trip_is_lossless(example_graph, tmp_path):
    for suffix in (".dot", ".yaml"):
        path = save_graph(example_graph, tmp_path / f"g{suffix}")
        again = load_graph(path)
        assert again == example_graph
        assert again.declared_edge_attrs("ppc_clicks", "seo_clicks") == {"sign": "negative"}
    assert graph_from_dot(graph_to_dot(example_graph)) == example_graph
    assert graph_from_yaml(graph_to_yaml(example_graph)) == example_graph


def test_defaults_follow_the_contract(example_graph):
    spend_edge = example_graph.edge("ppc_spend", "ppc_clicks")
    assert (spend_edge.adstock, spend_edge.saturation, spend_edge.sign) == ("geometric", "hill", "positive")
    plain = example_graph.edge("demand", "seo_clicks")
    assert (plain.adstock, plain.saturation, plain.sign, plain.lag) == ("none", "none", "free", 0)
    assert example_graph.edge("social_clicks", "direct_clicks").lag == 1


def test_builder_api_and_topological_order():
    g = (
        CausalGraph("t")
        .add_node("d", "confounder")
        .add_node("x", "spend")
        .add_node("m", "mediator")
        .add_node("y", "outcome")
        .add_edge("d", "x")
        .add_edge("x", "m", l_max=3)
        .add_edge("m", "y")
        .add_edge("d", "y")
    )
    g.validate()
    order = g.topological_order()
    assert order.index("d") < order.index("x") < order.index("m") < order.index("y")
    assert g.parents("y") == ["m", "d"]
    assert "d" in g.ancestors("y")


def _dot(body: str) -> str:
    return "digraph g {\n" + body + "\n}\n"


@pytest.mark.parametrize(
    "text, needle",
    [
        (_dot("a [role=spend];\nb [role=mediator];\nc [role=outcome];\na -> b; b -> a; b -> c;"), "cycle: a -> b -> a"),
        (_dot("a [role=spnd];\nb [role=outcome];\na -> b;"), "unknown role 'spnd'; allowed values: spend, mediator"),
        (_dot("a [role=spend];\nb [role=outcome];\na -> b [adstock=exp];"), "unknown adstock 'exp'; allowed values: geometric"),
        (_dot("a [role=spend];\nb [role=outcome];\na -> b [sign=up];"), "unknown sign 'up'"),
        (_dot("a [role=spend];\nb [role=outcome];\na -> b [lag=-1];"), "lag must be >= 0"),
        (_dot("a [role=spend];\nb [role=outcome];\na -> a; a -> b;"), "self-loop"),
        (_dot("a [role=spend];\nb [role=mediator];\na -> b;"), "no outcome node"),
        (_dot("a [role=spend];\nb [role=outcome];\nc [role=outcome];\na -> b; a -> c;"), "2 outcome nodes"),
        (_dot("a [role=spend];\nb [role=outcome];\nc [role=mediator];\na -> b; b -> c;"), "the outcome 'b' has children"),
        (_dot("a [role=spend];\nb [role=outcome];\na -> b [colour=red];"), "unknown attribute 'colour'"),
        (_dot("a [role=spend];\nb;\na -> b;"), "node 'b' has no role"),
        (_dot("a [role=spend, observed=maybe];\nb [role=outcome];\na -> b;"), "observed must be true or false"),
    ],
)
def test_dot_validation_errors_are_one_precise_line(text, needle):
    with pytest.raises(GraphError) as exc:
        graph_from_dot(text, "g.dot")
    msg = str(exc.value)
    assert needle in msg
    assert "\n" not in msg
    assert msg.startswith("g.dot")


def test_dot_syntax_error_names_the_line():
    with pytest.raises(GraphSyntaxError, match=r"g.dot:3: DOT syntax error"):
        graph_from_dot("digraph g {\n a [role=spend];\n a -> ;\n}", "g.dot")


def test_yaml_errors_carry_line_and_reject_python_tags():
    with pytest.raises(GraphSyntaxError, match=r"g.yaml:\d+:\d+: invalid YAML"):
        graph_from_yaml("nodes:\n  a: [role: spend\nedges: []\n", "g.yaml")
    with pytest.raises(GraphSyntaxError, match="!!python are not allowed"):
        graph_from_yaml("nodes: !!python/object/apply:os.system ['echo pwned']\n", "g.yaml")
    with pytest.raises(GraphError, match=r"edges\[0\].*unknown node 'zz'"):
        graph_from_yaml("nodes:\n  a: {role: spend}\n  y: {role: outcome}\nedges:\n  - {from: zz, to: y}\n", "g.yaml")


def test_load_graph_file_errors(tmp_path):
    with pytest.raises(GraphError, match="graph file not found"):
        load_graph(tmp_path / "nope.dot")
    bad = tmp_path / "g.txt"
    bad.write_text("x")
    with pytest.raises(GraphError, match="unknown graph file type '.txt'"):
        load_graph(bad)


def test_check_columns_missing_and_extra(example_graph):
    from causalmmm.errors import DataError

    cols = [n for n in example_graph.observed_nodes if n != "promo"]
    with pytest.raises(DataError, match="without a data column: promo"):
        example_graph.check_columns(cols)
    warnings = example_graph.check_columns(example_graph.observed_nodes + ["weather"])
    assert warnings == ["column 'weather' is not in the graph and will be ignored"]


def test_latent_spend_is_rejected():
    g = CausalGraph().add_node("x", "spend", observed=False).add_node("y", "outcome").add_edge("x", "y")
    with pytest.raises(GraphError, match="spend node 'x' is latent"):
        g.validate()
