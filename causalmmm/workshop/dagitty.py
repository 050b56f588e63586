"""DAGitty's graph syntax, both ways.

DAGitty (dagitty.net, the R package) writes a graph as ``dag { a [exposure] y [outcome] u [latent]
u -> {a y} a -> y }``. The mapping to a :class:`CausalGraph`:

=====================  =========================================================
DAGitty                causalmmm
=====================  =========================================================
``[exposure]``         ``role=spend``
``[outcome]``          ``role=outcome``
``[latent]``           ``observed=false``
``[role="mediator"]``  the role (written by :func:`graph_to_dagitty` for non-spend, non-outcome nodes)
no role at all         ``confounder`` for a node without parents, else ``mediator``
``a -> b [sign="negative", lag="1"]``  edge attributes (any of ``EDGE_ATTRS``)
``a <-> b``            a latent confounder ``U_a_b`` with edges into ``a`` and ``b``
``a -- b``, ``@`` marks  refused: causalmmm needs a DAG
``pos``, ``adjusted``, ``bb``  ignored (layout and analysis settings)
=====================  =========================================================

Extra attributes (``role``, edge attributes) are ``key="value"`` pairs, which DAGitty keeps and
ignores, so a graph exported here opens in DAGitty and comes back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from causalmmm.errors import GraphSyntaxError
from causalmmm.graph.causal_graph import EDGE_ATTRS, MECHANISM_ATTRS, ROLES, CausalGraph

__all__ = ["graph_from_dagitty", "graph_to_dagitty"]

_TOKEN_RE = re.compile(
    r"(?P<space>\s+|//[^\n]*|/\*.*?\*/)"
    r"|(?P<arrow><->|->|<-|--|@->|<-@|@-@|--@|@--)"
    r"|(?P<punct>[{}\[\],;=])"
    r'|(?P<quoted>"(?:[^"\\]|\\.)*")'
    r"|(?P<ident>(?:[\w.+]|-(?![->]))+)",
    re.DOTALL,
)
_PLAIN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_GRAPH_TYPES = ("dag", "digraph", "graph", "pdag", "mag", "pag")


@dataclass
class _Tok:
    kind: str
    text: str
    line: int


@dataclass
class _Parsed:
    nodes: dict[str, dict[str, str | bool]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str | bool]]] = field(default_factory=list)
    bidirected: list[tuple[str, str]] = field(default_factory=list)


def _tokens(text: str, source: str) -> list[_Tok]:
    out, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise GraphSyntaxError(
                f"DAGitty syntax error near {text[pos : pos + 12]!r}", where=f"{source}:{line}", hint="write e.g. dag { a [exposure] a -> b }"
            )
        kind = m.lastgroup or "space"
        if kind != "space":
            value = m.group()
            if kind == "quoted":
                value = value[1:-1].replace('\\"', '"')
            out.append(_Tok(kind, value, line))
        line += m.group().count("\n")
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[_Tok], source: str) -> None:
        self.toks, self.i, self.source = tokens, 0, source
        self.out = _Parsed()

    def peek(self, ahead: int = 0) -> _Tok | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def error(self, what: str, tok: _Tok | None = None) -> GraphSyntaxError:
        tok = tok or self.peek() or (self.toks[-1] if self.toks else None)
        where = f"{self.source}:{tok.line}" if tok else self.source
        return GraphSyntaxError(what, where=where, hint="DAGitty statements look like: a [exposure]  a -> {b c}  u [latent]")

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text) or (text is not None and tok.kind in ("quoted",)):
            raise self.error(f"expected {text!r}" if text else "unexpected end of the graph")
        self.i += 1
        return tok

    def is_punct(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.kind == "punct" and tok.text == text

    def parse(self) -> _Parsed:
        first = self.peek()
        if first is None:
            raise self.error("the DAGitty text is empty")
        if first.kind == "ident" and first.text.lower() in _GRAPH_TYPES:
            if first.text.lower() != "dag":
                raise self.error(f"a DAGitty {first.text!r} is not a DAG", first)
            self.i += 1
            while not self.is_punct("{"):  # an optional name and global options (bb="...") before the body
                if self.peek() is None:
                    raise self.error("expected '{' after 'dag'")
                self.i += 1
        self.take("{")
        while not self.is_punct("}"):
            if self.peek() is None:
                raise self.error("missing '}' at the end of the graph")
            self.statement()
        self.take("}")
        if self.peek() is not None:
            raise self.error("text after the closing '}'")
        return self.out

    def statement(self) -> None:
        if self.is_punct(";") or self.is_punct(","):
            self.i += 1
            return
        tok = self.peek()
        if tok is not None and tok.kind in ("ident", "quoted") and self.is_punct("=", 1):  # a global option: bb="0,0,1,1"
            self.i += 3
            return
        left = self.term()
        attrs = self.attrs() if self.is_punct("[") else {}
        if attrs:
            if len(left) != 1:
                raise self.error("attributes need one node, not a {group}")
            self.out.nodes[left[0]].update(attrs)
        while (tok := self.peek()) is not None and tok.kind == "arrow":
            self.i += 1
            right = self.term()
            edge_attrs = self.attrs() if self.is_punct("[") else {}
            self.connect(left, tok, right, edge_attrs)
            left = right

    def term(self) -> list[str]:
        if self.is_punct("{"):
            self.i += 1
            names = []
            while not self.is_punct("}"):
                if self.is_punct(",") or self.is_punct(";"):
                    self.i += 1
                    continue
                names.append(self.name())
            self.i += 1
            return names
        return [self.name()]

    def name(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind not in ("ident", "quoted"):
            raise self.error(f"expected a node name, found {tok.text if tok else 'the end'!r}")
        self.i += 1
        self.out.nodes.setdefault(tok.text, {})
        return tok.text

    def attrs(self) -> dict[str, str | bool]:
        self.take("[")
        out: dict[str, str | bool] = {}
        while not self.is_punct("]"):
            if self.is_punct(",") or self.is_punct(";"):
                self.i += 1
                continue
            key = self.peek()
            if key is None or key.kind not in ("ident", "quoted"):
                raise self.error("expected an attribute name")
            self.i += 1
            if self.is_punct("="):
                self.i += 1
                value = self.peek()
                if value is None or value.kind not in ("ident", "quoted"):
                    raise self.error(f"expected a value for {key.text!r}")
                self.i += 1
                out[key.text] = value.text
            else:
                out[key.text] = True
        self.i += 1
        return out

    def connect(self, left: list[str], arrow: _Tok, right: list[str], attrs: dict[str, str | bool]) -> None:
        if arrow.text not in ("->", "<-", "<->"):
            raise self.error(f"the edge {arrow.text!r} is not directed: causalmmm needs a DAG (a -> b)", arrow)
        for a in left:
            for b in right:
                if arrow.text == "->":
                    self.out.edges.append((a, b, attrs))
                elif arrow.text == "<-":
                    self.out.edges.append((b, a, attrs))
                else:
                    self.out.bidirected.append((a, b))


def graph_from_dagitty(text: str, *, name: str = "marketing", source: str = "<dagitty>") -> CausalGraph:
    """Parse DAGitty text into a :class:`CausalGraph` (not validated as a model graph: it may lack an outcome).

    Raises :class:`GraphSyntaxError` for bad syntax or an undirected edge, :class:`GraphError` for
    an attribute causalmmm rejects.
    """
    parsed = _Parser(_tokens(text, source), source).parse()
    nodes = dict(parsed.nodes)
    edges = list(parsed.edges)
    for a, b in parsed.bidirected:  # a <-> b: a latent common cause
        u, k = f"U_{a}_{b}", 1
        while u in nodes:
            k += 1
            u = f"U_{a}_{b}_{k}"
        nodes[u] = {"latent": True, "role": "confounder"}
        edges += [(u, a, {}), (u, b, {})]
    has_parent = {b for _, b, _ in edges}
    graph = CausalGraph(name)
    for n, attrs in nodes.items():
        declared = attrs.get("role")
        if isinstance(declared, str) and declared in ROLES:
            role = declared
        elif isinstance(declared, str):
            raise GraphSyntaxError(f"node {n!r} has unknown role {declared!r}", where=source, hint=f"allowed roles: {', '.join(ROLES)}")
        elif attrs.get("outcome"):
            role = "outcome"
        elif attrs.get("exposure"):
            role = "spend"
        else:
            role = "mediator" if n in has_parent else "confounder"
        mech = {k: v for k, v in attrs.items() if k in MECHANISM_ATTRS}
        graph.add_node(n, role, not attrs.get("latent"), **mech)  # type: ignore[arg-type]
    seen: set[tuple[str, str]] = set()
    for a, b, attrs in edges:
        if (a, b) in seen:
            continue
        seen.add((a, b))
        graph.add_edge(a, b, **{k: v for k, v in attrs.items() if k in EDGE_ATTRS})  # type: ignore[arg-type]
    graph.topological_order()  # a cycle is an error here too
    return graph


def _quote(value: object) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return '"' + text.replace('"', '\\"') + '"'


def _dagitty_id(name: str) -> str:
    return name if _PLAIN_RE.fullmatch(name) else _quote(name)


def graph_to_dagitty(graph: CausalGraph) -> str:
    """Write DAGitty text; loads back with :func:`graph_from_dagitty` to the same graph."""
    lines = ["dag {"]
    for n in graph.nodes:
        info = graph.node(n)
        flags: list[str] = []
        if info.role == "spend":
            flags.append("exposure")
        elif info.role == "outcome":
            flags.append("outcome")
        else:
            flags.append(f"role={_quote(info.role)}")
        if not info.observed:
            flags.append("latent")
        flags += [f"{k}={_quote(v)}" for k, v in graph.declared_node_attrs(n).items()]
        lines.append(f"  {_dagitty_id(n)} [{','.join(flags)}]")
    for u, v in graph.edges:
        attrs = graph.declared_edge_attrs(u, v)
        extra = " [" + ",".join(f"{k}={_quote(val)}" for k, val in attrs.items()) + "]" if attrs else ""
        lines.append(f"  {_dagitty_id(u)} -> {_dagitty_id(v)}{extra}")
    lines.append("}")
    return "\n".join(lines) + "\n"
