"""Identification: which effects the graph lets us estimate, and how.

For each treatment (by default every spend node) and the graph's outcome:

* a **minimal backdoor adjustment set** among observed nodes. Validity is
  checked with networkx d-separation on the backdoor graph (the treatment's
  outgoing edges removed), with latent nodes and descendants of the treatment
  excluded. We search for a set of minimum size (ties broken by the order in
  which nodes were declared); on large graphs we fall back to
  :func:`networkx.find_minimal_d_separator` (van der Zander & Liskiewicz 2020),
  which is minimal but not always of minimum size. Never a union of path nodes:
  that conditions on colliders (M-bias).
* the **mediators**: nodes strictly between treatment and outcome on directed paths;
* whether the total effect is **identifiable**, by which criterion: ``backdoor``,
  else ``frontdoor``, else ``do-calculus`` (Shpitser & Pearl's ID algorithm on
  the latent projection, used here as a yes/no check; it is complete, so a
  ``False`` means no method can identify the effect from observational data);
* when not identifiable: a plain-words ``reason`` naming an open backdoor path
  and the latent node(s) on it, and the **experiments** that would identify it
  (computed from the graph).

:func:`node_mechanisms` says, for each observed non-root node, what its
submodel regresses on and whether latent confounding biases that regression.

The maths is in ``docs/concepts-identification.md``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable

import networkx as nx

from causalmmm.errors import GraphError
from causalmmm.graph.causal_graph import CausalGraph

__all__ = [
    "ChannelIdentification",
    "IdentificationReport",
    "NodeMechanism",
    "identify",
    "is_valid_adjustment_set",
    "mediators_between",
    "minimal_adjustment_set",
    "frontdoor_set",
    "node_mechanisms",
    "is_identifiable",
    "open_backdoor_path",
]

#: Above this many subset checks the minimum-size search gives way to networkx's
#: linear-time minimal separator.
_MAX_SUBSET_CHECKS = 20_000
#: Per mediator set an experiment could be measured on: the smallest-set search's budget before networkx's
#: minimal d-separator takes over, and the largest set considered (teams measure on a few nodes, not dozens).
_EXPERIMENT_SET_CHECKS = 50
_MAX_MEASURED_SET = 3
_MAX_PATHS = 5_000


# ------------------------------------------------------------------ helpers
def _as_set(nodes: str | Iterable[str]) -> set[str]:
    return {nodes} if isinstance(nodes, str) else set(nodes)


def _order(graph: CausalGraph) -> dict[str, int]:
    return {n: i for i, n in enumerate(graph.nodes)}


def _sorted(graph: CausalGraph, nodes: Iterable[str]) -> list[str]:
    idx = _order(graph)
    return sorted(nodes, key=lambda n: idx[n])


def _fmt(nodes: Iterable[str]) -> str:
    return "+".join(nodes)


def _check_node(graph: CausalGraph, node: str, what: str) -> None:
    if node not in graph:
        raise GraphError(f"unknown {what} {node!r}", hint=f"known nodes: {', '.join(graph.nodes)}")


def _backdoor_graph(g: nx.DiGraph, treatments: set[str]) -> nx.DiGraph:
    """The graph with every edge leaving a treatment removed."""
    bd = g.copy()
    bd.remove_edges_from([(u, v) for u in treatments for v in list(g.successors(u))])
    return bd


def _descendants(g: nx.DiGraph, nodes: set[str]) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        out |= nx.descendants(g, n)
    return out


def _ancestors(g: nx.DiGraph, nodes: set[str]) -> set[str]:
    out: set[str] = set(nodes)
    for n in nodes:
        out |= nx.ancestors(g, n)
    return out


def _allowed(graph: CausalGraph, g: nx.DiGraph, treatments: set[str], outcome: str) -> set[str]:
    """Observed nodes that may be adjusted for: not a treatment, not the outcome, not a descendant of a treatment."""
    forbidden = treatments | {outcome} | _descendants(g, treatments)
    return {n for n in graph.observed_nodes if n not in forbidden}


# ------------------------------------------------------------- adjustment
def is_valid_adjustment_set(graph: CausalGraph, treatment: str | Iterable[str], outcome: str, adjustment: Iterable[str]) -> bool:
    """Backdoor criterion: ``adjustment`` holds no descendant of the treatment and
    d-separates treatment and outcome once the treatment's outgoing edges are removed.

    Latent nodes are rejected (they have no data). ``treatment`` may be a set
    (joint intervention)."""
    t = _as_set(treatment)
    z = set(adjustment)
    for n in t | z | {outcome}:
        _check_node(graph, n, "node")
    g = graph.to_networkx()
    if z & (t | {outcome}):
        return False
    if any(not graph.is_observed(n) for n in z):
        return False
    if z & _descendants(g, t):
        return False
    return nx.is_d_separator(_backdoor_graph(g, t), t, {outcome}, z)


def minimal_adjustment_set(
    graph: CausalGraph, treatment: str | Iterable[str], outcome: str | None = None, *, max_checks: int = _MAX_SUBSET_CHECKS
) -> list[str] | None:
    """A minimal valid backdoor adjustment set of observed nodes, or ``None``.

    The empty set is returned whenever it is valid. Otherwise the smallest valid
    set is searched for among observed ancestors of treatment and outcome (ties:
    declaration order); when that search would take more than ``max_checks``
    d-separation tests, networkx's minimal d-separator is used instead. The result
    is always minimal: removing any element makes it invalid.
    """
    outcome = graph.outcome if outcome is None else outcome
    t = _as_set(treatment)
    for n in t | {outcome}:
        _check_node(graph, n, "node")
    g = graph.to_networkx()
    bd = _backdoor_graph(g, t)
    y = {outcome}
    if nx.is_d_separator(bd, t, y, set()):
        return []
    allowed = _allowed(graph, g, t, outcome)
    # A separator within `allowed` exists iff the allowed ancestors of T and Y form one.
    pool = _sorted(graph, allowed & _ancestors(bd, t | y))
    if not nx.is_d_separator(bd, t, y, set(pool)):
        return None
    checks = 0
    for k in range(1, len(pool) + 1):
        n_comb = _n_choose_k(len(pool), k)
        if checks + n_comb > max_checks:
            break
        for combo in itertools.combinations(pool, k):
            checks += 1
            if nx.is_d_separator(bd, t, y, set(combo)):
                return list(combo)
    found = nx.find_minimal_d_separator(bd, t, y, restricted=set(pool))
    return None if found is None else _sorted(graph, found)


def _n_choose_k(n: int, k: int) -> int:
    from math import comb

    return comb(n, k)


def mediators_between(graph: CausalGraph, treatment: str, outcome: str | None = None) -> list[str]:
    """Nodes strictly between ``treatment`` and ``outcome`` on directed paths (declaration order)."""
    outcome = graph.outcome if outcome is None else outcome
    _check_node(graph, treatment, "treatment")
    _check_node(graph, outcome, "outcome")
    g = graph.to_networkx()
    return _sorted(graph, (nx.descendants(g, treatment) & nx.ancestors(g, outcome)) - {treatment, outcome})


# ---------------------------------------------------------------- paths
def _path_is_open(g: nx.DiGraph, path: list[str], z: set[str]) -> bool:
    """d-connection of one path given ``z``."""
    for i in range(1, len(path) - 1):
        a, b, c = path[i - 1], path[i], path[i + 1]
        collider = g.has_edge(a, b) and g.has_edge(c, b)
        if collider:
            if b not in z and not (nx.descendants(g, b) & z):
                return False
        elif b in z:
            return False
    return True


def _render_path(g: nx.DiGraph, path: list[str]) -> str:
    out = path[0]
    for a, b in zip(path, path[1:]):
        out += f" -> {b}" if g.has_edge(a, b) else f" <- {b}"
    return out


def _shortest_open_path(g: nx.DiGraph, sources: set[str], targets: set[str], z: set[str], order: dict[str, int]) -> list[str] | None:
    """The shortest path (deterministic tie-break) between the sets that is open given ``z``."""
    skel = g.to_undirected(as_view=False)
    best: list[str] | None = None
    for s in sorted(sources, key=order.__getitem__):
        for t in sorted(targets, key=order.__getitem__):
            if s == t or not nx.has_path(skel, s, t):
                continue
            for i, path in enumerate(nx.shortest_simple_paths(skel, s, t)):
                if i >= _MAX_PATHS or (best is not None and len(path) > len(best)):
                    break
                if set(path[1:-1]) & (sources | targets):
                    continue
                if _path_is_open(g, path, z):
                    key = (len(path), [order[n] for n in path])
                    if best is None or key < (len(best), [order[n] for n in best]):
                        best = path
                    break
    return best


def open_backdoor_path(graph: CausalGraph, treatment: str, outcome: str | None = None) -> list[str] | None:
    """A backdoor path that no set of observed non-descendants of the treatment can block.

    It is the shortest path of the backdoor graph still open given every
    allowed observed ancestor of treatment and outcome; ``None`` when a valid
    adjustment set exists.
    """
    outcome = graph.outcome if outcome is None else outcome
    g = graph.to_networkx()
    t = {treatment}
    bd = _backdoor_graph(g, t)
    z = _allowed(graph, g, t, outcome) & _ancestors(bd, t | {outcome})
    if nx.is_d_separator(bd, t, {outcome}, z):
        return None
    return _shortest_open_path(bd, t, {outcome}, z, _order(graph))


# ------------------------------------------------------------- front-door
def _intercepts(g: nx.DiGraph, treatment: str, outcome: str, m: set[str]) -> bool:
    h = g.copy()
    h.remove_nodes_from(m)
    return not nx.has_path(h, treatment, outcome)


def _frontdoor_ok(g: nx.DiGraph, treatment: str, outcome: str, m: set[str]) -> bool:
    if not _intercepts(g, treatment, outcome, m):
        return False
    # (ii) no unblocked backdoor path treatment -> M
    if not nx.is_d_separator(_backdoor_graph(g, {treatment}), {treatment}, m, set()):
        return False
    # (iii) every backdoor path M -> outcome blocked by the treatment
    return nx.is_d_separator(_backdoor_graph(g, m), m, {outcome}, {treatment})


def frontdoor_set(graph: CausalGraph, treatment: str, outcome: str | None = None) -> list[str] | None:
    """The smallest set of observed mediators satisfying Pearl's front-door criterion, or ``None``."""
    outcome = graph.outcome if outcome is None else outcome
    g = graph.to_networkx()
    meds = [m for m in mediators_between(graph, treatment, outcome) if graph.is_observed(m)]
    if not nx.has_path(g, treatment, outcome):
        return None
    for k in range(1, len(meds) + 1):
        if _n_choose_k(len(meds), k) > _MAX_SUBSET_CHECKS:
            break
        for combo in itertools.combinations(meds, k):
            if _frontdoor_ok(g, treatment, outcome, set(combo)):
                return list(combo)
    return None


