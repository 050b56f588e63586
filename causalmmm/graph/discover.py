"""Causal discovery with role tiers: a *draft* graph from data, with edge stability.

``discover(data, prior)`` runs a causal-learn search (PC by default) on the
observed columns, with background knowledge from the node roles::

    tier 0: confounders, controls  →  tier 1: spend  →  tier 2: mediators  →  tier 3: outcome

An edge between two tiers can only point from the lower tier to the higher one,
so no edge is ever oriented from a mediator or the outcome into spend. Edges
inside a tier (mediator–mediator, spend–spend, confounder–control) are oriented
by the data (v-structures and Meek's rules) or left undecided.

Edge stability comes from a moving-block bootstrap (time series: rows are
resampled in contiguous blocks so autocorrelation survives the resampling).

See docs/concepts-discovery.md for the measured method choice and limitations.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from causalmmm.errors import DataError, GraphError
from causalmmm.graph.causal_graph import ROLE_TIER, ROLES, CausalGraph
from causalmmm.transforms.time import trend_and_fourier

METHODS: tuple[str, ...] = ("pc", "fci", "ges", "boss", "exact")
TRANSFORMS: tuple[str, ...] = ("none", "diff", "detrend")
OUTCOME_NAMES: tuple[str, ...] = ("sales", "revenue", "conversions")
MAX_EXACT_NODES = 16
SPEND_SUFFIXES: tuple[str, ...] = ("_spend",)
MEDIATOR_SUFFIXES: tuple[str, ...] = ("_clicks", "_visits")

# Edge kinds in one search result, keyed by the pair in data-column order.
DIRECTED, UNDIRECTED, BIDIRECTED = "->", "--", "<->"


# --------------------------------------------------------------------------- roles
def infer_roles(columns: Sequence[str], roles: Mapping[str, str] | None = None, outcome: str | None = None) -> dict[str, str]:
    """Role of each column: explicit ``roles`` first, then ``outcome``, then the name heuristic.

    Heuristic: ``*_spend`` → spend; ``*_clicks`` / ``*_visits`` → mediator; a column named
    ``sales``, ``revenue`` or ``conversions`` → outcome; anything else → confounder.
    """
    cols = list(columns)
    roles = dict(roles or {})
    for node, role in roles.items():
        if node not in cols:
            raise DataError(f"roles names {node!r}, which is not a data column", hint=f"columns are: {', '.join(cols)}")
        if role not in ROLES:
            raise GraphError(f"unknown role {role!r} for {node!r}", hint=f"allowed roles: {', '.join(ROLES)}")
    if outcome is not None:
        if outcome not in cols:
            raise DataError(f"outcome {outcome!r} is not a data column", hint=f"columns are: {', '.join(cols)}")
        if roles.get(outcome, "outcome") != "outcome":
            raise GraphError(f"{outcome!r} is passed as the outcome but roles says {roles[outcome]!r}", hint="give it one role")
        roles[outcome] = "outcome"
    declared_out = [n for n, r in roles.items() if r == "outcome"]
    out: dict[str, str] = {}
    for c in cols:
        if c in roles:
            out[c] = roles[c]
        elif c.endswith(SPEND_SUFFIXES):
            out[c] = "spend"
        elif c.endswith(MEDIATOR_SUFFIXES):
            out[c] = "mediator"
        elif not declared_out and c.lower() in OUTCOME_NAMES:
            out[c] = "outcome"
        else:
            out[c] = "confounder"
    outs = [c for c, r in out.items() if r == "outcome"]
    if not outs:
        raise DataError(
            "no outcome column found",
            hint=f"pass outcome='COLUMN' (CLI: --outcome COLUMN) or name it one of {', '.join(OUTCOME_NAMES)}",
        )
    if len(outs) > 1:
        raise DataError(f"{len(outs)} outcome columns ({', '.join(outs)})", hint="pass exactly one with outcome='COLUMN' (CLI: --outcome)")
    return out


# --------------------------------------------------------------------------- data
def as_frame(data: Any) -> pd.DataFrame:
    """A float DataFrame indexed by date from a Dataset, or a DataFrame with a ``date`` column."""
    from causalmmm.data import Dataset, load_data

    if isinstance(data, Dataset):
        return data.frame.astype(float)
    if isinstance(data, pd.DataFrame):
        return load_data(data).frame.astype(float)
    raise DataError(f"expected a Dataset or a pandas DataFrame, got {type(data).__name__}", hint="load it with causalmmm.data.load_data(path)")


def periods_per_year(frame: pd.DataFrame) -> float:
    if len(frame.index) > 1 and isinstance(frame.index, pd.DatetimeIndex):
        days = (frame.index[1] - frame.index[0]).total_seconds() / 86400.0
        if days > 0:
            return 365.25 / days
    return 52.18


def preprocess(frame: pd.DataFrame, transform: str) -> np.ndarray:
    """Apply the chosen transform column-wise and standardise."""
    x = frame.to_numpy(dtype=float)
    if transform == "diff":
        x = np.diff(x, axis=0)
    elif transform == "detrend":
        f = np.column_stack([np.ones(len(x)), trend_and_fourier(len(x), periods_per_year(frame))])
        beta, *_ = np.linalg.lstsq(f, x, rcond=None)
        x = x - f @ beta
    elif transform != "none":
        raise GraphError(f"unknown transform {transform!r}", hint=f"allowed: {', '.join(TRANSFORMS)}")
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def block_bootstrap_indices(n: int, block_length: int, rng: np.random.Generator) -> np.ndarray:
    """Moving-block bootstrap: random contiguous blocks, concatenated and cut to ``n`` rows."""
    block_length = max(1, min(block_length, n))
    n_blocks = int(np.ceil(n / block_length))
    starts = rng.integers(0, n - block_length + 1, size=n_blocks)
    idx = (starts[:, None] + np.arange(block_length)[None, :]).ravel()
    return idx[:n]


def default_block_length(n: int) -> int:
    """``round(1.5 · n^(1/3))``, at least 2: about 8 weeks for three years of weekly data."""
    return max(2, int(round(1.5 * n ** (1.0 / 3.0))))


# --------------------------------------------------------------------------- one search
def _edges_from_matrix(g: np.ndarray, names: Sequence[str]) -> dict[tuple[str, str], str]:
    """causal-learn endpoint matrix → {(u, v): kind}; ``g[a, b]`` is the mark at ``a`` on edge a–b.

    Marks: -1 tail, 1 arrow, 2 circle (FCI). ``o->`` counts as directed.
    """
    out: dict[tuple[str, str], str] = {}
    p = len(names)
    for i in range(p):
        for j in range(i + 1, p):
            mi, mj = g[i, j], g[j, i]
            if mi == 0 and mj == 0:
                continue
            if mj == 1 and mi in (-1, 2):
                out[(names[i], names[j])] = DIRECTED
            elif mi == 1 and mj in (-1, 2):
                out[(names[j], names[i])] = DIRECTED
            elif mi == 1 and mj == 1:
                out[(names[i], names[j])] = BIDIRECTED
            else:
                out[(names[i], names[j])] = UNDIRECTED
    return out


def _background_knowledge(names: Sequence[str], tiers: Mapping[str, int]) -> Any:
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

    bk = BackgroundKnowledge()
    for n in names:
        bk.add_node_to_tier(GraphNode(n), int(tiers[n]))
    return bk


def _search(x: np.ndarray, names: Sequence[str], tiers: Mapping[str, int], method: str, alpha: float) -> dict[tuple[str, str], str]:
    """Run one causal-learn search; return raw edges (before tier enforcement)."""
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        if method == "pc":
            from causallearn.search.ConstraintBased.PC import pc

            cg = pc(
                x,
                alpha=alpha,
                indep_test="fisherz",
                stable=True,
                background_knowledge=_background_knowledge(names, tiers),
                show_progress=False,
                node_names=list(names),
            )
            g = cg.G.graph
        elif method == "fci":
            from causallearn.search.ConstraintBased.FCI import fci

            G, _ = fci(
                x,
                independence_test_method="fisherz",
                alpha=alpha,
                background_knowledge=_background_knowledge(names, tiers),
                show_progress=False,
                node_names=list(names),
                verbose=False,
            )
            g = G.graph
        elif method == "ges":
            from causallearn.search.ScoreBased.GES import ges

            g = ges(x, score_func="local_score_BIC", node_names=list(names))["G"].graph
        elif method == "boss":
            from causallearn.search.PermutationBased.BOSS import boss

            g = boss(x, score_func="local_score_BIC_from_cov", verbose=False, node_names=list(names)).graph
        elif method == "exact":
            return _exact_tiered(x, names, tiers)
        else:
            raise GraphError(f"unknown discovery method {method!r}", hint=f"allowed: {', '.join(METHODS)}")
    return _edges_from_matrix(np.asarray(g), names)


def _exact_tiered(x: np.ndarray, names: Sequence[str], tiers: Mapping[str, int]) -> dict[tuple[str, str], str]:
    """Exact BIC-optimal DAG (causal-learn's A* search) restricted to tier-respecting edges.

    The DAG is then reduced to what the data can tell: v-structures are kept as directed,
    every other edge is returned undirected (tiers and Meek's rules orient them later).
    """
    from causallearn.search.ScoreBased.ExactSearch import bic_exact_search

    p = len(names)
    sup = np.array([[1.0 if i != j and tiers[names[i]] <= tiers[names[j]] else 0.0 for j in range(p)] for i in range(p)])
    max_parents = None if p <= 12 else 4
    dag, _ = bic_exact_search(x, super_graph=sup, search_method="astar", max_parents=max_parents)
    pa = {j: {i for i in range(p) if dag[i, j]} for j in range(p)}
    adj = lambda a, b: dag[a, b] or dag[b, a]  # noqa: E731
    out: dict[tuple[str, str], str] = {}
    for j in range(p):
        for i in pa[j]:
            v_struct = any(k != i and not adj(i, k) for k in pa[j])
            out[(names[i], names[j])] = DIRECTED if v_struct else UNDIRECTED
    return out


def _meek(directed: set[tuple[str, str]], undirected: set[frozenset[str]]) -> None:
    """Meek rules 1–3 on a PDAG, in place (used after tiers override a search's orientations)."""

    def adjacent(a: str, b: str) -> bool:
        return (a, b) in directed or (b, a) in directed or frozenset((a, b)) in undirected

    changed = True
    while changed:
        changed = False
        for e in list(undirected):
            a, b = tuple(e)
            for u, v in ((a, b), (b, a)):
                if frozenset((u, v)) not in undirected:
                    break
                # R1: w -> u -- v, w not adjacent to v  =>  u -> v
                r1 = any(t == u and w != v and not adjacent(w, v) for w, t in directed)
                # R2: u -> w -> v  =>  u -> v
                r2 = any(s == u and (w, v) in directed for s, w in directed)
                # R3: u -- w1 -> v, u -- w2 -> v, w1, w2 not adjacent  =>  u -> v
                ws = [w for w, t in directed if t == v and frozenset((u, w)) in undirected]
                r3 = any(not adjacent(w1, w2) for i, w1 in enumerate(ws) for w2 in ws[i + 1 :])
                if r1 or r2 or r3:
                    undirected.discard(frozenset((u, v)))
                    directed.add((u, v))
                    changed = True
                    break


def _apply_tiers(raw: Mapping[tuple[str, str], str], tiers: Mapping[str, int], method: str) -> tuple[set[tuple[str, str]], set[frozenset[str]]]:
    """Orient every cross-tier adjacency from the lower tier to the higher one; keep within-tier marks.

    Bidirected within-tier edges (a conflict in PC, a latent confounder in FCI) become undecided.
    For searches that cannot take background knowledge (GES, BOSS), Meek's rules are re-applied
    after the tier orientations.
    """
    directed: set[tuple[str, str]] = set()
    undirected: set[frozenset[str]] = set()
    for (u, v), kind in raw.items():
        tu, tv = tiers[u], tiers[v]
        if tu < tv:
            directed.add((u, v))
        elif tv < tu:
            directed.add((v, u))
        elif kind == DIRECTED:
            directed.add((u, v))
        else:
            undirected.add(frozenset((u, v)))
    if method in ("ges", "boss", "exact"):
        _meek(directed, undirected)
    return directed, undirected


# --------------------------------------------------------------------------- result
@dataclass
class DiscoveryResult:
    """A discovered draft graph with per-edge bootstrap stability.

    ``stability[(u, v)]`` (for every pair seen at least once) is a dict with
    ``present`` (share of resamples with any edge between u and v), ``forward``
    (share with u -> v), ``backward`` (v -> u) and ``undecided`` (u -- v or u <-> v).
    The key order is the draft's direction for directed edges.
    """

    graph: CausalGraph
    undirected: list[tuple[str, str]]
    stability: dict[tuple[str, str], dict[str, float]]
    roles: dict[str, str]
    method: str
    alpha: float
    n_bootstrap: int
    transform: str
    block_length: int
    n_periods: int
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    prior: CausalGraph | None = None

    # ------------------------------------------------------------ helpers
    def edge_stability(self, u: str, v: str) -> float | None:
        """Share of resamples with an edge between u and v (any orientation); None without bootstrap."""
        if self.n_bootstrap == 0:
            return None
        s = self.stability.get((u, v)) or self.stability.get((v, u))
        return float(s["present"]) if s else 0.0

    def _direction_share(self, u: str, v: str) -> float | None:
        if self.n_bootstrap == 0:
            return None
        if (u, v) in self.stability:
            return float(self.stability[(u, v)]["forward"])
        if (v, u) in self.stability:
            return float(self.stability[(v, u)]["backward"])
        return 0.0

    def unstable_candidates(self, threshold: float = 0.5) -> list[tuple[str, str, float]]:
        """Pairs present in at least ``threshold`` of resamples but absent from the draft."""
        have = {frozenset(e) for e in self.graph.edges} | {frozenset(e) for e in self.undirected}
        out = [(u, v, s["present"]) for (u, v), s in self.stability.items() if frozenset((u, v)) not in have and s["present"] >= threshold]
        return sorted(out, key=lambda t: -t[2])

    # ------------------------------------------------------------ outputs
    def to_dot(self) -> str:
        """DOT text that loads with :func:`causalmmm.graph.graph_from_dot`.

        Stability and undecided edges are DOT comments, so the loader (which rejects
        unknown attributes) accepts the file unchanged.
        """
        from causalmmm.graph.io import _dot_id

        g = self.graph
        lines = [
            f"// Draft discovered by causalmmm ({self.method.upper()}, alpha={self.alpha:g}, transform={self.transform},"
            f" {self.n_periods} periods, {self.n_bootstrap} block-bootstrap resamples of {self.block_length} periods).",
            "// A draft, not the truth: check each edge against what you know, then edit.",
            "// 'stability' = share of resamples with this edge (any direction); 'this direction' = share with this orientation.",
        ]
        lines += [f"// warning: {w}" for w in self.warnings]
        lines.append(f"digraph {_dot_id(g.name)} {{")
        for n in g.nodes:
            lines.append(f"  {_dot_id(n)} [role={g.role(n)}];")
        for u, v in g.edges:
            attrs = g.declared_edge_attrs(u, v)
            attr_txt = f" [{', '.join(f'{k}={val}' for k, val in attrs.items())}]" if attrs else ""
            s, d = self.edge_stability(u, v), self._direction_share(u, v)
            comment = f"  // stability {s:.2f}, this direction {d:.2f}" if s is not None else ""
            lines.append(f"  {_dot_id(u)} -> {_dot_id(v)}{attr_txt};{comment}")
        for u, v in self.undirected:
            s = self.edge_stability(u, v)
            st = f" (stability {s:.2f})" if s is not None else ""
            lines.append(f"  // UNDECIDED: {u} -- {v}{st}: orient it and uncomment, e.g. {_dot_id(u)} -> {_dot_id(v)};")
        for u, v, share in self.unstable_candidates():
            lines.append(f"  // SEEN IN {share:.0%} OF RESAMPLES, NOT IN THE DRAFT: {u} -- {v}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``graph discover --json``."""
        edges = []
        for u, v in self.graph.edges:
            edges.append({"from": u, "to": v, "stability": self.edge_stability(u, v), "direction_stability": self._direction_share(u, v)})
        und = [{"a": u, "b": v, "stability": self.edge_stability(u, v)} for u, v in self.undirected]
        stab = [{"from": u, "to": v, **{k: round(float(x), 4) for k, x in s.items()}} for (u, v), s in sorted(self.stability.items())]
        out: dict[str, Any] = {
            "method": self.method,
            "alpha": self.alpha,
            "transform": self.transform,
            "n_periods": self.n_periods,
            "n_bootstrap": self.n_bootstrap,
            "block_length": self.block_length,
            "seconds": round(self.seconds, 3),
            "nodes": [{"name": n, "role": self.graph.role(n)} for n in self.graph.nodes],
            "edges": edges,
            "undirected": und,
            "stability": stab,
            "warnings": list(self.warnings),
        }
        if self.prior is not None:
            out["diff"] = self.diff(self.prior)
        return out

    def to_text(self) -> str:
        """Human summary: edges with stability, undecided pairs, and the diff when a prior was given."""
        lines = [
            f"Discovered draft ({self.method.upper()}, alpha={self.alpha:g}, {self.n_periods} periods, "
            f"{self.n_bootstrap} block-bootstrap resamples, {self.seconds:.1f}s):"
        ]
        for u, v in self.graph.edges:
            s = self.edge_stability(u, v)
            lines.append(f"  {u} -> {v}" + (f"   (stability {s:.2f})" if s is not None else ""))
        if self.undirected:
            lines.append("Undecided (the data cannot orient these; decide with domain knowledge):")
            for u, v in self.undirected:
                s = self.edge_stability(u, v)
                lines.append(f"  {u} -- {v}" + (f"   (stability {s:.2f})" if s is not None else ""))
        weak = [(u, v) for u, v in self.graph.edges if (self.edge_stability(u, v) or 1.0) < 0.5]
        if weak:
            lines.append("Unstable (in fewer than half of the resamples): " + ", ".join(f"{u} -> {v}" for u, v in weak))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        if self.prior is not None:
            lines.append(diff_text(self.diff(self.prior)))
        return "\n".join(lines)

    def diff(self, prior: CausalGraph) -> dict[str, Any]:
        """Compare the draft with a declared graph, over the nodes both have.

        Keys (lists of ``{"from", "to", "stability"}``):
        ``missing`` (declared, not found), ``extra`` (found, not declared; undecided ones have
        ``"undecided": true``), ``reversed`` (declared u -> v, found v -> u; from/to as declared),
        ``undecided`` (declared u -> v, found u -- v: consistent, unoriented), ``agree``,
        ``not_compared`` (declared edges touching a latent node or a node without data).
        """
        found_dir = set(self.graph.edges)
        found_und = {frozenset(e) for e in self.undirected}
        nodes = set(self.graph.nodes)
        res: dict[str, list[dict[str, Any]]] = {k: [] for k in ("missing", "extra", "reversed", "undecided", "agree", "not_compared")}
        declared = set()

        def item(u: str, v: str, **kw: Any) -> dict[str, Any]:
            return {"from": u, "to": v, "stability": self.edge_stability(u, v), **kw}

        for u, v in prior.edges:
            if u not in nodes or v not in nodes:
                res["not_compared"].append({"from": u, "to": v, "stability": None})
                continue
            declared.add(frozenset((u, v)))
            if (u, v) in found_dir:
                res["agree"].append(item(u, v))
            elif (v, u) in found_dir:
                res["reversed"].append(item(u, v))
            elif frozenset((u, v)) in found_und:
                res["undecided"].append(item(u, v))
            else:
                res["missing"].append(item(u, v))
        for u, v in self.graph.edges:
            if frozenset((u, v)) not in declared:
                res["extra"].append(item(u, v))
        for u, v in self.undirected:
            if frozenset((u, v)) not in declared:
                res["extra"].append(item(u, v, undecided=True))
        return res


def diff_text(diff: Mapping[str, Any]) -> str:
    """Plain-words rendering of :meth:`DiscoveryResult.diff`."""

    def st(e: Mapping[str, Any]) -> str:
        return f" (stability {e['stability']:.2f})" if e.get("stability") is not None else ""

    lines = ["Compared with the declared graph:"]
    lines.append(f"  {len(diff['agree'])} declared edge(s) found as declared.")
    for e in diff["missing"]:
        lines.append(
            f"  MISSING in the data: {e['from']} -> {e['to']}{st(e)}: the data shows no dependence left once the others "
            "are accounted for; check it is real or weak."
        )
    for e in diff["extra"]:
        arrow = "--" if e.get("undecided") else "->"
        lines.append(
            f"  EXTRA in the data: {e['from']} {arrow} {e['to']}{st(e)}: not declared; a missing edge, a hidden common cause, or a time-series artefact."
        )
    for e in diff["reversed"]:
        lines.append(f"  REVERSED: declared {e['from']} -> {e['to']}, the data prefers {e['to']} -> {e['from']}{st(e)}.")
    for e in diff["undecided"]:
        lines.append(f"  UNORIENTED: {e['from']} -> {e['to']} is found but the data cannot orient it{st(e)} (consistent).")
    for e in diff["not_compared"]:
        lines.append(f"  not compared: {e['from']} -> {e['to']} (a latent node or no data column).")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main entry
def _roles_and_columns(
    frame: pd.DataFrame, prior: CausalGraph | None, roles: Mapping[str, str] | None, outcome: str | None
) -> tuple[list[str], dict[str, str], list[str]]:
    notes: list[str] = []
    cols = [str(c) for c in frame.columns]
    if prior is not None:
        if not isinstance(prior, CausalGraph):
            raise GraphError(f"prior must be a CausalGraph, got {type(prior).__name__}", hint="load it with causalmmm.graph.load_graph(path)")
        missing = [n for n in prior.observed_nodes if n not in cols]
        if missing:
            raise DataError(
                f"observed node(s) of the prior graph without a data column: {', '.join(missing)}",
                hint="add the columns, or mark the nodes observed=false in the graph",
            )
        names = [n for n in prior.nodes if prior.is_observed(n)]
        out = {n: prior.role(n) for n in names}
        ignored = [c for c in cols if c not in prior]
        if ignored:
            notes.append(f"column(s) not in the prior graph were ignored: {', '.join(ignored)}")
        if prior.latent_nodes:
            notes.append(
                f"the prior has latent node(s) ({', '.join(prior.latent_nodes)}); PC/GES/BOSS assume no hidden common causes, FCI does not (method='fci')"
            )
        if roles:
            for n, r in roles.items():
                if n in out:
                    out[n] = r
        if outcome is not None and out.get(outcome) != "outcome":
            raise GraphError(
                f"outcome {outcome!r} disagrees with the prior graph, whose outcome is {prior.outcome!r}",
                hint="drop the outcome argument when a prior graph is given",
            )
        return names, out, notes
    out = infer_roles(cols, roles, outcome)
    return cols, out, notes


def discover(
    data: Any,
    prior: CausalGraph | None = None,
    *,
    roles: Mapping[str, str] | None = None,
    outcome: str | None = None,
    method: str = "exact",
    alpha: float = 0.05,
    n_bootstrap: int = 50,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    transform: str = "detrend",
    block_length: int | None = None,
) -> DiscoveryResult:
    """Discover a draft causal graph from data, with role tiers and block-bootstrap stability.

    ``data``: a :class:`causalmmm.data.Dataset` or a DataFrame with a ``date`` column.
    ``prior``: a declared graph; its roles become the tiers, and ``result.diff(prior)`` compares.
    Without a prior, roles come from ``roles`` / ``outcome`` / the name heuristic (:func:`infer_roles`).
    ``transform``: ``"detrend"`` (default: remove a linear trend and yearly Fourier terms from every
    column), ``"diff"`` (first differences) or ``"none"``.
    ``progress(i, n)`` is called after each bootstrap resample.
    """
    if method not in METHODS:
        raise GraphError(f"unknown discovery method {method!r}", hint=f"allowed: {', '.join(METHODS)}")
    if transform not in TRANSFORMS:
        raise GraphError(f"unknown transform {transform!r}", hint=f"allowed: {', '.join(TRANSFORMS)}")
    if not 0.0 < float(alpha) < 1.0:
        raise GraphError(f"alpha must be between 0 and 1, got {alpha!r}", hint="a typical value is 0.05")
    if int(n_bootstrap) < 0:
        raise GraphError(f"n_bootstrap must be >= 0, got {n_bootstrap!r}")
    t0 = time.perf_counter()
    frame = as_frame(data)
    names, node_roles, notes = _roles_and_columns(frame, prior, roles, outcome)
    frame = frame[names]
    constant = [c for c in names if float(frame[c].std()) == 0.0]
    if constant:
        raise DataError(
            f"constant column(s) carry no information for discovery: {', '.join(constant)}", hint="drop them, or mark them observed=false in the prior graph"
        )
    n, p = frame.shape
    if n < max(20, 2 * p):
        raise DataError(f"only {n} periods for {p} variables", hint=f"discovery needs at least {max(20, 2 * p)} periods")
    tiers = {c: ROLE_TIER[node_roles[c]] for c in names}
    if method == "exact" and p > MAX_EXACT_NODES:
        notes.append(f"{p} variables is too many for the exact search (at most {MAX_EXACT_NODES}); used BOSS with tiers instead")
        method = "boss"
    x = preprocess(frame, transform)
    if np.linalg.matrix_rank(x) < p:
        raise DataError("some columns are exact linear combinations of others", hint="drop the redundant columns (e.g. a total of channels)")
    raw = _search(x, names, tiers, method, float(alpha))
    directed, undirected = _apply_tiers(raw, tiers, method)

    # bootstrap stability
    bl = int(block_length) if block_length else default_block_length(len(x))
    rng = np.random.default_rng(seed)
    counts: dict[frozenset[str], dict[Any, int]] = {}
    nb = int(n_bootstrap)
    for b in range(nb):
        idx = block_bootstrap_indices(len(x), bl, rng)
        xb = x[idx]
        xb = (xb - xb.mean(axis=0)) / np.where(xb.std(axis=0) > 0, xb.std(axis=0), 1.0)
        try:
            rb = _search(xb, names, tiers, method, float(alpha))
        except Exception:  # a degenerate resample (singular matrix): count as no edges
            rb = {}
        db, ub = _apply_tiers(rb, tiers, method)
        for u, v in db:
            c = counts.setdefault(frozenset((u, v)), {})
            c[(u, v)] = c.get((u, v), 0) + 1
        for e in ub:
            c = counts.setdefault(e, {})
            c["--"] = c.get("--", 0) + 1
        if progress is not None:
            progress(b + 1, nb)

    # draft graph: directed edges that keep the graph acyclic, in data-column order
    import networkx as nx

    order = {c: i for i, c in enumerate(names)}
    g = CausalGraph("discovered")
    for col in names:
        g.add_node(col, node_roles[col])
    dag = nx.DiGraph()
    und_pairs: list[tuple[str, str]] = []
    for u, v in sorted(directed, key=lambda e: (tiers[e[0]], order[e[0]], order[e[1]])):
        dag.add_edge(u, v)
        if not nx.is_directed_acyclic_graph(dag):
            dag.remove_edge(u, v)
            und_pairs.append((u, v))
            notes.append(f"{u} -> {v} would close a cycle; left undecided")
            continue
        attrs = prior.declared_edge_attrs(u, v) if prior is not None and prior._g.has_edge(u, v) else {}
        g.add_edge(u, v, **attrs)
    for e in undirected:
        u, v = sorted(e, key=lambda s: order[s])
        und_pairs.append((u, v))
    und_pairs.sort(key=lambda e: (order[e[0]], order[e[1]]))
    out_node = [c for c in names if node_roles[c] == "outcome"][0]
    if not g.parents(out_node):
        notes.append(f"the outcome {out_node!r} has no parents in the draft; add at least one edge into it before using the graph")

    stability: dict[tuple[str, str], dict[str, float]] = {}
    draft = set(g.edges)
    for pair, tally in counts.items():
        a, z = sorted(pair, key=lambda s: order[s])
        if (z, a) in draft:
            a, z = z, a
        elif (a, z) not in draft and tally.get((z, a), 0) > tally.get((a, z), 0):
            a, z = z, a
        fwd, bwd, und = tally.get((a, z), 0), tally.get((z, a), 0), tally.get("--", 0)
        stability[(a, z)] = {"present": (fwd + bwd + und) / nb, "forward": fwd / nb, "backward": bwd / nb, "undecided": und / nb}

    return DiscoveryResult(
        graph=g,
        undirected=und_pairs,
        stability=stability,
        roles=node_roles,
        method=method,
        alpha=float(alpha),
        n_bootstrap=nb,
        transform=transform,
        block_length=bl,
        n_periods=n,
        seconds=time.perf_counter() - t0,
        warnings=notes,
        prior=prior,
    )


def draw_side_by_side(prior: CausalGraph, result: DiscoveryResult, path: Any) -> Any:
    """Draw the declared graph and the draft next to each other (needs ``causalmmm.graph.draw``)."""
    try:
        from causalmmm.graph import draw as _draw
    except ImportError:
        from causalmmm.errors import NotBuiltYetError

        raise NotBuiltYetError("drawing is not built yet", hint="use result.to_dot() and any Graphviz viewer") from None
    return _draw.draw_side_by_side(prior, result.graph, path)
