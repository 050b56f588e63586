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

Speed: every answer is memoised per graph *structure* (:class:`_Structure`: nodes in declaration
order, observed flags, edges), so the channels of one report share their searches and asking again
about an unchanged structure (an edge attribute edited, undo, redo) is a look-up. Within a subset
search every candidate set lies among the ancestors of treatment and outcome, so each backdoor test
is a vertex cut in one moral graph built per search. The answers are those of the plain search
(``tests/test_identify_equivalence.py`` compares 96 graphs).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from math import comb
from typing import Any, Callable, Hashable, Iterable, TypeVar

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

_T = TypeVar("_T")

#: Above this many subset checks the minimum-size search gives way to networkx's
#: linear-time minimal separator.
_MAX_SUBSET_CHECKS = 20_000
#: Per mediator set an experiment could be measured on: the smallest-set search's budget before networkx's
#: minimal d-separator takes over, and the largest set considered (teams measure on a few nodes, not dozens).
_EXPERIMENT_SET_CHECKS = 50
_MAX_MEASURED_SET = 3
_MAX_PATHS = 5_000
#: Graph structures whose identification results are kept (the workshop's recent versions, undo and redo).
_MAX_CACHED_STRUCTURES = 32


# ------------------------------------------------------------------ helpers
def _as_set(nodes: str | Iterable[str]) -> set[str]:
    return {nodes} if isinstance(nodes, str) else set(nodes)


def _order(graph: CausalGraph) -> dict[str, int]:
    return {n: i for i, n in enumerate(graph.nodes)}


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
    found = _structure(graph).adjustment_set(frozenset(t), outcome, max_checks)
    return None if found is None else list(found)


def _search_adjustment_set(s: _Structure, t: frozenset[str], outcome: str, max_checks: int) -> tuple[str, ...] | None:
    """:func:`minimal_adjustment_set` on one structure (uncached).

    Every candidate lies among the ancestors of treatment and outcome, so every test
    "Z d-separates T and Y in the backdoor graph" is a vertex cut in one moral graph
    (see :func:`_separation`), built once per query instead of once per candidate.
    """
    y = frozenset({outcome})
    ancestral = s.ancestors(t | y)
    separated = _separation(s.parents, t, y, ancestral, cut_from=t)
    if separated(frozenset()):
        return ()
    allowed = s.observed - t - y - s.descendants(t)
    pool = s.sorted(allowed & ancestral)
    if not separated(frozenset(pool)):
        return None
    checks = 0
    for k in range(1, len(pool) + 1):
        n_comb = comb(len(pool), k)
        if checks + n_comb > max_checks:
            break
        for combo in itertools.combinations(pool, k):
            checks += 1
            if separated(frozenset(combo)):
                return combo
    found = nx.find_minimal_d_separator(s.backdoor_graph(t), set(t), set(y), restricted=set(pool))
    return None if found is None else tuple(s.sorted(found))


def _separation(
    parents_of: dict[str, tuple[str, ...]], xs: frozenset[str], ys: frozenset[str], ancestral: frozenset[str], *, cut_from: frozenset[str] = frozenset()
) -> Callable[[frozenset[str]], bool]:
    """``z -> (xs d-separated from ys given z)`` in the DAG ``parents_of`` without the edges leaving ``cut_from`` (a subset of xs).

    ``ancestral`` must be the ancestors of xs and ys (with them), and every z a subset of it: then the
    ancestors of xs, ys and z are ``ancestral`` (cutting edges that leave xs removes none of them), and
    d-separation given z is vertex separation by z in the moral graph of that ancestral subgraph
    (Lauritzen, Dawid, Larsen & Leimer 1990). The moral graph is the one :func:`networkx.moral_graph`
    builds, written out so that one query costs no graph copy.
    """
    adjacent: dict[str, set[str]] = {n: set() for n in ancestral}
    for child in ancestral:
        parents = {p for p in parents_of[child] if p not in cut_from}  # parents of an ancestor are ancestors
        adjacent[child] |= parents
        family = parents | {child}
        for p in parents:
            adjacent[p] |= family  # the child, and the other parents (married); p itself is dropped below
    neighbours = {n: tuple(ms - {n}) for n, ms in adjacent.items()}

    def separated(z: frozenset[str]) -> bool:
        seen = set(xs)
        queue = deque(xs)
        while queue:
            for m in neighbours[queue.popleft()]:
                if m in ys:
                    return False
                if m not in seen and m not in z:
                    seen.add(m)
                    queue.append(m)
        return True

    return separated


