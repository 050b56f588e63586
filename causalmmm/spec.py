"""`ModelSpec`: one frozen `NodeSpec` per modelled node, derived from graph + data.

The spec says *what* each structural equation is (parents, transforms, signs,
priors, likelihood, scales); :mod:`causalmmm.model.equations` says *how* to
compute it, once, for PyMC, the simulator-style checks and the query engine.

A node is modelled when it is observed and has at least one observed parent.
Observed nodes without observed parents (spend, observed confounders and
controls) are *exogenous*: queries take them from the data or the intervention.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

import networkx as nx
import numpy as np
from pymc_extras.prior import Prior

from causalmmm.errors import SpecError
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.graph.identify import minimal_adjustment_set
from causalmmm.transforms import ADSTOCK_PARAMS, SATURATION_PARAMS, default_priors

LIKELIHOODS = ("normal", "student_t")
PERIODS_PER_YEAR = {"W": 365.25 / 7, "D": 365.25, "h": 365.25 * 24}

#: Default priors in the *scaled* space (every series divided by its mean |value|).
DEFAULT_PRIORS: dict[str, Prior] = {
    "intercept": Prior("Normal", mu=0.0, sigma=1.0),
    "sigma": Prior("HalfNormal", sigma=0.5),
    "nu": Prior("Gamma", alpha=2.0, beta=0.1),
    "trend": Prior("Normal", mu=0.0, sigma=0.5),
    # piecewise trend: slope changes at the changepoints (sparse: most knots change little)
    "changepoint": Prior("Laplace", mu=0.0, b=0.25),
    "season": Prior("Normal", mu=0.0, sigma=0.3),
    # AR(1) residuals: the lag-1 correlation of a node's disturbance (noise=ar1)
    "rho": Prior("Uniform", lower=-0.95, upper=0.95),
    # edge coefficients: the magnitude; the sign comes from the edge
    "beta_signed": Prior("HalfNormal", sigma=1.0),
    "beta_free": Prior("Normal", mu=0.0, sigma=1.0),
}


def _prior_to_dict(p: Prior) -> dict[str, Any]:
    return p.to_dict()


def _prior_from_dict(d: Mapping[str, Any]) -> Prior:
    return Prior.from_dict(dict(d))


@dataclass(frozen=True)
class EdgeSpec:
    """The term one parent contributes to a node's equation."""

    source: str
    target: str
    adstock: str
    saturation: str
    l_max: int
    lag: int
    sign: str  # positive | negative | free
    priors: Mapping[str, Prior] = field(default_factory=dict)
    modulator: str | None = None  # another parent whose level (over its mean) scales this term
    role: str = "cause"  # cause | adjustment (blocks a backdoor path; takes no part in the node's causal effect)
    #: The target node of the edge from the same source whose parameters this edge reuses (one carry-over per channel), or None.
    shared_from: str | None = None
    shared_params: tuple[str, ...] = ()  # which of this edge's parameters are the ``shared_from`` edge's

    def __post_init__(self) -> None:
        object.__setattr__(self, "shared_params", tuple(self.shared_params))  # a JSON list read back

    @property
    def owned_params(self) -> tuple[str, ...]:
        """The edge's parameters that it samples itself (not reused from ``shared_from``)."""
        return tuple(k for k in self.param_names if k not in self.shared_params)

    @property
    def is_adjustment(self) -> bool:
        return self.role == "adjustment"

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("beta",) + ADSTOCK_PARAMS[self.adstock] + SATURATION_PARAMS[self.saturation]

    @property
    def is_media(self) -> bool:
        return self.adstock != "none" or self.saturation != "none"

    @property
    def n_lags(self) -> int:
        """Coefficients of a distributed-lag adjustment term (lags ``lag .. lag + l_max - 1``); 1 otherwise."""
        return self.l_max if self.is_adjustment and not self.is_media else 1


