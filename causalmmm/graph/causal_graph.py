"""`CausalGraph`: the marketing DAG with node roles and edge transforms.

It wraps (does not subclass) a :class:`networkx.DiGraph`. Edge attributes keep
exactly what the user declared (``None`` = not declared), so saving is
lossless; :meth:`CausalGraph.edge` resolves the defaults of CONTRACT.md §1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import networkx as nx

from causalmmm.errors import DataError, GraphError
from causalmmm.transforms.registry import ADSTOCKS, SATURATIONS  # the families are registered once

ROLES: tuple[str, ...] = ("spend", "mediator", "confounder", "control", "outcome")
SIGNS: tuple[str, ...] = ("positive", "negative", "free")
TRENDS: tuple[str, ...] = ("none", "linear", "piecewise")
#: Residual processes of a node's equation: independent, or AR(1) (a persistent disturbance, e.g. a latent parent).
NOISES: tuple[str, ...] = ("iid", "ar1")
#: Carry-over of a spend node's edges: one shape shared by the channel's edges (same family and l_max), or one per edge.
CARRYOVERS: tuple[str, ...] = ("per_edge", "channel")
EDGE_ATTRS: tuple[str, ...] = ("adstock", "saturation", "l_max", "lag", "sign", "modulator")
#: Node attributes that shape the node's own equation (baseline terms), beside role and observed.
MECHANISM_ATTRS: tuple[str, ...] = ("trend", "changepoints", "seasonality", "season_period", "noise", "carryover")
NODE_ATTRS: tuple[str, ...] = ("role", "observed") + MECHANISM_ATTRS
#: Layer order used for drawing and discovery tiers.
ROLE_TIER: dict[str, int] = {"confounder": 0, "control": 0, "spend": 1, "mediator": 2, "outcome": 3}
#: Carry-over window (in periods) of an edge without ``l_max``: 13 weeks, the long end of common brand/TV
#: carry-over; shorter channels learn a fast decay within it (and ``adstock_tail`` warns when it is too short).
DEFAULT_L_MAX = 13
DEFAULT_CHANGEPOINTS = 6


@dataclass(frozen=True)
class NodeInfo:
    """A node: its name, role and whether the data has a column for it."""

    name: str
    role: str
    observed: bool = True
    trend: str = "none"
    changepoints: int = DEFAULT_CHANGEPOINTS
    seasonality: int = 0
    season_period: float | None = None  # None: from the data frequency
    noise: str | None = None  # None: by default (AR(1) on nodes with a latent parent, else iid)
    carryover: str = "per_edge"  # on a source of adstock edges: per_edge | channel (one carry-over shared by its edges)


@dataclass(frozen=True)
class EdgeInfo:
    """An edge with every attribute resolved to its effective value."""

    source: str
    target: str
    adstock: str
    saturation: str
    l_max: int
    lag: int
    sign: str
    modulator: str | None = None

    @property
    def is_media(self) -> bool:
        """True when the edge carries adstock or saturation."""
        return self.adstock != "none" or self.saturation != "none"


def _check_choice(value: Any, allowed: tuple[str, ...], attr: str, where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise GraphError(
            f"unknown {attr} {value!r}",
            where=where,
            hint=f"allowed values: {', '.join(allowed)}",
        )
    return value


def _check_name(value: Any, attr: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GraphError(f"{attr} must name a node, got {value!r}", where=where, hint=f"write e.g. {attr}=demand")
    return value.strip()


def _check_int(value: Any, attr: str, where: str, minimum: int) -> int:
    if isinstance(value, bool):
        raise GraphError(f"{attr} must be an integer, got {value!r}", where=where, hint=f"write e.g. {attr}={max(minimum, 1)}")
    try:
        ivalue = int(str(value)) if not isinstance(value, int) else value
    except ValueError:
        raise GraphError(f"{attr} must be an integer, got {value!r}", where=where, hint=f"write e.g. {attr}={max(minimum, 1)}") from None
    if ivalue < minimum:
        raise GraphError(f"{attr} must be >= {minimum}, got {ivalue}", where=where, hint=f"use a {attr} of at least {minimum}")
    return ivalue


def _check_float(value: Any, attr: str, where: str) -> float:
    try:
        fvalue = float(str(value)) if not isinstance(value, (int, float)) or isinstance(value, bool) else float(value)
    except ValueError:
        fvalue = float("nan")
    if isinstance(value, bool) or not fvalue > 0 or fvalue == float("inf"):
        raise GraphError(f"{attr} must be a positive number, got {value!r}", where=where, hint=f"write e.g. {attr}=52.18 (periods per cycle)")
    return fvalue


def check_mechanism_attrs(attrs: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate declared node mechanism attributes (``None`` = not declared); return them typed."""
    out: dict[str, Any] = {k: attrs.get(k) for k in MECHANISM_ATTRS}
    if out["trend"] is not None:
        out["trend"] = _check_choice(out["trend"], TRENDS, "trend", where)
    if out["changepoints"] is not None:
        out["changepoints"] = _check_int(out["changepoints"], "changepoints", where, 1)
        if (out["trend"] or "none") != "piecewise":
            raise GraphError("changepoints needs trend=piecewise", where=where, hint="add trend=piecewise or remove changepoints")
    if out["noise"] is not None:
        out["noise"] = _check_choice(out["noise"], NOISES, "noise", where)
    if out["carryover"] is not None:
        out["carryover"] = _check_choice(out["carryover"], CARRYOVERS, "carryover", where)
    if out["seasonality"] is not None:
        out["seasonality"] = _check_int(out["seasonality"], "seasonality", where, 0)
    if out["season_period"] is not None:
        out["season_period"] = _check_float(out["season_period"], "season_period", where)
        if not out["seasonality"]:
            raise GraphError("season_period needs seasonality >= 1", where=where, hint="add seasonality=2 (a Fourier order) or remove season_period")
    return out


