"""Load and save `CausalGraph` as DOT or YAML (CONTRACT.md §1).

DOT is parsed by Graphviz's own parser (bundled in the pygraphviz wheel, no
system binary needed); YAML with ``yaml.safe_load`` only.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from causalmmm.errors import GraphError, GraphSyntaxError
from causalmmm.fileio import atomic_write_text, load_yaml_text, read_text
from causalmmm.graph.causal_graph import EDGE_ATTRS, MECHANISM_ATTRS, NODE_ATTRS, CausalGraph, parse_bool

_DOT_SUFFIXES = (".dot", ".gv")
_YAML_SUFFIXES = (".yaml", ".yml")


def _parse_dot_agraph(text: str, source: str):
    """Parse DOT text, capturing Graphviz's C-level error message for the line number."""
    import pygraphviz as pgv

    with tempfile.TemporaryFile() as err:
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            agraph = pgv.AGraph(string=text)
            failure = None
        except Exception as exc:  # pygraphviz raises DotError / ValueError
            agraph, failure = None, exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        message = err.read().decode("utf-8", "replace")
    if failure is not None or agraph is None:
        m = re.search(r"syntax error in line (\d+)(?: near '([^']*)')?", message)
        if m:
            near = f" near {m.group(2)!r}" if m.group(2) else ""
            raise GraphSyntaxError(f"DOT syntax error{near}", where=f"{source}:{m.group(1)}", hint="fix the DOT syntax (statements look like: a -> b [lag=1];)")
        raise GraphSyntaxError("cannot parse DOT", where=source, hint="the file must contain one 'digraph NAME { ... }'")
    if not agraph.directed:
        raise GraphSyntaxError("the DOT graph is undirected", where=source, hint="use 'digraph' and '->' edges")
    return agraph


def _line_of(text: str, pattern: str) -> int | None:
    """1-based line of the first match of ``pattern``, for error locations."""
    for i, line in enumerate(text.splitlines(), start=1):
        if re.search(pattern, line.split("//")[0]):
            return i
    return None


_NODE_STMT_RE = re.compile(r'(?:^|(?<=[\s;{]))("(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*)\s*\[([^\]]*)\]')
_ROLE_RE = re.compile(r'(?:^|[\s,;])role\s*=\s*"?([^",;\s\]]*)"?')