# ------------------------------------------------ latent projection + ID
@dataclass(frozen=True)
class _ADMG:
    nodes: frozenset[str]
    directed: frozenset[tuple[str, str]]
    bidirected: frozenset[frozenset[str]]

    def sub(self, keep: set[str]) -> _ADMG:
        return _ADMG(
            frozenset(keep),
            frozenset(e for e in self.directed if e[0] in keep and e[1] in keep),
            frozenset(e for e in self.bidirected if e <= keep),
        )

    def dag(self) -> nx.DiGraph:
        d = nx.DiGraph()
        d.add_nodes_from(self.nodes)
        d.add_edges_from(self.directed)
        return d

    def ancestors(self, ys: set[str]) -> set[str]:
        return _ancestors(self.dag(), ys)

    def c_components(self) -> list[frozenset[str]]:
        u = nx.Graph()
        u.add_nodes_from(self.nodes)
        u.add_edges_from(tuple(e) for e in self.bidirected)
        return [frozenset(c) for c in nx.connected_components(u)]


def _latent_projection(graph: CausalGraph) -> _ADMG:
    """Project latent nodes away: a -> b if a directed path with latent-only
    intermediates joins them; a <-> b if a latent node reaches both that way."""
    g = graph.to_networkx()
    obs = set(graph.observed_nodes)

    def reach(start: str) -> set[str]:
        seen, stack, hit = set(), [start], set()
        while stack:
            n = stack.pop()
            for c in g.successors(n):
                if c in obs:
                    hit.add(c)
                elif c not in seen:
                    seen.add(c)
                    stack.append(c)
        return hit

    directed = {(a, b) for a in obs for b in reach(a)}
    bidirected = set()
    for lat in graph.latent_nodes:
        hits = sorted(reach(lat))
        bidirected |= {frozenset(p) for p in itertools.combinations(hits, 2)}
    return _ADMG(frozenset(obs), frozenset(directed), frozenset(bidirected))