@dataclass(frozen=True)
class NodeSpec:
    """One structural equation: node ~ Likelihood(intercept + Σ terms + baseline, sigma)."""

    name: str
    edges: tuple[EdgeSpec, ...]
    latent_parents: tuple[str, ...] = ()
    trend: str = "none"  # none | linear | piecewise
    seasonality: int = 0  # Fourier order, 0 = none
    likelihood: str = "normal"
    priors: Mapping[str, Prior] = field(default_factory=dict)
    changepoints: int = 0  # knots of a piecewise trend
    season_period: float | None = None  # periods per cycle; None = one year of the data frequency
    noise: str = "iid"  # iid | ar1: e[t] = rho·e[t-1] + u[t]

    def __post_init__(self) -> None:
        if isinstance(self.trend, bool):  # runs written before trend families: True meant linear
            object.__setattr__(self, "trend", "linear" if self.trend else "none")

    unblocked: bool | None = None  # a backdoor path into the node that no observed set blocks (None: as latent_parents says)

    @property
    def parents(self) -> tuple[str, ...]:
        """Every input of the equation: causal parents and adjustment terms."""
        return tuple(e.source for e in self.edges)

    @property
    def causes(self) -> tuple[str, ...]:
        """The causal parents (edges of the graph); adjustment terms excluded."""
        return tuple(e.source for e in self.edges if not e.is_adjustment)

    @property
    def adjustment(self) -> tuple[str, ...]:
        """Observed non-parents in the equation only to block backdoor paths from the parents."""
        return tuple(e.source for e in self.edges if e.is_adjustment)

    @property
    def confounded(self) -> bool:
        """An open backdoor path biases this mechanism unless an experiment calibrates it."""
        return bool(self.latent_parents) if self.unblocked is None else self.unblocked

    def edge(self, source: str) -> EdgeSpec:
        for e in self.edges:
            if e.source == source:
                return e
        raise SpecError(f"node {self.name!r} has no parent {source!r}")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build the model: node equations in topological order."""

    outcome: str
    nodes: tuple[NodeSpec, ...]
    exogenous: tuple[str, ...]
    scales: Mapping[str, float]
    freq: str
    n_periods: int
    latents: tuple[str, ...] = ()  # latent nodes modelled as shared factors (latent="factor")

    def parameter_ties(self) -> list[tuple[str, ...]]:
        """Groups of nodes whose equations share parameters (one carry-over per channel): one fit block each."""
        groups: dict[tuple[str, str], list[str]] = {}
        for n in self.nodes:
            for e in n.edges:
                if e.shared_from is not None:
                    groups.setdefault((e.source, e.shared_from), [e.shared_from]).append(n.name)
        return [tuple(dict.fromkeys(g)) for g in groups.values()]

    def latent_children(self, latent: str) -> tuple[str, ...]:
        """Modelled nodes with an edge from ``latent`` (a factor ties them into one fit block)."""
        return tuple(n.name for n in self.nodes if latent in n.causes)

    def causal_digraph(self) -> nx.DiGraph:
        """The modelled causal structure: observed (and factor) nodes, causal edges only."""
        g = nx.DiGraph()
        g.add_nodes_from(self.scales)
        g.add_nodes_from(self.latents)
        g.add_edges_from((p, n.name) for n in self.nodes for p in n.causes)
        return g

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        raise SpecError(f"no submodel for node {name!r}", hint=f"modelled nodes: {', '.join(self.node_names)}")

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)

    @property
    def periods_per_year(self) -> float:
        return PERIODS_PER_YEAR.get(self.freq, 365.25 / 7)

    # ---------------------------------------------------------------- serialise
    def to_dict(self) -> dict[str, Any]:
        def edge_d(e: EdgeSpec) -> dict[str, Any]:
            d = {k: v for k, v in asdict(e).items() if k != "priors"}
            d["priors"] = {k: _prior_to_dict(p) for k, p in e.priors.items()}
            return d

        return {
            "outcome": self.outcome,
            "freq": self.freq,
            "n_periods": self.n_periods,
            "exogenous": list(self.exogenous),
            "scales": {k: float(v) for k, v in self.scales.items()},
            "latents": list(self.latents),
            "nodes": [
                {
                    "name": n.name,
                    "edges": [edge_d(e) for e in n.edges],
                    "latent_parents": list(n.latent_parents),
                    "confounded": n.confounded,
                    "unblocked": n.unblocked,
                    "trend": n.trend,
                    "changepoints": n.changepoints,
                    "seasonality": n.seasonality,
                    "season_period": n.season_period,
                    "noise": n.noise,
                    "likelihood": n.likelihood,
                    "priors": {k: _prior_to_dict(p) for k, p in n.priors.items()},
                }
                for n in self.nodes
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        nodes = []
        for nd in d["nodes"]:
            edges = tuple(
                EdgeSpec(**{k: v for k, v in ed.items() if k != "priors"}, priors={k: _prior_from_dict(p) for k, p in ed["priors"].items()})
                for ed in nd["edges"]
            )
            nodes.append(
                NodeSpec(
                    name=nd["name"],
                    edges=edges,
                    latent_parents=tuple(nd["latent_parents"]),
                    trend=nd["trend"],
                    seasonality=nd["seasonality"],
                    likelihood=nd["likelihood"],
                    changepoints=int(nd.get("changepoints", 0)),
                    season_period=nd.get("season_period"),
                    noise=nd.get("noise", "iid"),
                    unblocked=nd.get("unblocked"),
                    priors={k: _prior_from_dict(p) for k, p in nd["priors"].items()},
                )
            )
        return cls(
            outcome=d["outcome"],
            nodes=tuple(nodes),
            exogenous=tuple(d["exogenous"]),
            scales=dict(d["scales"]),
            freq=d["freq"],
            n_periods=int(d["n_periods"]),
            latents=tuple(d.get("latents", ())),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    # ------------------------------------------------------------------ print
    def to_text(self) -> str:
        """Each node's equation in readable math (``fit --dry-run``)."""
        lines = [f"model for outcome {self.outcome!r}: {len(self.nodes)} submodels, {self.n_periods} periods ({self.freq})"]
        lines.append(f"exogenous (taken from data): {', '.join(self.exogenous) or '-'}")
        for n in self.nodes:
            lines.append("")
            lines.append(equation_text(n, self.scales, self.periods_per_year))
            for e in n.edges:
                pri = sampled_edge_priors(e)
                size = f"[{e.n_lags}]" if e.n_lags > 1 else ""  # a distributed-lag adjustment: one coefficient per lag
                own = ", ".join(f"{name}{size if name == 'beta' else ''}~{_prior_short(p)}" for name, p in pri.items() if name not in e.shared_params)
                shared = f"; {', '.join(e.shared_params)} shared with {e.source} -> {e.shared_from}" if e.shared_from else ""
                lines.append(f"    [{e.source}] {own}{shared}")
            pri = sampled_node_priors(n)
            lines.append("    " + ", ".join(f"{k}~{_prior_short(v)}" for k, v in pri.items()))
            if n.adjustment:
                lines.append(
                    f"    adjustment term(s) {', '.join(n.adjustment)}: block the backdoor paths from the parents; "
                    "held at their observed values in every do() (not causes of this node)"
                )
            factors = [p for p in n.latent_parents if p in self.latents]
            if factors:
                lines.append(
                    f"    ! latent parent(s) {', '.join(factors)} modelled as a shared latent factor (AR(1) series); "
                    "identified only under the factor model's assumptions unless calibrated by an experiment"
                )
            elif n.confounded:
                lines.append(f"    ! latent parent(s) {', '.join(n.latent_parents)}: confounded unless calibrated by an experiment")
            elif n.latent_parents and n.adjustment:
                lines.append(
                    f"    latent parent(s) {', '.join(n.latent_parents)}: the backdoor paths through them are blocked by the adjustment "
                    "terms, so this mechanism is identified"
                )
            elif n.latent_parents:
                lines.append(f"    latent parent(s) {', '.join(n.latent_parents)} reach no other input of this equation: noise only, not confounding")
        return "\n".join(lines)