def mediators_between(graph: CausalGraph, treatment: str, outcome: str | None = None) -> list[str]:
    """Nodes strictly between ``treatment`` and ``outcome`` on directed paths (declaration order)."""
    outcome = graph.outcome if outcome is None else outcome
    _check_node(graph, treatment, "treatment")
    _check_node(graph, outcome, "outcome")
    return list(_structure(graph).mediators(treatment, outcome))


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
    _check_node(graph, treatment, "treatment")
    _check_node(graph, outcome, "outcome")
    found = _structure(graph).open_backdoor_path(treatment, outcome)
    return None if found is None else list(found)


def _search_open_backdoor_path(s: _Structure, treatment: str, outcome: str) -> tuple[str, ...] | None:
    t, y = frozenset({treatment}), frozenset({outcome})
    ancestral = s.ancestors(t | y)
    z = (s.observed - t - y - s.descendants(t)) & ancestral
    if _separation(s.parents, t, y, ancestral, cut_from=t)(z):
        return None
    path = _shortest_open_path(s.backdoor_graph(t), set(t), set(y), set(z), s.order)
    return None if path is None else tuple(path)


# ------------------------------------------------------------- front-door
def _intercepts(g: nx.DiGraph, treatment: str, outcome: str, m: set[str]) -> bool:
    """Whether ``m`` intercepts every directed path from treatment to outcome."""
    blocked = m | {treatment}
    stack = [treatment]
    while stack:
        for child in g.succ[stack.pop()]:
            if child == outcome:
                return False
            if child not in blocked:
                blocked.add(child)
                stack.append(child)
    return True


def _frontdoor_ok(s: _Structure, treatment: str, outcome: str, m: frozenset[str]) -> bool:
    if not _intercepts(s.g, treatment, outcome, set(m)):
        return False
    t, y = frozenset({treatment}), frozenset({outcome})
    # (ii) no unblocked backdoor path treatment -> M
    if not _separation(s.parents, t, m, s.ancestors(t | m), cut_from=t)(frozenset()):
        return False
    # (iii) every backdoor path M -> outcome blocked by the treatment (an ancestor of M)
    return _separation(s.parents, m, y, s.ancestors(m | y), cut_from=m)(t)


def frontdoor_set(graph: CausalGraph, treatment: str, outcome: str | None = None) -> list[str] | None:
    """The smallest set of observed mediators satisfying Pearl's front-door criterion, or ``None``."""
    outcome = graph.outcome if outcome is None else outcome
    _check_node(graph, treatment, "treatment")
    _check_node(graph, outcome, "outcome")
    found = _structure(graph).frontdoor_set(treatment, outcome)
    return None if found is None else list(found)