def _id(y: set[str], x: set[str], g: _ADMG) -> bool:
    """Shpitser & Pearl's ID algorithm, as a yes/no answer (sound and complete)."""
    v = set(g.nodes)
    if not x:
        return True
    an_y = g.ancestors(y)
    if an_y != v:
        return _id(y, x & an_y, g.sub(an_y))
    # remove incoming arrows into x (directed and bidirected)
    gx = _ADMG(g.nodes, frozenset(e for e in g.directed if e[1] not in x), frozenset(e for e in g.bidirected if not (e & x)))
    w = (v - x) - gx.ancestors(y)
    if w:
        return _id(y, x | w, g)
    comps = g.sub(v - x).c_components()
    if len(comps) > 1:
        return all(_id(set(s), v - set(s), g) for s in comps)
    s = comps[0]
    comps_g = g.c_components()
    if len(comps_g) == 1:
        return False  # hedge
    if s in comps_g:
        return True
    s_prime = next(c for c in comps_g if s <= c)
    return _id(y, x & set(s_prime), g.sub(set(s_prime)))


def is_identifiable(graph: CausalGraph, treatment: str | Iterable[str], outcome: str | None = None) -> bool:
    """Whether P(outcome | do(treatment)) is identifiable from observational data (ID algorithm)."""
    outcome = graph.outcome if outcome is None else outcome
    return _id({outcome}, _as_set(treatment), _latent_projection(graph))