def _prior_short(p: Prior) -> str:
    args = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in p.parameters.items())
    return f"{p.distribution}({args})"


def term_text(e: EdgeSpec) -> str:
    if e.is_adjustment:
        if e.n_lags > 1:
            return f"+ Σ_l adj_{e.source}[l]·{e.source}[t-l] (l = {e.lag}..{e.lag + e.n_lags - 1})"
        return f"+ adj_{e.source}·{e.source}[t]"
    x = f"{e.source}[t-{e.lag}]" if e.lag else f"{e.source}[t]"
    if e.adstock != "none":
        x = f"adstock_{e.adstock}({x}; L={e.l_max})"
    if e.saturation != "none":
        x = f"{e.saturation}({x})"
    if e.modulator:
        x = f"{x}·{e.modulator}[t]"
    sign = {"positive": "+", "negative": "-", "free": "+"}[e.sign]
    coef = f"beta_{e.source}" if e.sign != "free" else f"b_{e.source}"
    return f"{sign} {coef}·{x}"


def equation_text(n: NodeSpec, scales: Mapping[str, float] | None = None, periods_per_year: float | None = None) -> str:
    """``node[t] = intercept + Σ ± beta·f(parent) + baseline + noise`` in scaled units."""
    terms = " ".join(term_text(e) for e in n.edges)
    base = ""
    if n.trend == "linear":
        base += " + trend·t"
    elif n.trend == "piecewise":
        base += f" + trend·t + Σ_{n.changepoints} changepoint_j·(t - s_j)+"
    if n.seasonality:
        period = n.season_period or periods_per_year
        base += f" + fourier_{n.seasonality}(t; period={period:.5g})" if period else f" + fourier_{n.seasonality}(t)"
    noise = "Normal(0, sigma)" if n.likelihood == "normal" else "StudentT(nu, 0, sigma)"
    if n.noise == "ar1":
        noise = f"e[t] = rho·e[t-1] + u[t],  u ~ {noise}"
    else:
        noise = f"e ~ {noise}"
    return f"{n.name}[t] = intercept {terms}{base} + e[t],  {noise}   (all series divided by their mean |value|; beta_* >= 0)"