def _search_frontdoor_set(s: _Structure, treatment: str, outcome: str) -> tuple[str, ...] | None:
    meds = [m for m in s.mediators(treatment, outcome) if m in s.observed]
    if not nx.has_path(s.g, treatment, outcome):
        return None
    for k in range(1, len(meds) + 1):
        if comb(len(meds), k) > _MAX_SUBSET_CHECKS:
            break
        for combo in itertools.combinations(meds, k):
            if _frontdoor_ok(s, treatment, outcome, frozenset(combo)):
                return combo
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

    def ancestors(self, ys: set[str]) -> set[str]:
        parents: dict[str, list[str]] = {}
        for a, b in self.directed:
            parents.setdefault(b, []).append(a)
        seen, stack = set(ys), list(ys)
        while stack:
            for p in parents.get(stack.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

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
    return _id_memo(frozenset(y), frozenset(x), g)


@functools.lru_cache(maxsize=4096)
def _id_memo(y: frozenset[str], x: frozenset[str], g: _ADMG) -> bool:
    """:func:`_id` on hashable arguments, memoised: the channels of one graph share most sub-problems."""
    v = frozenset(g.nodes)
    if not x:
        return True
    an_y = frozenset(g.ancestors(set(y)))
    if an_y != v:
        return _id_memo(y, x & an_y, g.sub(set(an_y)))
    # remove incoming arrows into x (directed and bidirected)
    gx = _ADMG(g.nodes, frozenset(e for e in g.directed if e[1] not in x), frozenset(e for e in g.bidirected if not (e & x)))
    w = (v - x) - gx.ancestors(set(y))
    if w:
        return _id_memo(y, x | w, g)
    comps = g.sub(set(v - x)).c_components()
    if len(comps) > 1:
        return all(_id_memo(s, v - s, g) for s in comps)
    s = comps[0]
    comps_g = g.c_components()
    if len(comps_g) == 1:
        return False  # hedge
    if s in comps_g:
        return True
    s_prime = next(c for c in comps_g if s <= c)
    return _id_memo(y, x & s_prime, g.sub(set(s_prime)))


def is_identifiable(graph: CausalGraph, treatment: str | Iterable[str], outcome: str | None = None) -> bool:
    """Whether P(outcome | do(treatment)) is identifiable from observational data (ID algorithm)."""
    outcome = graph.outcome if outcome is None else outcome
    return _structure(graph).identifiable(frozenset(_as_set(treatment)), outcome)


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
    return list(_structure(graph).node_mechanisms())


def _search_node_mechanisms(s: _Structure) -> tuple[NodeMechanism, ...]:
    g = s.g
    out: list[NodeMechanism] = []
    for v in s.topological_order:
        parents = s.parents[v]
        if v not in s.observed or not parents:
            continue
        pa = [p for p in parents if p in s.observed]
        lat = [p for p in parents if p not in s.observed]
        confs: tuple[str, ...] = ()
        confounded, shown = False, None
        xs, ys = frozenset(pa), frozenset({v})
        if pa and not _separation(s.parents, xs, ys, s.ancestors(xs | ys), cut_from=xs)(frozenset()):
            confounded = True
            path = _shortest_open_path(s.backdoor_graph(xs), set(pa), {v}, set(), s.order)
            if path is not None:
                shown = _render_path(g, path)
                confs = tuple(n for n in path if n not in s.observed)
        out.append(NodeMechanism(v, tuple(pa), tuple(lat), confounded, confs, shown))
    return tuple(out)


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


def _experiments(s: _Structure, treatment: str, outcome: str, meds: tuple[str, ...]) -> list[str]:
    """Experiments on ``treatment`` that identify its total effect on ``outcome``.

    Measured on the outcome: always. Measured on a set M of observed mediators:
    when M intercepts every directed path and the joint effect of M on the
    outcome is identified by backdoor adjustment among observed nodes.
    """
    out = [f"a randomised test on {treatment} (e.g. lift, geo-lift or randomised spend jitter) measured on {outcome}"]
    observed_meds = [m for m in meds if m in s.observed]
    valid: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for k in range(1, min(len(observed_meds), _MAX_MEASURED_SET) + 1):
        if comb(len(observed_meds), k) > _MAX_SUBSET_CHECKS:
            break
        for combo in itertools.combinations(observed_meds, k):
            if any(set(v) <= set(combo) for v, _ in valid):
                continue  # a subset already works: keep inclusion-minimal sets only
            if not _intercepts(s.g, treatment, outcome, set(combo)):
                continue
            z = s.adjustment_set(frozenset(combo), outcome, _EXPERIMENT_SET_CHECKS)
            if z is not None:
                valid.append((combo, z))
    for combo, z in valid:
        given = f" given {', '.join(z)}" if z else ""
        link = f"{_fmt(combo)}->{outcome}"
        out.append(f"a randomised test on {treatment} measured on {_fmt(combo)}, given that {link} is unconfounded{given}")
    return out


def _identify_one(s: _Structure, treatment: str, outcome: str) -> ChannelIdentification:
    g = s.g
    meds = s.mediators(treatment, outcome)
    experiments = tuple(_experiments(s, treatment, outcome, meds))
    adj_t = s.adjustment_set(frozenset({treatment}), outcome, _MAX_SUBSET_CHECKS)
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
    if adj_t is not None:
        if adj_t:
            z = ", ".join(adj_t)
            reason = f"adjusting for {z} blocks every backdoor path from {treatment} to {outcome}"
            formula = f"P({outcome} | do({treatment})) = sum_z P({outcome} | {treatment}, z) P(z), z = ({z})"
        else:
            reason = f"no open backdoor path from {treatment} to {outcome}: nothing needs adjusting"
            formula = f"P({outcome} | do({treatment})) = P({outcome} | {treatment})"
        if meds:
            reason += f"; do not control for the mediators ({', '.join(meds)})"
        return ChannelIdentification(treatment, outcome, True, "backdoor", adj_t, None, meds, reason, formula, experiments)

    path = s.open_backdoor_path(treatment, outcome)
    path_txt = _render_path(g, list(path)) if path else None
    latents = tuple(n for n in (path or ()) if n not in s.observed)
    desc = s.descendants(frozenset({treatment}))
    blocked_by_desc = [n for n in (path or ())[1:-1] if n in desc and n in s.observed]
    why = f"{path_txt} is open"
    if latents:
        why += f" and {', '.join(latents)} {'is' if len(latents) == 1 else 'are'} latent"
    if blocked_by_desc:
        why += f" ({', '.join(blocked_by_desc)} cannot be adjusted for: {'it is' if len(blocked_by_desc) == 1 else 'they are'} affected by {treatment})"

    fd = s.frontdoor_set(treatment, outcome)
    if fd is not None:
        m = ", ".join(fd)
        reason = f"no backdoor adjustment set ({why}); the front-door criterion holds through {m}"
        formula = f"P({outcome} | do({treatment})) = sum_m P(m | {treatment}) sum_t' P({outcome} | m, t') P(t'), m = ({m})"
        return ChannelIdentification(treatment, outcome, True, "frontdoor", None, fd, meds, reason, formula, experiments, latents, path_txt)
    if s.identifiable(frozenset({treatment}), outcome):
        reason = f"no backdoor adjustment set ({why}) and no front-door set, but the do-calculus (ID algorithm) still identifies it from observational data"
        return ChannelIdentification(
            treatment,
            outcome,
            True,
            "do-calculus",
            None,
            None,
            meds,
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
    return ChannelIdentification(treatment, outcome, False, None, None, None, meds, reason, "", experiments, latents, path_txt)


def identify(graph: CausalGraph, treatments: str | Iterable[str] | None = None, outcome: str | None = None) -> IdentificationReport:
    """Identification of each treatment's total effect on the outcome.

    ``treatments`` defaults to the spend nodes; any observed node may be given.
    Raises :class:`GraphError` for an unknown, latent or outcome treatment.
    Results are cached per graph structure (see :class:`_Structure`): identifying
    the same structure again, or after an edit of attributes only, is free.
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
    s = _structure(graph)
    channels = tuple(s.channel(t, outcome) for t in ts)
    return IdentificationReport(outcome, channels, s.node_mechanisms())


# ------------------------------------------------- per-structure memo
class _Structure:
    """One graph structure (nodes in declaration order, observed flags, edges, parents' order) and its
    identification results, memoised.

    Identification depends on nothing else (not on roles, which only choose the treatments and
    the outcome, nor on edge attributes), so :func:`_structure` hands the same instance to every
    query on an equal structure: the channels of one report share their searches (mediator sets,
    backdoor graphs), and an unchanged structure (an attribute edit, undo, redo, a toggle back)
    costs a dictionary look-up. Results are immutable (tuples, frozen dataclasses).
    """

    def __init__(self, graph: CausalGraph) -> None:
        self.graph = graph.copy()  # its parents' order may differ from graph's: use self.parents
        self.g = nx.DiGraph()  # the structure only, in to_networkx's node and edge order
        self.g.add_nodes_from(graph.nodes)
        self.g.add_edges_from(graph.edges)
        self.order = _order(graph)
        self.observed = frozenset(graph.observed_nodes)
        self.parents = {n: tuple(graph.parents(n)) for n in graph.nodes}  # declaration order of the edges
        self.topological_order = tuple(graph.topological_order())
        self._memo: dict[Hashable, Any] = {}

    def _cached(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        if key not in self._memo:
            self._memo[key] = compute()
        found: _T = self._memo[key]
        return found

    def sorted(self, nodes: Iterable[str]) -> list[str]:
        return sorted(nodes, key=self.order.__getitem__)

    def ancestors(self, nodes: frozenset[str]) -> frozenset[str]:
        """The nodes and their ancestors."""

        def compute() -> frozenset[str]:
            found = set(nodes)
            for n in nodes:
                found |= self._cached(("ancestors of", n), functools.partial(_frozen_ancestors, self.g, n))
            return frozenset(found)

        return self._cached(("ancestors", nodes), compute)

    def descendants(self, nodes: frozenset[str]) -> frozenset[str]:
        return self._cached(("descendants", nodes), lambda: frozenset(_descendants(self.g, set(nodes))))

    def backdoor_graph(self, treatments: frozenset[str]) -> nx.DiGraph:
        """The graph without the treatments' outgoing edges (shared: callers must not modify it)."""

        def compute() -> nx.DiGraph:
            bd = nx.DiGraph()  # what g.copy() minus those edges gives, without copying attribute dicts
            bd.add_nodes_from(self.g)
            bd.add_edges_from((u, v) for u, v in self.g.edges if u not in treatments)
            return bd

        return self._cached(("backdoor", treatments), compute)

    def mediators(self, treatment: str, outcome: str) -> tuple[str, ...]:
        def compute() -> tuple[str, ...]:
            between = (nx.descendants(self.g, treatment) & nx.ancestors(self.g, outcome)) - {treatment, outcome}
            return tuple(self.sorted(between))

        return self._cached(("mediators", treatment, outcome), compute)

    def adjustment_set(self, treatments: frozenset[str], outcome: str, max_checks: int) -> tuple[str, ...] | None:
        key = ("adjustment", treatments, outcome, max_checks)
        return self._cached(key, lambda: _search_adjustment_set(self, treatments, outcome, max_checks))

    def open_backdoor_path(self, treatment: str, outcome: str) -> tuple[str, ...] | None:
        return self._cached(("open path", treatment, outcome), lambda: _search_open_backdoor_path(self, treatment, outcome))

    def frontdoor_set(self, treatment: str, outcome: str) -> tuple[str, ...] | None:
        return self._cached(("frontdoor", treatment, outcome), lambda: _search_frontdoor_set(self, treatment, outcome))

    def identifiable(self, treatments: frozenset[str], outcome: str) -> bool:
        projection = self._cached("latent projection", lambda: _latent_projection(self.graph))
        return self._cached(("id", treatments, outcome), lambda: _id({outcome}, set(treatments), projection))

    def node_mechanisms(self) -> tuple[NodeMechanism, ...]:
        return self._cached("mechanisms", lambda: _search_node_mechanisms(self))

    def channel(self, treatment: str, outcome: str) -> ChannelIdentification:
        return self._cached(("channel", treatment, outcome), lambda: _identify_one(self, treatment, outcome))


def _frozen_ancestors(g: nx.DiGraph, node: str) -> frozenset[str]:
    return frozenset(nx.ancestors(g, node))


_STRUCTURES: OrderedDict[Hashable, _Structure] = OrderedDict()
_STRUCTURES_LOCK = threading.Lock()


def _structure_key(graph: CausalGraph) -> Hashable:
    nodes = tuple((n, graph.is_observed(n), tuple(graph.parents(n))) for n in graph.nodes)
    return nodes, tuple(graph.edges)


def _structure(graph: CausalGraph) -> _Structure:
    """The memo for ``graph``'s structure (least recently used ones dropped beyond :data:`_MAX_CACHED_STRUCTURES`)."""
    key = _structure_key(graph)
    with _STRUCTURES_LOCK:
        found = _STRUCTURES.get(key)
        if found is not None:
            _STRUCTURES.move_to_end(key)
            return found
    found = _Structure(graph)
    with _STRUCTURES_LOCK:
        _STRUCTURES[key] = found
        while len(_STRUCTURES) > _MAX_CACHED_STRUCTURES:
            _STRUCTURES.popitem(last=False)
    return found


def clear_cache() -> None:
    """Forget every memoised structure (benchmarks measure the uncached work with it)."""
    with _STRUCTURES_LOCK:
        _STRUCTURES.clear()
    _id_memo.cache_clear()