# -------------------------------------------------------------- mechanisms
@dataclass(frozen=True)
class NodeMechanism:
    """One observed non-root node's submodel: what it regresses on and whether that is biased."""

    node: str
    parents: tuple[str, ...]
    latent_parents: tuple[str, ...]
    confounded: bool
    confounders: tuple[str, ...]
    open_path: str | None

    @property
    def status(self) -> str:
        return "confounded unless calibrated" if self.confounded else "identified"

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "parents": list(self.parents),
            "latent_parents": list(self.latent_parents),
            "confounded": self.confounded,
            "confounders": list(self.confounders),
            "open_path": self.open_path,
            "status": self.status,
        }


def node_mechanisms(graph: CausalGraph) -> list[NodeMechanism]:
    """Per observed non-root node: its observed parents and whether regressing on them is confounded.

    The regression of V on its observed parents Pa estimates V's mechanism
    iff ``(V independent of Pa)`` in the graph with Pa's outgoing edges removed
    (do-calculus rule 2). A latent parent that touches nothing else only adds
    noise; one that also reaches a parent (directly or through other nodes)
    confounds the mechanism.
    """
    g = graph.to_networkx()
    order = _order(graph)
    out: list[NodeMechanism] = []
    for v in graph.topological_order():
        if not graph.is_observed(v) or not graph.parents(v):
            continue
        pa = [p for p in graph.parents(v) if graph.is_observed(p)]
        lat = [p for p in graph.parents(v) if not graph.is_observed(p)]
        confs: tuple[str, ...] = ()
        confounded, shown = False, None
        if pa:
            bd = _backdoor_graph(g, set(pa))
            if not nx.is_d_separator(bd, set(pa), {v}, set()):
                confounded = True
                path = _shortest_open_path(bd, set(pa), {v}, set(), order)
                if path is not None:
                    shown = _render_path(g, path)
                    confs = tuple(n for n in path if not graph.is_observed(n))
        out.append(NodeMechanism(v, tuple(pa), tuple(lat), confounded, confs, shown))
    return out


# ------------------------------------------------------------ the report
@dataclass(frozen=True)
class ChannelIdentification:
    """Identification of one treatment's total effect on the outcome."""

    treatment: str
    outcome: str
    identifiable: bool
    criterion: str | None
    adjustment_set: tuple[str, ...] | None
    frontdoor_set: tuple[str, ...] | None
    mediators: tuple[str, ...]
    reason: str
    formula: str
    experiments_that_identify: tuple[str, ...]
    latent_confounders: tuple[str, ...] = ()
    open_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "treatment": self.treatment,
            "identifiable": self.identifiable,
            "adjustment_set": None if self.adjustment_set is None else list(self.adjustment_set),
            "mediators": list(self.mediators),
            "reason": self.reason,
            "experiments_that_identify": list(self.experiments_that_identify),
            "criterion": self.criterion,
            "frontdoor_set": None if self.frontdoor_set is None else list(self.frontdoor_set),
            "formula": self.formula,
            "latent_confounders": list(self.latent_confounders),
            "open_path": self.open_path,
        }