def edge_default_priors(e: EdgeSpec) -> dict[str, Prior]:
    pri = {"beta": DEFAULT_PRIORS["beta_free" if e.sign == "free" else "beta_signed"]}
    for name, (dist, params) in default_priors(e.adstock, e.saturation).items():  # each family's own priors
        pri[name] = Prior(dist, **params)
    return pri


def node_default_priors(n: NodeSpec) -> dict[str, Prior]:
    keys = ["intercept", "sigma"] + (["nu"] if n.likelihood == "student_t" else [])
    keys += ["trend"] if n.trend != "none" else []
    keys += ["changepoint"] if n.trend == "piecewise" else []
    keys += ["season"] if n.seasonality else []
    keys += ["rho"] if n.noise == "ar1" else []
    return {k: n.priors.get(k, DEFAULT_PRIORS[k]) for k in keys}


def sampled_node_priors(n: NodeSpec) -> dict[str, Prior]:
    """The node-level priors exactly as the PyMC model samples them (``level`` stands for the intercept).

    The sampled location parameter is the node's *level*, its mean at reference inputs; ``intercept``
    is derived from it (model/build.py). Its prior is resolved by :func:`build_spec` from the data.
    """
    pri = node_default_priors(n)
    out = {"level": pri.pop("intercept")}
    out.update(pri)
    return out


def sampled_edge_priors(e: EdgeSpec) -> dict[str, Prior]:
    """The edge's priors as sampled: a saturating edge samples ``beta_ref`` (its effect at mean input), not ``beta``."""
    pri = {**edge_default_priors(e), **e.priors}
    out = {("beta_ref" if k == "beta" and e.saturation != "none" else k): pri[k] for k in e.param_names}
    return out