def _check_role_redeclarations(text: str, source: str) -> None:
    """Graphviz silently keeps the last of two declarations of a node; two different roles are an error."""
    roles: dict[str, tuple[str, int]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//")[0]
        for m in _NODE_STMT_RE.finditer(line):
            if line[: m.start(1)].rstrip().endswith(("->", "--")):
                continue  # an edge's attribute list, not a node statement
            role = _ROLE_RE.search(m.group(2))
            if role is None:
                continue
            name = m.group(1).strip('"')
            if name in ("graph", "node", "edge"):
                continue
            if name in roles and roles[name][0] != role.group(1):
                first, first_line = roles[name]
                raise GraphError(
                    f"node {name!r} is declared twice with different roles ({first} on line {first_line}, {role.group(1)} here)",
                    where=f"{source}:{lineno}",
                    hint="declare each node once, with one role",
                )
            roles.setdefault(name, (role.group(1), lineno))


def graph_from_dot(text: str, source: str = "<dot>") -> CausalGraph:
    """Parse DOT text into a validated :class:`CausalGraph`."""
    agraph = _parse_dot_agraph(text, source)
    _check_role_redeclarations(text, source)
    graph = CausalGraph(agraph.name or "marketing")

    def where_node(name: str) -> str:
        line = _line_of(text, rf"(^|[\s;{{]){re.escape(name)}\s*\[")
        return f"{source}:{line}" if line else source

    for node in agraph.nodes():
        name = str(node)
        attrs = {k: v for k, v in node.attr.items() if v != ""}
        unknown = sorted(set(attrs) - set(NODE_ATTRS) - {"label"})
        if unknown:
            raise GraphError(
                f"node {name!r} has unknown attribute {unknown[0]!r}", where=where_node(name), hint=f"allowed node attributes: {', '.join(NODE_ATTRS)}"
            )
        if "role" not in attrs:
            raise GraphError(f"node {name!r} has no role", where=where_node(name), hint="declare it, e.g. NAME [role=mediator];")
        try:
            graph.add_node(
                name,
                attrs["role"],
                parse_bool(attrs.get("observed", True), "observed", f"node {name!r}"),
                **{k: attrs[k] for k in MECHANISM_ATTRS if k in attrs},
            )
        except GraphError as exc:
            raise GraphError(exc.what, where=f"{where_node(name)}: node {name!r}", hint=exc.hint) from None
    for edge in agraph.edges():
        u, v = str(edge[0]), str(edge[1])
        attrs = {k: v2 for k, v2 in edge.attr.items() if v2 != ""}
        line = _line_of(text, rf"{re.escape(u)}\s*->\s*{re.escape(v)}")
        where = f"{source}:{line}" if line else source
        unknown = sorted(set(attrs) - set(EDGE_ATTRS) - {"label"})
        if unknown:
            raise GraphError(f"edge {u} -> {v} has unknown attribute {unknown[0]!r}", where=where, hint=f"allowed edge attributes: {', '.join(EDGE_ATTRS)}")
        try:
            graph.add_edge(u, v, **{k: attrs[k] for k in EDGE_ATTRS if k in attrs})
        except GraphError as exc:
            raise GraphError(exc.what, where=f"{where}: {exc.where}" if exc.where else where, hint=exc.hint) from None
    return _validated(graph, source)


def _validated(graph: CausalGraph, source: str) -> CausalGraph:
    try:
        return graph.validate()
    except GraphError as exc:
        raise GraphError(exc.what, where=f"{source}: {exc.where}" if exc.where else source, hint=exc.hint) from None


def graph_from_dict(data: Any, source: str = "<yaml>") -> CausalGraph:
    """Build a validated graph from the YAML/JSON mapping form."""
    if not isinstance(data, dict) or "nodes" not in data:
        raise GraphError("a YAML graph needs a 'nodes:' mapping and an 'edges:' list", where=source, hint="see docs/file-formats.md for the YAML graph form")
    nodes, edges = data.get("nodes") or {}, data.get("edges") or []
    if not isinstance(nodes, dict):
        raise GraphError("'nodes:' must map node name -> {role, observed}", where=source, hint="e.g. nodes: {ppc_spend: {role: spend}, sales: {role: outcome}}")
    if not isinstance(edges, list):
        raise GraphError("'edges:' must be a list of {from, to, ...}", where=source, hint="e.g. edges: [{from: ppc_spend, to: sales}]")
    graph = CausalGraph(str(data.get("name", "marketing")))
    for name, attrs in nodes.items():
        where = f"{source}: node {name!r}"
        attrs = attrs or {}
        if not isinstance(attrs, dict):
            raise GraphError("node entry must be a mapping", where=where, hint="write NAME: {role: spend} (or mediator, confounder, control, outcome)")
        unknown = sorted(set(attrs) - set(NODE_ATTRS))
        if unknown:
            raise GraphError(f"unknown node attribute {unknown[0]!r}", where=where, hint=f"allowed: {', '.join(NODE_ATTRS)}")
        if "role" not in attrs:
            raise GraphError("node has no role", where=where, hint="add role: spend|mediator|confounder|control|outcome")
        try:
            graph.add_node(str(name), attrs["role"], attrs.get("observed", True), **{k: attrs[k] for k in MECHANISM_ATTRS if k in attrs})
        except GraphError as exc:
            raise GraphError(exc.what, where=where, hint=exc.hint) from None
    for i, e in enumerate(edges):
        where = f"{source}: edges[{i}]"
        if not isinstance(e, dict) or "from" not in e or "to" not in e:
            raise GraphError("edge entry must be a mapping with 'from' and 'to'", where=where, hint="write - {from: SOURCE, to: TARGET}")
        unknown = sorted(set(e) - {"from", "to"} - set(EDGE_ATTRS))
        if unknown:
            raise GraphError(f"unknown edge attribute {unknown[0]!r}", where=where, hint=f"allowed: {', '.join(EDGE_ATTRS)}")
        try:
            graph.add_edge(str(e["from"]), str(e["to"]), **{k: e[k] for k in EDGE_ATTRS if k in e})
        except GraphError as exc:
            raise GraphError(exc.what, where=f"{where} ({exc.where})" if exc.where else where, hint=exc.hint) from None
    return _validated(graph, source)


def graph_from_yaml(text: str, source: str = "<yaml>") -> CausalGraph:
    return graph_from_dict(load_yaml_text(text, source, GraphSyntaxError), source)


def load_graph(path: str | Path) -> CausalGraph:
    """Load a graph file; the format follows the suffix (.dot/.gv or .yaml/.yml)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in _DOT_SUFFIXES + _YAML_SUFFIXES:
        raise GraphError(f"unknown graph file type {suffix or '(none)'!r}", where=str(p), hint="use a .dot, .gv, .yaml or .yml file")
    text = read_text(p, GraphError, "graph")
    if suffix in _DOT_SUFFIXES:
        return graph_from_dot(text, str(p))
    return graph_from_yaml(text, str(p))


def _dot_id(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name.replace('"', '\\"') + '"'


def graph_to_dot(graph: CausalGraph) -> str:
    """Serialise to DOT, writing only declared attributes (lossless)."""
    lines = [f"digraph {_dot_id(graph.name)} {{"]
    for n in graph.nodes:
        info = graph.node(n)
        extra = "" if info.observed else ", observed=false"
        extra += "".join(f", {k}={val:g}" if isinstance(val, float) else f", {k}={val}" for k, val in graph.declared_node_attrs(n).items())
        lines.append(f"  {_dot_id(n)} [role={info.role}{extra}];")
    for u, v in graph.edges:
        attrs = graph.declared_edge_attrs(u, v)
        shown = {k: _dot_id(val) if k == "modulator" else val for k, val in attrs.items()}
        attr_txt = " [" + ", ".join(f"{k}={val}" for k, val in shown.items()) + "]" if attrs else ""
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)}{attr_txt};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_to_yaml(graph: CausalGraph) -> str:
    import yaml

    return yaml.safe_dump(graph.to_dict(), sort_keys=False)


def save_graph(graph: CausalGraph, path: str | Path) -> Path:
    """Write DOT or YAML by suffix, atomically."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in _DOT_SUFFIXES:
        atomic_write_text(p, graph_to_dot(graph))
    elif suffix in _YAML_SUFFIXES:
        atomic_write_text(p, graph_to_yaml(graph))
    else:
        raise GraphError(f"unknown graph file type {suffix or '(none)'!r}", where=str(p), hint="use .dot or .yaml")
    return p
