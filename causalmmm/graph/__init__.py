"""The causal graph layer: declare, validate, serialise (and draw, identify, discover, test)."""

from causalmmm.graph.causal_graph import (
    ADSTOCKS,
    EDGE_ATTRS,
    ROLES,
    SATURATIONS,
    SIGNS,
    CausalGraph,
    EdgeInfo,
    NodeInfo,
)
from causalmmm.graph.io import graph_from_dict, graph_from_dot, graph_from_yaml, graph_to_dot, graph_to_yaml, load_graph, save_graph

__all__ = [
    "ADSTOCKS",
    "EDGE_ATTRS",
    "ROLES",
    "SATURATIONS",
    "SIGNS",
    "CausalGraph",
    "EdgeInfo",
    "NodeInfo",
    "graph_from_dict",
    "graph_from_dot",
    "graph_from_yaml",
    "graph_to_dot",
    "graph_to_yaml",
    "load_graph",
    "save_graph",
]