@dataclass(frozen=True)
class IdentificationReport:
    """What ``graph identify`` prints."""

    outcome: str
    channels: tuple[ChannelIdentification, ...]
    nodes: tuple[NodeMechanism, ...] = field(default_factory=tuple)

    def channel(self, treatment: str) -> ChannelIdentification:
        for c in self.channels:
            if c.treatment == treatment:
                return c
        raise GraphError(f"no identification result for {treatment!r}", hint=f"identified: {', '.join(c.treatment for c in self.channels)}")

    def to_dict(self) -> dict[str, Any]:
        """CONTRACT.md §4 keys (``outcome``, ``channels``) plus ``nodes``."""
        return {
            "outcome": self.outcome,
            "channels": [c.to_dict() for c in self.channels],
            "nodes": [m.to_dict() for m in self.nodes],
        }

    def _repr_html_(self) -> str:
        from causalmmm.tables import identification_table

        return identification_table(self.to_dict()).to_html()

    def to_text(self) -> str:
        lines = [f"Identification of each channel's total effect on {self.outcome}", ""]
        for c in self.channels:
            verdict = f"identifiable ({c.criterion})" if c.identifiable else "NOT identifiable from observational data"
            lines.append(f"{c.treatment}: {verdict}")
            if c.adjustment_set is not None:
                adj = ", ".join(c.adjustment_set) if c.adjustment_set else "nothing (no confounding to remove)"
                lines.append(f"  adjust for: {adj}")
            if c.frontdoor_set is not None and c.criterion == "frontdoor":
                lines.append(f"  front-door through: {', '.join(c.frontdoor_set)}")
            if c.mediators:
                lines.append(f"  works through: {', '.join(c.mediators)} (do not control for these when estimating the total effect)")
            lines.append(f"  why: {c.reason}")
            if c.formula:
                lines.append(f"  formula: {c.formula}")
            if c.experiments_that_identify:
                lines.append("  experiments that identify it:")
                lines.extend(f"    - {e}" for e in c.experiments_that_identify)
            lines.append("")
        if self.nodes:
            lines.append("Per-node submodels (node ~ parents):")
            for m in self.nodes:
                pa = ", ".join(m.parents) if m.parents else "(no observed parents)"
                extra = ""
                if m.confounded:
                    who = ", ".join(m.confounders) or "a common cause"
                    extra = f"  [confounded unless calibrated: {who}; open path {m.open_path}]"
                elif m.latent_parents:
                    extra = f"  [latent parent(s) {', '.join(m.latent_parents)}: not a confounder of this regression, enters as noise]"
                lines.append(f"  {m.node} ~ {pa}{extra}")
        return "\n".join(lines).rstrip() + "\n"


def _experiments(graph: CausalGraph, g: nx.DiGraph, treatment: str, outcome: str, meds: list[str]) -> list[str]:
    """Experiments on ``treatment`` that identify its total effect on ``outcome``.

    Measured on the outcome: always. Measured on a set M of observed mediators:
    when M intercepts every directed path and the joint effect of M on the
    outcome is identified by backdoor adjustment among observed nodes.
    """
    out = [f"a randomised test on {treatment} (e.g. lift, geo-lift or randomised spend jitter) measured on {outcome}"]
    observed_meds = [m for m in meds if graph.is_observed(m)]
    valid: list[tuple[tuple[str, ...], list[str]]] = []
    for k in range(1, min(len(observed_meds), _MAX_MEASURED_SET) + 1):
        if _n_choose_k(len(observed_meds), k) > _MAX_SUBSET_CHECKS:
            break
        for combo in itertools.combinations(observed_meds, k):
            if any(set(v) <= set(combo) for v, _ in valid):
                continue  # a subset already works: keep inclusion-minimal sets only
            if not _intercepts(g, treatment, outcome, set(combo)):
                continue
            z = minimal_adjustment_set(graph, set(combo), outcome, max_checks=_EXPERIMENT_SET_CHECKS)
            if z is not None:
                valid.append((combo, z))
    for combo, z in valid:
        given = f" given {', '.join(z)}" if z else ""
        link = f"{_fmt(combo)}->{outcome}"
        out.append(f"a randomised test on {treatment} measured on {_fmt(combo)}, given that {link} is unconfounded{given}")
    return out