def series_scale(values: np.ndarray) -> float:
    """Mean absolute value (1.0 for an all-zero series): the unit each series is divided by."""
    s = float(np.mean(np.abs(values)))
    return s if s > 0 else 1.0


def _adjustment(graph: CausalGraph, node: str, parents: list[str], factors: list[str]) -> tuple[bool, list[str]]:
    """(unblocked, Z): the observed non-descendants of the parents that make regressing ``node`` on its
    parents plus Z estimate its mechanism (backdoor criterion for the parents jointly, do-calculus rule 2).

    Z is empty when the parents have no open backdoor path into the node. ``unblocked`` is True when
    no observed set closes them (a latent confounder): the mechanism stays confounded. Latent roots
    modelled as factors count as observed (their series are sampled)."""
    treat = parents + factors
    if not treat:
        return False, []
    g = graph
    if factors:
        g = graph.copy()
        for f in factors:
            g.add_node(f, graph.role(f), observed=True)
    found = minimal_adjustment_set(g, treat, node)
    if found is None:
        return True, []
    return False, [z for z in found if z not in treat]


def _adjustment_lags(graph: CausalGraph, z: str, node: str, parents: list[str]) -> int:
    """How many lags of adjustment source ``z`` the equation of ``node`` needs: ``z`` reaches a parent ``m``
    over lags ``0 .. l_max(z→m) - 1 + lag(z→m)`` and ``m`` reaches the node over its own window, so every one
    of those lags of ``z`` is a backdoor path (``z`` is autocorrelated: budgets follow demand) that the
    same-period value alone leaves open."""
    lags = 1
    for m in parents:
        if z in graph.parents(m):
            into, out = graph.edge(z, m), graph.edge(m, node)
            window = (into.l_max if into.is_media else 1) + into.lag + (out.l_max if out.is_media else 1) - 1 + out.lag
            lags = max(lags, window)
    return lags


def _trend_name(value: bool | str) -> str:
    if isinstance(value, bool):
        return "linear" if value else "none"
    if value not in ("none", "linear", "piecewise"):
        raise SpecError(f"unknown trend {value!r}", hint="use none, linear or piecewise")
    return value


CARRYOVER_MODES = ("per_edge", "channel")
#: Parameter groups a channel's edges share under ``carryover="channel"`` (see :func:`share_carryover`).
SHARED_GROUPS = ("adstock",)


def share_carryover(nodes: list[NodeSpec], groups: tuple[str, ...] = SHARED_GROUPS) -> list[NodeSpec]:
    """One carry-over per channel: every causal edge from the same source with the same adstock family and
    ``l_max`` reuses the adstock parameters of the first such edge (topological order).

    Carry-over is the audience's memory of the ad, so it is a property of the channel, not of the
    node that responds (search visits and direct visits remember the same campaign); a flat MMM
    has one adstock per channel for the same reason. ``groups`` may add ``"saturation"`` (same family
    required). A prior override on a shared parameter must be set on the owning edge.
    """
    owners: dict[tuple[Any, ...], EdgeSpec] = {}
    out = []
    for n in nodes:
        edges = []
        for e in n.edges:
            if e.is_adjustment or e.adstock == "none":
                edges.append(e)
                continue
            shared: list[str] = []
            owner = None
            for group in groups:
                family_name = e.adstock if group == "adstock" else e.saturation
                if family_name == "none":
                    continue
                key = (e.source, group, family_name, e.l_max if group == "adstock" else None)
                first = owners.setdefault(key, e)
                if first is e or (owner is not None and first.target != owner.target):
                    continue
                owner = first
                names = ADSTOCK_PARAMS[e.adstock] if group == "adstock" else SATURATION_PARAMS[e.saturation]
                for k in names:
                    if k in e.priors and (k not in first.priors or e.priors[k].to_dict() != first.priors[k].to_dict()):
                        raise SpecError(
                            f"edge {e.source}->{e.target} shares {k!r} with {first.source}->{first.target}, but sets its own prior",
                            hint=f"set the prior on {first.source}->{first.target}, or learn one carry-over per edge (carryover=per_edge)",
                        )
                shared += list(names)
            if owner is not None:  # the owner's prior overrides, so that whichever edge is built first samples the same prior
                inherited = {k: owner.priors[k] for k in shared if k in owner.priors}
                e = replace(e, shared_from=owner.target, shared_params=tuple(shared), priors={**e.priors, **inherited})
            edges.append(e)
        out.append(replace(n, edges=tuple(edges)))
    return out


