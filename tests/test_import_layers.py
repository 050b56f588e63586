"""The core is one-way: no import cycle between causalmmm's packages, function-local imports included.

A "package" is the first name under causalmmm (a subpackage such as ``model`` or a top-level module
such as ``spec``). Imports under ``if TYPE_CHECKING:`` are type hints only and are not counted.
ARCHITECTURE.md's layer diagram is checked against the same graph.
"""

from __future__ import annotations

import ast

import networkx as nx
from conftest import REPO

PKG = REPO / "causalmmm"


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "causalmmm" and len(parts) > 1 else None


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (type-only imports run nothing)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def package_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        here = _unit(".".join(rel.parts)) if rel.name != "__init__" or len(rel.parts) > 2 else None
        if here is None:
            continue  # causalmmm/__init__.py: the public facade may import anything
        g.add_node(here)
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "causalmmm"]
            for name in names:
                target = _unit(name)
                if target and target != here:
                    g.add_edge(here, target)
    return g


def test_no_import_cycle_between_packages():
    g = package_graph()
    cycles = list(nx.simple_cycles(g))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in sorted(cycles, key=len)[:5])


def test_model_layer_imports_neither_experiments_nor_query():
    g = package_graph()
    assert not ({"experiments", "query", "validation", "report", "api", "cli"} & set(g.successors("model")))


def test_architecture_diagram_matches_the_imports():
    """Every package imports only leaves and packages to its left in ARCHITECTURE.md's `layers:` line."""
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    leaves = [w.strip() for w in text.split("leaves:", 1)[1].splitlines()[0].split("·")]
    layers = [w.strip() for w in text.split("layers:", 1)[1].splitlines()[0].split("→")]
    g = package_graph()
    assert set(g.nodes) == set(leaves) | set(layers), "the diagram must list every package exactly once"
    for i, pkg in enumerate(layers):
        allowed = set(leaves) | set(layers[:i])
        assert set(g.successors(pkg)) <= allowed, f"{pkg} imports {sorted(set(g.successors(pkg)) - allowed)} (right of it in the diagram)"
    for leaf in leaves:
        assert set(g.successors(leaf)) <= {"errors", "fmt"}, leaf