def parse_bool(value: Any, attr: str, where: str) -> bool:
    """Accept true/false in the spellings DOT and YAML users write."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise GraphError(f"{attr} must be true or false, got {value!r}", where=where, hint=f"write {attr}=true or {attr}=false")


class CausalGraph:
    """A marketing DAG: nodes with roles, edges with transforms.

    Build it in Python::

        g = (CausalGraph("marketing")
             .add_node("demand", "confounder")
             .add_node("ppc_spend", "spend")
             .add_node("sales", "outcome")
             .add_edge("demand", "ppc_spend")
             .add_edge("ppc_spend", "sales", adstock="geometric", l_max=4))

    or load it with :func:`causalmmm.graph.load_graph` from DOT or YAML.
    """

    def __init__(self, name: str = "marketing") -> None:
        self.name = name
        self._g = nx.DiGraph()

    # ------------------------------------------------------------------ build
    def add_node(
        self,
        name: str,
        role: str,
        observed: bool = True,
        *,
        trend: str | None = None,
        changepoints: int | None = None,
        seasonality: int | None = None,
        season_period: float | None = None,
        noise: str | None = None,
        carryover: str | None = None,
    ) -> CausalGraph:
        """Add (or redefine) a node. Returns ``self`` for chaining.

        ``trend`` (none | linear | piecewise, with ``changepoints`` knots), ``seasonality`` (a Fourier
        order) and ``season_period`` (periods per cycle; default from the data frequency) add baseline
        terms to the node's own equation; ``noise`` (iid | ar1) its residual process.
        ``carryover`` (per_edge | channel) on a spend node: one adstock shape per edge (default) or
        one shared by its edges (see :func:`causalmmm.spec.share_carryover`).
        """
        where = f"node {name!r}"
        if not isinstance(name, str) or not name.strip():
            raise GraphError("node names must be non-empty strings", where=repr(name))
        _check_choice(role, ROLES, "role", where)
        declared = {
            "trend": trend,
            "changepoints": changepoints,
            "seasonality": seasonality,
            "season_period": season_period,
            "noise": noise,
            "carryover": carryover,
        }
        mech = check_mechanism_attrs(declared, where)
        self._g.add_node(name, role=role, observed=parse_bool(observed, "observed", where), **mech)
        return self

    def add_edge(
        self,
        source: str,
        target: str,
        *,
        adstock: str | None = None,
        saturation: str | None = None,
        l_max: int | None = None,
        lag: int | None = None,
        sign: str | None = None,
        modulator: str | None = None,
    ) -> CausalGraph:
        """Add an edge. Attributes left ``None`` take the CONTRACT defaults.

        ``modulator``: another parent of ``target`` whose level scales this edge's effect
        (the term is multiplied by the modulator over its mean); checked in :meth:`validate`.
        """
        where = f"edge {source} -> {target}"
        if source == target:
            raise GraphError("self-loop", where=where, hint="a node cannot cause itself; remove the edge")
        for node in (source, target):
            if node not in self._g:
                raise GraphError(f"unknown node {node!r}", where=where, hint=f"declare it first with a role ({', '.join(ROLES)})")
        attrs: dict[str, Any] = {
            "adstock": None if adstock is None else _check_choice(adstock, ADSTOCKS, "adstock", where),
            "saturation": None if saturation is None else _check_choice(saturation, SATURATIONS, "saturation", where),
            "l_max": None if l_max is None else _check_int(l_max, "l_max", where, 1),
            "lag": None if lag is None else _check_int(lag, "lag", where, 0),
            "sign": None if sign is None else _check_choice(sign, SIGNS, "sign", where),
            "modulator": None if modulator is None else _check_name(modulator, "modulator", where),
        }
        self._g.add_edge(source, target, **attrs)
        return self

    def remove_edge(self, source: str, target: str) -> CausalGraph:
        """Remove an edge (used when editing a discovered draft)."""
        if not self._g.has_edge(source, target):
            raise GraphError("no such edge", where=f"edge {source} -> {target}")
        self._g.remove_edge(source, target)
        return self

    def copy(self) -> CausalGraph:
        """An independent copy."""
        new = CausalGraph(self.name)
        new._g = self._g.copy()
        return new

    # ------------------------------------------------------------------ read
    @property
    def nodes(self) -> list[str]:
        """Node names in declaration order."""
        return list(self._g.nodes)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Edges as (source, target) in declaration order."""
        return list(self._g.edges)

    def __contains__(self, name: object) -> bool:
        return name in self._g

    def node(self, name: str) -> NodeInfo:
        """The node's role and observed flag."""
        if name not in self._g:
            raise GraphError(f"unknown node {name!r}", hint=f"known nodes: {', '.join(self.nodes)}")
        d = self._g.nodes[name]
        return NodeInfo(
            name=name,
            role=d["role"],
            observed=d["observed"],
            trend=d.get("trend") or "none",
            changepoints=d.get("changepoints") or DEFAULT_CHANGEPOINTS,
            seasonality=d.get("seasonality") or 0,
            season_period=d.get("season_period"),
            noise=d.get("noise"),
            carryover=d.get("carryover") or "per_edge",
        )

    def declared_node_attrs(self, name: str) -> dict[str, Any]:
        """The mechanism attributes the user wrote on the node (undeclared ones omitted)."""
        d = self._g.nodes[name]
        return {k: d[k] for k in MECHANISM_ATTRS if d.get(k) is not None}

    def role(self, name: str) -> str:
        return self.node(name).role

    def is_observed(self, name: str) -> bool:
        return self.node(name).observed

    def declared_edge_attrs(self, source: str, target: str) -> dict[str, Any]:
        """The attributes the user wrote on the edge (undeclared ones omitted)."""
        return {k: v for k, v in self._g.edges[source, target].items() if v is not None}

    def edge(self, source: str, target: str) -> EdgeInfo:
        """The edge with defaults resolved (CONTRACT.md §1)."""
        if not self._g.has_edge(source, target):
            raise GraphError("no such edge", where=f"edge {source} -> {target}")
        d = self._g.edges[source, target]
        from_spend = self._g.nodes[source]["role"] == "spend"
        media_default = "geometric" if from_spend else "none"
        sat_default = "hill" if from_spend else "none"
        return EdgeInfo(
            source=source,
            target=target,
            adstock=d["adstock"] or media_default,
            saturation=d["saturation"] or sat_default,
            l_max=d["l_max"] or DEFAULT_L_MAX,
            lag=d["lag"] or 0,
            sign=d["sign"] or ("positive" if from_spend else "free"),
            modulator=d.get("modulator"),
        )

    def edge_infos(self) -> list[EdgeInfo]:
        return [self.edge(u, v) for u, v in self.edges]

    def parents(self, name: str) -> list[str]:
        """Parents in declaration order of the edges."""
        return [u for u, v in self._g.in_edges(name)]

    def children(self, name: str) -> list[str]:
        return [v for u, v in self._g.out_edges(name)]

    def nodes_with_role(self, role: str) -> list[str]:
        _check_choice(role, ROLES, "role", "nodes_with_role")
        return [n for n in self.nodes if self._g.nodes[n]["role"] == role]

    @property
    def outcome(self) -> str:
        """The single outcome node (validated)."""
        outs = self.nodes_with_role("outcome")
        if len(outs) != 1:
            self.validate()
        return outs[0]

    @property
    def spend_nodes(self) -> list[str]:
        return self.nodes_with_role("spend")

    @property
    def observed_nodes(self) -> list[str]:
        return [n for n in self.nodes if self._g.nodes[n]["observed"]]

    @property
    def latent_nodes(self) -> list[str]:
        return [n for n in self.nodes if not self._g.nodes[n]["observed"]]

    def topological_order(self) -> list[str]:
        """Nodes in a topological order that is stable (ties broken by declaration)."""
        self._check_acyclic()
        index = {n: i for i, n in enumerate(self.nodes)}
        return list(nx.lexicographical_topological_sort(self._g, key=lambda n: index[n]))

    def ancestors(self, name: str) -> set[str]:
        return set(nx.ancestors(self._g, name))

    def descendants(self, name: str) -> set[str]:
        return set(nx.descendants(self._g, name))

    def to_networkx(self) -> nx.DiGraph:
        """A copy of the underlying DiGraph (node attrs: role, observed; edge attrs resolved)."""
        g = nx.DiGraph(name=self.name)
        for n in self.nodes:
            info = self.node(n)
            g.add_node(n, role=info.role, observed=info.observed)
        for e in self.edge_infos():
            g.add_edge(e.source, e.target, adstock=e.adstock, saturation=e.saturation, l_max=e.l_max, lag=e.lag, sign=e.sign, modulator=e.modulator)
        return g

    # -------------------------------------------------------------- validate
    def _check_acyclic(self) -> None:
        try:
            cycle = nx.find_cycle(self._g)
        except nx.NetworkXNoCycle:
            return
        path = " -> ".join([cycle[0][0]] + [v for _, v in cycle])
        raise GraphError(f"the graph has a cycle: {path}", hint="a causal graph must be acyclic; remove or reverse one edge of the cycle")

    def validate(self) -> CausalGraph:
        """Check structure; raise :class:`GraphError` with a precise message."""
        if not self.nodes:
            raise GraphError("the graph has no nodes", hint="declare nodes with a role")
        self._check_acyclic()
        outs = self.nodes_with_role("outcome")
        if not outs:
            raise GraphError("the graph has no outcome node", hint="mark exactly one node with role=outcome")
        if len(outs) > 1:
            raise GraphError(f"the graph has {len(outs)} outcome nodes ({', '.join(outs)})", hint="mark exactly one node with role=outcome")
        out = outs[0]
        if self.children(out):
            raise GraphError(
                f"the outcome {out!r} has children ({', '.join(self.children(out))})",
                hint="the outcome must be a sink; remove its outgoing edges",
            )
        if not self.is_observed(out):
            raise GraphError(f"the outcome {out!r} is latent", hint="the outcome must be observed (a data column)")
        if not self.parents(out):
            raise GraphError(f"the outcome {out!r} has no parents", hint="add edges into the outcome")
        for n in self.spend_nodes:
            if not self.is_observed(n):
                raise GraphError(f"spend node {n!r} is latent", where=f"node {n!r}", hint="spend must be observed; add observed=true")
        for u, v in self.edges:
            m = self._g.edges[u, v].get("modulator")
            if m is None:
                continue
            where = f"edge {u} -> {v}"
            others = [p for p in self.parents(v) if p != u]
            if m not in others:
                raise GraphError(
                    f"modulator {m!r} is not another parent of {v!r}",
                    where=where,
                    hint=f"add the edge {m} -> {v}, or use one of: {', '.join(others) or '(no other parent)'}",
                )
            if not self.is_observed(m):
                raise GraphError(f"modulator {m!r} is latent", where=where, hint="a modulator must be an observed node (a data column)")
        return self

    def check_columns(self, columns: Iterable[str]) -> list[str]:
        """Raise if an observed node has no column; return warnings for extra columns."""
        cols = list(columns)
        missing = [n for n in self.observed_nodes if n not in cols]
        if missing:
            raise DataError(
                f"observed node(s) without a data column: {', '.join(missing)}",
                hint="add the columns, rename them to match the graph, or mark the nodes observed=false",
            )
        latent_present = [n for n in self.latent_nodes if n in cols]
        warnings = [f"column {c!r} is not in the graph and will be ignored" for c in cols if c not in self._g]
        warnings += [f"node {n!r} is declared latent but the data has a column for it; it will be ignored" for n in latent_present]
        return warnings

    # ------------------------------------------------------------ serialise
    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form (CONTRACT.md §1), lossless."""
        nodes: dict[str, Any] = {}
        for n in self.nodes:
            info = self.node(n)
            nodes[n] = {"role": info.role} if info.observed else {"role": info.role, "observed": False}
            nodes[n].update(self.declared_node_attrs(n))
        edges = [{"from": u, "to": v, **self.declared_edge_attrs(u, v)} for u, v in self.edges]
        return {"name": self.name, "nodes": nodes, "edges": edges}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CausalGraph):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"CausalGraph({self.name!r}, nodes={len(self.nodes)}, edges={len(self.edges)}, outcome={self.nodes_with_role('outcome')})"

    # --------------------------------------------------------------- jupyter
    def _repr_svg_(self) -> str:
        from causalmmm.graph.draw import render_svg

        return render_svg(self)