LATENT_MODES = ("auto", "baseline", "factor")
#: ``latent="auto"`` models a latent root as a shared factor when it has at least this many observed children.
MIN_FACTOR_CHILDREN = 3


def build_spec(
    graph: CausalGraph,
    data: Any,
    *,
    likelihood: str = "normal",
    trend: bool | str | None = None,
    seasonality: int | None = None,
    priors: Mapping[str, Mapping[str, Prior]] | None = None,
    latent: str = "auto",
    carryover: str = "per_edge",
) -> ModelSpec:
    """Derive the ModelSpec from a validated graph and a validated Dataset.

    ``priors`` overrides defaults: keys are a node name (``"sales"`` →
    ``{"intercept": Prior(...)}``) or an edge ``"ppc_spend->ppc_clicks"`` →
    ``{"alpha": Prior(...)}``. ``trend``/``seasonality`` apply to every node;
    by default only nodes with a latent parent get a flexible baseline
    (linear trend + Fourier order 2).

    ``latent``: how latent parents are handled. ``"auto"`` (default): a latent
    root with at least :data:`MIN_FACTOR_CHILDREN` observed children is a
    factor (enough indicators to pin it down), any other latent parent is
    handled by the baseline. ``"baseline"``: each
    child gets the flexible baseline and is flagged confounded. ``"factor"``: a
    latent node with observed children is modelled as one shared standardised
    AR(1) series entering each child linearly (a factor model); its children
    form one fit block, and nodes whose only parents are latent become modelled.
    Loadings keep the edges' declared signs; with every loading free the
    factor's sign is arbitrary and is aligned after sampling
    (:func:`causalmmm.model.fit.align_factor_signs`).

    ``carryover``: ``"per_edge"`` (default) learns one carry-over shape per edge; ``"channel"``
    gives a spend node one carry-over shared by all its edges with the same adstock family and
    ``l_max`` (:func:`share_carryover`). A spend node's ``carryover`` attribute in the graph overrides it.
    """
    if latent not in LATENT_MODES:
        raise SpecError(f"unknown latent handling {latent!r}", hint=f"use {', '.join(LATENT_MODES)}")
    if carryover not in CARRYOVER_MODES:
        raise SpecError(f"unknown carryover {carryover!r}", hint=f"use {', '.join(CARRYOVER_MODES)}")
    if likelihood not in LIKELIHOODS:
        raise SpecError(f"unknown likelihood {likelihood!r}", hint=f"allowed: {', '.join(LIKELIHOODS)}")
    priors = dict(priors or {})
    graph.validate()
    frame = data.frame
    known_keys = set(graph.nodes) | {f"{u}->{v}" for u, v in graph.edges}
    for key in priors:
        if key not in known_keys:
            raise SpecError(f"prior override for unknown node or edge {key!r}", hint="use a node name or 'source->target'")
    nodes: list[NodeSpec] = []
    exogenous: list[str] = []
    factor_nodes: set[str] = set()
    factor_roots = {
        v
        for v in graph.latent_nodes
        if not graph.parents(v) and latent != "baseline" and (latent == "factor" or sum(graph.is_observed(c) for c in graph.children(v)) >= MIN_FACTOR_CHILDREN)
    }
    for name in graph.topological_order():
        if not graph.is_observed(name):
            continue
        obs_parents = [p for p in graph.parents(name) if graph.is_observed(p)]
        latent_parents = tuple(p for p in graph.parents(name) if not graph.is_observed(p))
        factor_parents = [p for p in latent_parents if p in factor_roots]
        if not obs_parents and not factor_parents:
            exogenous.append(name)
            continue
        edges = []
        for p in factor_parents:
            info = graph.edge(p, name)
            factor_nodes.add(p)
            edges.append(EdgeSpec(p, name, "none", "none", 1, info.lag, info.sign, priors=dict(priors.get(f"{p}->{name}", {}))))
        for p in obs_parents:
            info = graph.edge(p, name)
            over = dict(priors.get(f"{p}->{name}", {}))
            edge = EdgeSpec(p, name, info.adstock, info.saturation, info.l_max if info.adstock != "none" else 1, info.lag, info.sign, modulator=info.modulator)
            bad = set(over) - set(edge.param_names)
            if bad:
                raise SpecError(f"edge {p}->{name} has no parameter {sorted(bad)[0]!r}", hint=f"its parameters: {', '.join(edge.param_names)}")
            edges.append(replace(edge, priors=over))
        unblocked, adjust = _adjustment(graph, name, obs_parents, factor_parents)
        for z in adjust:
            lags = _adjustment_lags(graph, z, name, obs_parents)
            edges.append(EdgeSpec(z, name, "none", "none", lags, 0, "free", role="adjustment", priors=dict(priors.get(f"{z}->{name}", {}))))
        flexible = bool(latent_parents) and not factor_parents
        node_over = dict(priors.get(name, {}))
        declared = graph.declared_node_attrs(name)
        node_info = graph.node(name)
        node_trend = declared.get("trend") or _trend_name(flexible if trend is None else trend)
        node = NodeSpec(
            name=name,
            edges=tuple(edges),
            latent_parents=latent_parents,
            trend=node_trend,
            seasonality=declared.get("seasonality", (2 if flexible else 0) if seasonality is None else seasonality),
            likelihood=likelihood,
            priors=node_over,
            changepoints=node_info.changepoints if node_trend == "piecewise" else 0,
            season_period=node_info.season_period,
            noise=declared.get("noise") or ("ar1" if flexible else "iid"),
            unblocked=unblocked,
        )
        bad = set(node_over) - set(node_default_priors(node))
        if bad:
            raise SpecError(f"node {name!r} has no parameter {sorted(bad)[0]!r}", hint=f"its parameters: {', '.join(node_default_priors(node))}")
        if "intercept" not in node_over:  # the level prior is centred on the node's mean (scaled units): resolved here, printed by the dry run
            level_mu = float(np.mean(frame[name].to_numpy(dtype=float))) / series_scale(frame[name].to_numpy(dtype=float))
            node = replace(node, priors={**node_over, "intercept": Prior("Normal", mu=round(level_mu, 6), sigma=1.0)})
        nodes.append(node)
    per_edge = {v for v in graph.nodes if (graph.declared_node_attrs(v).get("carryover") or carryover) != "channel"}
    shared = share_carryover([replace(n, edges=tuple(e for e in n.edges if e.source not in per_edge)) for n in nodes])
    nodes = [replace(n, edges=tuple(sh.edge(e.source) if e.source not in per_edge else e for e in n.edges)) for n, sh in zip(nodes, shared)]
    if not any(n.name == graph.outcome for n in nodes):
        raise SpecError(f"the outcome {graph.outcome!r} has no observed parent", hint="connect observed nodes to the outcome")
    scales = {n: series_scale(frame[n].to_numpy(dtype=float)) for n in graph.observed_nodes}
    latents = tuple(sorted(factor_nodes, key=graph.nodes.index))
    return ModelSpec(graph.outcome, tuple(nodes), tuple(exogenous), scales, data.freq, data.n_periods, latents)