def _identify_one(graph: CausalGraph, g: nx.DiGraph, treatment: str, outcome: str) -> ChannelIdentification:
    meds = mediators_between(graph, treatment, outcome)
    experiments = tuple(_experiments(graph, g, treatment, outcome, meds))
    adj = minimal_adjustment_set(graph, treatment, outcome)
    adj_t = None if adj is None else tuple(adj)
    if not nx.has_path(g, treatment, outcome):
        return ChannelIdentification(
            treatment,
            outcome,
            True,
            "no causal path",
            adj_t,
            None,
            (),
            f"{treatment} has no directed path to {outcome}: the graph says its total effect is zero",
            f"P({outcome} | do({treatment})) = P({outcome})",
            experiments,
        )
    if adj is not None:
        if adj:
            z = ", ".join(adj)
            reason = f"adjusting for {z} blocks every backdoor path from {treatment} to {outcome}"
            formula = f"P({outcome} | do({treatment})) = sum_z P({outcome} | {treatment}, z) P(z), z = ({z})"
        else:
            reason = f"no open backdoor path from {treatment} to {outcome}: nothing needs adjusting"
            formula = f"P({outcome} | do({treatment})) = P({outcome} | {treatment})"
        if meds:
            reason += f"; do not control for the mediators ({', '.join(meds)})"
        return ChannelIdentification(treatment, outcome, True, "backdoor", adj_t, None, tuple(meds), reason, formula, experiments)

    path = open_backdoor_path(graph, treatment, outcome)
    path_txt = _render_path(g, path) if path else None
    latents = tuple(n for n in (path or []) if not graph.is_observed(n))
    desc = nx.descendants(g, treatment)
    blocked_by_desc = [n for n in (path or [])[1:-1] if n in desc and graph.is_observed(n)]
    why = f"{path_txt} is open"
    if latents:
        why += f" and {', '.join(latents)} {'is' if len(latents) == 1 else 'are'} latent"
    if blocked_by_desc:
        why += f" ({', '.join(blocked_by_desc)} cannot be adjusted for: {'it is' if len(blocked_by_desc) == 1 else 'they are'} affected by {treatment})"

    fd = frontdoor_set(graph, treatment, outcome)
    if fd is not None:
        m = ", ".join(fd)
        reason = f"no backdoor adjustment set ({why}); the front-door criterion holds through {m}"
        formula = f"P({outcome} | do({treatment})) = sum_m P(m | {treatment}) sum_t' P({outcome} | m, t') P(t'), m = ({m})"
        return ChannelIdentification(treatment, outcome, True, "frontdoor", None, tuple(fd), tuple(meds), reason, formula, experiments, latents, path_txt)
    if is_identifiable(graph, treatment, outcome):
        reason = f"no backdoor adjustment set ({why}) and no front-door set, but the do-calculus (ID algorithm) still identifies it from observational data"
        return ChannelIdentification(
            treatment,
            outcome,
            True,
            "do-calculus",
            None,
            None,
            tuple(meds),
            reason,
            "see the ID algorithm (Shpitser & Pearl 2006)",
            experiments,
            latents,
            path_txt,
        )
    reason = (
        f"{why}; no set of observed nodes blocks it and no front-door set exists, "
        "so observational data cannot separate the effect of "
        f"{treatment} from confounding"
    )
    return ChannelIdentification(treatment, outcome, False, None, None, None, tuple(meds), reason, "", experiments, latents, path_txt)


def identify(graph: CausalGraph, treatments: str | Iterable[str] | None = None, outcome: str | None = None) -> IdentificationReport:
    """Identification of each treatment's total effect on the outcome.

    ``treatments`` defaults to the spend nodes; any observed node may be given.
    Raises :class:`GraphError` for an unknown, latent or outcome treatment.
    """
    outcome = graph.outcome if outcome is None else outcome
    _check_node(graph, outcome, "outcome")
    if treatments is None:
        ts = graph.spend_nodes
    else:
        ts = [treatments] if isinstance(treatments, str) else list(treatments)
    for t in ts:
        _check_node(graph, t, "treatment")
        if t == outcome:
            raise GraphError(f"treatment {t!r} is the outcome", hint="pick a node upstream of the outcome")
        if not graph.is_observed(t):
            raise GraphError(f"treatment {t!r} is latent", hint="only observed nodes can be treatments")
    g = graph.to_networkx()
    channels = tuple(_identify_one(graph, g, t, outcome) for t in ts)
    return IdentificationReport(outcome, channels, tuple(node_mechanisms(graph)))
